"""Packer's qemu builder for disk images: overlay or copy, boot, SSH, provision, shut down."""

from __future__ import annotations

from ..digests import file_digest
from ..errors import BuildError
from ..multistep import Artifact, BuildContext, Step
from ..provision_steps import StepProvision
from . import (
    BUILDER_ID,
    steps,
)
from .config import QemuConfig


class QemuBuilder:
    def __init__(self, ctx: BuildContext) -> None:
        self.ctx = ctx
        try:
            config = QemuConfig.from_plan(ctx.plan.name, ctx.plan.config)
        except (TypeError, ValueError) as error:
            raise BuildError(f"qemu builder {ctx.plan.name}: bad configuration: {error}") from None
        ctx.state["qemu"] = steps.QemuState(config)

    def steps(self) -> list[Step]:
        return [
            steps.StepPrepare(),
            steps.StepSourceImage(),
            steps.StepCreateDisk(),
            steps.StepKeyPair(),
            steps.StepCD(),
            steps.StepRunVM(),
            steps.StepWaitSSH(),
            StepProvision(),
            steps.StepShutdown(),
            steps.StepConvert(),
        ]

    def artifact(self) -> Artifact:
        """The image file; launchers read format, backing file and user from ``data``."""
        state = steps.qemu_state(self.ctx)
        cfg, image = state.config, state.disk
        assert image is not None, "the build finished without a disk"
        self.ctx.ui.message(f"VM files in directory: {state.output_dir}")
        return Artifact(
            builder_type=BUILDER_ID,
            build_name=self.ctx.plan.name,
            id="VM",
            files=[image],
            data={
                "path": str(image),
                "format": cfg.format,
                "checksum": f"sha256:{file_digest(image, 'sha256')}",
                "backing_file": str(state.source) if cfg.use_backing_file else "",
                "output_directory": str(state.output_dir),
                "ssh_username": cfg.ssh_username,
                "accelerator": state.machine_accelerator,
            },
        )
