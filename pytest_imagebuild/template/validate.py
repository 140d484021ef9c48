"""`packer validate` for one template: every problem in every build, reported at once."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from ..catalogue import catalogue
from ..errors import Problem
from . import fields
from .hints import did_you_mean
from .jsonsource import JsonPath
from .model import BuildPlan, ProvisionerSpec, Stage, Template
from .plans import plan_builds
from .rules import POST_PROCESSOR_RULES, PROVISIONER_RULES
from .types import type_error
from .unchecked import unchecked_types
from .unchecked_builders import check_unchecked_builder

Report = Callable[[JsonPath, str], None]


def check_fields(
    config: dict[str, Any],
    known: Mapping[str, str],
    path: JsonPath,
    report: Report,
    deprecated: frozenset[str] = frozenset(),
    nested: Mapping[str, Mapping[str, str]] | None = None,
) -> None:
    """Unknown or deprecated keys (with a hint) and values of the wrong type.

    Keys match case-insensitively, as in Packer's decoder.
    """
    nested = nested or {}
    for key, value in config.items():
        name = key.lower()
        kind = known.get(name)
        if kind is None and name in deprecated:
            report(
                (*path, key),
                f"Deprecated configuration key: '{key}'. Please call `packer fix` "
                "against your template to update your template to be compatible with the "
                "current version of Packer.",
            )
            continue
        if kind is None and not name.startswith("packer_"):
            report(
                (*path, key),
                f"unknown configuration key: '{key}'" + did_you_mean(name, list(known)),
            )
            continue
        error = type_error(value, kind or "any")
        if error:
            report((*path, key), f"'{key}' {error}")
        elif name in nested:
            for index, item in enumerate(value if isinstance(value, list) else [value]):
                if isinstance(item, dict):
                    where = (*path, key, index) if isinstance(value, list) else (*path, key)
                    check_fields(item, nested[name], where, report, fields.DEPRECATED_KEYS["*"])


class Tables:
    """What validation knows of one kind of plugin (builder, provisioner, post-processor)."""

    def __init__(
        self,
        known_types: frozenset[str],
        fields_by_type: Mapping[str, Mapping[str, str]],
        rules: Mapping[str, Any],
    ):
        self.known_types = known_types
        self.fields_by_type = fields_by_type
        self.rules = rules

    def knows(self, type_name: str) -> bool:
        return type_name in self.known_types or self.fields(type_name) is not None

    def fields(self, type_name: str) -> Mapping[str, str] | None:
        return self.fields_by_type.get(type_name)

    def nested(self, type_name: str) -> Mapping[str, Mapping[str, str]]:
        return fields.NESTED_FIELDS.get(type_name, {})

    def deprecated(self, type_name: str) -> frozenset[str]:
        return fields.DEPRECATED_KEYS["*"] | fields.DEPRECATED_KEYS.get(type_name, frozenset())

    def rule(self, type_name: str) -> Any:
        return self.rules.get(type_name)


class BuilderTables(Tables):
    """Builder keys and rules come from the provider that implements the builder type."""

    def __init__(self) -> None:
        super().__init__(fields.KNOWN_BUILDER_TYPES, {}, {})

    def knows(self, type_name: str) -> bool:
        return type_name in self.known_types or catalogue().builder_type(type_name) is not None

    def fields(self, type_name: str) -> Mapping[str, str] | None:
        """None where no provider here describes the builder's keys (they go unchecked)."""
        return catalogue().builder_table(type_name, "fields", None)

    def nested(self, type_name: str) -> Mapping[str, Mapping[str, str]]:
        return catalogue().builder_table(type_name, "nested_fields", {})

    def deprecated(self, type_name: str) -> frozenset[str]:
        own = catalogue().builder_table(type_name, "deprecated_keys", frozenset())
        return fields.DEPRECATED_KEYS["*"] | own

    def rule(self, type_name: str) -> Any:
        return catalogue().builder_rule(type_name)


