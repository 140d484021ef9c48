"""Rendering a template into one BuildPlan per builder, as Packer prepares each build."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from ..errors import Problem
from .functions import VARIABLES_ONLY, base_functions, clean_resource_name
from .gotemplate import Function, Renderer, RenderError
from .jsonsource import JsonPath
from .model import BuilderSpec, BuildPlan, PostProcessorSpec, ProvisionerSpec, Stage, Template


def _renderer(template: Template, builder: BuilderSpec, in_builder: bool) -> Renderer:
    functions: dict[str, Function] = base_functions(
        template.run, template.directory, {"name": builder.name, "type": builder.type}
    )
    values = template.variables.values
    functions["user"] = lambda name: values.get(name, "")
    if in_builder:
        functions["clean_resource_name"] = clean_resource_name
    return Renderer(functions, {}, VARIABLES_ONLY)


def render_value(
    value: Any, renderer: Renderer, path: JsonPath, report: Callable[[JsonPath, str], None]
) -> Any:
    """Render every string inside value; report errors with the path of the string."""
    if isinstance(value, str):
        try:
            return renderer.render(value)
        except RenderError as error:
            report(path, f"error interpolating '{path[-1]}': {error}")
            return value
    if isinstance(value, dict):
        return {k: render_value(v, renderer, (*path, k), report) for k, v in value.items()}
    if isinstance(value, list):
        return [render_value(v, renderer, (*path, i), report) for i, v in enumerate(value)]
    return value


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
    config: dict[str, Any],
    renderer: Renderer,
    report: Callable[[JsonPath, str], None],
) -> Stage:
    return Stage(spec, render_value(config, renderer, spec.path, report))


def _plan(
    template: Template, builder: BuilderSpec, report: Callable[[JsonPath, str], None]
) -> BuildPlan:
    in_builder = _renderer(template, builder, in_builder=True)
    elsewhere = _renderer(template, builder, in_builder=False)
    provisioners = [
        _stage(spec, spec.config_for(builder.name), elsewhere, report)
        for spec in template.provisioners
        if spec.applies_to(builder.name)
    ]
    cleanup = template.error_cleanup_provisioner
    chains = []
    for chain in template.post_processors:
        stages = [
            _stage(spec, spec.config, elsewhere, report)
            for spec in chain
            if spec.applies_to(builder.name)
        ]
        if stages:
            chains.append(stages)
    return BuildPlan(
        template=template,
        name=builder.name,
        type=builder.type,
        config=render_value(builder.config, in_builder, builder.path, report),
        provisioners=provisioners,
        post_processors=chains,
        path=builder.path,
        error_cleanup=_stage(cleanup, cleanup.config, elsewhere, report) if cleanup else None,
    )
