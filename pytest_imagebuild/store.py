"""One place per session that loads templates and builds each image at most once."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .builders.azure_arm.endpoints import AzureEndpoints
from .builders.base import Artifact, BuildContext, run_steps
from .builders.registry import builder_class
from .cleanup.journal import Journal
from .cleanup.tracking import Recorder, TrackedLauncher, azure_data
from .errors import ImagebuildError, TemplateError
from .launchers.base import LaunchedVM, Launcher, launcher_for
from .postprocessors.base import PostContext, run_post_processors
from .recording import RECORDED_BUILDERS, CassetteRecorder, SecretBook, TemplateRun
from .settings import Settings, display_path
from .sharing import SharedBuilds
from .template import RunContext, Template, load_template, plan_builds
from .template.hcl2 import template_stem
from .template.model import SENSITIVE_FIELDS, BuildPlan
from .ui import BuildUI


@dataclass
class ImageStore:
    settings: Settings
    workdir_factory: Callable[[], Path]
    run: RunContext = field(default_factory=RunContext.create)
    cassettes: CassetteRecorder | None = None
    progress: Callable[[str], None] | None = None
    shared: SharedBuilds = field(default_factory=SharedBuilds)
    _templates: dict[Path, Template | TemplateError] = field(default_factory=dict)
    _builds: dict[tuple[Path, str], Artifact | ImagebuildError] = field(default_factory=dict)
    journal: Journal | None = None

    def template(self, path: Path) -> Template:
        """The parsed, validated template; raises the same TemplateError every time."""
        path = path.resolve()
        if path not in self._templates:
            recorded = self.template_run(path)
            variables = {**self.settings.variables, **(recorded.variables if recorded else {})}
            try:
                self._templates[path] = load_template(
                    display_path(path),
                    variables,
                    self.settings.var_files,
                    recorded.run if recorded else self.run,
                    self.settings.only,
                    self.settings.except_,
                )
            except TemplateError as error:
                self._templates[path] = error
        result = self._templates[path]
        if isinstance(result, TemplateError):
            raise result
        return result

    def template_run(self, path: Path) -> TemplateRun | None:
        """How a recorded template renders (None: not recorded, builds run for real)."""
        return self.cassettes.template_run(path) if self.cassettes else None

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
                plan = self.plan(path, build_name)
                shared_key = f"{template_stem(path)}-{build_name}"
                self._builds[key] = self.shared.once(shared_key, lambda: self._recorded(plan))
            except ImagebuildError as error:
                self._builds[key] = error
        result = self._builds[key]
        if isinstance(result, ImagebuildError):
            raise result
        return result

    def _recorded(self, plan: BuildPlan) -> Artifact:
        secrets = plan.secrets()
        with self.recording(plan, "build", secrets) as extra:
            return self._build(plan, secrets, extra)

    @property
    def workdir(self) -> Path:
        """Where builds put their output: under pytest's base temp, created on first use."""
        return self.workdir_factory()

    def options(self, plan: BuildPlan, scope: str = "") -> dict[str, Any]:
        """Run-level settings builders and launchers need besides the template."""
        run = plan.template.run
        endpoints = self.settings.azure_endpoints
        recorded = self.template_run(plan.template.path)
        # A replay talks to the recorded endpoints unless this run names its own.
        if recorded and recorded.endpoints is not None and not endpoints.arm_url:
            endpoints = AzureEndpoints(
                recorded.endpoints.get("arm_url", ""), recorded.endpoints.get("authority", "")
            )
        return {
            "azure_endpoints": endpoints,
            "seed": ":".join(part for part in (run.seed, plan.name, scope) if part),
            "run_id": run.run_uuid,
        }

    @contextmanager
    def recording(self, plan: BuildPlan, name: str, secrets: set[str]) -> Iterator[dict[str, Any]]:
        """Record or replay the HTTP of a build, launch or test of a recorded template;
        yields extra build options (the clock)."""
        recorded = self.template_run(plan.template.path)
        if self.cassettes is None or recorded is None or plan.type not in RECORDED_BUILDERS:
            yield {}
            return
        book = SecretBook(named=named_secrets(plan), live=lambda: set(secrets))
        metadata = None
        if name == "build":
            endpoints = self.settings.azure_endpoints
            metadata = self.cassettes.metadata(
                recorded,
                sensitive_variables(plan),
                {"arm_url": endpoints.arm_url, "authority": endpoints.authority},
            )
        with self.cassettes.use(plan.template.path, plan.name, name, book, metadata) as extra:
            yield extra

    def _build(self, plan: BuildPlan, secrets: set[str], extra: dict[str, Any]) -> Artifact:
        ui = BuildUI(plan.name, secrets, on_stage=self.progress)
        cls = builder_class(plan.type)
        workdir = self.workdir / f"{template_stem(plan.template.path)}-{plan.name}"
        workdir.mkdir(parents=True, exist_ok=True)
        options = {**self.options(plan), **extra}
        ctx = BuildContext(plan, ui, workdir, self.settings.on_error, options=options)
        recorder = self.recorder(plan)
        ctx.journal, ctx.journal_released = recorder.created, recorder.released
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

    def launcher(
        self, path: Path, build_name: str, artifact: Artifact, name: str = "vm"
    ) -> Launcher:
        """A launcher for a VM from this build's image, recorded as <name>.vm-launch and
        <name>.vm-teardown; the caller tears it down."""
        return RecordedLauncher(self, self.plan(path, build_name), artifact, name)

    def _launcher(
        self, plan: BuildPlan, artifact: Artifact, name: str, secrets: set[str], extra: dict
    ) -> Launcher:
        options = {**self.options(plan, name), **extra}
        if plan.type == "azure-arm":
            from .builders.azure_arm.config import AzureArmConfig

            options["azure_config"] = AzureArmConfig.from_plan(plan.config)
        else:
            options["build_config"] = plan.config
        ui = BuildUI(f"{plan.name}-vm", secrets, on_stage=self.progress)
        workdir = self.workdir / f"{template_stem(plan.template.path)}-{plan.name}-{name}"
        workdir.mkdir(parents=True, exist_ok=True)
        recorder = self.recorder(plan)
        options["record_created"], options["record_released"] = recorder.created, recorder.released
        return TrackedLauncher(launcher_for(artifact, ui, workdir, options), recorder)

    def recorder(self, plan: BuildPlan) -> Recorder:
        """Journals what a build or launch creates, with what the janitor needs to find it."""
        about = {"template": str(plan.template.path), "build": plan.name}
        azure = azure_data(plan.config, self.settings.azure_endpoints)
        return Recorder(self.journal, azure if plan.type == "azure-arm" else {}, about)


