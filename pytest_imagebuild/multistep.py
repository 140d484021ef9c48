"""Steps with cleanups, Packer's multistep idea: cleanups run newest first, whatever failed."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Protocol

from . import process
from .cleanup import signals
from .cleanup.resources import LOCAL_KINDS  # on this machine: real on replay too
from .clock import REAL_CLOCK, Clock
from .errors import BuildError
from .template.model import BuildPlan
from .ui import BuildUI


@dataclass
class Artifact:
    """What a build produced: files and/or a cloud resource id, plus what launchers need."""

    builder_type: str
    build_name: str
    id: str = ""
    files: list[Path] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)
    stage_times: dict[str, float] = field(default_factory=dict)
    outputs: list[Artifact] = field(default_factory=list)

    def describe(self) -> str:
        if self.files:
            return ", ".join(str(path) for path in self.files)
        return self.id or "(no files)"


@dataclass(frozen=True)
class RunOptions:
    """What a build or launch gets from the session besides its plan; never a secret.

    ``seed`` makes generated names and passwords deterministic (so replays match), ``provider``
    holds the provider's run settings (Azure: endpoint overrides), and the two callbacks journal
    what is created and released so the janitor can find leftovers after a crash.
    """

    seed: str = ""
    run_id: str = ""
    clock: Clock = REAL_CLOCK
    provider: Mapping[str, str] = field(default_factory=dict)
    on_created: Callable[[str, str], None] | None = None
    on_released: Callable[[str, str], None] | None = None
    build_key: str = ""  # the build's content key, carried when a later run may look for it
    force: bool = False  # --image-force: replace an existing artifact of the same name
    # May a cloud build reach a live credential chain (managed identity, Azure CLI)? Only when
    # the user asked to record or set credentials: a replay that misses fails closed instead.
    live_credentials: bool = False

    def with_clock(self, clock: Clock) -> RunOptions:
        return replace(self, clock=clock)

    def really_exists(self, kind: str) -> bool:
        """On replay (a virtual clock) a cloud resource is only a recording: nothing to journal,
        keep or remove. Local paths and processes are real either way."""
        return kind in LOCAL_KINDS or not getattr(self.clock, "virtual", False)

    def note_created(self, kind: str, name: str) -> None:
        """Journal a resource a launch is about to create, when it is real (see above)."""
        if self.on_created is not None and self.really_exists(kind):
            self.on_created(kind, name)



@dataclass
class BuildContext:
    """What a builder gets from the session: where to work, how to report, what to do on error."""

    plan: BuildPlan
    ui: BuildUI
    workdir: Path
    on_error: str = "cleanup"
    state: dict[str, Any] = field(default_factory=dict)
    options: RunOptions = field(default_factory=RunOptions)
    created: list[tuple[str, str]] = field(default_factory=list)
    journal: Callable[[str, str], None] | None = None
    journal_released: Callable[[str, str], None] | None = None
    released: set[tuple[str, str]] = field(default_factory=set)

    def note_created(self, kind: str, name: str) -> None:
        """Note a resource before creating it, so a crash or --image-on-error=abort can name it.

        On replay only local resources are real (``RunOptions.really_exists``)."""
        if not self.really_exists(kind):
            return
        self.created.append((kind, name))
        if self.journal:
            self.journal(kind, name)

    def really_exists(self, kind: str) -> bool:
        return self.options.really_exists(kind)

    def note_released(self, kind: str, name: str) -> None:
        """Note a resource removed normally, so the janitor does not report it as left behind.

        run_steps calls it for everything recorded once every cleanup succeeded.
        """
        if (kind, name) in self.released or not self.really_exists(kind):
            return
        self.released.add((kind, name))
        if self.journal_released:
            self.journal_released(kind, name)


class Step(Protocol):
    name: str

    def run(self, ctx: BuildContext) -> None: ...

    def cleanup(self, ctx: BuildContext) -> None: ...


class Builder(Protocol):
    def __init__(self, ctx: BuildContext) -> None: ...

    def steps(self) -> list[Step]: ...

    def artifact(self) -> Artifact: ...


def run_steps(
    ctx: BuildContext, steps: list[Step], clock: Callable[[], float] = time.monotonic
) -> dict[str, float]:
    """Run steps in order; run the cleanups of every started step newest first, always.

    With on_error=abort a failed build keeps its resources and the error says so.
    """
    started: list[Step] = []
    times: dict[str, float] = {}
    failure: BaseException | None = None
    try:
        for step in steps:
            started.append(step)
            begin = clock()
            step.run(ctx)
            times[step.name] = clock() - begin
    except BaseException as error:
        failure = error
        raise
    finally:
        if failure is not None and ctx.on_error == "abort":
            for step in reversed(started):
                ctx.ui.say(f"aborted: skipping cleanup of step {step.name!r}")
            _keep_for_inspection(ctx)
        else:
            try:
                _cleanup(ctx, started)
            except BuildError as cleanup_error:
                if not isinstance(failure, Exception):
                    raise
                # Both matter: what broke the build, and what it may have left behind.
                raise BuildError(f"{failure} Then {cleanup_error}") from failure
    return times


def _cleanup(ctx: BuildContext, started: list[Step]) -> None:
    with signals.cleaning_up():
        _run_cleanups(ctx, started)


def _run_cleanups(ctx: BuildContext, started: list[Step]) -> None:
    errors: list[str] = []
    interrupted: KeyboardInterrupt | None = None
    for step in reversed(started):
        try:
            step.cleanup(ctx)
        except Exception as error:  # a failing cleanup must not stop the ones after it
            errors.append(f"{step.name}: {error}")
            ctx.ui.error(f"cleanup of step {step.name!r} failed: {error}")
        except KeyboardInterrupt as stop:  # Ctrl-C/SIGTERM: finish the other cleanups first
            interrupted = interrupted or stop
            ctx.ui.error(f"cleanup of step {step.name!r} interrupted: {stop}")
    if interrupted is not None:
        raise interrupted
    if not errors:  # a step may undo what another made: only a clean sweep releases all
        for kind, name in ctx.created:
            ctx.note_released(kind, name)
    if errors:
        raise BuildError(
            "cleanup failed, resources may be left behind (`python -m pytest_imagebuild "
            "janitor` lists them): " + "; ".join(errors)
        )


def removal_hint(kind: str, name: str) -> str:
    """The command that removes a kept or leaked resource, as its provider says."""
    from .catalogue import catalogue

    return catalogue().removal_hint(kind, name)


def _keep_for_inspection(ctx: BuildContext) -> None:
    """Leave what the build made (a running VM too) and say how to remove each piece."""
    kept = [c for c in ctx.created if c not in ctx.released]
    if not kept:
        return
    for kind, name in kept:
        if kind == "process" and name.isdigit():
            # As with Packer, the VM stays up to be inspected, even after pytest exits.
            process.keep_running(int(name))
    ctx.ui.say("--image-on-error=abort: these resources were kept; remove them with:")
    for kind, name in reversed(kept):
        ctx.ui.message(f"  {removal_hint(kind, name)}")
