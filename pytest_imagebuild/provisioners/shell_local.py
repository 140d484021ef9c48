"""shell-local: run commands on the machine running pytest (provisioner and post-processor)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

from .. import process
from ..errors import BuildError
from ..template.gotemplate import Renderer
from .base import ProvisionContext, remaining
from .shell import env_assignments, script_sources, valid_codes

DEFAULT_EXECUTE = ["/bin/sh", "-c", "{{.Vars}} {{.Script}}"]


def run_local(
    config: dict[str, Any], env: dict[str, str], on_output, timeout: float | None
) -> None:
    """Run command, inline or scripts locally, each through execute_command."""
    for item in config.get("environment_vars") or []:
        key, _, value = str(item).partition("=")
        env[key] = value
    execute = config.get("execute_command") or DEFAULT_EXECUTE
    execute = execute if isinstance(execute, list) else ["/bin/sh", "-c", str(execute)]
    with tempfile.TemporaryDirectory(prefix="imagebuild-local-") as workdir:
        if config.get("command"):
            script = Path(workdir) / "command.sh"
            script.write_text(f"#!/bin/sh\n{config['command']}\n")
            scripts = [script]
        else:
            shebang = str(config.get("inline_shebang") or "/bin/sh -e")
            scripts = script_sources(config, shebang, Path(workdir))
        for script in scripts:
            script.chmod(0o755)
            data = {"Vars": env_assignments(env), "Script": str(script), "Command": str(script)}
            command = [Renderer({}, data, {}).render(str(part)) for part in execute]
            result = process.run(
                command, timeout=timeout or 3600, check=False, env={**os.environ, **env}
            )
            for line in (result.stdout or "").splitlines():
                on_output(line)
            if result.returncode not in valid_codes(config):
                tail = "\n".join((result.stdout + result.stderr).splitlines()[-20:])
                raise BuildError(
                    f"Erroneous exit code {result.returncode} while executing "
                    f"script: {script.name}\n{tail}"
                )


def provision(ctx: ProvisionContext, config: dict[str, Any]) -> None:
    run_local(config, dict(ctx.build_env), ctx.ui.message, remaining(ctx))


def breakpoint_provision(ctx: ProvisionContext, config: dict[str, Any]) -> None:
    """Packer pauses for the user here; a test run never waits for a keypress."""
    if str(config.get("disable", "false")).lower() not in ("true", "1"):
        ctx.ui.say(f"Breakpoint: {config.get('note', '')} (ignored: tests do not pause)")
