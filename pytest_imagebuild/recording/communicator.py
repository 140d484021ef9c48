"""An SSH communicator that records to, or replays from, the active cassette's SSH tape.

The recording session decides: ``recorded(communicator)`` wraps an SSH communicator only while
a cassette is in use, so builders and launchers never ask whether they are replaying. On
replay the wrapped communicator is never asked anything, so no socket is opened and no wait
is made; while recording every action goes to the guest and its outcome to the tape.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from ..communicators.base import AbortCheck, Communicator, Diagnostics
from ..communicators.ssh import SSHCommunicator
from ..errors import BuildError
from .ssh_tape import SshTape, active_tape, content_hash, decode_files, encode_files

# How long a test's host waits for SSH when it first runs a command live (the launcher
# already waited for the VM to answer, so this only covers a reconnect).
LAZY_CONNECT_TIMEOUT = 120.0


def recorded(communicator: Communicator) -> Communicator:
    """``communicator`` wrapped to go through the SSH tape, when a cassette is in use."""
    if isinstance(communicator, SSHCommunicator) and active_tape() is not None:
        return RecordingCommunicator(communicator)
    return communicator


class RecordingCommunicator(Communicator):
    """Each call goes to the tape of the cassette in use at that moment (or live, if none)."""

    def __init__(self, inner: SSHCommunicator) -> None:
        self.inner = inner
        self.connected = False

    @property
    def target(self) -> str:
        return self.inner.target

    @staticmethod
    def _replaying() -> SshTape | None:
        tape = active_tape()
        return tape if tape is not None and tape.replaying else None

    def _live(self) -> None:
        if not self.connected:
            self.inner.wait_ready(LAZY_CONNECT_TIMEOUT)
            self.connected = True

    def wait_ready(
        self,
        timeout: float,
        diagnostics: Diagnostics | None = None,
        abort: AbortCheck | None = None,
    ) -> None:
        if tape := self._replaying():
            tape.play("connect", self.target)
            return
        self.inner.wait_ready(timeout, diagnostics, abort)
        self.connected = True
        if tape := active_tape():
            tape.record("connect", self.target)

    def run(
        self,
        command: str,
        *,
        timeout: float | None = None,
        on_output: Callable[[str], None] | None = None,
    ) -> int:
        emit = on_output or (lambda line: None)
        if tape := self._replaying():
            entry = tape.play("run", command)
            for line in entry.get("output") or []:
                emit(str(line))
            if entry.get("error"):
                raise BuildError(str(entry["error"]))
            return int(entry["exit_status"])
        self._live()
        lines: list[str] = []

        def keep(line: str) -> None:
            lines.append(line)
            emit(line)

        try:
            status = self.inner.run(command, timeout=timeout, on_output=keep)
        except BuildError as error:
            if tape := active_tape():
                tape.record(
                    "run", command, exit_status=-1, output=_scrubbed(tape, lines), error=str(error)
                )
            raise
        if tape := active_tape():
            tape.record("run", command, exit_status=status, output=_scrubbed(tape, lines))
        return status

    def execute(self, command: str) -> tuple[int, bytes, bytes]:
        """Exit status, stdout and stderr apart: what a testinfra backend needs."""
        if tape := self._replaying():
            entry = tape.play("exec", command)
            return (
                int(entry["exit_status"]),
                str(entry.get("stdout") or "").encode(),
                str(entry.get("stderr") or "").encode(),
            )
        self._live()
        status, stdout, stderr = self.inner.capture(command)
        if tape := active_tape():
            tape.record(
                "exec",
                command,
                exit_status=status,
                stdout=stdout.decode("utf-8", "replace"),
                stderr=stderr.decode("utf-8", "replace"),
            )
        return status, stdout, stderr

    def upload(self, local: Path, remote: str) -> None:
        if not Path(local).exists():
            self.inner.upload(local, remote)  # its clear error
        digest = content_hash(Path(local))
        if tape := self._replaying():
            tape.play("upload", remote, sha256=digest)
            return
        self._live()
        self.inner.upload(local, remote)
        if tape := active_tape():
            tape.record("upload", remote, sha256=digest)

    def download(self, remote: str, local: Path) -> None:
        if tape := self._replaying():
            entry = tape.play("download", remote)
            decode_files(dict(entry.get("files") or {}), Path(local))
            return
        self._live()
        self.inner.download(remote, local)
        if tape := active_tape():
            tape.record("download", remote, files=encode_files(Path(local)))

    def close(self) -> None:
        self.inner.close()
        self.connected = False


def _scrubbed(tape: SshTape, lines: list[str]) -> list[str]:
    return [tape.scrub(line) for line in lines]
