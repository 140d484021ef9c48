"""The end-of-session garbage collection: fewer full passes, the same unraisable reports."""

from __future__ import annotations

import gc

import pytest

from pytest_imagebuild.endgc import EndOfSessionCollector

pytest_plugins = ["pytester"]

CONFTEST = """
import gc

class Noisy:
    def __del__(self):
        raise RuntimeError("boom from __del__ at the end of the session")

holder = []

def pytest_configure(config):
    gc.disable()  # only the end-of-session passes may collect it
    cycle = [Noisy()]
    cycle.append(cycle)
    holder.append(cycle)

def pytest_unconfigure(config):
    holder.clear()  # the cycle is garbage now, only a garbage collection finds it
    gc.enable()
"""


def test_garbage_left_at_the_end_still_reports_its_unraisable_exception(
    pytester: pytest.Pytester,
) -> None:
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile("def test_nothing():\n    pass\n")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-W", "default")
    result.stderr.fnmatch_lines(["*boom from __del__ at the end of the session*"])
    result.stdout.fnmatch_lines(["*1 passed*"])


def test_survivors_are_unfrozen_afterwards() -> None:
    if gc.get_freeze_count():
        pytest.skip("something else froze objects in this process")
    collector = EndOfSessionCollector()
    collector.collect_and_freeze()
    assert gc.get_freeze_count() > 0
    collector.unfreeze()
    assert gc.get_freeze_count() == 0
