"""A long wait for a machine says how it is going: every ``REPORT_EVERY`` seconds one line with
the attempts so far and the last error, instead of silence until success or the timeout.

The step that waits (it has the build's UI) opens ``reporting_waits(ui.say)``; the shared wait
loop in ``communicators.base`` reports through it, whatever the transport.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

REPORT_EVERY = 15.0  # seconds of waiting between two progress lines

_SAY: ContextVar[Callable[[str], None] | None] = ContextVar("imagebuild_wait_say", default=None)


@contextmanager
def reporting_waits(say: Callable[[str], None]) -> Iterator[None]:
    """Waits inside this block report their progress with ``say``."""
    token = _SAY.set(say)
    try:
        yield
    finally:
        _SAY.reset(token)


class WaitReport:
    """Says, at most every ``every`` seconds of waiting, how many attempts failed and why."""

    def __init__(self, what: str, started: float, every: float = REPORT_EVERY) -> None:
        self.what = what
        self.started = started
        self.every = every
        self.next = started + every
        self.say = _SAY.get()

    def failed(self, attempts: int, last_error: str, now: float) -> None:
        if self.say is None or now < self.next:
            return
        self.next = now + self.every
        self.say(
            f"Waiting for {self.what}... {now - self.started:.0f}s, attempt {attempts}, "
            f"last error: {last_error}"
        )
