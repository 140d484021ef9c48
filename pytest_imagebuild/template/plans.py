"""Rendering a template into one BuildPlan per builder, as Packer prepares each build."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..errors import Caveat, Problem
from .functions import (
    BUILDER,
    STAGE,
    VARIABLES,
    VARIABLES_ONLY,
    base_functions,
    clean_resource_name,
)
from .gotemplate import Function, Renderer, RenderError
from .hints import did_you_mean
from .jsonsource import JsonPath
from .model import BuilderSpec, BuildPlan, PostProcessorSpec, ProvisionerSpec, Stage, Template

Report = Callable[[JsonPath, str], None]


@dataclass
class SectionRenderer:
    """Renders one section (a builder, or the stages of a build) and reports what fails.

    Packer words a failure "render 'key'" for a builder's string field and "invalid 'key'"
    everywhere else; we keep its wording so the messages can be searched for.
    """

    template: Template
    builder: BuilderSpec
    section: str
    undeclared: list[str] = field(default_factory=list)
    failures: int = 0

    def __post_init__(self) -> None:
        functions: dict[str, Function] = base_functions(
            self.template.run,
            self.template.directory,
            {"name": self.builder.name, "type": self.builder.type},
            self.section,
        )
        functions["user"] = self._user
        if self.section == BUILDER:
            functions["clean_resource_name"] = clean_resource_name
        self.renderer = Renderer(functions, {}, VARIABLES_ONLY)

    def _user(self, name: str) -> str:
        variables = self.template.variables
        if str(name) not in variables.names:
            self.undeclared.append(str(name))
        return variables.values.get(str(name), "")

    def render(self, value: Any, path: JsonPath, report: Report, depth: int) -> Any:
        """Render every string inside value; report errors with the path of the string.

        depth is the length of the section's own path, so path[depth] is the config key.
        """
        if isinstance(value, dict):
            return {k: self.render(v, (*path, k), report, depth) for k, v in value.items()}
        if isinstance(value, list):
            return [self.render(v, (*path, i), report, depth) for i, v in enumerate(value)]
        if not isinstance(value, str):
            return value
        self.undeclared.clear()
        try:
            rendered = self.renderer.render(value)
        except RenderError as error:
            key = path[depth] if len(path) > depth else path[-1]
            top_level_string = len(path) == depth + 1 and self.section == BUILDER
            report(path, f"{'render' if top_level_string else 'invalid'} '{key}': {error}")
            self.failures += 1
            return value
        for name in dict.fromkeys(self.undeclared):
            report(path, _undeclared_message(name, self.template.variables.names))
        return rendered


def _undeclared_message(name: str, known: frozenset[str]) -> Caveat:
    """A warning: Packer accepts the template and renders the variable as ''."""
    return Caveat(
        f"{{{{user `{name}`}}}}: variable '{name}' is not declared in 'variables' and has no "
        f"value{did_you_mean(name, known)}; Packer accepts this and uses an empty string"
    )


def plan_builds(
    template: Template, only: Sequence[str] = (), except_: Sequence[str] = ()
) -> tuple[list[BuildPlan], list[Problem]]:
    """Plans for the selected builds (Packer's -only/-except) and the problems rendering found."""
    problems: list[Problem] = []
    seen: set[tuple[str, str]] = set()

    def report(path: JsonPath, message: str) -> None:
        if (str(path), message) not in seen:
            seen.add((str(path), message))
            problems.append(template.source.problem(path, message))

    plans = []
    for builder in template.builders:
        if (only and builder.name not in only) or builder.name in except_:
            continue
        plans.append(_plan(template, builder, report))
    return plans, problems


def _stage(
    spec: ProvisionerSpec | PostProcessorSpec,
    build_name: str,
    renderer: SectionRenderer,
    report: Report,
) -> Stage:
    failures = renderer.failures
    if isinstance(spec, ProvisionerSpec):
        config = spec.config_for(build_name)

        def located(path: JsonPath, message: str) -> None:
            report(spec.source_path(build_name, path), message)

        rendered = renderer.render(config, spec.path, located, len(spec.path))
    else:
        rendered = renderer.render(spec.config, spec.path, report, len(spec.path))
    return Stage(spec, rendered, render_failed=renderer.failures > failures)


def _check_name(template: Template, builder: BuilderSpec, report: Report) -> None:
    """Packer renders a builder's name (for display only: only/except match it as written)."""
    renderer = SectionRenderer(template, builder, VARIABLES)
    try:
        renderer.renderer.render(builder.name)
    except RenderError as error:
        report((*builder.path, "name"), f"Error interpolating builder '{builder.name}': {error}")
    for name in dict.fromkeys(renderer.undeclared):
        report((*builder.path, "name"), _undeclared_message(name, template.variables.names))


def _plan(template: Template, builder: BuilderSpec, report: Report) -> BuildPlan:
    _check_name(template, builder, report)
    in_builder = SectionRenderer(template, builder, BUILDER)
    elsewhere = SectionRenderer(template, builder, STAGE)
    provisioners = [
        _stage(spec, builder.name, elsewhere, report)
        for spec in template.provisioners
        if spec.applies_to(builder.name)
    ]
    cleanup = template.error_cleanup_provisioner
    chains = []
    for chain in template.post_processors:
        stages = [
            _stage(spec, builder.name, elsewhere, report)
            for spec in chain
            if spec.applies_to(builder.name)
        ]
        if stages:
            chains.append(stages)
    config = in_builder.render(builder.config, builder.path, report, len(builder.path))
    return BuildPlan(
        template=template,
        name=builder.name,
        type=builder.type,
        config=config,
        provisioners=provisioners,
        post_processors=chains,
        path=builder.path,
        error_cleanup=_stage(cleanup, builder.name, elsewhere, report) if cleanup else None,
        render_failed=in_builder.failures > 0,
    )
