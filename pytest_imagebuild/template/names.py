"""A template's name without its format suffix: the identity shared by its cassettes,
companion tests and work folders, whichever front end (JSON or HCL2) it is written for."""

from __future__ import annotations

from pathlib import Path

from ..safepath import component, short_hash

TEMPLATE_SUFFIXES = (".pkr.hcl", ".pkr.json", ".json")
OUTSIDE_FOLDER = "_outside"


def is_template_name(name: str) -> bool:
    """Whether a file of this name is a template: legacy JSON, HCL2 or HCL2's JSON syntax."""
    return name.endswith(TEMPLATE_SUFFIXES)


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


def template_folder(path: Path, rootdir: Path) -> Path:
    """A template's own folder of cassettes, relative to the cassette root: its path relative
    to the rootdir without the format suffix (``examples/webserver`` for
    ``examples/webserver.json`` and ``examples/webserver.pkr.hcl``), so two ``web.json`` in
    different folders never share recordings. A template outside the rootdir gets
    ``_outside/<name>-<hash of its resolved path>``. Every part is a safe file name."""
    resolved = path.resolve()
    stem = component(template_stem(resolved))
    try:
        relative = resolved.relative_to(rootdir.resolve())
    except ValueError:
        return Path(OUTSIDE_FOLDER) / f"{stem}-{short_hash(str(resolved))}"
    parents = [component(part) for part in relative.parent.parts]
    return Path(*parents, stem)
