"""windows-restart: reboot the machine and wait until it answers again."""

from __future__ import annotations

from typing import Any

from ..errors import BuildError
from ..template.durations import parse_duration
from .base import ProvisionContext

DEFAULT_RESTART = 'shutdown /r /f /t 0 /c "packer restart"'
DEFAULT_CHECK = "powershell -command \"& {Write-Output 'restarted.'}\""


def provision(ctx: ProvisionContext, config: dict[str, Any]) -> None:
    comm = ctx.require_communicator("windows-restart")
    timeout = parse_duration(str(config.get("restart_timeout") or "5m"))
    ctx.ui.say("Restarting Machine")
    status = comm.run(str(config.get("restart_command") or DEFAULT_RESTART), timeout=60)
    if status not in (0, 1115):  # 1115: a shutdown is already in progress
        raise BuildError(f"restart command exited with {status}")
    ctx.ui.say("Waiting for machine to restart...")
    check = str(config.get("restart_check_command") or DEFAULT_CHECK)
    deadline = ctx.monotonic() + timeout
    went_down = False
    while ctx.monotonic() < deadline:
        try:
            lines: list[str] = []
            if comm.run(check, timeout=60, on_output=lines.append) == 0 and went_down:
                ctx.ui.message(" ".join(lines) or "restarted.")
                ctx.ui.say("Machine successfully restarted, moving on")
                return
        except Exception:  # the machine is down, which is what a restart looks like
            went_down = True
            comm.close()
        ctx.sleep(5)
    raise BuildError(f"Timeout waiting for machine to restart after {timeout:g}s")
