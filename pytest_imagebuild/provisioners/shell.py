"""The shell provisioner: upload scripts (or inline commands) and run them over the communicator."""

from __future__ import annotations

import shlex
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..errors import BuildError
from ..template.durations import parse_duration
from ..template.gotemplate import Renderer
from ..template.types import as_bool, string_list
from .base import ProvisionContext, remaining

DEFAULT_EXECUTE = "chmod +x {{.Path}}; {{.Vars}} {{.Path}}"
DEFAULT_SHEBANG = "/bin/sh -e"
TAIL_LINES = 20


def env_assignments(env: dict[str, str]) -> str:
    return " ".join(f"{key}={shlex.quote(value)}" for key, value in env.items())


def script_sources(config: dict[str, Any], shebang: str, workdir: Path) -> list[Path]:
    """The local scripts to run: script, scripts, or inline written to a temp file."""
    if config.get("inline"):
        lines = string_list(config["inline"])
        path = workdir / "inline.sh"
        path.write_text(f"#!{shebang}\n" + "\n".join(str(line) for line in lines) + "\n")
        return [path]
    scripts = string_list(config.get("scripts"))
    if config.get("script"):
        scripts = [config["script"], *scripts]
    return [Path(str(script)) for script in (scripts if isinstance(scripts, list) else [scripts])]


def valid_codes(config: dict[str, Any]) -> Sequence[int]:
    codes = config.get("valid_exit_codes") or [0]
    return [int(code) for code in (codes if isinstance(codes, list) else [codes])]


def _env(ctx: ProvisionContext, config: dict[str, Any]) -> dict[str, str]:
    env = dict(ctx.build_env)
    for item in config.get("environment_vars") or []:
        key, _, value = str(item).partition("=")
        env[key] = value
    return env


def _reconnect(ctx: ProvisionContext, config: dict[str, Any]) -> None:
    """After an expected disconnect (a reboot), wait for the guest before going on."""
    comm = ctx.require_communicator("shell")
    comm.close()
    timeout = parse_duration(str(config.get("start_retry_timeout") or "5m"))
    comm.wait_ready(timeout)


def run_script(
    ctx: ProvisionContext, config: dict[str, Any], script: Path, remote: str, env: dict[str, str]
) -> bool:
    """Upload and run one script; False if the guest disconnected as the template expected."""
    comm = ctx.require_communicator("shell")
    execute = str(config.get("execute_command") or DEFAULT_EXECUTE)
    comm.upload(script, remote)
    command = Renderer({}, {"Path": remote, "Vars": env_assignments(env)}, {}).render(execute)
    tail: list[str] = []

    def show(line: str) -> None:
        tail.append(line)
        del tail[:-TAIL_LINES]
        ctx.ui.message(line)

    expect_disconnect = as_bool(config.get("expect_disconnect", False))
    try:
        status = comm.run(command, timeout=remaining(ctx), on_output=show)
    except BuildError as error:
        if "connection closed" not in str(error):
            raise
        if expect_disconnect:
            ctx.ui.message("Remote end disconnected as expected")
            return False
        raise BuildError(
            f"Script disconnected unexpectedly ({error}). If you expected your script to "
            "disconnect, i.e. from a restart, you can try adding `expect_disconnect: true`."
        ) from None
    codes = valid_codes(config)
    if status not in codes:
        output = "\n".join(tail)
        raise BuildError(
            f"Script exited with non-zero exit status: {status}. Allowed exit codes are: "
            f"{list(codes)}" + (f". Last lines of its output:\n{output}" if output else "")
        )
    return True


def provision(ctx: ProvisionContext, config: dict[str, Any]) -> None:
    comm = ctx.require_communicator("shell")
    env = _env(ctx, config)
    remote_folder = str(config.get("remote_folder") or "/tmp")
    shebang = str(config.get("inline_shebang") or DEFAULT_SHEBANG)
    with tempfile.TemporaryDirectory(prefix="imagebuild-shell-") as workdir:
        for index, script in enumerate(script_sources(config, shebang, Path(workdir))):
            remote = str(config.get("remote_path") or f"{remote_folder}/script_{index}.sh")
            ctx.ui.say(f"Provisioning with shell script: {script}")
            if not script.is_file():
                raise BuildError(f"Bad script '{script}': no such file")
            if not run_script(ctx, config, script, remote, env):
                _reconnect(ctx, config)
                continue
            if not as_bool(config.get("skip_clean", False)):
                comm.run(f"rm -f {shlex.quote(remote)}", timeout=60)
