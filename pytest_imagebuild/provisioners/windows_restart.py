"""windows-restart: reboot the machine and wait until it is back, the way Packer does.

Whether the machine has gone down yet is asked of Windows itself: scheduling a test restart
answers 1115/1190 while the real one is still pending; once it succeeds the machine has been
through its restart, and the test restart is aborted. Then the check command must succeed.
"""

from __future__ import annotations

from typing import Any

from ..communicators.base import Communicator
from ..errors import BuildError
from ..template.durations import parse_duration
from .base import ProvisionContext

DEFAULT_RESTART = 'shutdown /r /f /t 0 /c "packer restart"'
TRY_RESTART = 'shutdown /r /f /t 60 /c "packer restart test"'
ABORT_RESTART = "shutdown /a"
DEFAULT_CHECK_SCRIPT = 'Write-Output "$env:COMPUTERNAME restarted."'
SHUTDOWN_IN_PROGRESS = (1115, 1190)
POLL_SECONDS = 5.0


def _try(comm: Communicator, command: str, lines: list[str] | None = None) -> int | None:
    """Exit status, or None when the machine does not answer (it is restarting)."""
    try:
        return comm.run(
            command, timeout=60, on_output=(lines.append if lines is not None else None)
        )
    except Exception:  # refused, reset, TLS or auth errors while Windows restarts
        comm.close()
        return None


def _wait(ctx: ProvisionContext, deadline: float, ready: Any, what: str, timeout: float) -> None:
    while not ready():
        if ctx.monotonic() >= deadline:
            raise BuildError(f"Timeout waiting for {what} after {timeout:g}s")
        ctx.sleep(min(POLL_SECONDS, max(deadline - ctx.monotonic(), 0.0)))


def provision(ctx: ProvisionContext, config: dict[str, Any]) -> None:
    from ..communicators.winrm import powershell_command

    comm = ctx.require_communicator("windows-restart")
    timeout = parse_duration(str(config.get("restart_timeout") or "5m"))
    ctx.ui.say("Restarting Machine")
    # None: the connection dropped as Windows went down, which is what was asked for.
    status = _try(comm, str(config.get("restart_command") or DEFAULT_RESTART))
    if status not in (None, 0, *SHUTDOWN_IN_PROGRESS):
        raise BuildError(f"Restart script exited with non-zero exit status: {status}")
    ctx.ui.say("Waiting for machine to restart...")
    deadline = ctx.monotonic() + timeout

    def restarted() -> bool:
        status = _try(comm, TRY_RESTART)
        if status == 0:
            _try(comm, ABORT_RESTART)
            return True
        return False

    _wait(ctx, deadline, restarted, "machine to restart", timeout)
    check = str(config.get("restart_check_command") or powershell_command(DEFAULT_CHECK_SCRIPT))
    lines: list[str] = []

    def answers() -> bool:
        lines.clear()
        return _try(comm, check, lines) == 0

    _wait(ctx, deadline, answers, "restart check command to succeed", timeout)
    for line in lines:
        ctx.ui.message(line)
    ctx.ui.say("Machine successfully restarted, moving on")
