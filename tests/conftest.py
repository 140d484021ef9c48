"""Shared test setup: a private state directory for run journals, and the loopback Azure.

The suite's own run journals go to a temporary state directory, never the user's. Tests of the
azure-arm path ask for ``azure`` (one stand-in per module) or ``fresh_azure`` (one per test, for
tests that stop it to prove a replay works offline).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

# An in-process pytester run drops, when it ends, every module first imported during it: a
# library the plugin imports there (requests, msal) would then exist twice in this process,
# and a later test would mix the two copies ("You can only merge into CookieJar"). Imported
# here first, they are one copy for every test.
import azure.identity
import pytest
import requests  # noqa: F401

from standin import Standin, start_standin


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--fuzz-examples",
        type=int,
        default=0,
        metavar="N",
        help="examples per fuzz test in tests/test_fuzz.py (default: a short run); the same "
        "as IMAGEBUILD_FUZZ_EXAMPLES=N.",
    )


@pytest.hookimpl(trylast=True)  # after the tmp_path plugin made its factory
def pytest_configure(config: pytest.Config) -> None:
    # test_fuzz.py reads the count when it is imported, after this.
    if config.getoption("fuzz_examples", 0):
        os.environ["IMAGEBUILD_FUZZ_EXAMPLES"] = str(config.getoption("fuzz_examples"))
    if "hypothesis" in sys.modules:
        _hypothesis_home(config)


def pytest_pycollect_makemodule(module_path: Path, parent: pytest.Collector) -> None:
    # Imported only for modules that use it: hypothesis takes half a second to import, which
    # every `pytest --image-template ...` run from the repository would otherwise pay.
    if "hypothesis" not in sys.modules and module_path.name == "test_fuzz.py":
        _hypothesis_home(parent.config)


def _hypothesis_home(config: pytest.Config) -> None:
    """Hypothesis's caches go to the base temp, not .hypothesis/ in the working directory."""
    factory = getattr(config, "_tmp_path_factory", None)
    try:
        from hypothesis.configuration import set_hypothesis_home_dir
    except ImportError:
        return
    if factory is not None:
        set_hypothesis_home_dir(str(factory.getbasetemp() / "hypothesis"))


@pytest.fixture(autouse=True, scope="session")
def _private_state_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    previous = os.environ.get("IMAGEBUILD_STATE_DIR")
    os.environ["IMAGEBUILD_STATE_DIR"] = str(tmp_path_factory.mktemp("imagebuild-state"))
    yield
    if previous is None:
        os.environ.pop("IMAGEBUILD_STATE_DIR", None)
    else:
        os.environ["IMAGEBUILD_STATE_DIR"] = previous


@pytest.fixture(scope="module")
def azure() -> Iterator[Standin]:
    """A loopback Azure shared by the tests of one module, answering without delays."""
    with start_standin(fast=True) as standin:
        yield standin


@pytest.fixture
def fresh_azure() -> Iterator[Standin]:
    """A loopback Azure of this test alone (it may stop it)."""
    with start_standin(fast=True) as standin:
        yield standin
