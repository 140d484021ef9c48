"""The launcher's WinRM HTTPS set-up script on the loopback Windows guest.

A VM from a generalized image starts without the build's HTTPS listener (as Windows does after
sysprep with no unattend recreating one); the launcher's script must give it one whether the
listener was dropped or survived, and running it twice must leave exactly one listener bound
to the newest certificate and one firewall rule. The guest is the stand-in's own model, driven
through its PowerShell interpreter exactly as Run Command drives it.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from pytest_imagebuild.azure.compute import WINRM_HTTPS_SETUP
from pytest_imagebuild.azure.winrm_listener import FIREWALL_RULE, WINRM_HTTPS_RESET
from standin.powershell import Session
from standin.settings import Settings
from standin.windows import WindowsMachine


def run(machine: WindowsMachine, script: list[str] | str) -> tuple[int, str, str]:
    out: list[str] = []
    err: list[str] = []
    text = script if isinstance(script, str) else "\n".join(script)
    sess = Session(machine, "SYSTEM", out.append, lambda stream, t: err.append(t))
    code = sess.run(text)
    return code, "".join(out), "".join(err)


@pytest.fixture
def build_vm(tmp_path: Path) -> WindowsMachine:
    """A marketplace VM after the build's own HTTPS set-up, as the build leaves it."""
    machine = WindowsMachine.marketplace(
        Settings(guest_time_scale=0.001), tmp_path, "2016-Datacenter", "pkrvmbuild", "packer", "pw"
    )
    machine.boot()
    code, _, err = run(machine, WINRM_HTTPS_SETUP)
    assert (code, err) == (0, "")
    assert machine.https_keypair() is not None
    return machine


def generalize(machine: WindowsMachine) -> None:
    assert machine.start_sysprep()
    deadline = time.monotonic() + 30
    while machine.current_image_state() != "IMAGE_STATE_GENERALIZE_RESEAL_TO_OOBE":
        assert time.monotonic() < deadline, "sysprep never finished"
        time.sleep(0.01)


def launched_from(machine: WindowsMachine, tmp_path: Path) -> WindowsMachine:
    vm = WindowsMachine.from_disk(
        machine.settings, tmp_path, machine.disk(), "launchvm", "imagebuild", "pw"
    )
    vm.boot()
    return vm


def test_a_vm_from_a_generalized_image_has_no_https_listener(
    build_vm: WindowsMachine, tmp_path: Path
) -> None:
    generalize(build_vm)
    vm = launched_from(build_vm, tmp_path)
    assert "HTTPS" not in vm.listeners
    assert "HTTP" in vm.listeners
    assert not vm.serves_winrm()


def test_a_vm_from_an_image_never_generalized_keeps_the_listener(
    build_vm: WindowsMachine, tmp_path: Path
) -> None:
    vm = launched_from(build_vm, tmp_path)
    assert vm.serves_winrm()


def test_the_script_recreates_a_dropped_listener(build_vm: WindowsMachine, tmp_path: Path) -> None:
    generalize(build_vm)
    vm = launched_from(build_vm, tmp_path)
    code, out, err = run(vm, WINRM_HTTPS_RESET)
    assert (code, err) == (0, "")
    assert "Removed" not in out
    assert "WinRM HTTPS listener ready on LAUNCHVM" in out
    assert vm.serves_winrm()
    cert = vm.certificates[vm.listeners["HTTPS"]["CertificateThumbprint"]]
    assert cert["DnsName"] == "LAUNCHVM"
    rules = [r for r in vm.firewall if r.display_name == FIREWALL_RULE]
    assert len(rules) == 1, "the build's rule survived generalization: no second one"


def test_the_script_replaces_a_surviving_listener(build_vm: WindowsMachine, tmp_path: Path) -> None:
    vm = launched_from(build_vm, tmp_path)
    old = vm.listeners["HTTPS"]["CertificateThumbprint"]
    code, out, err = run(vm, WINRM_HTTPS_RESET)
    assert (code, err) == (0, "")
    assert "Removed the WinRM HTTPS listener Listener_1305953032" in out
    new = vm.listeners["HTTPS"]["CertificateThumbprint"]
    assert new != old
    assert vm.certificates[new]["DnsName"] == "LAUNCHVM"
    code, out, err = run(vm, WINRM_HTTPS_RESET)
    assert (code, err) == (0, "")
    assert list(vm.listeners) == ["HTTP", "HTTPS"]
    assert vm.listeners["HTTPS"]["CertificateThumbprint"] not in (old, new)
    assert len([r for r in vm.firewall if r.display_name == FIREWALL_RULE]) == 1


def test_the_script_opens_the_port_on_a_vm_without_the_rule(tmp_path: Path) -> None:
    machine = WindowsMachine.marketplace(
        Settings(guest_time_scale=0.001), tmp_path, "2019-Datacenter", "plain", "packer", "pw"
    )
    machine.boot()
    assert not machine.firewall_allows(5986)
    code, _, err = run(machine, WINRM_HTTPS_RESET)
    assert (code, err) == (0, "")
    assert machine.firewall_allows(5986)
    assert machine.serves_winrm()


def test_removing_a_listener_without_recurse_fails_like_windows(build_vm: WindowsMachine) -> None:
    code, _, err = run(build_vm, "Remove-Item WSMan:\\localhost\\Listener\\Listener_1305953032")
    assert code == 1
    assert "has children and the Recurse parameter was not specified" in err
    assert "HTTPS" in build_vm.listeners


def test_listing_listeners_and_their_settings(build_vm: WindowsMachine) -> None:
    code, out, err = run(build_vm, "Get-ChildItem WSMan:\\localhost\\Listener")
    assert (code, err) == (0, "")
    assert "Listener_1084132640" in out and "Listener_1305953032" in out
    thumb = build_vm.listeners["HTTPS"]["CertificateThumbprint"]
    code, out, err = run(
        build_vm, "Get-ChildItem WSMan:\\localhost\\Listener\\Listener_1305953032"
    )
    assert (code, err) == (0, "")
    assert "CertificateThumbprint" in out and thumb in out


def test_a_missing_firewall_rule_is_an_error_unless_silenced(build_vm: WindowsMachine) -> None:
    code, _, err = run(build_vm, "Get-NetFirewallRule -DisplayName 'No such rule'")
    assert code == 1
    assert "No MSFT_NetFirewallRule objects found with property 'DisplayName'" in err
    _, out, err = run(
        build_vm,
        "Get-NetFirewallRule -DisplayName 'No such rule' -ErrorAction SilentlyContinue",
    )
    assert (out, err) == ("", "")


def test_winrm_delete_removes_the_listener_and_fails_when_there_is_none(
    build_vm: WindowsMachine,
) -> None:
    delete = "winrm delete winrm/config/Listener?Address=*+Transport=HTTPS"
    code, _, err = run(build_vm, delete)
    assert (code, err) == (0, "")
    assert "HTTPS" not in build_vm.listeners
    code, _, err = run(build_vm, delete)
    assert code == 1
    assert "The service cannot find the resource identified by the resource URI" in err
