"""An interrupted run ends moments after its cleanups, with pytest's banner and exit code 2.

pytest formats the whole traceback of a KeyboardInterrupt (source, arguments, every chained
exception) and then prints only its last line unless --full-trace was given. Through the
Azure SDK that means parsing megabytes of its source: 7 to 30 seconds of a stopped run doing
nothing visible. Without --full-trace the traceback pytest formats is cut to the entry its
banner names and shown without source, so the banner is the same and costs nothing; the
objects alive then are frozen out of the garbage collector's passes pytest makes at exit. And
once a run is interrupted, one more Ctrl-C only warns (``signals.take_ctrl_c``), so it
cannot crash pytest's reporting of the first one.
"""

from __future__ import annotations

import gc
from collections.abc import Generator
from typing import Any

import pytest

from . import signals


def cheap_to_report(excinfo: pytest.ExceptionInfo[BaseException]) -> None:
    """Keep only the traceback entry pytest's banner shows (the last one not hidden), shown
    by value; chained exceptions are not formatted either."""
    entries = excinfo.traceback
    for index in range(len(entries) - 1, -1, -1):
        if not entries[index].ishidden(excinfo):
            kept = entries[index:]
            excinfo.traceback = type(kept)([entry.with_repr_style("value") for entry in kept])
            break
    stop = excinfo.value
    stop.__cause__ = None
    stop.__suppress_context__ = True


class InterruptReport:
    """Registered per run (see pytest_hooks.start_journal)."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        previous = signals.take_ctrl_c()
        # Registered at configure time, so it runs after pytest's own cleanups (last in,
        # first out): Ctrl-C stays shielded until the run is over.
        config.add_cleanup(lambda: signals.restore_ctrl_c(previous))

    @pytest.hookimpl(wrapper=True, tryfirst=True)
    def pytest_runtest_protocol(self, item: pytest.Item) -> Generator[None, Any, Any]:
        try:
            return (yield)
        except KeyboardInterrupt:
            signals.stopping()
            raise

    @pytest.hookimpl(tryfirst=True)
    def pytest_keyboard_interrupt(self, excinfo: pytest.ExceptionInfo[BaseException]) -> None:
        signals.stopping()
        # pytest then collects garbage five times over (looking for unraisable exceptions),
        # each pass walking every object of the Azure SDK: seconds on a busy machine. What is
        # alive now lives until the process ends, so later passes may skip it.
        gc.freeze()
        if not self.config.option.fulltrace:
            cheap_to_report(excinfo)
