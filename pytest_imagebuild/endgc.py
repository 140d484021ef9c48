"""The end of a session without five full garbage collections over the Azure SDK.

At the end of every session pytest runs the garbage collector five times over the whole heap,
so that objects holding a failing ``__del__`` report it as an unraisable exception. Once the
Azure SDK, pywinrm and testinfra are imported, the heap holds ~200,000 objects and those passes
took a fifth of a replayed build's CPU time. Here the collector runs until a pass frees
nothing (a pass that frees nothing changes nothing, so a further pass would free nothing
either: the same outcome as pytest's five, usually in two passes), the survivors are frozen so
pytest's own passes skip them, and they are unfrozen after pytest's passes: the heap ends as
pytest leaves it. Nothing is done if something else froze objects already.
"""

from __future__ import annotations

import gc

import pytest

PASSES = 5
"""At most as many passes as pytest makes."""


class EndOfSessionCollector:
    def __init__(self) -> None:
        self.froze = False

    def collect_and_freeze(self) -> None:
        if not gc.isenabled() or gc.get_freeze_count():
            return
        for _ in range(PASSES):
            if not gc.collect():
                break
        gc.freeze()
        self.froze = True

    def unfreeze(self) -> None:
        if self.froze:
            self.froze = False
            gc.unfreeze()


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    # Cleanups run newest first: registered before pytest's unraisable-exception plugin
    # registers its own, this one runs after pytest's passes.
    collector = EndOfSessionCollector()
    config.stash[COLLECTOR_KEY] = collector
    config.add_cleanup(collector.unfreeze)


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config: pytest.Config) -> None:
    collector = config.stash.get(COLLECTOR_KEY, None)
    if collector is not None:
        collector.collect_and_freeze()


COLLECTOR_KEY = pytest.StashKey[EndOfSessionCollector]()
