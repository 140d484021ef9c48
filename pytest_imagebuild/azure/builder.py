"""AzureArmBuilder: Packer's azure-arm sequence for a managed image, as ordered steps."""

from __future__ import annotations

from pathlib import Path

from ..clock import clock_of
from ..communicators.base import Communicator
from ..errors import BuildError, ImagebuildError
from ..multistep import Artifact, BuildContext, Step
from ..provision_steps import StepConnect, StepProvision
from ..secrets import mask, protect
from ..template.unsupported import refusal
from ..ui import BuildUI
from . import (
    BUILDER_ID,
    options,
)
from .config import AzureArmConfig
from .endpoints import AzureEndpoints
from .gallery import end_of_life
from .gallery_steps import StepCheckGalleryDestination, StepPublishToGallery
from .names import TempNames, random_password
from .rules import unsupported
from .steps import (
    AzureState,
    StepCaptureImage,
    StepConnectAzure,
    StepNetwork,
    StepPowerOff,
    StepPreflight,
    StepPublicIP,
    StepResourceGroup,
    StepSshKey,
    StepVirtualMachine,
    StepWinRMListener,
    azure_state,
)
from .sysprep import StepWaitGeneralized


def _communicator(ctx: BuildContext) -> Communicator:
    state = azure_state(ctx)
    config = state.config
    if config.communicator == "winrm":
        from ..communicators.winrm import WinRMCommunicator

        return WinRMCommunicator(
            host=state.ip_address,
            port=config.winrm_port,
            username=config.username,
            password=state.admin_password,
            use_ssl=config.winrm_use_ssl,
            insecure=config.winrm_insecure,
            transport="ntlm" if config.winrm_use_ntlm or config.winrm_use_ssl else "basic",
            clock=clock_of(ctx.options),
        )
    from ..communicators.ssh import SSHCommunicator

    return SSHCommunicator(
        host=state.ip_address,
        port=22,
        username=config.username,
        private_key_file=Path(key) if (key := ctx.state.get("ssh_key_file")) else None,
        password=state.admin_password,
    )


class Masked:
    """Runs a step so that no error it raises can carry a secret to the terminal."""

    def __init__(self, step: Step, ui: BuildUI):
        self.step = step
        self.name = step.name
        self.ui = ui

    def _masked(self, error: ImagebuildError) -> BuildError:
        return BuildError(mask(str(error), self.ui.secrets))

    def run(self, ctx: BuildContext) -> None:
        try:
            self.step.run(ctx)
        except ImagebuildError as error:
            raise self._masked(error) from None

    def cleanup(self, ctx: BuildContext) -> None:
        try:
            self.step.cleanup(ctx)
        except ImagebuildError as error:
            raise self._masked(error) from None


class AzureArmBuilder:
    def __init__(self, ctx: BuildContext, endpoints: AzureEndpoints | None = None):
        self.ctx = ctx
        missing = unsupported(ctx.plan.config)
        if missing:
            raise refusal("azure-arm", missing, "Nothing was created.")
        config = AzureArmConfig.from_plan(ctx.plan.config)
        # What Azure would refuse late stops the build before anything exists.
        custom_data = config.custom_data()
        if config.shared_gallery_image_version_end_of_life_date:
            end_of_life(config.shared_gallery_image_version_end_of_life_date)
        seed = ctx.options.seed or ctx.plan.template.run.seed
        password = config.password or random_password(seed, f"admin/{ctx.plan.name}")
        protect(ctx.ui, password)
        ctx.state["azure"] = AzureState(
            config, TempNames.create(seed, ctx.plan.name), password, custom_data=custom_data
        )
        self.endpoints = endpoints or options.endpoints(ctx.options.provider)

    def steps(self) -> list[Step]:
        config = azure_state(self.ctx).config
        label = "WinRM" if config.communicator == "winrm" else "SSH"
        steps: list[Step] = [
            StepConnectAzure(self.endpoints),
            StepPreflight(),
            StepCheckGalleryDestination(),
            StepResourceGroup(),
            StepSshKey(),
            StepNetwork(),
            StepVirtualMachine(),
            StepWinRMListener(),
            StepPublicIP(),
            StepConnect(_communicator, lambda: config.connect_timeout, label),
            StepProvision(),
            StepWaitGeneralized(),
            StepPowerOff(),
            StepCaptureImage(),
            StepPublishToGallery(),
        ]
        return [Masked(step, self.ctx.ui) for step in steps]

    def artifact(self) -> Artifact:
        state = azure_state(self.ctx)
        config = state.config
        return Artifact(
            builder_type=BUILDER_ID,
            build_name=self.ctx.plan.name,
            id=state.image_id,
            data={
                "managed_image_id": state.image_id,
                "managed_image_name": config.managed_image_name,
                "managed_image_resource_group_name": config.managed_image_resource_group_name,
                "location": state.location,
                "os_type": config.os_type,
                "communicator": config.communicator,
                "username": config.username,
                **(
                    {"shared_image_gallery_image_version_id": state.gallery_version_id}
                    if state.gallery_version_id
                    else {}
                ),
            },
        )
