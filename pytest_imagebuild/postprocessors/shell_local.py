"""shell-local as a post-processor: same runner as the provisioner; keeps its input artifact."""

from __future__ import annotations

from typing import Any

from ..multistep import Artifact
from ..provisioners.shell_local import run_local
from .base import PostContext


def post_process(ctx: PostContext, config: dict[str, Any], artifact: Artifact) -> Artifact:
    env = {
        "PACKER_BUILD_NAME": ctx.plan.name,
        "PACKER_BUILDER_TYPE": ctx.plan.type,
        "PACKER_HTTP_ADDR": "",
    }
    run_local(config, env, ctx.ui.message, None)
    return artifact
