"""Running post-processor chains: each chain starts from the builder's artifact."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from ..catalogue import NotAvailable, catalogue
from ..errors import BuildError
from ..multistep import Artifact
from ..safepath import inside
from ..template.model import BuildPlan, PostProcessorSpec, Stage
from ..ui import BuildUI


@dataclass
class PostContext:
    plan: BuildPlan
    ui: BuildUI
    output_base: Path

    def output_path(self, value: str) -> Path:
        """Relative outputs land in the build's output base, never in the user's checkout."""
        path = Path(value).expanduser()
        return path if path.is_absolute() else inside(self.output_base, path, "an output")


class PostProcess(Protocol):
    def __call__(
        self, ctx: PostContext, config: dict[str, Any], artifact: Artifact
    ) -> Artifact: ...


def post_processor_function(type_name: str) -> PostProcess:
    """The catalogue's post-processor of that type."""
    try:
        return catalogue().post_processor(type_name)
    except NotAvailable as error:
        raise BuildError(str(error)) from None


def run_post_processors(ctx: PostContext, artifact: Artifact) -> list[Artifact]:
    """Every chain in order; returns the builder's artifact and each post-processor's result.

    manifest, checksum and shell-local always keep their input (as in Packer), so nothing
    is destroyed here.
    """
    results = [artifact]
    for chain in ctx.plan.post_processors:
        current = artifact
        for stage in chain:
            current = _run_stage(ctx, stage, current)
            results.append(current)
    return results


def _run_stage(ctx: PostContext, stage: Stage, artifact: Artifact) -> Artifact:
    spec = stage.spec
    assert isinstance(spec, PostProcessorSpec)
    ctx.ui.say(f"Running post-processor: {spec.display_name} (type {spec.type})")
    try:
        return post_processor_function(spec.type)(ctx, stage.config, artifact)
    except BuildError as error:
        raise BuildError(f"Post-processor failed: {spec.display_name}: {error}") from None
