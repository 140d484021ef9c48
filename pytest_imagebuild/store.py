"""One place per session that loads templates and builds each image at most once."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .builders.base import Artifact, BuildContext, run_steps
from .builders.registry import builder_class
from .errors import ImagebuildError, TemplateError
from .launchers.base import Launcher, launcher_for
from .postprocessors.base import PostContext, run_post_processors
from .settings import Settings, display_path
from .template import RunContext, Template, load_template, plan_builds
from .template.model import BuildPlan
from .ui import BuildUI


@dataclass
class ImageStore:
    settings: Settings
    workdir_factory: Callable[[], Path]
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

    @property
    def workdir(self) -> Path:
        """Where builds put their output: under pytest's base temp, created on first use."""
        return self.workdir_factory()

    def options(self, plan: BuildPlan) -> dict[str, Any]:
        """Run-level settings builders and launchers need besides the template."""
        return {
            "azure_endpoints": self.settings.azure_endpoints,
            "seed": self.run.seed,
            "run_id": self.run.run_uuid,
        }

    def _build(self, plan: BuildPlan) -> Artifact:
        ui = BuildUI(plan.name, plan.secrets())
        cls = builder_class(plan.type)
        workdir = self.workdir / f"{plan.template.path.stem}-{plan.name}"
        workdir.mkdir(parents=True, exist_ok=True)
        ctx = BuildContext(plan, ui, workdir, self.settings.on_error, options=self.options(plan))
        builder = cls(ctx)
        started = time.monotonic()
        ctx.state["stage_times"] = run_steps(ctx, builder.steps())
        artifact = builder.artifact()
        artifact.stage_times = ctx.state["stage_times"]
        post = time.monotonic()
        artifact.outputs = run_post_processors(PostContext(plan, ui, workdir), artifact)[1:]
        if plan.post_processors:
            artifact.stage_times["post-processors"] = time.monotonic() - post
        ui.say(f"Build '{plan.name}' finished after {time.monotonic() - started:.1f} seconds.")
        ui.say(f"Artifact: {artifact.describe()}")
        return artifact

    def launcher(self, path: Path, build_name: str, artifact: Artifact) -> Launcher:
        """A launcher for a VM from this build's image; the caller tears it down."""
        plan = self.plan(path, build_name)
        options = self.options(plan)
        if plan.type == "azure-arm":
            from .builders.azure_arm.config import AzureArmConfig

            options["azure_config"] = AzureArmConfig.from_plan(plan.config)
        else:
            options["build_config"] = plan.config
        ui = BuildUI(f"{plan.name}-vm", plan.secrets())
        workdir = self.workdir / f"{plan.template.path.stem}-{plan.name}-vm"
        workdir.mkdir(parents=True, exist_ok=True)
        return launcher_for(artifact, ui, workdir, options)
