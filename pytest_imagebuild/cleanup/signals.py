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
    if previous is not signal.default_int_handler and not isinstance(previous, _RunCtrlC):
        yield  # ignored, or someone else's handler
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


STOPPING_WARNING = (
    "pytest-imagebuild: Ctrl-C received while the interrupted run ends; it ends in a moment "
    "(press Ctrl-C again to stop at once)"
)


class _RunCtrlC:
    """SIGINT during a run: the first stops it (KeyboardInterrupt, as by default); one more
    only warns while the run ends; the next stops at once.

    A KeyboardInterrupt landing in pytest's reporting of the first one (formatting its
    traceback, rewriting the asserts of a module a plugin imports at the end) breaks CPython's
    AST constructor ("SystemError: AST constructor recursion depth mismatch"): pytest died
    with exit code 1 instead of reporting an interrupted run. Cleanups shield themselves
    with ``cleaning_up`` on top of this.
    """

    def __init__(self) -> None:
        self.interrupted = False
        self.warned = False

    def __call__(self, signum: int, frame: FrameType | None) -> None:
        __tracebackhide__ = True  # pytest's banner names where the run was, not this handler
        if self.interrupted and not self.warned:
            self.warned = True
            print(STOPPING_WARNING, file=sys.stderr, flush=True)
            return
        self.interrupted = True
        raise KeyboardInterrupt


def take_ctrl_c() -> Handler:
    """Handle SIGINT for the run (unless someone else does); returns what to restore."""
    if threading.current_thread() is not threading.main_thread():
        return None
    previous = signal.getsignal(signal.SIGINT)
    if previous is signal.default_int_handler:
        signal.signal(signal.SIGINT, _RunCtrlC())
    return previous


def stopping() -> None:
    """The run is ending on an interrupt (Ctrl-C or SIGTERM): a Ctrl-C now only warns."""
    if threading.current_thread() is not threading.main_thread():
        return
    current = signal.getsignal(signal.SIGINT)
    if isinstance(current, _RunCtrlC):
        current.interrupted = True


def restore_ctrl_c(previous: Handler) -> None:
    if threading.current_thread() is not threading.main_thread():
        return
    if isinstance(signal.getsignal(signal.SIGINT), _RunCtrlC) and previous is not None:
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
