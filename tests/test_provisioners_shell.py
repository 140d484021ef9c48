"""The shell and shell-local provisioners, run for real: over SSH to a local sshd, and locally."""

# ruff: noqa: F811  (the sshd and comm fixtures are imported, then requested by name)

from __future__ import annotations

import io
from pathlib import Path
from types import SimpleNamespace

import pytest
from test_ssh_communicator import Server, comm, sshd  # noqa: F401  (fixtures)

from pytest_imagebuild.communicators.ssh import SSHCommunicator
from pytest_imagebuild.errors import BuildError
from pytest_imagebuild.provisioners import shell, shell_local
from pytest_imagebuild.provisioners.base import ProvisionContext
from pytest_imagebuild.ui import BuildUI


def context(communicator: SSHCommunicator | None) -> tuple[ProvisionContext, io.StringIO]:
    out = io.StringIO()
    plan = SimpleNamespace(name="web", type="qemu")
    return ProvisionContext(plan, BuildUI("web", stream=out), communicator), out  # type: ignore[arg-type]


def test_inline_runs_with_environment_and_cleans_up(comm: SSHCommunicator, tmp_path: Path) -> None:
    ctx, out = context(comm)
    shell.provision(
        ctx,
        {
            "inline": ['echo "$GREETING from $PACKER_BUILD_NAME ($PACKER_BUILDER_TYPE)"'],
            "environment_vars": ["GREETING=hello 'quoted' world"],
            "remote_folder": str(tmp_path),
        },
    )
    assert "    web: hello 'quoted' world from web (qemu)" in out.getvalue()
    assert not (tmp_path / "script_0.sh").exists()


def test_failure_names_exit_code_and_shows_output_tail(
    comm: SSHCommunicator, tmp_path: Path
) -> None:
    ctx, _ = context(comm)
    lines = [f"echo line {i}" for i in range(30)] + ["echo broken >&2", "exit 3"]
    with pytest.raises(BuildError) as caught:
        shell.provision(ctx, {"inline": lines, "remote_folder": str(tmp_path)})
    message = str(caught.value)
    assert message.startswith("Script exited with non-zero exit status: 3. Allowed exit codes")
    assert message.endswith("line 29\nbroken")
    assert "line 10\n" not in message  # only the tail


def test_valid_exit_codes_and_scripts(comm: SSHCommunicator, tmp_path: Path) -> None:
    first, second = tmp_path / "one.sh", tmp_path / "two.sh"
    first.write_text("#!/bin/sh\necho first\nexit 3\n")
    second.write_text("#!/bin/sh\necho second $MODE\n")
    remote = tmp_path / "remote"
    remote.mkdir()
    ctx, out = context(comm)
    shell.provision(
        ctx,
        {
            "scripts": [str(first), str(second)],
            "valid_exit_codes": [0, 3],
            "environment_vars": ["MODE=on"],
            "remote_folder": str(remote),
        },
    )
    assert "web: first" in out.getvalue() and "web: second on" in out.getvalue()


def test_execute_command_template(comm: SSHCommunicator, tmp_path: Path) -> None:
    ctx, out = context(comm)
    shell.provision(
        ctx,
        {
            "inline": ["echo body"],
            "execute_command": "echo 'ran {{.Path}} with {{.Vars}}'",
            "remote_folder": str(tmp_path),
        },
    )
    assert f"ran {tmp_path}/script_0.sh with PACKER_BUILD_NAME=web" in out.getvalue()


def test_missing_script_is_a_clear_error(comm: SSHCommunicator, tmp_path: Path) -> None:
    ctx, _ = context(comm)
    with pytest.raises(BuildError, match=r"Bad script '.*nope\.sh': no such file"):
        shell.provision(ctx, {"script": str(tmp_path / "nope.sh")})


def test_shell_local_inline_and_failure(tmp_path: Path) -> None:
    ctx, out = context(None)
    shell_local.provision(ctx, {"inline": ["echo local $PACKER_BUILD_NAME"]})
    assert "web: local web" in out.getvalue()
    with pytest.raises(BuildError, match="Erroneous exit code 4"):
        shell_local.provision(ctx, {"command": "echo bad; exit 4"})
