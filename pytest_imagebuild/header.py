"""One line at the top of a run saying what the plugin will do: replay, record or run live,
and where the cassettes are, so nobody mistakes a replay for a real build."""

from __future__ import annotations

import pytest

from .catalogue import catalogue, load
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


def provider_lines(config: pytest.Config, settings: Settings) -> list[str]:
    """What each builder type with a header hook (qemu: its accelerator) says about the run's
    builds of it; the templates are read once, by the store, as collection will read them."""
    store = config.stash.get(STORE_KEY, None)
    if store is None:
        return []
    configs: dict[str, list[dict]] = {}
    for path in settings.templates:
        template = store.load(path).template
        for builder in template.builders if template else []:
            entry = catalogue().builder_type(builder.type)
            if entry is not None and entry.header:
                configs.setdefault(builder.type, []).append(builder.config)
    return [load(catalogue().builders[kind].header)(found) for kind, found in configs.items()]


def pytest_report_header(config: pytest.Config) -> list[str] | None:
    settings = config.stash.get(SETTINGS_KEY, None)
    if settings is None or not settings.templates:
        return None
    count = len(settings.templates)
    templates = f"{count} template{'s' if count != 1 else ''}"
    lines = [f"imagebuild: {templates}; cloud builds: {recording_summary(settings)}"]
    return lines + provider_lines(config, settings)
