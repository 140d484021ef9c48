"""powershell, windows-shell and windows-restart over WinRM against a loopback Windows host."""

from __future__ import annotations

import io
import time
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from pytest_imagebuild.communicators.winrm import WinRMCommunicator
from pytest_imagebuild.errors import BuildError
from pytest_imagebuild.provisioners import powershell, windows_restart, windows_shell
from pytest_imagebuild.provisioners.base import ProvisionContext
from pytest_imagebuild.ui import BuildUI
from standin import Standin
from standin.plugin_env import windows_communicator

PASSWORD = "Pr0visioner-Test-Passw0rd"



@pytest.fixture(scope="module")
def winrm(azure: Standin) -> Iterator[WinRMCommunicator]:
    with windows_communicator(azure, "rg-prov", PASSWORD) as comm:
        yield comm


class Run:
    """A provisioning context whose output lands in a string."""

    def __init__(self, comm: WinRMCommunicator) -> None:
        self.stream = io.StringIO()
        plan = SimpleNamespace(name="win", type="azure-arm")
        ui = BuildUI("win", stream=self.stream)
        self.ctx = ProvisionContext(plan, ui, comm)  # type: ignore[arg-type]

    def __call__(self, module: Any, config: dict[str, Any]) -> str:
        module.provision(self.ctx, config)
        return self.output

    @property
    def output(self) -> str:
        return self.stream.getvalue()


def test_powershell_inline_sees_packer_and_user_variables(winrm: WinRMCommunicator) -> None:
    out = Run(winrm)(
        powershell,
        {
            "inline": ['Write-Output "$env:PACKER_BUILD_NAME/$env:PACKER_BUILDER_TYPE"', "$env:Q"],
            "environment_vars": ["Q=it's quoted"],
        },
    )
    assert "    win: win/azure-arm\n" in out
    assert "    win: it's quoted\n" in out


def test_powershell_scripts_and_valid_exit_codes(winrm: WinRMCommunicator, tmp_path: Path) -> None:
    script = tmp_path / "reboot-needed.ps1"
    script.write_text("Write-Output 'installed'\nexit 3010\n", encoding="utf-8-sig")
    run = Run(winrm)
    run(powershell, {"scripts": [str(script)], "valid_exit_codes": [0, 3010]})
    assert f"==> win: Provisioning with powershell script: {script}" in run.output
    with pytest.raises(BuildError) as failed:
        run(powershell, {"script": str(script)})
    assert str(failed.value) == (
        "Script exited with non-zero exit status: 3010. Allowed exit codes are: [0] "
        "(last output: installed)"
    )


def test_powershell_progress_noise_is_stripped_and_errors_read_plainly(
    winrm: WinRMCommunicator,
) -> None:
    run = Run(winrm)
    with pytest.raises(BuildError, match="exit status: 1"):
        run(
            powershell,
            {
                "inline": [
                    "Write-Progress -Activity Installing -Status half -PercentComplete 50",
                    "$ErrorActionPreference = 'Stop'",
                    "Get-Service -Name NoSuchService",
                ]
            },
        )
    assert "Cannot find any service with service name 'NoSuchService'" in run.output
    assert "CLIXML" not in run.output and "<Objs" not in run.output


def test_powershell_elevated_user_runs_in_the_admin_session(winrm: WinRMCommunicator) -> None:
    out = Run(winrm)(
        powershell,
        {"inline": ["whoami"], "elevated_user": "packer", "elevated_password": PASSWORD},
    )
    assert "Running as elevated user packer" in out
    assert PASSWORD not in out


def test_windows_shell_inline_and_exit_codes(winrm: WinRMCommunicator) -> None:
    run = Run(winrm)
    run(
        windows_shell,
        {
            "inline": ["echo %PACKER_BUILD_NAME% says %GREETING%", "ver"],
            "environment_vars": ["GREETING=hi"],
        },
    )
    assert "    win: win says hi" in run.output
    assert "Microsoft Windows [Version" in run.output
    with pytest.raises(BuildError, match="non-zero exit status: 2"):
        run(windows_shell, {"inline": ["echo failing", "exit /b 2"]})
    run(windows_shell, {"inline": ["exit /b 2"], "valid_exit_codes": [2]})


def test_windows_shell_uploads_script_files(winrm: WinRMCommunicator, tmp_path: Path) -> None:
    script = tmp_path / "hello.bat"
    script.write_text("@echo off\r\necho from a batch file\r\n")
    out = Run(winrm)(windows_shell, {"scripts": [str(script)]})
    assert "    win: from a batch file" in out


def test_windows_restart_waits_for_the_machine_to_come_back(
    azure: Standin, winrm: WinRMCommunicator
) -> None:
    machine = azure.state.machine("rg-prov", "vm")
    before = machine.down_until
    started = time.monotonic()
    out = Run(winrm)(windows_restart, {"restart_timeout": "2m"})
    assert machine.down_until > before  # it really went down
    assert machine.is_up()
    assert "==> win: Waiting for machine to restart..." in out
    assert "    win: VM restarted." in out
    assert "==> win: Machine successfully restarted, moving on" in out
    assert time.monotonic() - started < 60
    assert machine.pending_shutdown is None  # the test restart was aborted


def test_windows_restart_times_out_with_a_clear_error(
    azure: Standin, winrm: WinRMCommunicator
) -> None:
    rule = azure.faults.winrm_timeout(host="vm", mode="refuse")
    try:
        with pytest.raises(BuildError, match=r"Timeout waiting for machine to restart after 1s"):
            Run(winrm)(windows_restart, {"restart_timeout": "1s", "restart_command": "echo"})
    finally:
        azure.faults.remove(rule)
