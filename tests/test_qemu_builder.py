"""The qemu builder and launcher: input checks without VMs, then real builds that fail (slow).

Every slow test checks what a user would see (one paragraph, no traceback) and what a user
would find afterwards: no QEMU process, no overlay, seed, key or output directory.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import signal
import subprocess
import sys
import uuid
from pathlib import Path
from types import SimpleNamespace
from typing import cast

import pytest
import yaml

from pytest_imagebuild.errors import BuildError
from pytest_imagebuild.multistep import Artifact, RunOptions
from pytest_imagebuild.qemu import accel, base_image, source
from pytest_imagebuild.qemu.launcher import QemuLauncher
from pytest_imagebuild.qemu.machine import QemuMachine
from pytest_imagebuild.qemu.seed import authorize_key, seed_user_data
from pytest_imagebuild.template.model import BuildPlan
from pytest_imagebuild.ui import BuildUI

REPO = Path(__file__).resolve().parent.parent
EXAMPLE_BASE = REPO / "examples" / "base" / "debian-12.qcow2"


def qemu_processes(text: str) -> dict[int, str]:
    """Live QEMU processes whose command line mentions ``text`` (a VM name or a directory)."""
    found = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and int(entry.name) != os.getpid():
            try:
                cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            except OSError:
                continue
            if text in cmdline and "qemu" in cmdline:
                found[int(entry.name)] = cmdline
    return found


def processes_mentioning(text: str) -> list[str]:
    return list(qemu_processes(text).values())


def leftovers(directory: Path) -> list[Path]:
    """Files a finished build or launch must not leave: disks, seeds, keys, consoles, temp dirs."""
    patterns = ("*.qcow2", "*.iso", "id_ed25519*", "serial.log*", "qemu-tmp-*", "output-*")
    return sorted(path for pattern in patterns for path in directory.rglob(pattern))


# ---------------------------------------------------------------- no VM


def test_checksum_forms(tmp_path: Path) -> None:
    image = tmp_path / "disk.img"
    image.write_bytes(b"disk contents")
    sha256 = hashlib.sha256(b"disk contents").hexdigest()
    md5 = hashlib.md5(b"disk contents").hexdigest()
    assert source.verify(image, "none") is None
    assert source.verify(image, f"sha256:{sha256.upper()}") == f"sha256:{sha256}"
    assert source.verify(image, md5) == f"md5:{md5}"
    sums = tmp_path / "SHA256SUMS"
    sums.write_text(f"{'0' * 64}  other.img\n{sha256} *disk.img\n")
    assert source.verify(image, f"file:{sums}") == f"sha256:{sha256}"
    sums.write_text(f"SHA256 (disk.img) = {sha256}\n")
    assert source.verify(image, f"file://{sums}") == f"sha256:{sha256}"
    with pytest.raises(BuildError, match=f"expected sha256 {'0' * 64}, got {sha256}"):
        source.verify(image, f"sha256:{'0' * 64}")
    with pytest.raises(BuildError, match=r"has no entry for disk\.img"):
        sums.write_text("abc  x.img\n")
        source.verify(image, f"file:{sums}")


def test_only_local_sources(tmp_path: Path) -> None:
    with pytest.raises(BuildError, match=r"only local files .* download the image first"):
        source.local_file("https://cloud.debian.org/images/debian-12.qcow2")
    with pytest.raises(BuildError, match="no such file"):
        source.local_file(f"file://{tmp_path}/missing.qcow2")
    (tmp_path / "a b.qcow2").write_bytes(b"")
    assert source.local_file(f"file://{tmp_path}/a%20b.qcow2") == tmp_path / "a b.qcow2"


def test_temporary_key_joins_the_templates_own_user_entry() -> None:
    user_data = "#cloud-config\nusers:\n  - name: debian\n    sudo: ALL=(ALL) NOPASSWD:ALL\n"
    merged = yaml.safe_load(authorize_key(user_data, "debian", "ssh-ed25519 AAAA k") or "")
    assert merged["users"] == [
        {
            "name": "debian",
            "sudo": "ALL=(ALL) NOPASSWD:ALL",
            "ssh_authorized_keys": ["ssh-ed25519 AAAA k"],
        }
    ]
    created = yaml.safe_load(authorize_key("#cloud-config\n", "ops", "ssh-ed25519 B") or "")
    assert created["users"][0] == "default"
    assert created["users"][1]["name"] == "ops"
    assert authorize_key("#!/bin/sh\necho hi\n", "ops", "key") is None


def test_user_data_is_found_where_the_cd_puts_it(tmp_path: Path) -> None:
    (tmp_path / "seed").mkdir()
    (tmp_path / "seed" / "user-data").write_text("#cloud-config\nfrom: dir\n")
    assert seed_user_data([f"{tmp_path}/seed/"], {}) == "#cloud-config\nfrom: dir\n"
    assert seed_user_data([f"{tmp_path}/seed"], {}) is None  # lands in seed/user-data
    assert seed_user_data([f"{tmp_path}/seed/"], {"user-data": "x"}) == "x"


def test_accelerator_choice_remembers_a_broken_kvm(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PYTEST_IMAGEBUILD_CACHE", str(tmp_path))
    monkeypatch.setattr(accel, "detect_accelerator", lambda: "kvm")
    assert accel.choose("") == accel.Accelerator("kvm", auto=True)
    assert accel.choose("none").qemu_name == "tcg"
    assert accel.choose("KVM") == accel.Accelerator("kvm", auto=False)
    with pytest.raises(BuildError, match="accelerator 'vmware' is not one of kvm, tcg"):
        accel.choose("vmware")
    accel.remember_kvm_broken("KVM internal error")
    assert accel.choose("") == accel.Accelerator("tcg", auto=True)
    assert accel.choose("kvm").name == "kvm"  # an explicit choice is the user's call


def test_launcher_forwards_ssh_and_http_on_loopback_only(tmp_path: Path) -> None:
    vm = QemuMachine(
        tmp_path / "d.qcow2", ssh_host_port=2222, forwards={80: 8080}, serial_log=tmp_path / "s"
    )
    netdev = vm.command()[vm.command().index("-netdev") + 1]
    assert netdev == (
        "user,id=user.0,hostfwd=tcp:127.0.0.1:2222-:22,hostfwd=tcp:127.0.0.1:8080-:80"
    )


def test_failed_launch_leaves_no_files(tmp_path: Path) -> None:
    artifact = Artifact(
        "transcend.qemu", "web", id="VM", data={"path": str(tmp_path / "gone.qcow2")}
    )
    plan = cast(BuildPlan, SimpleNamespace(config={}))
    launcher = QemuLauncher(plan, artifact, BuildUI("web-vm"), tmp_path / "vms", RunOptions())
    with pytest.raises(BuildError, match=r"gone\.qcow2"):
        launcher.launch()
    assert list((tmp_path / "vms").iterdir()) == []
    launcher.teardown()  # twice is fine


def write_template(directory: Path, builders: list[dict], provisioners: list | None = None) -> Path:
    path = directory / "tpl.json"
    template: dict = {"builders": builders}
    if provisioners:
        template["provisioners"] = provisioners
    path.write_text(json.dumps(template, indent=2))
    return path


def qemu_builder(image: Path, name: str, **options: object) -> dict:
    builder = {
        "type": "qemu",
        "name": name,
        "iso_url": str(image),
        "iso_checksum": "none",
        "disk_image": True,
        "use_backing_file": True,
        "format": "qcow2",
        "accelerator": "tcg",
        "memory": 1024,
        "cpus": 2,
        "headless": True,
        "vm_name": f"pib-{name}-{uuid.uuid4().hex[:8]}",
        "ssh_username": "debian",
        "ssh_timeout": "5m",
        "shutdown_command": "sudo shutdown -P now",
        "boot_wait": "-1s",
    }
    builder.update(options)
    return builder


def build(pytester: pytest.Pytester, template: Path, *options: str) -> pytest.RunResult:
    return pytester.runpytest_subprocess(
        "-p", "no:cacheprovider", *options, "--image-template", str(template), str(template)
    )


def failure_of(result: pytest.RunResult, name: str) -> str:
    """The report section of one failed build item."""
    text = result.stdout.str()
    header = text.index(f"build[{name}] _", text.index("= FAILURES ="))
    start = text.index("\n", header) + 1
    end = text.rindex("\n", start, text.index("Captured stdout call", start))
    return text[start:end].strip()


def test_unsupported_input_fails_before_anything_starts(
    pytester: pytest.Pytester, tmp_path: Path
) -> None:
    image = tmp_path / "base.qcow2"
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", image, "16M"], check=True)
    template = write_template(
        pytester.path,
        [
            qemu_builder(image, "iso", disk_image=False, use_backing_file=False),
            qemu_builder(image, "http", iso_url="https://example.com/x.qcow2"),
            qemu_builder(image, "badsum", iso_checksum=f"sha256:{'ab' * 32}"),
            qemu_builder(image, "vnc", boot_command=["<enter>"]),
            qemu_builder(image, "floppy", floppy_files=[str(image)], disk_additional_size=["1G"]),
        ],
    )
    result = build(pytester, template)
    result.assert_outcomes(passed=1, failed=5)
    out = result.stdout.str()
    refused = "qemu: pytest-imagebuild's qemu builder does not support "
    assert refused + "disk_image false (installing from an ISO" in out
    assert "only local files (a path or a file:// URL) are supported" in out
    assert f"does not match iso_checksum: expected sha256 {'ab' * 32}" in out
    assert refused + "boot_command (typing a boot command over VNC). Nothing was started." in out
    assert (
        refused + "floppy_files (a floppy disk); disk_additional_size (additional disks)."
    ) in out
    # validate already said so, as a warning that does not fail it: Packer accepts these
    warned = re.findall(r"builders\[(\d)\]: uses what pytest-imagebuild's qemu builder", out)
    assert sorted(warned) == ["0", "3", "4"]
    assert "Traceback" not in out
    assert leftovers(pytester.path) == []


# ---------------------------------------------------------------- real VMs (slow)


@pytest.fixture(scope="session")
def debian_base() -> Path:
    """examples/base/debian-12.qcow2, made from the cached base image (built as root) if missing."""
    if EXAMPLE_BASE.is_file():
        return EXAMPLE_BASE
    if os.geteuid() != 0:
        pytest.skip("building the base image needs root")
    return base_image.ensure_base_image("debian-12", out=EXAMPLE_BASE)


@pytest.mark.slow
def test_failing_provisioner_fails_the_build_with_its_output(
    pytester: pytest.Pytester, debian_base: Path
) -> None:
    builder = qemu_builder(debian_base, "prov")
    provisioners = [
        {"type": "shell", "inline": ["echo preparing", "echo 'disk on fire' >&2", "exit 3"]}
    ]
    result = build(pytester, write_template(pytester.path, [builder], provisioners))
    result.assert_outcomes(passed=1, failed=1)
    message = failure_of(result, "prov")
    assert message.startswith(
        "provisioner 0 (shell) failed: Script exited with non-zero exit status: 3."
    ), message
    assert message.endswith("preparing\ndisk on fire"), message
    assert "Traceback" not in result.stdout.str()
    assert "Deleting output directory..." in result.stdout.str()
    assert processes_mentioning(builder["vm_name"]) == []
    assert leftovers(pytester.path) == []


@pytest.mark.slow
def test_ssh_timeout_shows_the_guest_console(pytester: pytest.Pytester, debian_base: Path) -> None:
    builder = qemu_builder(debian_base, "late", ssh_timeout="4s")
    result = build(pytester, write_template(pytester.path, [builder]))
    result.assert_outcomes(passed=1, failed=1)
    message = failure_of(result, "late")
    assert message.startswith("Timed out after 4s waiting for SSH on 127.0.0.1:"), message
    assert "as 'debian'" in message
    assert "Last lines of the guest console:\n" in message or "console printed nothing" in message
    assert "Traceback" not in result.stdout.str()
    assert processes_mentioning(builder["vm_name"]) == []
    assert leftovers(pytester.path) == []


@pytest.mark.slow
def test_on_error_abort_keeps_the_vm_running_after_pytest_exits(
    pytester: pytest.Pytester, debian_base: Path
) -> None:
    builder = qemu_builder(debian_base, "kept", ssh_timeout="4s")
    result = build(pytester, write_template(pytester.path, [builder]), "--image-on-error=abort")
    try:
        result.assert_outcomes(passed=1, failed=1)
        output = result.stdout.str()
        assert "--image-on-error=abort: these resources were kept; remove them with:" in output
        # Printed live and again in the captured output: one VM, named twice.
        pids = {int(pid) for pid in re.findall(r"^\s+kept:\s+kill (\d+)$", output, re.MULTILINE)}
        assert len(pids) == 1, output
        assert list(qemu_processes(builder["vm_name"])) == list(pids)
    finally:
        for pid in qemu_processes(builder["vm_name"]):
            os.kill(pid, signal.SIGKILL)


@pytest.mark.slow
def test_crashed_qemu_is_reported_at_once(pytester: pytest.Pytester, debian_base: Path) -> None:
    crashing = pytester.path / "crashing-qemu"
    crashing.write_text('#!/bin/sh\n(sleep 3; kill -9 $$) &\nexec qemu-system-x86_64 "$@"\n')
    crashing.chmod(0o755)
    builder = qemu_builder(debian_base, "crash", qemu_binary=str(crashing))
    result = build(pytester, write_template(pytester.path, [builder]))
    result.assert_outcomes(passed=1, failed=1)
    message = failure_of(result, "crash")
    assert message.startswith("Gave up waiting for SSH on 127.0.0.1:"), message
    assert "was killed by signal 9 (SIGKILL)" in message
    assert "Traceback" not in result.stdout.str()
    assert processes_mentioning(builder["vm_name"]) == []
    assert leftovers(pytester.path) == []


@pytest.mark.slow
def test_example_builds_boots_passes_smoke_tests_and_cleans_up(
    tmp_path: Path, debian_base: Path
) -> None:
    """Exactly the command the README gives, run from the repository."""
    basetemp = tmp_path / "run"
    command = [
        sys.executable,
        "-m",
        "pytest",
        "-p",
        "no:cacheprovider",
        f"--basetemp={basetemp}",
        "--image-template",
        "examples/debian-nginx.json",
        "examples/test_debian_nginx.py",
    ]
    result = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=1200)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "6 passed" in result.stdout, result.stdout[-2000:]  # validate, build, 4 smoke tests
    assert processes_mentioning(str(basetemp)) == []
    image = basetemp / "imagebuild"
    kept = [path.relative_to(image) for path in leftovers(image)]
    # The built image is the artifact and stays; no overlay, seed, key or console log does.
    # The build's folder is named by its key; the launch's folders add the test module's name.
    build_key = re.compile(r"debian-nginx-debian-nginx-[0-9a-f]{16}")
    (build_dir,) = (path for path in image.iterdir() if build_key.fullmatch(path.name))
    assert [str(path) for path in kept] == [
        f"{build_dir.name}/output-debian-nginx",
        f"{build_dir.name}/output-debian-nginx/debian-nginx.qcow2",
    ]
    # As with Packer, the manifest sits beside the output directory with no lock file left over.
    assert sorted(path.name for path in build_dir.iterdir()) == [
        "manifest.json",
        "output-debian-nginx",
    ]
    manifest = json.loads((build_dir / "manifest.json").read_text())
    entry = manifest["builds"][-1]
    assert (entry["builder_type"], entry["artifact_id"]) == ("qemu", "VM")
    assert entry["files"][0]["name"] == "debian-nginx.qcow2"
