"""One place per session that loads templates and builds each image at most once."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

from .builders.base import Artifact, BuildContext, run_steps
from .builders.registry import builder_class
from .errors import ImagebuildError, TemplateError
from .settings import Settings, display_path
from .template import RunContext, Template, load_template, plan_builds
from .template.model import BuildPlan
from .ui import BuildUI


@dataclass
class ImageStore:
    settings: Settings
    workdir: Path
    run: RunContext = field(default_factory=RunContext.create)
    _templates: dict[Path, Template | TemplateError] = field(default_factory=dict)
    _builds: dict[tuple[Path, str], Artifact | ImagebuildError] = field(default_factory=dict)

    def template(self, path: Path) -> Template:
        """The parsed, validated template; raises the same TemplateError every time."""
        path = path.resolve()
        if path not in self._templates:
            try:
                self._templates[path] = load_template(
                    display_path(path),
                    self.settings.variables,
                    self.settings.var_files,
                    self.run,
                    self.settings.only,
                    self.settings.except_,
                )
            except TemplateError as error:
                self._templates[path] = error
        result = self._templates[path]
        if isinstance(result, TemplateError):
            raise result
        return result

    def plan(self, path: Path, build_name: str) -> BuildPlan:
        template = self.template(path)
        plans, _ = plan_builds(template, only=(build_name,))
        if not plans:
            raise ImagebuildError(
                f"{path}: no build named {build_name!r} (builds: {', '.join(template.build_names)})"
            )
        return plans[0]

    def build(self, path: Path, build_name: str) -> Artifact:
        """Build once per session; a failed build fails every later request the same way."""
        key = (path.resolve(), build_name)
        if key not in self._builds:
            try:
                self._builds[key] = self._build(self.plan(path, build_name))
            except ImagebuildError as error:
                self._builds[key] = error
        result = self._builds[key]
        if isinstance(result, ImagebuildError):
            raise result
        return result

    def _build(self, plan: BuildPlan) -> Artifact:
        ui = BuildUI(plan.name, plan.secrets())
        cls = builder_class(plan.type)
        workdir = self.workdir / f"{plan.template.path.stem}-{plan.name}"
        workdir.mkdir(parents=True, exist_ok=True)
        ctx = BuildContext(plan, ui, workdir, self.settings.on_error)
        builder = cls(ctx)
        started = time.monotonic()
        ctx.state["stage_times"] = run_steps(ctx, builder.steps())
        artifact = builder.artifact()
        artifact.stage_times = ctx.state["stage_times"]
        ui.say(f"Build '{plan.name}' finished after {time.monotonic() - started:.1f} seconds.")
        return artifact
