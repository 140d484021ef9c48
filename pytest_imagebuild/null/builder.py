"""The null builder: connect to the machine the template names, run the provisioners.

Nothing is created, so nothing is destroyed: the artifact is Packer's "Null" artifact and the
launcher (``launcher.py``) points the ``host`` fixture at that same machine.
"""

from __future__ import annotations

from ..clock import clock_of
from ..communicators.base import Communicator
from ..communicators.ssh import SSHCommunicator
from ..communicators.winrm import WinRMCommunicator
from ..multistep import Artifact, BuildContext, Step
from ..provision_steps import StepConnect, StepProvision
from . import BUILDER_ID
from .config import NullConfig


def communicator_for(config: NullConfig, ctx: BuildContext) -> Communicator:
    """An SSH or WinRM communicator to the configured host."""
    if config.communicator == "winrm":
        return WinRMCommunicator(
            host=config.host,
            port=config.port,
            username=config.username,
            password=config.password,
            use_ssl=config.use_ssl,
            insecure=config.insecure,
            transport="ntlm" if config.use_ntlm else "basic",
            clock=clock_of(ctx.options),
        )
    return SSHCommunicator(
        config.host,
        config.port,
        config.username,
        password=config.password or None,
        private_key_file=config.private_key_file,
        poll_interval=1.0,
        secrets=ctx.plan.secrets(),
    )


class StepConnectExisting:
    """StepConnect to the existing host; with communicator "none" there is nothing to reach."""

    name = "StepConnect"

    def __init__(self, config: NullConfig):
        self.config = config
        self.connect = StepConnect(
            lambda ctx: communicator_for(config, ctx),
            lambda: config.timeout,
            f"{config.label} on {config.host}:{config.port}",
        )

    def run(self, ctx: BuildContext) -> None:
        if self.config.communicator != "none":
            self.connect.run(ctx)

    def cleanup(self, ctx: BuildContext) -> None:
        self.connect.cleanup(ctx)


class NullBuilder:
    def __init__(self, ctx: BuildContext) -> None:
        self.ctx = ctx
        self.config = NullConfig.from_plan(ctx.plan.name, ctx.plan.config)

    def steps(self) -> list[Step]:
        return [StepConnectExisting(self.config), StepProvision()]

    def artifact(self) -> Artifact:
        return Artifact(
            builder_type=BUILDER_ID,
            build_name=self.ctx.plan.name,
            id="Null",
            data={"host": self.config.host, "port": self.config.port},
        )
