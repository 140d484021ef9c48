"""pytest-imagebuild's pytest hooks: options, collection of templates, readable errors."""

from __future__ import annotations

from collections.abc import Generator
from pathlib import Path
from typing import Any

import pytest

from . import (
    fixtures,
    header,
    host_choice,
    multibuild,
    project_recording,
    scheduling,
    var_file_pipes,
)
from .catalogue import add_providers, catalogue
from .catalogue import reset as catalogue_reset
from .cleanup import pytest_hooks as cleanup
from .collect import SETTINGS_KEY, STORE_KEY, TemplateFile, TemplateFolder
from .errors import ImagebuildError
from .recording import CassetteRecorder, RecordingSettings, vcr_logs
from .recording.session import RecordingSession
from .report import BuildTable, LiveProgress
from .reuse import keep
from .settings import Settings, add_options
from .sharing import SharedBuilds
from .store import ImageStore
from .template.names import is_template_name, template_stem

# Fewer full garbage collections at the end of the session (see endgc.py).
# A folder of given templates listed once, not once per template (see collect_once.py).
pytest_plugins = ["pytest_imagebuild.endgc", "pytest_imagebuild.collect_once"]


def pytest_addhooks(pluginmanager: pytest.PytestPluginManager) -> None:
    from . import hookspecs

    pluginmanager.add_hookspecs(hookspecs)


def pytest_addoption(parser: pytest.Parser) -> None:
    add_options(parser)
    cleanup.add_options(parser)
    vcr_logs.add_ini(parser)


@pytest.hookimpl(tryfirst=True)
def pytest_cmdline_main(config: pytest.Config) -> int | None:
    """--image-janitor runs the janitor instead of the tests."""
    _default_to_loadgroup(config)
    return cleanup.janitor_main(config)


def pytest_configure(config: pytest.Config) -> None:
    for providers in config.hook.pytest_imagebuild_providers(config=config):
        add_providers(providers)
    config.add_cleanup(catalogue_reset)
    config.addinivalue_line(
        "markers",
        "imagebuild(template, builder=None): the template (path relative to the test file) and "
        "build a test is about; used by the image, vm and host fixtures.",
    )
    var_file_pipes.receive(config)  # an xdist worker: piped --image-var-file contents
    try:
        settings = Settings.from_config(config)
    except ImagebuildError as error:
        raise pytest.UsageError(str(error)) from None
    config.pluginmanager.register(var_file_pipes.PipeHandoff(settings.var_files))
    config.stash[SETTINGS_KEY] = settings
    vcr_logs.configure(config)
    recording = RecordingSession(_cassettes(settings), settings.provider_settings)
    store = ImageStore(settings, lambda: _workdir(config), recording)
    store.journal = cleanup.start_journal(config, store.run.run_uuid)
    store.progress = LiveProgress(config)
    config.pluginmanager.register(store.progress, "imagebuild-progress")
    store.shared = _shared_builds(config)
    config.stash[STORE_KEY] = store
    config.pluginmanager.register(BuildTable(), "imagebuild-report")
    config.pluginmanager.register(keep.KeepPolicy(), keep.POLICY)
    # Registered now, after every entry-point plugin, so `host` here wins over testinfra's.
    config.pluginmanager.register(fixtures, "imagebuild-fixtures")
    config.pluginmanager.register(host_choice, "imagebuild-host-choice")
    config.pluginmanager.register(multibuild, "imagebuild-multibuild")
    config.pluginmanager.register(project_recording, "imagebuild-project-recording")
    config.pluginmanager.register(header, "imagebuild-header")
    project_recording.collect_user_secrets(config)
    if settings.templates and config.args_source != pytest.Config.ArgsSource.ARGS:
        config.args = [str(p) for p in settings.templates] + _companion_tests(settings.templates)
    elif config.option.image_template:
        # `pytest --image-template t.json test_t.py` validates and builds t.json too.
        given = {Path(arg.split("::")[0]).resolve() for arg in config.args}
        extra = [str(p) for p in settings.templates if p not in given]
        config.args = extra + list(config.args)


def pytest_sessionfinish(session: pytest.Session) -> None:
    """Successful recordings replace their cassettes; failed ones leave them untouched."""
    store = session.config.stash.get(STORE_KEY, None)
    if store is None:
        return
    notes = store.recording.finish()
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    for note in notes:
        if reporter is not None:
            reporter.write_line(f"imagebuild: {note}", yellow=True)


def pytest_unconfigure(config: pytest.Config) -> None:
    vcr_logs.unconfigure(config)


def _cassettes(settings: Settings) -> CassetteRecorder:
    return CassetteRecorder(
        RecordingSettings(
            mode=settings.record_mode,
            root=settings.cassette_dir,
            rootdir=settings.rootdir,
            block_network=settings.block_network,
            can_record=catalogue().can_record(settings.providers),
            allowed_hosts=settings.allowed_hosts,
        )
    )


