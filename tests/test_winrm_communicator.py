"""The WinRM communicator against a loopback Windows host: commands, PowerShell, CLIXML,
file transfer, readiness and its time limits (virtual time, so waiting costs nothing)."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from pytest_imagebuild.clock import VirtualClock
from pytest_imagebuild.communicators.winrm import WinRMCommunicator, clixml_to_text
from pytest_imagebuild.errors import BuildError
from standin import Standin
from standin.plugin_env import windows_communicator

PASSWORD = "Wr-Test-Passw0rd-4711"

PROGRESS_AND_ERROR = (
    "#< CLIXML\r\n"
    '<Objs Version="1.1.0.1" xmlns="http://schemas.microsoft.com/powershell/2004/04">'
    '<Obj S="progress" RefId="0"><TN RefId="0"><T>System.Management.Automation.PSCustomObject'
    '</T><T>System.Object</T></TN><MS><I64 N="SourceId">1</I64><PR N="Record">'
    "<AV>Preparing modules for first use.</AV><AI>0</AI><Nil /><PI>-1</PI><PC>-1</PC>"
    "<T>Completed</T><SR>-1</SR><SD> </SD></PR></MS></Obj>"
    "<S S=\"Error\">Get-Thing : The term 'Get-Thing' is not recognized_x000D__x000A_</S>"
    '<S S="Error">At line:1 char:1_x000D__x000A_</S></Objs>'
)


def test_clixml_progress_is_dropped_and_errors_are_readable() -> None:
    text = clixml_to_text(PROGRESS_AND_ERROR)
    assert text == "Get-Thing : The term 'Get-Thing' is not recognized\nAt line:1 char:1"
    assert "Preparing modules" not in text
    assert clixml_to_text("plain error\r\n") == "plain error\r\n"



@pytest.fixture(scope="module")
def winrm(azure: Standin) -> Iterator[WinRMCommunicator]:
    with windows_communicator(azure, "rg-winrm", PASSWORD) as comm:
        yield comm


def test_commands_stream_output_and_return_their_status(winrm: WinRMCommunicator) -> None:
    lines: list[str] = []
    assert winrm.run("echo first && echo second && exit /b 3", on_output=lines.append) == 3
    assert lines == ["first", "second"]


def test_powershell_errors_come_back_as_text_with_the_exit_code(
    winrm: WinRMCommunicator,
) -> None:
    lines: list[str] = []
    script = "Write-Progress -Activity busy -Status x\nWrite-Output 'out'\nGet-Thing\nexit 4"
    assert winrm.run_powershell(script, on_output=lines.append) == 4
    assert lines[0] == "out"
    assert any("The term 'Get-Thing' is not recognized" in line for line in lines)
    assert not any("CLIXML" in line or "<Objs" in line for line in lines)


def test_upload_and_download_round_trip_binary_data(
    winrm: WinRMCommunicator, tmp_path: Path
) -> None:
    data = bytes(range(256)) * 40  # several echo chunks, every byte value
    (tmp_path / "tree" / "sub").mkdir(parents=True)
    (tmp_path / "tree" / "blob.bin").write_bytes(data)
    (tmp_path / "tree" / "sub" / "note.txt").write_text("hello\n")
    (tmp_path / "tree" / "sub" / "empty").write_bytes(b"")
    winrm.upload(tmp_path / "tree", "C:\\Windows\\Temp\\tree")
    winrm.download("C:\\Windows\\Temp\\tree\\blob.bin", tmp_path / "back.bin")
    winrm.download("C:\\Windows\\Temp\\tree\\sub\\note.txt", tmp_path / "note.txt")
    assert (tmp_path / "back.bin").read_bytes() == data
    assert (tmp_path / "note.txt").read_text() == "hello\n"


def test_a_long_script_is_uploaded_and_run_from_a_file(winrm: WinRMCommunicator) -> None:
    lines: list[str] = []
    script = "$x = 'long'\n" + "# padding to exceed a command line\n" * 400 + "Write-Output $x"
    assert winrm.run_powershell(script, on_output=lines.append) == 0
    assert lines == ["long"]


def test_operation_timeouts_are_polled_again(azure: Standin, winrm: WinRMCommunicator) -> None:
    rule = azure.faults.winrm_timeout(host="vm", mode="operation_timeout", times=1)
    lines: list[str] = []
    try:
        assert winrm.run("hostname", on_output=lines.append) == 0
    finally:
        azure.faults.remove(rule)
    assert lines == ["vm"]


def test_wait_ready_gives_up_at_its_timeout_on_virtual_time() -> None:
    with socket.socket() as probe:  # a port nobody listens on: connections are refused
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    clock = VirtualClock()
    comm = WinRMCommunicator(
        host="127.0.0.1", port=port, username="packer", password=PASSWORD, clock=clock
    )
    with pytest.raises(BuildError, match=r"Timed out after 60s waiting for WinRM on https"):
        comm.wait_ready(60)
    assert clock.slept >= 55
    with pytest.raises(BuildError, match=r"Gave up waiting for WinRM.*the VM was deleted"):
        comm.wait_ready(60, abort=lambda: "the VM was deleted")
