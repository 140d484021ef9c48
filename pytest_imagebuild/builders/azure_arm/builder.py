"""AzureArmBuilder: Packer's azure-arm sequence for a managed image, as ordered steps."""

from __future__ import annotations

from ...communicators.base import Communicator
from ..base import Artifact, BuildContext
from ..common import StepConnect, StepProvision
from .cloud import AzureEndpoints
from .config import AzureArmConfig
from .names import TempNames, random_password
from .steps import (
    AzureState,
    StepCaptureImage,
    StepConnectAzure,
    StepNetwork,
    StepPowerOff,
    StepPreflight,
    StepPublicIP,
    StepResourceGroup,
    StepVirtualMachine,
    StepWinRMListener,
    azure_state,
)

BUILDER_ID = "Azure.ResourceManagement.VMImage"


def _communicator(ctx: BuildContext) -> Communicator:
    state = azure_state(ctx)
    config = state.config
    if config.communicator == "winrm":
        from ...communicators.winrm import WinRMCommunicator

        return WinRMCommunicator(
            host=state.ip_address,
            port=config.winrm_port,
            username=config.username,
            password=state.admin_password,
            use_ssl=config.winrm_use_ssl,
            insecure=config.winrm_insecure,
            transport="ntlm" if config.winrm_use_ntlm else "basic",
        )
    from ...communicators.ssh import SSHCommunicator

    return SSHCommunicator(
        host=state.ip_address,
        port=22,
        username=config.username,
        key_file=ctx.state.get("ssh_key_file"),
        password=state.admin_password,
    )


class AzureArmBuilder:
    def __init__(self, ctx: BuildContext, endpoints: AzureEndpoints | None = None):
        self.ctx = ctx
        config = AzureArmConfig.from_plan(ctx.plan.config)
        seed = ctx.plan.template.run.seed
        password = config.password or random_password(seed, f"admin/{ctx.plan.name}")
        ctx.ui.add_secret(password)
        ctx.state["azure"] = AzureState(config, TempNames.create(seed, ctx.plan.name), password)
        self.endpoints = endpoints or ctx.options.get("azure_endpoints") or AzureEndpoints()

    def steps(self) -> list:
        config = azure_state(self.ctx).config
        label = "WinRM" if config.communicator == "winrm" else "SSH"
        return [
            StepConnectAzure(self.endpoints),
            StepPreflight(),
            StepResourceGroup(),
            StepNetwork(),
            StepVirtualMachine(),
            StepWinRMListener(),
            StepPublicIP(),
            StepConnect(_communicator, lambda: config.connect_timeout, label),
            StepProvision(),
            StepPowerOff(),
            StepCaptureImage(),
        ]

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
            },
        )
