"""A template's name without its format suffix: the identity shared by its cassettes,
companion tests and work folders, whichever front end (JSON or HCL2) it is written for."""

from __future__ import annotations

from pathlib import Path

TEMPLATE_SUFFIXES = (".pkr.hcl", ".pkr.json", ".json")


def template_stem(path: Path) -> str:
    """`webserver` for webserver.json, webserver.pkr.hcl and webserver.pkr.json; a folder's name
    for a folder configuration."""
    name = path.name
    for suffix in TEMPLATE_SUFFIXES:
        if name.endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)]
    return path.stem if path.is_file() else name


def seed_name(path: Path) -> str:
    """The name a recording's seed is derived from: the JSON file name of the template, so a
    template's HCL2 and JSON forms render the same resource names and share cassettes."""
    return f"{template_stem(path)}.json"
