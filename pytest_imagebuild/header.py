"""One line at the top of a run saying what the plugin will do: replay, record or run live,
and where the cassettes are, so nobody mistakes a replay for a real build."""

from __future__ import annotations

import pytest

from .catalogue import catalogue
from .collect import SETTINGS_KEY, STORE_KEY
from .settings import Settings, display_path


def recording_summary(settings: Settings) -> str:
    """replay / record / record missing cassettes, with the cassette folder."""
    folder = display_path(settings.cassette_dir)
    mode = settings.record_mode
    if mode == "none" or (not mode and not catalogue().can_record(settings.providers)):
        what = "replay"
    elif mode in ("", "once"):
        what = "replay, record missing cassettes"
    else:
        what = f"record (record mode {mode})"
    blocked = ", network blocked" if settings.block_network or what == "replay" else ""
    return f"{what}{blocked}, cassettes in {folder}/"


def qemu_accelerators(config: pytest.Config, settings: Settings) -> list[str]:
    """The ``accelerator`` key of each qemu builder in the run's templates (read once, by the
    store, as collection will read them)."""
    store = config.stash.get(STORE_KEY, None)
    if store is None:
        return []
    requested = []
    for path in settings.templates:
        template = store.load(path).template
        for builder in template.builders if template else []:
            if builder.type == "qemu":
                requested.append(str(builder.config.get("accelerator", "")))
    return requested


def pytest_report_header(config: pytest.Config) -> list[str] | None:
    settings = config.stash.get(SETTINGS_KEY, None)
    if settings is None or not settings.templates:
        return None
    count = len(settings.templates)
    templates = f"{count} template{'s' if count != 1 else ''}"
    lines = [f"imagebuild: {templates}; cloud builds: {recording_summary(settings)}"]
    requested = qemu_accelerators(config, settings)
    if requested:
        from .qemu.header import accelerator_line  # only a run with qemu builds imports qemu

        lines.append(accelerator_line(requested))
    return lines
