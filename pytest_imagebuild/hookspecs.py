"""Hooks other plugins and ``conftest.py`` files implement to extend pytest-imagebuild."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from collections.abc import Iterable

    from .catalogue import Provider


@pytest.hookspec
def pytest_imagebuild_providers(config: pytest.Config) -> list[Provider]:  # type: ignore[empty-body]
    """Return providers (builders, launchers, provisioners, post-processors, cleaners) to add
    to the catalogue, e.g. a builder type defined in a project's own ``conftest.py``."""


@pytest.hookspec
def pytest_imagebuild_secrets(config: pytest.Config) -> Iterable[str]:  # type: ignore[empty-body]
    """Return more secret values (a token your smoke tests use, a password from a vault): they
    print as ``<sensitive>`` and never reach a cassette, like the template's own secrets."""
