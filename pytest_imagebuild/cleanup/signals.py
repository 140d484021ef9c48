"""SIGTERM and SIGHUP become an exception in the main thread, so pending cleanups run.

A CI runner cancelling a job sends SIGTERM; Python's default is to die on the spot, which
skips every ``finally`` and leaves VMs running. Raising instead unwinds the build like
Ctrl-C does. A second signal during that unwinding is ignored, so cleanups are not cut short;
SIGKILL still stops everything at once. While cleanups run, a Ctrl-C only warns; a second one
stops them, for a user who would rather leave the rest to the janitor than wait.
"""

from __future__ import annotations

import contextlib
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from types import FrameType, TracebackType
from typing import Any

SIGNALS = tuple(getattr(signal, name) for name in ("SIGTERM", "SIGHUP") if hasattr(signal, name))

Handler = Callable[[int, FrameType | None], Any] | int | None


class Terminated(KeyboardInterrupt):
    """The run was told to stop by a signal; a KeyboardInterrupt so pytest treats it alike."""


class _Raiser:
    def __init__(self) -> None:
        self.received: int | None = None

    def __call__(self, signum: int, frame: FrameType | None) -> None:
        name = signal.Signals(signum).name
        if self.received is not None:
            print(
                f"pytest-imagebuild: {name} received while cleaning up; finishing the cleanup "
                "(send SIGKILL to stop now and leave resources for the janitor)",
                file=sys.stderr,
                flush=True,
            )
            return
        self.received = signum
        raise Terminated(f"received {name}: stopping after cleaning up what this run created")


def install() -> dict[int, Handler]:
    """Take over SIGTERM/SIGHUP (unless ignored); returns what restore() needs."""
    if threading.current_thread() is not threading.main_thread():
        return {}
    raiser = _Raiser()
    previous: dict[int, Handler] = {}
    for signum in SIGNALS:
        current = signal.getsignal(signum)
        if current == signal.SIG_IGN:
            continue
        previous[signum] = current
        signal.signal(signum, raiser)
    return previous


def restore(previous: dict[int, Handler]) -> None:
    if threading.current_thread() is not threading.main_thread():
        return
    for signum, handler in previous.items():
        signal.signal(signum, handler if handler is not None else signal.SIG_DFL)


CTRL_C_WARNING = (
    "pytest-imagebuild: Ctrl-C received while cleaning up; finishing the cleanup (press Ctrl-C "
    "again to stop now and leave the rest to `python -m pytest_imagebuild janitor`)"
)


@contextlib.contextmanager
def cleaning_up() -> Iterator[None]:
    """Shield cleanups from one Ctrl-C: a user pressing it twice to hurry up still gets them."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.getsignal(signal.SIGINT)
    if previous is not signal.default_int_handler:  # ignored, or someone else's handler
        yield
        return
    warned = False

    def warn_once(signum: int, frame: FrameType | None) -> None:
        nonlocal warned
        if warned:
            raise KeyboardInterrupt
        warned = True
        print(CTRL_C_WARNING, file=sys.stderr, flush=True)

    signal.signal(signal.SIGINT, warn_once)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def printable(stop: BaseException) -> BaseException:
    """``stop`` without the traceback entries that have no line number.

    Python 3.11 can leave such an entry where a signal lands (seen inside urllib while a
    provisioner polled WinRM); pytest then crashes printing the KeyboardInterrupt and exits 1,
    not 2. Every other entry is kept, so --full-trace still shows where the run was.
    """
    kept = []
    entry = stop.__traceback__
    while entry is not None:
        if entry.tb_lineno is not None:
            kept.append(entry)
        entry = entry.tb_next
    rebuilt: TracebackType | None = None
    for entry in reversed(kept):
        rebuilt = TracebackType(rebuilt, entry.tb_frame, entry.tb_lasti, entry.tb_lineno)
    return stop.with_traceback(rebuilt)
