"""A failed or excluded build is reported in one place.

The ``build[...]`` item of a template reports its build's failure as a paragraph; the smoke
tests needing that image are skipped with one line pointing at it, instead of repeating the
paragraph for every module. Only when that build item is not part of the session (deselected,
or the test names a template that is not collected) does the smoke test carry the error itself,
so a failure is never reported nowhere. A build left out with --image-only/--image-except
skips its smoke tests saying so.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from .errors import ImagebuildError
from .multistep import Artifact
from .settings import Settings
from .store import ImageStore


def build_item_id(session: pytest.Session, template: Path, build_name: str) -> str | None:
    """The node id of the session's ``build[<build_name>]`` item of that template, if any."""
    wanted = template.resolve()
    for item in session.items:
        if getattr(item, "build_name", None) == build_name and item.path.resolve() == wanted:
            return item.nodeid
    return None


def image_or_skip(
    request: pytest.FixtureRequest, store: ImageStore, template: Path, build_name: str
) -> Artifact:
    """The built image; skips with a pointer when the session's build item reports the error."""
    try:
        return store.build(template, build_name)
    except ImagebuildError:
        item = build_item_id(request.session, template, build_name)
        if item is None:
            raise
        pytest.skip(f"image {item} failed; see that item")


def skip_unselected(settings: Settings, build_name: str) -> None:
    """Skips a smoke test whose build --image-only/--image-except leave out, with the reason."""
    if build_name in settings.except_:
        pytest.skip(f"build {build_name!r} excluded by --image-except")
    if settings.only and build_name not in settings.only:
        pytest.skip(f"build {build_name!r} not selected by --image-only {','.join(settings.only)}")
