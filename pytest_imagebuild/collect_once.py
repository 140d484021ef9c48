"""A folder holding given templates is listed once, not once per template.

Each template given with --image-template becomes its own collection argument. For an argument
naming a file, pytest collects the file's folder again (it does not reuse the folder's
children): every file of the folder becomes a fresh node and goes
through every plugin's ``pytest_collect_file`` and ``pytest_ignore_collect``, once per template
given. With N templates in one folder that is N*N nodes and hook calls: 500 templates took
longer to collect than to validate.

Here such a folder is a :class:`Dir` that remembers its children: the first argument lists the
folder, the others pick their file out of the same list. Node ids, item order and the
collection tree are unchanged (the class keeps pytest's name, ``Dir``, so ``--collect-only``
prints the same tree); pytest still makes a file's items afresh for every argument naming it.
"""

from __future__ import annotations

from collections.abc import Generator, Sequence
from pathlib import Path

import pytest

_FOLDERS = pytest.StashKey[frozenset[Path]]()


class Dir(pytest.Dir):  # type: ignore[misc]  # pytest marks Dir final for typing only
    """pytest's folder collector, listing its folder once per session."""

    _children: Sequence[pytest.Item | pytest.Collector] | None = None

    def collect(self) -> Sequence[pytest.Item | pytest.Collector]:  # type: ignore[override]
        if self._children is None:
            self._children = list(super().collect())
        return self._children


def folders_of_given_templates(config: pytest.Config, templates: Sequence[Path]) -> frozenset[Path]:
    """Folders holding at least two given template files: those pytest lists repeatedly."""
    folders = config.stash.get(_FOLDERS, None)
    if folders is None:
        seen: set[Path] = set()
        repeated: set[Path] = set()
        for template in templates:
            folder = template.parent
            (repeated if folder in seen else seen).add(folder)
        folders = config.stash[_FOLDERS] = frozenset(repeated)
    return folders


@pytest.hookimpl(wrapper=True)
def pytest_collect_directory(
    path: Path, parent: pytest.Collector
) -> Generator[None, pytest.Collector | None, pytest.Collector | None]:
    """pytest's own folder collector, for a folder of given templates, becomes :class:`Dir`."""
    collector = yield
    if type(collector) is not pytest.Dir:  # a package, a template folder, a plugin's own
        return collector
    from .collect import SETTINGS_KEY

    settings = parent.config.stash.get(SETTINGS_KEY, None)
    if settings is None or not settings.templates:
        return collector
    folders = folders_of_given_templates(parent.config, settings.templates)
    if path not in folders and path.resolve() not in folders:
        return collector
    return Dir.from_parent(parent, path=path)
