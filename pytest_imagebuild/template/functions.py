"""Packer's template functions, fixed for one run so that replay sends identical requests."""

from __future__ import annotations

import hashlib
import os
import re
import time
import uuid as uuidlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from .gotemplate import MAX_RENDERED_CHARS, Deferred, Function, RenderError

PACKER_COMPAT_VERSION = "1.6.6"

# Go reference-time layout elements, longest first so "2006" wins over "2".
_GO_LAYOUT = [
    ("January", "%B"),
    ("Monday", "%A"),
    ("2006", "%Y"),
    ("-07:00", "%:z"),
    ("-0700", "%z"),
    ("Z07:00", "Z"),
    ("Jan", "%b"),
    ("Mon", "%a"),
    ("MST", "%Z"),
    ("002", "%j"),
    ("01", "%m"),
    ("02", "%d"),
    ("_2", "%e"),
    ("15", "%H"),
    ("03", "%I"),
    ("04", "%M"),
    ("05", "%S"),
    ("06", "%y"),
    ("PM", "%p"),
    ("pm", "%p"),
    ("1", "%-m"),
    ("2", "%-d"),
    ("3", "%-I"),
    ("4", "%-M"),
    ("5", "%-S"),
]
_ISO_LAYOUT = "2006-01-02T15:04:05Z07:00"
_CLEAN_NAME = re.compile(r"[^A-Za-z0-9_.-]")


def go_time_format(moment: datetime, layout: str) -> str:
    """Format a time with a Go layout string such as "2006-01-02T15:04:05Z07:00"."""
    out: list[str] = []
    pos = 0
    while pos < len(layout):
        for token, directive in _GO_LAYOUT:
            if layout.startswith(token, pos):
                out.append(_directive(moment, directive))
                pos += len(token)
                break
        else:
            out.append(layout[pos])
            pos += 1
    return "".join(out)


def _directive(moment: datetime, directive: str) -> str:
    if directive == "Z":
        return "Z" if not moment.utcoffset() else _directive(moment, "%:z")
    if directive.startswith("%-"):
        return str(int(moment.strftime("%" + directive[2:])))
    if directive == "%:z":
        raw = moment.strftime("%z") or "+0000"
        return raw[:3] + ":" + raw[3:]
    return moment.strftime(directive)


def clean_resource_name(value: str) -> str:
    """Azure's rule: only letters, digits, '-', '_' and '.'; no trailing '-', '_' or '.'."""
    return _CLEAN_NAME.sub("-", value).rstrip("-_.")


@dataclass(frozen=True)
class RunContext:
    """Values that stay the same for a whole run: one timestamp, one uuid, one seed.

    With a seed (issue: record/replay) they are derived from it, so a replayed run renders
    the template byte for byte as the recording did.
    """

    started: datetime
    run_uuid: str
    seed: str = ""
    cwd: Path = field(default_factory=Path.cwd)

    def wallclock(self) -> float:
        """Now, except in a seeded (recorded or replayed) run, where time stands at the start."""
        return self.started.timestamp() if self.seed else time.time()

    @classmethod
    def create(cls, seed: str | None = None, started: datetime | None = None) -> RunContext:
        if seed:
            digest = hashlib.sha256(seed.encode()).hexdigest()
            run_uuid = str(uuidlib.UUID(digest[:32]))
        else:
            run_uuid = str(uuidlib.uuid4())
        moment = started or datetime.fromtimestamp(int(time.time()), tz=timezone.utc)
        return cls(started=moment, run_uuid=run_uuid, seed=seed or "")


def _integer(value: Any) -> int:
    """An integer argument, refused like Go's template engine refuses a non-integer."""
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise RenderError(f"expected integer; found {value!r}")
    try:
        return int(value)
    except ValueError:
        raise RenderError(f"expected integer; found {value!r}") from None


def _split(text: str, separator: str, index: int) -> str:
    parts = str(text).split(str(separator))
    position = _integer(index)
    if not 0 <= position < len(parts):
        raise RenderError(f"index {index} out of range for {text!r}")
    return parts[position]


def _replace(old: str, new: str, count: int, text: str) -> str:
    times = _integer(count)
    return _bounded_replace(str(text), str(old), str(new), times if times >= 0 else -1)


def _bounded_replace(text: str, old: str, new: str, times: int = -1) -> str:
    """str.replace, refused before it starts when the result would exceed the render limit
    (replacing "" with a long string inside another replace grows without bound)."""
    occurrences = text.count(old) if old else len(text) + 1
    if times >= 0:
        occurrences = min(occurrences, times)
    if occurrences * (len(new) - len(old)) > MAX_RENDERED_CHARS:
        raise RenderError(f"the result would grow by more than {MAX_RENDERED_CHARS} characters")
    return text.replace(old, new, times)


def _strftime(fmt: str, moment: datetime) -> str:
    return moment.strftime(fmt)


# Where a string is rendered decides what it may know about the build:
# variables are shared by every build, builders know their own name and type,
# provisioners and post-processors also see run-time build data ({{build `ID`}}).
VARIABLES, BUILDER, STAGE = "variables", "builder", "stage"


def _build_functions(build: Mapping[str, str], section: str) -> dict[str, Function]:
    def build_name() -> str:
        if section == VARIABLES:
            raise RenderError("build_name is not available in variables, which every build shares")
        if "name" not in build:
            raise Deferred("build_name")
        return build["name"]

    def build_type() -> str:
        if section == VARIABLES:
            raise RenderError("build_type is not available in variables, which every build shares")
        if "type" not in build:
            raise Deferred("build_type")
        return build["type"]

    def build_value(key: str) -> Any:
        if section == VARIABLES:
            raise RenderError(f"the build variable {key} is not available in variables")
        if section == BUILDER:
            raise RenderError(
                f"the build variable {key} is only known to provisioners and post-processors, "
                "not to the builder that creates it"
            )
        raise Deferred(f"build {key}")

    return {"build_name": build_name, "build_type": build_type, "build": build_value}


def base_functions(
    run: RunContext,
    template_dir: Path,
    build: Mapping[str, str] | None = None,
    section: str = STAGE,
) -> dict[str, Function]:
    """Functions available in every section of a template (section: VARIABLES, BUILDER, STAGE)."""
    return {
        "template_dir": lambda: str(template_dir.resolve()),
        "pwd": lambda: str(run.cwd),
        "timestamp": lambda: str(int(run.started.timestamp())),
        "uuid": lambda: run.run_uuid,
        "isotime": lambda layout=_ISO_LAYOUT: go_time_format(run.started, str(layout)),
        "strftime": lambda fmt: _strftime(str(fmt), run.started),
        **_build_functions(build or {}, section),
        "split": _split,
        "replace": _replace,
        "replace_all": lambda old, new, text: _bounded_replace(str(text), str(old), str(new)),
        "lower": lambda text: str(text).lower(),
        "upper": lambda text: str(text).upper(),
        "packer_version": lambda: PACKER_COMPAT_VERSION,
    }


def env_function(environ: Mapping[str, str] | None = None) -> Function:
    source = os.environ if environ is None else environ
    return lambda name: source.get(name, "")


NETWORK_FUNCTIONS = {
    "consul_key": "reading Consul keys is not supported by pytest-imagebuild",
    "vault": "reading HashiCorp Vault secrets is not supported by pytest-imagebuild",
    "aws_secretsmanager": "reading AWS Secrets Manager is not supported by pytest-imagebuild",
}
VARIABLES_ONLY = {"env": "env vars are not allowed here", **NETWORK_FUNCTIONS}
