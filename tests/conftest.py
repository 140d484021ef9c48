"""Shared test setup: a private state directory for run journals, and the loopback Azure.

The suite's own run journals go to a temporary state directory, never the user's. Tests of the
azure-arm path ask for ``azure`` (one stand-in per module) or ``fresh_azure`` (one per test, for
tests that stop it to prove a replay works offline).
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from standin import Standin, start_standin


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
