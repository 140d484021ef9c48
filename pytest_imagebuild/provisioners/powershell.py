"""The powershell provisioner: inline lines or script files run through PowerShell over WinRM."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..errors import BuildError
from .base import ProvisionContext, remaining
from .shell import valid_codes


def _scripts(config: dict[str, Any]) -> list[tuple[str, str]]:
    """(label, text) of each script to run, inline lines first joined as one script."""
    if config.get("inline"):
        lines = config["inline"] if isinstance(config["inline"], list) else [config["inline"]]
        return [("inline script", "\n".join(str(line) for line in lines))]
    scripts = config.get("scripts") or []
    if config.get("script"):
        scripts = [config["script"], *scripts]
    out = []
    for script in scripts if isinstance(scripts, list) else [scripts]:
        path = Path(str(script))
        if not path.is_file():
            raise BuildError(f"Bad script '{script}': no such file")
        out.append((str(script), path.read_text(encoding="utf-8-sig")))
    return out


def _prelude(ctx: ProvisionContext, config: dict[str, Any]) -> str:
    env = dict(ctx.build_env)
    for item in config.get("environment_vars") or []:
        key, _, value = str(item).partition("=")
        env[key] = value
    lines = ["$ProgressPreference = 'SilentlyContinue'"]
    lines += [f"$env:{key} = '{value.replace(chr(39), chr(39) * 2)}'" for key, value in env.items()]
    return "\n".join(lines) + "\n"


def provision(ctx: ProvisionContext, config: dict[str, Any]) -> None:
    comm = ctx.require_communicator("powershell")
    run_powershell = getattr(comm, "run_powershell", None)
    if run_powershell is None:
        raise BuildError("the powershell provisioner needs the WinRM communicator")
    if config.get("elevated_user"):
        ctx.ui.message(
            f"Running as elevated user {config['elevated_user']} (the WinRM session's "
            "administrator token)"
        )
    codes = valid_codes(config)
    for label, text in _scripts(config):
        ctx.ui.say(f"Provisioning with powershell script: {label}")
        tail: list[str] = []

        def show(line: str, tail: list[str] = tail) -> None:
            tail.append(line)
            del tail[:-20]
            ctx.ui.message(line)

        status = run_powershell(
            _prelude(ctx, config) + text, timeout=remaining(ctx), on_output=show
        )
        if status not in codes:
            output = "\n".join(tail)
            raise BuildError(
                f"Script exited with non-zero exit status: {status}. Allowed exit "
                f"codes are: {list(codes)}" + (f"\n{output}" if output else "")
            )
