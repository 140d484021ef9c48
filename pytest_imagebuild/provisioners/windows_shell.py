"""windows-shell: cmd.exe commands (inline lines or .bat/.cmd scripts) over WinRM."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..errors import BuildError
from .base import ProvisionContext, remaining
from .shell import valid_codes


def provision(ctx: ProvisionContext, config: dict[str, Any]) -> None:
    comm = ctx.require_communicator("windows-shell")
    env = dict(ctx.build_env)
    for item in config.get("environment_vars") or []:
        key, _, value = str(item).partition("=")
        env[key] = value
    prefix = "".join(f'set "{key}={value}" && ' for key, value in env.items())
    if config.get("inline"):
        lines = config["inline"] if isinstance(config["inline"], list) else [config["inline"]]
        commands = [str(line) for line in lines]
    else:
        scripts = config.get("scripts") or []
        if config.get("script"):
            scripts = [config["script"], *scripts]
        commands = []
        for index, script in enumerate(scripts if isinstance(scripts, list) else [scripts]):
            remote = f"C:\\Windows\\Temp\\imagebuild-{index}{Path(str(script)).suffix or '.cmd'}"
            comm.upload(Path(str(script)), remote)
            commands.append(f'"{remote}"')
    codes = valid_codes(config)
    for command in commands:
        ctx.ui.say(f"Provisioning with windows-shell: {command}")
        status = comm.run(prefix + command, timeout=remaining(ctx), on_output=ctx.ui.message)
        if status not in codes:
            raise BuildError(
                f"Script exited with non-zero exit status: {status}. "
                f"Allowed exit codes are: {list(codes)}"
            )