def sensitive_variables(plan: BuildPlan) -> dict[str, str]:
    variables = plan.template.variables
    return {
        name: variables.values[name] for name in variables.sensitive if variables.values.get(name)
    }


def named_secrets(plan: BuildPlan) -> dict[str, str]:
    """Secret values by the name a user knows them by: sensitive variables, secret fields."""
    named = sensitive_variables(plan)
    for key in SENSITIVE_FIELDS & plan.config.keys():
        if plan.config[key]:
            named.setdefault(key, str(plan.config[key]))
    return named


@dataclass
class RecordedLauncher:
    """Starts and tears down a VM, each half in its own cassette when the build is recorded."""

    store: ImageStore
    plan: BuildPlan
    artifact: Artifact
    name: str
    secrets: set[str] = field(default_factory=set)
    _launcher: Launcher | None = None

    def launch(self) -> LaunchedVM:
        self.secrets |= self.plan.secrets()
        with self.store.recording(self.plan, f"{self.name}.vm-launch", self.secrets) as extra:
            self._launcher = self.store._launcher(
                self.plan, self.artifact, self.name, self.secrets, extra
            )
            vm = self._launcher.launch()
        if vm.password:
            self.secrets.add(vm.password)
        return vm

    def teardown(self) -> None:
        if self._launcher is None:
            return
        with self.store.recording(self.plan, f"{self.name}.vm-teardown", self.secrets):
            self._launcher.teardown()
