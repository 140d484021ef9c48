"""windows-shell: cmd.exe scripts (or inline lines written to one) uploaded and run over WinRM.

As in Packer, environment variables are set with `set "NAME=value" &&` in front of the
script's path, so the batch file sees them when it expands its own lines.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from ..errors import BuildError
from ..template.types import string_list
from .base import ProvisionContext, remaining
from .shell import valid_codes


def _sources(config: dict[str, Any], workdir: Path) -> list[Path]:
    if config.get("inline"):
        lines = string_list(config["inline"])
        path = workdir / "inline.cmd"
        path.write_text("".join(f"{line}\r\n" for line in lines), encoding="utf-8")
        return [path]
    scripts = string_list(config.get("scripts"))
    if config.get("script"):
        scripts = [config["script"], *scripts]
    return [Path(str(s)) for s in (scripts if isinstance(scripts, list) else [scripts])]


def _quote_set(key: str, value: str) -> str:
    return f'set "{key}={value}" && '


def provision(ctx: ProvisionContext, config: dict[str, Any]) -> None:
    comm = ctx.require_communicator("windows-shell")
    env = dict(ctx.build_env)
    for item in config.get("environment_vars") or []:
        key, _, value = str(item).partition("=")
        env[key] = value
    prefix = "".join(_quote_set(key, value) for key, value in env.items())
    codes = valid_codes(config)
    with tempfile.TemporaryDirectory(prefix="imagebuild-winshell-") as workdir:
        for index, source in enumerate(_sources(config, Path(workdir))):
            if not source.is_file():
                raise BuildError(f"Bad script '{source}': no such file")
            suffix = source.suffix if source.suffix.lower() in (".bat", ".cmd") else ".cmd"
            remote = str(config.get("remote_path") or f"C:\\Windows\\Temp\\imagebuild-{index}")
            remote = remote if remote.lower().endswith((".bat", ".cmd")) else remote + suffix
            label = "inline script" if config.get("inline") else str(source)
            ctx.ui.say(f"Provisioning with windows-shell: {label}")
            comm.upload(source, remote)
            status = comm.run(
                f'{prefix}"{remote}"', timeout=remaining(ctx), on_output=ctx.ui.message
            )
            comm.run(f'del "{remote}"', timeout=60)
            if status not in codes:
                raise BuildError(
                    f"Script exited with non-zero exit status: {status}. "
                    f"Allowed exit codes are: {list(codes)}"
                )
