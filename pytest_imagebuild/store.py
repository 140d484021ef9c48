"""The session's templates and images: each template read once, each image built once.

Collection, the ``validate`` item and the fixtures all ask the store for a template, so a
template is parsed and rendered once per session and every decision about it (its build
names, whether it is recorded) comes from the one parser. Images are built once per session
and, under xdist, once across workers, keyed by the template's resolved path and contents,
never by its name.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from .buildkey import build_key
from .catalogue import catalogue, load
from .cleanup.journal import Journal
from .cleanup.resources import BuildJournal
from .digests import file_digest
from .errors import ImagebuildError, Problem, TemplateError
from .multistep import Artifact, RunOptions
from .pipeline import RecordedLauncher, run_build
from .recording.session import RecordingSession
from .reuse.flow import build_or_reuse
from .safepath import inside
from .settings import Settings, display_path
from .sharing import SharedBuilds
from .template import RunContext, Template, plan_builds
from .template.hcl2.parse import auto_var_files, configuration_files, is_hcl2_path
from .template.loader import read_template
from .template.model import BuildPlan
from .template.names import template_stem
from .template.validate import validate_template
from .ui import BuildUI


@dataclass(frozen=True)
class LoadedTemplate:
    """A template as this session sees it: parsed and rendered once, with every problem."""

    template: Template | None
    problems: list[Problem]
    shown: str = ""  # the path as messages show it

    @property
    def errors(self) -> list[Problem]:
        """The problems that make it unusable (warnings say what Packer would accept)."""
        return [problem for problem in self.problems if not problem.warning]

    def valid(self) -> Template:
        if self.template is None or self.errors:
            raise TemplateError(self.errors, self.shown or None)
        return self.template


def _configuration_of(path: Path) -> list[Path]:
    """The files a template's builds are read from: never a folder's other files (an ISO
    beside the configuration), never a pipe or device."""
    hcl2 = is_hcl2_path(path)
    files = [*configuration_files(path), *auto_var_files(path)] if hcl2 else [path]
    return [file for file in files if file.is_file()]


def content_key(path: Path, build_name: str) -> str:
    """Identifies a build across xdist workers: the template's resolved path and bytes."""
    digest = hashlib.sha256(f"{path.resolve()}\0{build_name}\0".encode())
    for file in _configuration_of(path):
        try:
            digest.update(f"{file.name}\0{file_digest(file)}\0".encode())
        except OSError:
            continue
    name = f"{template_stem(path)}-{build_name}"
    safe = "".join(c if c.isalnum() or c in "-_" else "-" for c in name)
    return f"{safe[:60]}-{digest.hexdigest()[:16]}"


