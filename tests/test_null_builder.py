"""The null builder against a real sshd on a loopback port: provisioners run there, and the
``host`` fixture reaches that same machine; nothing is started or destroyed."""

from __future__ import annotations

import getpass
import json
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from pytest_imagebuild.template import check

SSHD = Path("/usr/sbin/sshd")


@dataclass(frozen=True)
class Sshd:
    port: int
    user: str
    key_file: Path


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_for_port(port: int, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"sshd exited with {process.returncode}: {log.read_text()}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    pytest.fail(f"sshd did not listen on 127.0.0.1:{port}: {log.read_text()}")


@pytest.fixture(scope="module")
def sshd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sshd]:
    """An sshd on 127.0.0.1 that lets the current user in with a key made for the test."""
    if not SSHD.exists() or shutil.which("ssh-keygen") is None:
        pytest.skip("openssh-server (/usr/sbin/sshd and ssh-keygen) is not installed")
    directory = tmp_path_factory.mktemp("sshd")
    for name in ("host_key", "client_key"):
        subprocess.run(
            ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(directory / name)],
            check=True,
        )
    (directory / "authorized_keys").write_text((directory / "client_key.pub").read_text())
    port = _free_port()
    config = directory / "sshd_config"
    config.write_text(
        f"ListenAddress 127.0.0.1\nHostKey {directory / 'host_key'}\n"
        f"AuthorizedKeysFile {directory / 'authorized_keys'}\n"
        f"PidFile {directory / 'sshd.pid'}\n"
        "UsePAM no\nPasswordAuthentication no\nKbdInteractiveAuthentication no\n"
        "PermitRootLogin prohibit-password\nStrictModes no\n"
        "Subsystem sftp internal-sftp\nLogLevel ERROR\n"
    )
    log = directory / "sshd.log"
    with log.open("w") as log_file:
        process = subprocess.Popen(
            [str(SSHD), "-D", "-e", "-f", str(config), "-p", str(port)],
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
    try:
        _wait_for_port(port, process, log)
        yield Sshd(port, getpass.getuser(), directory / "client_key")
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def null_template(sshd: Sshd, marker: Path, **extra) -> dict:
    return {
        "variables": {"greeting": "provisioned"},
        "builders": [
            {
                "type": "null",
                "ssh_host": "127.0.0.1",
                "ssh_port": sshd.port,
                "ssh_username": sshd.user,
                "ssh_private_key_file": str(sshd.key_file),
                "ssh_timeout": "60s",
                **extra,
            }
        ],
        "provisioners": [
            {
                "type": "shell",
                "environment_vars": ["GREETING={{user `greeting`}}"],
                "execute_command": "{{if .Vars}}env {{.Vars}} {{end}}sh {{.Path}}",
                "inline": [f'echo "$GREETING by $PACKER_BUILDER_TYPE" > {marker}'],
            }
        ],
    }


def test_null_template_is_valid(sshd, tmp_path):
    path = tmp_path / "null.json"
    path.write_text(json.dumps(null_template(sshd, tmp_path / "marker")))
    assert check(path) == []


def test_null_builder_keys_are_checked(sshd, tmp_path):
    path = tmp_path / "null.json"
    path.write_text(json.dumps(null_template(sshd, tmp_path / "marker", ssh_prot=22)))
    problems = check(path)
    assert ["unknown configuration key: 'ssh_prot'" in p.message for p in problems] == [True]


def test_build_provisions_the_host_and_host_fixture_reaches_it(pytester, sshd, tmp_path):
    marker = tmp_path / "marker.txt"
    (pytester.path / "null.json").write_text(json.dumps(null_template(sshd, marker), indent=2))
    pytester.makepyfile(
        test_null=f"""
import pytest

pytestmark = pytest.mark.imagebuild(template="null.json")


def test_the_provisioner_ran_on_host(host):
    assert host.file({str(marker)!r}).content_string == "provisioned by null\\n"


def test_host_is_this_machine(host, vm):
    assert vm.host == "127.0.0.1"
    assert host.run("echo ok").stdout.strip() == "ok"
"""
    )
    result = pytester.runpytest_subprocess("--image-template", "null.json", "test_null.py", "-v")
    result.assert_outcomes(passed=4)
    result.stdout.fnmatch_lines(["*build?null? PASSED*"])
    assert marker.read_text() == "provisioned by null\n"


def test_a_failing_provisioner_fails_the_build_and_leaves_the_host_alone(pytester, sshd, tmp_path):
    template = null_template(sshd, tmp_path / "marker.txt")
    template["provisioners"][0]["inline"] = ["echo about to fail", "exit 3"]
    (pytester.path / "null.json").write_text(json.dumps(template))
    result = pytester.runpytest_subprocess("--image-template", "null.json")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*non-zero exit status: 3*"])
    with socket.create_connection(("127.0.0.1", sshd.port), timeout=5):
        pass  # the machine is still there


def test_unreachable_host_fails_with_a_paragraph(pytester, sshd, tmp_path):
    template = null_template(sshd, tmp_path / "marker.txt", ssh_port=_free_port())
    template["builders"][0]["ssh_timeout"] = "2s"
    (pytester.path / "null.json").write_text(json.dumps(template))
    result = pytester.runpytest_subprocess("--image-template", "null.json")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*SSH*127.0.0.1*"])
    result.stdout.no_fnmatch_line("*Traceback*")


def test_host_spec_carries_the_password_quoted_and_the_winrm_scheme():
    from pytest_imagebuild.null.launcher import ExistingHost

    ssh = ExistingHost(
        "h", "10.0.0.5", "ops", "ssh", password="p@ss:w/rd", ports={22: ("10.0.0.5", 2222)}
    )
    assert ssh.testinfra_spec() == ("paramiko://ops:p%40ss%3Aw%2Frd@10.0.0.5:2222", {})
    assert "p@ss" not in repr(ssh)
    winrm = ExistingHost(
        "h",
        "10.0.0.6",
        "Administrator",
        "winrm",
        password="x",
        ports={5986: ("10.0.0.6", 5985)},
        use_ssl=False,
    )
    assert winrm.testinfra_spec()[0] == "winrm://Administrator:x@10.0.0.6:5985?no_ssl=true"
