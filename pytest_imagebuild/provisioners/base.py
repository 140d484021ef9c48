"""Running a template's provisioners in order, with pause_before, max_retries and timeout."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from ..catalogue import NotAvailable, catalogue
from ..clock import REAL_CLOCK, Clock
from ..communicators.base import Communicator
from ..errors import BuildError
from ..template.model import BuildPlan, ProvisionerSpec, Stage
from ..ui import BuildUI


@dataclass
class ProvisionContext:
    """What a provisioner may use: the build plan, its communicator, the UI, a clock."""

    plan: BuildPlan
    ui: BuildUI
    communicator: Communicator | None
    clock: Clock = REAL_CLOCK
    env: dict[str, str] = field(default_factory=dict)
    deadline: float | None = None

    def sleep(self, seconds: float) -> None:
        self.clock.sleep(seconds)

    def monotonic(self) -> float:
        return self.clock.monotonic()

    @property
    def build_env(self) -> dict[str, str]:
        """The variables Packer gives every script: PACKER_BUILD_NAME and PACKER_BUILDER_TYPE."""
        return {
            "PACKER_BUILD_NAME": self.plan.name,
            "PACKER_BUILDER_TYPE": self.plan.type,
            "PACKER_HTTP_ADDR": "",
        }

    def require_communicator(self, kind: str) -> Communicator:
        if self.communicator is None:
            raise BuildError(
                f"the {kind} provisioner needs a communicator, and this build has none"
            )
        return self.communicator


class Provision(Protocol):
    def __call__(self, ctx: ProvisionContext, config: dict[str, Any]) -> None: ...


def provisioner_function(type_name: str) -> Provision:
    """The catalogue's provisioner of that type (the catalogue says which exist)."""
    try:
        return catalogue().provisioner(type_name)
    except NotAvailable as error:
        raise BuildError(str(error)) from None


def run_provisioners(ctx: ProvisionContext, stages: list[Stage]) -> None:
    """Run each stage; a failure after its retries fails the build with the provisioner named."""
    for stage in stages:
        spec = stage.spec
        assert isinstance(spec, ProvisionerSpec)
        provision = provisioner_function(spec.type)
        if spec.pause_before:
            ctx.ui.say(f"Pausing {spec.pause_before:g}s before the next provisioner...")
            ctx.sleep(spec.pause_before)
        ctx.ui.say(f"Provisioning with {spec.type}...")
        _with_retries(
            ctx, spec, lambda provision=provision, stage=stage: provision(ctx, stage.config)
        )


def _with_retries(ctx: ProvisionContext, spec: ProvisionerSpec, action: Callable[[], None]) -> None:
    attempts = spec.max_retries + 1
    for attempt in range(1, attempts + 1):
        ctx.deadline = ctx.monotonic() + spec.timeout if spec.timeout else None
        try:
            action()
            return
        except BuildError as error:
            left = attempts - attempt
            if not left:
                where = f"provisioner {spec.path[-1] if spec.path else ''} ({spec.type})"
                suffix = " (retry limit reached)" if spec.max_retries else ""
                raise BuildError(f"{where} failed{suffix}: {error}") from None
            ctx.ui.say(f'Provisioner failed with "{error}", retrying with {left} trie(s) left')
            ctx.sleep(min(2.0 * attempt, 10.0))


def remaining(ctx: ProvisionContext) -> float | None:
    """Seconds left before the provisioner's timeout, for commands that take a timeout."""
    if ctx.deadline is None:
        return None
    left = ctx.deadline - ctx.monotonic()
    if left <= 0:
        raise BuildError("provisioner timed out")
    return left


def local_path(ctx: ProvisionContext, value: str) -> Path:
    """Relative paths in a template are relative to the working directory, as in Packer."""
    return Path(value).expanduser()