@dataclass
class ImageStore:
    settings: Settings
    workdir_factory: Callable[[], Path]
    recording: RecordingSession
    run: RunContext = field(default_factory=RunContext.create)
    progress: Callable[[str], None] | None = None
    shared: SharedBuilds = field(default_factory=SharedBuilds)
    journal: Journal | None = None
    _templates: dict[Path, LoadedTemplate] = field(default_factory=dict)
    _builds: dict[tuple[Path, str], Artifact | ImagebuildError] = field(default_factory=dict)

    # -- templates ------------------------------------------------------------------------
    def load(self, path: Path) -> LoadedTemplate:
        """Read, render and validate once; a recorded template renders as its recording did."""
        path = path.resolve()
        if path not in self._templates:
            self._templates[path] = self._load(path)
        return self._templates[path]

    def _load(self, path: Path) -> LoadedTemplate:
        settings = self.settings
        shown = display_path(path)
        template, problems = read_template(shown, settings.variables, settings.var_files, self.run)
        kinds = {builder.type for builder in template.builders} if template else set()
        try:
            recorded = self.recording.template_run(path) if self.recording.records(kinds) else None
        except ImagebuildError:
            # A damaged cassette is its build's error, not the template's: the build items
            # are still collected (-k build must not silently run nothing) and each build
            # reads the cassette again and fails naming it.
            recorded = None
        if recorded is not None:
            variables = {**settings.variables, **recorded.variables}
            template, problems = read_template(shown, variables, settings.var_files, recorded.run)
        if template is not None:
            problems = problems + validate_template(template, settings.only, settings.except_)
        return LoadedTemplate(template, problems, str(shown))

    def template(self, path: Path) -> Template:
        """The parsed, validated template; raises the same TemplateError every time."""
        return self.load(path).valid()

    def plan(self, path: Path, build_name: str) -> BuildPlan:
        template = self.template(path)
        plans, _ = plan_builds(template, only=(build_name,))
        if not plans:
            raise ImagebuildError(
                f"{path}: no build named {build_name!r} (builds: {', '.join(template.build_names)})"
            )
        return plans[0]

    # -- builds ---------------------------------------------------------------------------
    def build(self, path: Path, build_name: str) -> Artifact:
        """Build once per session; a failed build fails every later request the same way."""
        key = (path.resolve(), build_name)
        if key not in self._builds:
            try:
                plan = self.plan(path, build_name)
                shared_key = content_key(path, build_name)
                self._builds[key] = self.shared.once(shared_key, lambda: self._build(plan))
            except ImagebuildError as error:
                self._builds[key] = error
        result = self._builds[key]
        if isinstance(result, ImagebuildError):
            raise result
        return result

    def _build(self, plan: BuildPlan) -> Artifact:
        secrets = plan.secrets()
        ui = BuildUI(plan.name, secrets, on_stage=self.progress)

        def build(key: str) -> Artifact:
            with self.recording.use(plan, "build", secrets) as clock:
                workdir = self._workdir(plan, "")
                run = replace(
                    self.run_options(plan).with_clock(clock),
                    build_key=key,
                    force=self.settings.reuse.force,
                )
                return run_build(plan, run, ui, workdir, self.settings.on_error)

        def lookup(call: Callable[[RunOptions], Any]) -> Any:
            """Runs a provider's look-up with run options, recorded as reuse-lookup."""
            with self.recording.use(plan, "reuse-lookup", secrets) as clock:
                return call(self.run_options(plan).with_clock(clock))

        key = self.build_key(plan)
        return build_or_reuse(plan, key, self.settings.reuse, ui, build, lookup)

    def build_key(self, plan: BuildPlan) -> str | None:
        """The build's content key (pytest_imagebuild.buildkey), rendered with the same
        variables as the plan; a recorded template's recorded variables too."""
        variables = dict(self.settings.variables)
        entry = catalogue().builder_type(plan.type)
        if entry is not None and entry.recorded and self.recording.records({plan.type}):
            recorded = self.recording.template_run(plan.template.path)
            if recorded is not None:
                variables.update(recorded.variables)
        return build_key(plan.template.path, plan.name, variables, self.settings.var_files)

    def launcher(
        self, path: Path, build_name: str, artifact: Artifact, name: str = "vm"
    ) -> RecordedLauncher:
        """A launcher for a VM from this build's image, recorded as <name>.vm-launch and
        <name>.vm-teardown; the caller tears it down."""
        return RecordedLauncher(
            self.plan(path, build_name), artifact, name, self.recording, self._prepare_launch
        )

    def _prepare_launch(
        self, plan: BuildPlan, name: str, secrets: set[str]
    ) -> tuple[BuildUI, Path, RunOptions, BuildJournal]:
        ui = BuildUI(f"{plan.name}-vm", secrets, on_stage=self.progress)
        journal = self.journal_for(plan)
        return ui, self._workdir(plan, name), self.run_options(plan, name, journal), journal

    # -- what builds and launches get from the session -------------------------------------
    def run_options(
        self, plan: BuildPlan, scope: str = "", journal: BuildJournal | None = None
    ) -> RunOptions:
        """Seed, run id, provider settings and journal callbacks for a build or launch."""
        run = plan.template.run
        journal = journal or self.journal_for(plan)
        return RunOptions(
            seed=":".join(part for part in (run.seed, plan.name, scope) if part),
            run_id=run.run_uuid,
            provider=self.provider_settings(plan),
            on_created=journal.created,
            on_released=journal.released,
            live_credentials=self.settings.may_go_live(),
        )

    def provider_settings(self, plan: BuildPlan) -> Mapping[str, str]:
        """The provider's run settings; a replay uses the ones it was recorded with."""
        given = self.settings.provider_settings(plan.type)
        entry = catalogue().builder_type(plan.type)
        if entry is None or not entry.run_settings:
            return given
        recorded = self.recording.template_run(plan.template.path) if entry.recorded else None
        return load(entry.run_settings)(given, recorded.endpoints if recorded else None)

    def journal_for(self, plan: BuildPlan) -> BuildJournal:
        """Journals what a build or launch creates, with what the janitor needs to find it."""
        about = {"template": str(plan.template.path), "build": plan.name}
        entry = catalogue().builder_type(plan.type)
        data: dict[str, str] = {}
        if entry is not None and entry.journal_data:
            given = self.settings.provider_settings(plan.type)
            data = load(entry.journal_data)(plan.config, given)
        return BuildJournal(self.journal, data, about)

    def _workdir(self, plan: BuildPlan, scope: str) -> Path:
        """Where a build or launch puts its files: one folder per build key under the base temp."""
        name = content_key(plan.template.path, plan.name) + (f"-{scope}" if scope else "")
        root = self.workdir_factory()
        workdir = inside(root, root / name, "a work folder")
        workdir.mkdir(parents=True, exist_ok=True)
        return workdir
