"""pytest-imagebuild's pytest hooks: options, collection of templates, readable errors."""

from __future__ import annotations

from collections.abc import Generator
from pathlib import Path
from typing import Any

import pytest

from . import fixtures
from .collect import SETTINGS_KEY, STORE_KEY, TemplateFile
from .errors import ImagebuildError
from .settings import Settings, add_options
from .store import ImageStore


def pytest_addoption(parser: pytest.Parser) -> None:
    add_options(parser)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "imagebuild(template, builder=None): the template (path relative to the test file) and "
        "build a test is about; used by the image, vm and host fixtures.",
    )
    try:
        settings = Settings.from_config(config)
    except ImagebuildError as error:
        raise pytest.UsageError(str(error)) from None
    config.stash[SETTINGS_KEY] = settings
    config.stash[STORE_KEY] = ImageStore(settings, lambda: _workdir(config))
    # Registered now, after every entry-point plugin, so `host` here wins over testinfra's.
    config.pluginmanager.register(fixtures, "imagebuild-fixtures")
    if settings.templates and config.args_source != pytest.Config.ArgsSource.ARGS:
        config.args = [str(p) for p in settings.templates] + _companion_tests(settings.templates)


def _workdir(config: pytest.Config) -> Path:
    factory: pytest.TempPathFactory = config._tmp_path_factory  # type: ignore[attr-defined]
    path = factory.getbasetemp() / "imagebuild"
    path.mkdir(exist_ok=True)
    return path


def _companion_tests(templates: tuple[Path, ...]) -> list[str]:
    """With only --image-template given, also run each template's smoke tests (test_<name>.py)."""
    tests = []
    for template in templates:
        for stem in {template.stem, template.stem.replace("-", "_")}:
            candidate = template.parent / f"test_{stem}.py"
            if candidate.is_file() and str(candidate) not in tests:
                tests.append(str(candidate))
    return tests


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    settings = parent.config.stash[SETTINGS_KEY]
    if file_path.suffix == ".json" and file_path.resolve() in settings.templates:
        return TemplateFile.from_parent(parent, path=file_path)
    return None


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[Any]
) -> Generator[None, Any, Any]:
    """An ImagebuildError in a fixture or test prints as its paragraph, not a traceback."""
    report = yield
    if call.excinfo is not None and isinstance(call.excinfo.value, ImagebuildError):
        report.longrepr = str(call.excinfo.value)
    return report
