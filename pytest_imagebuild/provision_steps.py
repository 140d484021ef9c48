"""Steps every builder with a communicator shares: connect, then run the provisioners."""

from __future__ import annotations

from collections.abc import Callable

from .clock import clock_of
from .communicators.base import Communicator
from .communicators.wait_reports import reporting_waits
from .errors import BuildError
from .multistep import BuildContext
from .provisioners.base import ProvisionContext, run_provisioners
from .recording.communicator import recorded


class StepConnect:
    """Wait for the communicator; the factory knows host, port and credentials."""

    name = "StepConnect"

    def __init__(
        self,
        factory: Callable[[BuildContext], Communicator],
        timeout: Callable[[], float],
        label: str,
        diagnostics: Callable[[BuildContext], str] | None = None,
        abort: Callable[[BuildContext], str | None] | None = None,
    ):
        self.factory = factory
        self.timeout = timeout
        self.label = label
        self.diagnostics = diagnostics
        self.abort = abort

    def run(self, ctx: BuildContext) -> None:
        ctx.ui.say(f"Waiting for {self.label} to become available...")
        communicator = recorded(self.factory(ctx))  # SSH goes to the cassette's tape
        ctx.state["communicator"] = communicator
        hint = (lambda: self.diagnostics(ctx)) if self.diagnostics else None
        stop = (lambda: self.abort(ctx)) if self.abort else None
        with reporting_waits(ctx.ui.say):
            communicator.wait_ready(self.timeout(), hint, stop)
        ctx.ui.say(f"Connected to {self.label}!")

    def cleanup(self, ctx: BuildContext) -> None:
        communicator = ctx.state.pop("communicator", None)
        if communicator is not None:
            communicator.close()


class StepProvision:
    name = "StepProvision"

    def run(self, ctx: BuildContext) -> None:
        provision = ProvisionContext(
            ctx.plan, ctx.ui, ctx.state.get("communicator"), clock=clock_of(ctx.options)
        )
        try:
            run_provisioners(provision, ctx.plan.provisioners)
        except BuildError:
            cleanup = ctx.plan.error_cleanup
            if cleanup is not None and ctx.on_error == "cleanup":
                ctx.ui.say(
                    "Provisioning step had errors: Running the cleanup provisioner, if present..."
                )
                try:
                    run_provisioners(provision, [cleanup])
                except BuildError as error:
                    ctx.ui.error(f"error-cleanup-provisioner failed: {error}")
            raise

    def cleanup(self, ctx: BuildContext) -> None:
        return None
