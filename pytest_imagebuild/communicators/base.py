"""What provisioners need from a guest, whatever transport reaches it (SSH, WinRM)."""

from __future__ import annotations

import abc
from collections.abc import Callable
from pathlib import Path

from ..clock import Clock
from ..errors import BuildError
from .wait_reports import WaitReport

Diagnostics = Callable[[], str]
# Returns why waiting is pointless (the VM died), or None while it is worth waiting.
AbortCheck = Callable[[], "str | None"]
# One try, given the seconds left (at least 1): None once the guest answered, else why not.
Attempt = Callable[[float], "str | None"]


class Communicator(abc.ABC):
    """A connection to one guest; ``wait_ready`` first, ``close`` always."""

    @abc.abstractmethod
    def wait_ready(
        self,
        timeout: float,
        diagnostics: Diagnostics | None = None,
        abort: AbortCheck | None = None,
    ) -> None:
        """Block until the guest accepts commands, or raise BuildError naming why not."""

    @abc.abstractmethod
    def run(
        self,
        command: str,
        *,
        timeout: float | None = None,
        on_output: Callable[[str], None] | None = None,
    ) -> int:
        """Run a shell command, feeding each output line to ``on_output``; the exit status."""

    @abc.abstractmethod
    def upload(self, local: Path, remote: str) -> None:
        """Copy a file, or a directory with everything in it, to ``remote`` on the guest."""

    @abc.abstractmethod
    def download(self, remote: str, local: Path) -> None:
        """Copy a guest file or directory tree to ``local``."""

    @abc.abstractmethod
    def close(self) -> None:
        """Release the connection; safe to call twice."""

    def __enter__(self) -> Communicator:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def wait_until_ready(
    what: str,
    timeout: float,
    attempt: Attempt,
    *,
    clock: Clock,
    poll_interval: float,
    diagnostics: Diagnostics | None = None,
    abort: AbortCheck | None = None,
) -> tuple[float, int]:
    """Retry ``attempt`` until it succeeds, ``abort`` names a reason or ``timeout`` passes.

    One loop for every transport, so SSH and WinRM time out and give up alike; returns the
    seconds waited and the attempts made.
    """
    started = clock.monotonic()
    deadline = started + timeout
    attempts = 0
    report = WaitReport(what, started)
    while True:
        reason = abort() if abort is not None else None
        if reason:
            raise aborted_error(what, reason, diagnostics)
        attempts += 1
        last_error = attempt(max(deadline - clock.monotonic(), 1.0))
        if last_error is None:
            return clock.monotonic() - started, attempts
        if clock.monotonic() >= deadline:
            raise not_ready_error(what, clock.monotonic() - started, last_error, diagnostics)
        report.failed(attempts, last_error, clock.monotonic())
        clock.sleep(min(poll_interval, max(deadline - clock.monotonic(), 0)))


def not_ready_error(
    what: str, waited: float, last_error: str | None, diagnostics: Diagnostics | None
) -> BuildError:
    """One message for every transport: what we waited for, the last failure, the console."""
    message = f"Timed out after {waited:.0f}s waiting for {what}"
    message += f" (last error: {last_error})." if last_error else "."
    return BuildError(message + _console(diagnostics))


def aborted_error(what: str, reason: str, diagnostics: Diagnostics | None) -> BuildError:
    return BuildError(f"Gave up waiting for {what}: {reason}." + _console(diagnostics))


def _console(diagnostics: Diagnostics | None) -> str:
    if diagnostics is None:
        return ""
    try:
        text = diagnostics().strip()
    except Exception as error:  # diagnostics must never hide the real failure
        return f" (Could not read the guest console: {error}.)"
    if not text:
        return " The guest console printed nothing."
    return " Last lines of the guest console:\n" + text
