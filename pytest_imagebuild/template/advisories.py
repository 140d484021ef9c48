"""Warnings `validate` gives for templates Packer accepts but today's Azure would refuse.

Not failures: the template is valid Packer, and an Azure Stack or an old subscription may still
take it. A pytest warning names the file, line and builder so the author can decide.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path

from .loader import read_template

# Packer 1.6.6's azure-arm default; the A-series was retired by Azure on 2024-08-31.
RETIRED_DEFAULT_VM_SIZE = "Standard_A1"


class ImagebuildWarning(UserWarning):
    """A template that validates but will likely fail or behave unexpectedly when built."""


def advisories(
    path: Path, label: str, variables: Mapping[str, str], var_files: Sequence[Path]
) -> list[str]:
    template, _ = read_template(path, variables, var_files)
    if template is None:
        return []
    found = []
    for builder in template.builders:
        if builder.type != "azure-arm" or builder.config.get("vm_size") not in (None, ""):
            continue
        line = template.source.line_of(builder.path)
        where = f"{label}:{line}" if line else label
        found.append(
            f"{where}: builder '{builder.name}' sets no vm_size, so it gets Packer's default "
            f"{RETIRED_DEFAULT_VM_SIZE}, an A-series size Azure retired on 2024-08-31; a build "
            "will be refused with SkuNotAvailable. Set vm_size (for example Standard_D2s_v3)."
        )
    return found


def warn_advisories(
    path: Path, label: str, variables: Mapping[str, str], var_files: Sequence[Path]
) -> None:
    """Issue each advisory as a warning located at the template's file and line."""
    for text in advisories(path, label, variables, var_files):
        where, _, _ = text.partition(": ")
        line = where.rsplit(":", 1)[1] if where.count(":") else "0"
        warnings.warn_explicit(
            ImagebuildWarning(text),
            ImagebuildWarning,
            filename=str(path),
            lineno=int(line) if line.isdigit() else 0,
        )