def _check_section(
    kind: str,
    type_name: str,
    config: dict[str, Any],
    path: JsonPath,
    report: Report,
    tables: Tables,
    extra_fields: Mapping[str, str],
    build_name: str = "",
    rendered: bool = True,
) -> None:
    """Keys, types and rules of one builder (given its build_name) or stage."""
    if not tables.knows(type_name):
        report(
            (*path, "type"),
            f"Unknown {kind} {type_name}" + did_you_mean(type_name, sorted(tables.known_types)),
        )
        return
    known = tables.fields(type_name)
    if known is not None:
        check_fields(
            config,
            {**known, **extra_fields},
            path,
            report,
            tables.deprecated(type_name),
            tables.nested(type_name),
        )
        # Rules see only values of the right type: a wrong one is reported above already.
        every = {**known, **extra_fields}
        config = {
            key: value
            for key, value in config.items()
            if not type_error(value, every.get(key.lower(), "any"))
        }
    elif kind == "builder":
        check_unchecked_builder(type_name, config, path, report)
    rule = tables.rule(type_name) if rendered else None
    if rule and kind == "builder":
        rule(config, path, report, build_name)
    elif rule:
        rule(config, path, report)


_BUILDERS: Tables = BuilderTables()
_PROVISIONERS = Tables(
    fields.KNOWN_PROVISIONER_TYPES, fields.PROVISIONER_FIELDS, PROVISIONER_RULES
)
_POST_PROCESSORS = Tables(
    fields.KNOWN_POST_PROCESSOR_TYPES, fields.POST_PROCESSOR_FIELDS, POST_PROCESSOR_RULES
)


def _override_aware(report: Report, stage: Stage, build_name: str) -> Report:
    """Report a provisioner's problem where its key was written, e.g. in its override."""
    spec = stage.spec
    if not isinstance(spec, ProvisionerSpec):
        return report
    return lambda path, message: report(spec.source_path(build_name, path), message)


def check_plan(plan: BuildPlan, report: Report) -> None:
    builder_extra = {**fields.COMMUNICATOR_FIELDS, **fields.PACKER_COMMON_FIELDS}
    _check_section(
        "builder",
        plan.type,
        plan.config,
        plan.path,
        report,
        _BUILDERS,
        builder_extra,
        plan.name,
        rendered=not plan.render_failed,
    )
    stages: list[tuple[Stage, Tables, str]] = [
        (stage, _PROVISIONERS, "provisioner") for stage in plan.provisioners
    ]
    stages += [
        (stage, _POST_PROCESSORS, "post-processor")
        for chain in plan.post_processors
        for stage in chain
    ]
    for stage, tables, kind in stages:
        _check_section(
            kind,
            stage.type,
            stage.config,
            stage.spec.path,
            _override_aware(report, stage, plan.name),
            tables,
            fields.PACKER_COMMON_FIELDS,
            rendered=not stage.render_failed,
        )


def validate_template(
    template: Template, only: Sequence[str] = (), except_: Sequence[str] = ()
) -> list[Problem]:
    """Problems of every selected build, without duplicates, in file order."""
    plans, problems = plan_builds(template, only, except_)
    seen = {(p.path, p.message) for p in problems}

    def report(path: JsonPath, message: str) -> None:
        problem = template.source.problem(path, message)
        if (problem.path, message) not in seen:
            seen.add((problem.path, message))
            problems.append(problem)

    for plan in plans:
        check_plan(plan, report)
    cleanup = next((plan.error_cleanup for plan in plans if plan.error_cleanup), None)
    for path, message in unchecked_types(plans, cleanup):
        report(path, message)
    if cleanup:  # rendered with the first selected build, as Packer runs it after a failure
        _check_section(
            "provisioner",
            cleanup.type,
            cleanup.config,
            cleanup.spec.path,
            report,
            _PROVISIONERS,
            fields.PACKER_COMMON_FIELDS,
            rendered=not cleanup.render_failed,
        )
    return sorted(problems, key=lambda p: p.line or 0)