def _shared_builds(config: pytest.Config) -> SharedBuilds:
    """Under xdist, workers share builds through the controller's base temp."""
    worker = getattr(config, "workerinput", None)
    if worker is None:
        return SharedBuilds()

    def locate() -> Path:
        factory: pytest.TempPathFactory = config._tmp_path_factory  # type: ignore[attr-defined]
        return factory.getbasetemp().parent / "imagebuild-shared"

    return SharedBuilds(worker=worker.get("workerid", ""), locate=locate)


def _workdir(config: pytest.Config) -> Path:
    factory: pytest.TempPathFactory = config._tmp_path_factory  # type: ignore[attr-defined]
    path = factory.getbasetemp() / "imagebuild"
    path.mkdir(exist_ok=True)
    return path


def _companion_tests(templates: tuple[Path, ...]) -> list[str]:
    """With only --image-template given, also run each template's smoke tests (test_<name>.py)."""
    tests = []
    for template in templates:
        name = template_stem(template)
        for stem in {name, name.replace("-", "_")}:
            candidate = template.parent / f"test_{stem}.py"
            if candidate.is_file() and str(candidate) not in tests:
                tests.append(str(candidate))
    return tests


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    if is_template_name(file_path.name) and _is_given_template(file_path, parent.config):
        return TemplateFile.from_parent(parent, path=file_path)
    return None


def _is_given_template(path: Path, config: pytest.Config) -> bool:
    """Asked for every file of a template's folder, once per template given (pytest collects
    the folder again for each argument): a set, and resolve() only for what is not in it."""
    given = config.stash.get(_GIVEN_TEMPLATES, None)
    if given is None:
        given = config.stash[_GIVEN_TEMPLATES] = frozenset(config.stash[SETTINGS_KEY].templates)
    return path in given or path.resolve() in given


_GIVEN_TEMPLATES = pytest.StashKey[frozenset[Path]]()


@pytest.hookimpl(tryfirst=True)
def pytest_collect_directory(path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    """A folder given with --image-template is one HCL2 configuration: one collector node."""
    settings = parent.config.stash[SETTINGS_KEY]
    if path.resolve() in settings.templates:
        return TemplateFolder.from_parent(parent, path=path)
    return None


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[Any]
) -> Generator[None, Any, Any]:
    """An ImagebuildError in a fixture or test prints as its paragraph, not a traceback."""
    report = yield
    if report.when == "call" and report.failed:
        item.stash[fixtures.TEST_FAILED] = True
    if call.excinfo is not None and isinstance(call.excinfo.value, ImagebuildError):
        report.longrepr = str(call.excinfo.value)
    return report


def _default_to_loadgroup(config: pytest.Config) -> None:
    """With -n and no --dist, distribute by xdist groups (see pytest_collection_modifyitems)."""
    option = config.option
    explicit = any(
        arg == "--dist" or arg.startswith("--dist=") or arg.startswith("-d")
        for arg in config.invocation_params.args
    )
    if getattr(option, "numprocesses", None) and not explicit and option.dist in ("no", "load"):
        option.dist = "loadgroup"


def pytest_runtest_setup(item: pytest.Item) -> None:
    """Two differing imagebuild markers on a test (module and function): an error naming
    both, instead of fixtures silently using one of them."""
    fixtures.only_marker(item)


def pytest_collection_finish(session: pytest.Session) -> None:
    """--image-only naming no build of any template would run nothing and pass: refuse."""
    settings = session.config.stash.get(SETTINGS_KEY, None)
    store = session.config.stash.get(STORE_KEY, None)
    if settings is None or store is None or not settings.only or not settings.templates:
        return
    names: list[str] = []
    qualified: set[str] = set()  # Packer's type.name form
    for path in settings.templates:
        template = store.load(path).template
        if template is None:
            return  # its ::validate item reports why; the names cannot be checked
        names += [n for n in template.build_names if n not in names]
        qualified |= {f"{b.type}.{b.name}" for b in template.builders}
    unknown = [name for name in settings.only if name not in names and name not in qualified]
    if unknown:
        raise pytest.UsageError(
            f"--image-only {','.join(unknown)}: no build of that name in "
            f"{', '.join(str(p.name) for p in settings.templates)}; "
            f"builds: {', '.join(names) or '(none)'}"
        )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests of one module share one VM, so they stay on one xdist worker; builds and other
    modules spread over the workers (each image is still built only once)."""
    scheduling.builds_first(config, items)
    for item in items:
        if fixtures.uses_image(item, set(getattr(item, "fixturenames", ()))):
            item.add_marker(pytest.mark.xdist_group(name=multibuild.xdist_group(item)))
