"""The test suite's own run journals go to a temporary state directory, never the user's."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest


@pytest.fixture(autouse=True, scope="session")
def _private_state_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    previous = os.environ.get("IMAGEBUILD_STATE_DIR")
    os.environ["IMAGEBUILD_STATE_DIR"] = str(tmp_path_factory.mktemp("imagebuild-state"))
    yield
    if previous is None:
        os.environ.pop("IMAGEBUILD_STATE_DIR", None)
    else:
        os.environ["IMAGEBUILD_STATE_DIR"] = previous
