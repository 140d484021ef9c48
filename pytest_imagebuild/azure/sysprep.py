"""Wait until Windows says it is generalized before Azure deallocates and captures it.

Packer leaves sysprep to the last provisioner and trusts it. Capturing a machine that has
not finished sysprep gives an image whose VMs never provision (OSProvisioningTimedOut, after
most of an hour), so this step reads the state Windows reports and, if no provisioner ran
sysprep at all, runs it the documented way.
"""

from __future__ import annotations

from ..clock import clock_of
from ..errors import BuildError
from ..multistep import BuildContext
from .steps import AzureStep, azure_state

GENERALIZED = "IMAGE_STATE_GENERALIZE_RESEAL_TO_OOBE"
READ_STATE = (
    "(Get-ItemProperty HKLM:\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Setup\\State)"
    ".ImageState"
)
SYSPREP = (
    "& $env:SystemRoot\\System32\\Sysprep\\Sysprep.exe /oobe /generalize /quiet /quit /mode:vm"
)
POLL_SECONDS = 10.0
TIMEOUT_SECONDS = 30 * 60.0


def _image_state(communicator) -> str:
    lines: list[str] = []
    status = communicator.run_powershell(READ_STATE, timeout=120, on_output=lines.append)
    if status != 0:
        raise BuildError(f"Reading the Windows image state failed with exit code {status}")
    return next((line.strip() for line in lines if line.strip()), "")


class StepWaitGeneralized(AzureStep):
    name = "StepWaitGeneralized"

    def run(self, ctx: BuildContext) -> None:
        state = azure_state(ctx)
        communicator = ctx.state.get("communicator")
        if not state.config.is_windows or not hasattr(communicator, "run_powershell"):
            return
        clock = clock_of(ctx.options)
        ctx.ui.say("Waiting until Windows reports the generalized state ...")
        current = _image_state(communicator)
        if current == "IMAGE_STATE_COMPLETE":
            ctx.ui.message("No provisioner ran sysprep; running Sysprep.exe /generalize ...")
            status = communicator.run_powershell(SYSPREP, timeout=600, on_output=ctx.ui.message)
            if status != 0:
                raise BuildError(f"Sysprep.exe exited with {status}")
        deadline = clock.monotonic() + TIMEOUT_SECONDS
        while (current := _image_state(communicator)) != GENERALIZED:
            ctx.ui.message(f" -> ImageState : {current}")
            if clock.monotonic() >= deadline:
                raise BuildError(
                    f"Windows did not reach {GENERALIZED} within {TIMEOUT_SECONDS / 60:.0f} "
                    f"minutes of sysprep (last ImageState: {current}); capturing now would "
                    "give an image whose VMs never finish provisioning."
                )
            clock.sleep(POLL_SECONDS)
        ctx.ui.message(f" -> ImageState : {current}")
