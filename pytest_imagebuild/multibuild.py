"""Every selected build of a template gets the smoke tests.

A template with two builds (``azure-arm`` and ``qemu``, say) makes the same image twice, once
per platform; a smoke test passing on one says nothing about the other. So a test tied to such
a template runs once per build that ``--image-only``/``--image-except`` select, as
``test_x[azure-arm]`` and ``test_x[qemu]``: ``image_build_name`` is parametrized, module-scoped,
so each build's VM is shared by that module's tests for that build (and pytest runs them build
after build, one VM at a time). A marker's ``builder=`` pins one build; a template with one
selected build keeps its node ids unchanged (no ``[name]`` suffix).
"""

from __future__ import annotations

import pytest

from .collect import SETTINGS_KEY, STORE_KEY
from .errors import ImagebuildError
from .host_choice import tied_to_template, uses_template_host
from .settings import Settings
from .template import Template

BUILD_FIXTURE = "image_build_name"


def selected_builds(template: Template, pinned: str | None, settings: Settings) -> list[str]:
    """The builds a module's tests run against: the pinned one, else every selected one."""
    if pinned:
        return [pinned]
    return [name for name in template.build_names if settings.selects(name)]


def _builds_to_parametrize(metafunc: pytest.Metafunc) -> list[str]:
    """Two or more builds for a test tied to a template, else none (nothing changes)."""
    from .fixtures import find_target

    settings = metafunc.config.stash.get(SETTINGS_KEY, None)
    store = metafunc.config.stash.get(STORE_KEY, None)
    if settings is None or store is None:
        return []
    try:
        target = find_target(metafunc.definition, settings)
        template = store.load(target.template).template
    except (ImagebuildError, OSError):
        return []  # the fixtures report it as a paragraph when the test sets up
    if template is None:
        return []  # an invalid template: its ::validate item and the fixtures say why
    builds = selected_builds(template, target.build, settings)
    return builds if len(builds) > 1 else []


@pytest.hookimpl(trylast=True)
def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    names = metafunc.fixturenames
    if not uses_template_host(metafunc.definition, set(names)):
        return
    if not tied_to_template(metafunc.definition, set(names)):
        return
    if _parametrized_by_the_user(metafunc):
        return
    builds = _builds_to_parametrize(metafunc)
    if not builds:
        return
    if BUILD_FIXTURE not in names:
        names.append(BUILD_FIXTURE)  # `host` asks for the build at run time: declare it now
    metafunc.parametrize(BUILD_FIXTURE, builds, indirect=True, ids=builds, scope="module")


def _parametrized_by_the_user(metafunc: pytest.Metafunc) -> bool:
    for marker in metafunc.definition.iter_markers("parametrize"):
        argnames = marker.args[0] if marker.args else marker.kwargs.get("argnames", "")
        if isinstance(argnames, str):
            argnames = [name.strip() for name in argnames.split(",")]
        if BUILD_FIXTURE in argnames:
            return True
    return False


def xdist_group(item: pytest.Item) -> str:
    """The module, and the build when the module's tests run per build: the tests sharing
    one VM stay on one worker, each build's VM on whichever worker takes that group."""
    module = item.nodeid.split("::", 1)[0]
    callspec = getattr(item, "callspec", None)
    build = callspec.params.get(BUILD_FIXTURE) if callspec is not None else None
    return f"{module}[{build}]" if build else module
