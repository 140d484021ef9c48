"""Running one build plan: its builder's steps, then its post-processors; and launching a VM.

The store decides whether to build (once per session, once across xdist workers); this module
is what happens when it does. Recording wraps each call from outside (``RecordingSession``),
so nothing here asks whether it is replaying.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from .catalogue import catalogue
from .cleanup.resources import BuildJournal, TrackedLauncher
from .launch import LaunchedVM, Launcher, launcher_for
from .multistep import Artifact, BuildContext, RunOptions, run_steps
from .postprocessors.base import PostContext, run_post_processors
from .recording.session import RecordingSession
from .template.model import BuildPlan
from .ui import BuildUI


def run_build(
    plan: BuildPlan, run: RunOptions, ui: BuildUI, workdir: Path, on_error: str
) -> Artifact:
    """The builder's steps (cleanups always run), then every post-processor chain."""
    ctx = BuildContext(plan, ui, workdir, on_error, options=run)
    ctx.journal, ctx.journal_released = run.on_created, run.on_released
    builder = catalogue().builder_class(plan.type)(ctx)
    started = time.monotonic()
    stage_times = run_steps(ctx, builder.steps())
    artifact = builder.artifact()
    artifact.stage_times = stage_times
    post = time.monotonic()
    artifact.outputs = run_post_processors(PostContext(plan, ui, workdir), artifact)[1:]
    if plan.post_processors:
        artifact.stage_times["post-processors"] = time.monotonic() - post
    ui.say(f"Build '{plan.name}' finished after {time.monotonic() - started:.1f} seconds.")
    ui.say(f"Artifact: {artifact.describe()}")
    return artifact


@dataclass
class RecordedLauncher:
    """Starts and tears down a VM, each half in its own cassette when the build is recorded."""

    plan: BuildPlan
    artifact: Artifact
    name: str
    recording: RecordingSession
    prepare: Callable[[BuildPlan, str, set[str]], tuple[BuildUI, Path, RunOptions, BuildJournal]]
    secrets: set[str] = field(default_factory=set)
    _launcher: Launcher | None = None

    def launch(self) -> LaunchedVM:
        self.secrets |= self.plan.secrets()
        with self.recording.use(self.plan, f"{self.name}.vm-launch", self.secrets) as clock:
            ui, workdir, run, journal = self.prepare(self.plan, self.name, self.secrets)
            launcher = launcher_for(self.plan, self.artifact, ui, workdir, run.with_clock(clock))
            self._launcher = TrackedLauncher(launcher, journal)
            vm = self._launcher.launch()
        if vm.password:
            self.secrets.add(vm.password)
        return vm

    def teardown(self) -> None:
        if self._launcher is None:
            return
        with self.recording.use(self.plan, f"{self.name}.vm-teardown", self.secrets):
            self._launcher.teardown()
