"""The powershell provisioner: inline lines or script files run through PowerShell over WinRM.

Packer uploads each script and runs it with `-ExecutionPolicy bypass`; here a short script
travels encoded on the command line (one round trip) and a long one is uploaded. Progress
records are silenced and PowerShell's CLIXML error stream is decoded by the communicator,
so the output reads like a console's.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..errors import BuildError
from ..template.types import string_list
from .base import ProvisionContext, remaining
from .shell import valid_codes

POLICIES = {"bypass", "allsigned", "default", "remotesigned", "restricted", "undefined"}
POLICIES |= {"unrestricted", "none"}


def _scripts(config: dict[str, Any]) -> list[tuple[str, str]]:
    """(label, text) of each script to run; inline lines are joined into one script."""
    if config.get("inline"):
        lines = string_list(config["inline"])
        return [("inline script", "\n".join(str(line) for line in lines))]
    scripts = string_list(config.get("scripts"))
    if config.get("script"):
        scripts = [config["script"], *scripts]
    out = []
    for script in scripts if isinstance(scripts, list) else [scripts]:
        path = Path(str(script))
        if not path.is_file():
            raise BuildError(f"Bad script '{script}': no such file")
        out.append((str(script), path.read_text(encoding="utf-8-sig")))
    return out


def _quote(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _prelude(ctx: ProvisionContext, config: dict[str, Any]) -> str:
    """Packer's variables and environment_vars, and no progress bars."""
    env = dict(ctx.build_env)
    for item in config.get("environment_vars") or []:
        key, _, value = str(item).partition("=")
        env[key] = value
    lines = ["$ProgressPreference = 'SilentlyContinue'"]
    lines += [f"$env:{key} = {_quote(value)}" for key, value in env.items()]
    return "\n".join(lines) + "\n"


def _policy(config: dict[str, Any]) -> str:
    policy = str(config.get("execution_policy") or "bypass").lower()
    if policy not in POLICIES:
        raise BuildError(f"unsupported execution policy {policy!r}")
    return "Bypass" if policy == "none" else policy.capitalize()


def provision(ctx: ProvisionContext, config: dict[str, Any]) -> None:
    comm = ctx.require_communicator("powershell")
    run_powershell = getattr(comm, "run_powershell", None)
    if run_powershell is None:
        raise BuildError("the powershell provisioner needs the WinRM communicator")
    if config.get("elevated_user"):
        ctx.ui.message(
            f"Running as elevated user {config['elevated_user']}: the WinRM session "
            "already holds the administrator's elevated token"
        )
    codes = valid_codes(config)
    policy = _policy(config)
    for label, text in _scripts(config):
        ctx.ui.say(f"Provisioning with powershell script: {label}")
        last: list[str] = [""]

        def show(line: str, last: list[str] = last) -> None:
            if line.strip():
                last[0] = line.strip()
            ctx.ui.message(line)

        status = run_powershell(
            _prelude(ctx, config) + text,
            execution_policy=policy,
            timeout=remaining(ctx),
            on_output=show,
        )
        if status not in codes:
            raise BuildError(
                f"Script exited with non-zero exit status: {status}. Allowed exit "
                f"codes are: {list(codes)}"
                + (f" (last output: {last[0][:200]})" if last[0] else "")
            )
