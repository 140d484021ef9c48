"""Fixtures for tests tied to a template: which template and build, the image, a VM, a host.

Each is a fixture so a project can override the policy in its own conftest.py, the way
pytest-recording lets users override ``vcr_config``. They are module-scoped like
testinfra's ``host``: the tests of one module share one VM.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from .catalogue import catalogue
from .collect import SETTINGS_KEY, STORE_KEY
from .errors import ImagebuildError, printable
from .host_choice import testinfra_host, uses_template_host
from .image_failures import image_or_skip, skip_unselected
from .launch import LaunchedVM
from .multibuild import selected_builds
from .multistep import Artifact
from .project_recording import use_vcr_config
from .reuse import keep
from .settings import Settings
from .store import ImageStore
from .template import Template
from .template.hcl2.parse import is_configuration_folder
from .ui import BuildUI


@dataclass(frozen=True)
class ImageTarget:
    """The template file and build name a test is about."""

    template: Path
    build: str | None


def _companion_templates(test_file: Path) -> list[Path]:
    """test_debian_nginx.py pairs with debian-nginx.json or debian_nginx.json beside it (or
    .pkr.hcl files, or folders, of those names); a test inside an HCL2 configuration folder
    pairs with the folder."""
    stem = test_file.stem.removeprefix("test_")
    stems = {stem, stem.replace("_", "-")}
    names = {f"{s}{suffix}" for s in stems for suffix in (".json", ".pkr.hcl", "")}
    found = [
        test_file.parent / name
        for name in sorted(names)
        if (test_file.parent / name).is_file() or is_configuration_folder(test_file.parent / name)
    ]
    if is_configuration_folder(test_file.parent):
        found.append(test_file.parent)
    return found


def find_target(node: pytest.Item | pytest.Collector, settings: Settings) -> ImageTarget:
    """The imagebuild marker, else a companion template given with --image-template, else the
    only --image-template (so a copy of a template can run its original's tests), else the
    companion template beside the test file."""
    marker = only_marker(node)
    kwargs = dict(marker.kwargs) if marker else {}
    if marker and marker.args:
        kwargs.setdefault("template", marker.args[0])
    build = kwargs.get("builder") or kwargs.get("build")
    _check_marker_types(node, kwargs.get("template"), build)
    if kwargs.get("template"):
        path = Path(kwargs["template"])
        if not path.is_absolute():
            path = Path(node.path).parent / path
        return ImageTarget(path.resolve(), build)
    companions = [path.resolve() for path in _companion_templates(Path(node.path))]
    chosen = [path for path in companions if path in settings.templates]
    if chosen:
        return ImageTarget(chosen[0], build)
    if len(settings.templates) == 1:
        return ImageTarget(settings.templates[0], build)
    if companions:
        return ImageTarget(companions[0], build)
    raise ImagebuildError(
        f"{node.nodeid}: cannot tell which template this test is about; mark the module with "
        "pytestmark = pytest.mark.imagebuild(template='file.json', builder='name'), name the "
        "test file test_<template>.py beside the template, or pass exactly one --image-template."
    )


def _check_marker_types(node: pytest.Item | pytest.Collector, template: Any, build: Any) -> None:
    """A marker's template and builder are text (a path, a build name); anything else is an
    error naming the test, not a TypeError from deep inside pathlib."""
    for key, value in (("template", template), ("builder", build)):
        if value is None:
            continue
        if not isinstance(value, (str, os.PathLike)) or "\0" in os.fspath(value):
            raise ImagebuildError(
                f"{node.nodeid}: @pytest.mark.imagebuild({key}={printable(repr(value))}): "
                f"{key} must be a {'path' if key == 'template' else 'build name'} (a string)"
            )


def only_marker(node: pytest.Item | pytest.Collector) -> pytest.Mark | None:
    """The imagebuild marker; two that differ (module and function, say) are an error, not
    a silent choice of the closest."""
    markers = list(node.iter_markers("imagebuild"))
    differing = [m for m in markers if (m.args, m.kwargs) != (markers[0].args, markers[0].kwargs)]
    if differing:
        first, second = markers[0], differing[0]
        raise ImagebuildError(
            f"{node.nodeid}: two imagebuild markers apply, "
            f"imagebuild({_describe(first)}) and imagebuild({_describe(second)}); "
            "keep one (on the module or on the test), so it is clear which image is tested."
        )
    return markers[0] if markers else None


def _describe(marker: pytest.Mark) -> str:
    parts = [repr(a) for a in marker.args] + [f"{k}={v!r}" for k, v in marker.kwargs.items()]
    return ", ".join(parts)


@pytest.fixture(scope="session")
def imagebuild_settings(pytestconfig: pytest.Config) -> Settings:
    """Options and ini keys of this run."""
    return pytestconfig.stash[SETTINGS_KEY]


@pytest.fixture(scope="session")
def imagebuild_store(pytestconfig: pytest.Config) -> ImageStore:
    """Builds each image once per session."""
    return pytestconfig.stash[STORE_KEY]


@pytest.fixture(scope="module")
def image_target(request: pytest.FixtureRequest, imagebuild_settings: Settings) -> ImageTarget:
    """Which template and build this module's tests use."""
    return find_target(request.node, imagebuild_settings)


@pytest.fixture(scope="module")
def image_template(imagebuild_store: ImageStore, image_target: ImageTarget) -> Template:
    """The parsed and validated template."""
    return imagebuild_store.template(image_target.template)


@pytest.fixture(scope="module")
def image_build_name(
    request: pytest.FixtureRequest,
    image_template: Template,
    image_target: ImageTarget,
    imagebuild_settings: Settings,
) -> str:
    """The marker's build, else the one this test runs against (multibuild.py parametrizes
    it with every selected build when there are several), else the only selected one."""
    if image_target.build:
        skip_unselected(imagebuild_settings, image_target.build)
        return image_target.build
    if getattr(request, "param", None):
        return str(request.param)
    selected = selected_builds(image_template, None, imagebuild_settings)
    if not selected:
        pytest.skip(
            f"{image_template.path}: no build selected by --image-only/--image-except "
            f"(builds: {', '.join(image_template.build_names)})"
        )
    return selected[0]


@pytest.fixture(scope="module")
def image(
    request: pytest.FixtureRequest,
    imagebuild_store: ImageStore,
    image_template: Template,
    image_build_name: str,
) -> Artifact:
    """The built image: built once per session, shared by every test that asks for it. When
    the build failed, the tests needing it are skipped pointing at its ``build[...]`` item."""
    return image_or_skip(request, imagebuild_store, image_template.path, image_build_name)


@pytest.fixture(scope="module")
def vm(
    request: pytest.FixtureRequest,
    imagebuild_store: ImageStore,
    image_template: Template,
    image_build_name: str,
    image: Artifact,
    imagebuild_settings: Settings,
    image_target: ImageTarget,
) -> Iterator[LaunchedVM]:
    """A VM booted from the image; torn down after the module, whatever happened."""
    name = Path(str(request.node.path)).stem
    module = request.node.nodeid.split("::", 1)[0]
    if len(selected_builds(image_template, image_target.build, imagebuild_settings)) > 1:
        name = f"{name}-{image_build_name}"  # one VM per build: names must not collide
        module = f"{module}[{image_build_name}]"  # a failure on another build keeps not this
    launcher = imagebuild_store.launcher(image_template.path, image_build_name, image, name)
    plan = imagebuild_store.plan(image_template.path, image_build_name)
    policy = request.config.pluginmanager.get_plugin(keep.POLICY)
    say = BuildUI(f"{image_build_name}-vm", plan.secrets(), on_stage=imagebuild_store.progress).say
    try:  # --image-keep/--image-reuse: a kept VM is reused, a new one may be kept
        session = keep.open_vm(
            launcher, plan, image, imagebuild_store.settings.reuse, policy, say
        )
    except BaseException:
        launcher.teardown()
        raise
    try:
        yield session.vm
    finally:
        session.finish(bool(policy and module in policy.failed_modules))


@pytest.fixture(scope="module")
def host(request: pytest.FixtureRequest) -> Any:
    """A testinfra host connected to the VM (SSH for Linux images, WinRM for Windows) for a
    test tied to a template, its SSH commands recorded and replayed with the test's cassette
    for a recorded builder; testinfra's own ``host`` (``--hosts``) for any other test."""
    if not uses_template_host(request.node, set(request.fixturenames)):
        return testinfra_host(request)
    import testinfra

    vm: LaunchedVM = request.getfixturevalue("vm")
    store: ImageStore = request.getfixturevalue("imagebuild_store")
    template: Template = request.getfixturevalue("image_template")
    plan = store.plan(template.path, request.getfixturevalue("image_build_name"))
    if vm.communicator == "ssh" and catalogue().recorded(plan.type):
        from .recording.testinfra_backend import recorded_host

        return recorded_host(vm)
    spec, kwargs = vm.testinfra_spec()
    return testinfra.get_host(spec, **kwargs)


USES_IMAGE = {"image", "vm", "host"}
TEST_FAILED = pytest.StashKey[bool]()  # set by plugin.pytest_runtest_makereport


def uses_image(node: pytest.Item, fixturenames: set[str]) -> bool:
    """The test needs an image this plugin builds (not testinfra's own host)."""
    return bool(USES_IMAGE & fixturenames) and uses_template_host(node, fixturenames)


@pytest.fixture(autouse=True)
def imagebuild_cassette(request: pytest.FixtureRequest) -> Iterator[dict[str, Any]]:
    """Records or replays a smoke test's own HTTP (WinRM, its requests to the VM) in
    cassettes/<template>/<build>/<module>.<test>.yaml; only for recorded builders."""
    if not uses_image(request.node, set(request.fixturenames)):
        yield {}
        return
    store: ImageStore = request.getfixturevalue("imagebuild_store")
    use_vcr_config(request.config, request.getfixturevalue("imagebuild_vcr_config"))
    template: Template = request.getfixturevalue("image_template")
    plan = store.plan(template.path, request.getfixturevalue("image_build_name"))
    secrets = plan.secrets()
    if {"vm", "host"} & set(request.fixturenames):
        password = request.getfixturevalue("vm").password
        if password:
            secrets.add(password)
    name = f"{Path(str(request.node.path)).stem}.{request.node.name}"
    with store.recording.use(plan, name, secrets) as clock:
        yield {"clock": clock}
    if request.node.stash.get(TEST_FAILED, False):
        store.recording.test_failed(plan)
