"""Plugin types Packer knows but pytest-imagebuild has no key table for: say so, don't guess.

``validate`` cannot check the keys and required fields of, say, an ``amazon-ebs`` builder;
passing in silence would read as "checked". Each such type gets one warning.
"""

from __future__ import annotations

from ..catalogue import catalogue
from ..errors import Caveat
from . import fields
from .jsonsource import JsonPath
from .model import BuildPlan, Stage


def _builder_checked(type_name: str) -> bool:
    """A provider here describes the builder's keys."""
    return catalogue().builder_table(type_name, "fields", None) is not None


def unchecked_types(plans: list[BuildPlan], cleanup: Stage | None) -> list[tuple[JsonPath, str]]:
    """One warning per unchecked type, at its first use, counting the sections of that type."""
    sections: dict[tuple[str, str], list[JsonPath]] = {}

    def add(kind: str, type_name: str, path: JsonPath) -> None:
        paths = sections.setdefault((kind, type_name), [])
        if path not in paths:
            paths.append(path)

    for plan in plans:
        add("builder", plan.type, plan.path)
        for stage in plan.provisioners:
            add("provisioner", stage.type, stage.spec.path)
        for chain in plan.post_processors:
            for stage in chain:
                add("post-processor", stage.type, stage.spec.path)
    if cleanup is not None:
        add("provisioner", cleanup.type, cleanup.spec.path)
    tables = {
        "builder": (_builder_checked, fields.KNOWN_BUILDER_TYPES),
        "provisioner": (fields.PROVISIONER_FIELDS.__contains__, fields.KNOWN_PROVISIONER_TYPES),
        "post-processor": (
            fields.POST_PROCESSOR_FIELDS.__contains__,
            fields.KNOWN_POST_PROCESSOR_TYPES,
        ),
    }
    warnings = []
    for (kind, type_name), paths in sections.items():
        checked, known = tables[kind]
        if checked(type_name) or type_name not in known:  # unknown types are errors already
            continue
        warnings.append(
            (
                (*paths[0], "type"),
                Caveat(
                    f"{kind} '{type_name}' ({len(paths)}): keys not checked by pytest-imagebuild, "
                    "which does not implement this type; its keys and required fields are "
                    "only checked by `packer validate`"
                ),
            )
        )
    return warnings
