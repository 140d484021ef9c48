"""QEMU machines and the debootstrap base image: command line rules, then real VMs under TCG."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from pytest_imagebuild import cli, process
from pytest_imagebuild.communicators.keys import generate_key_pair
from pytest_imagebuild.communicators.ssh import SSHCommunicator
from pytest_imagebuild.errors import BuildError, ImagebuildError
from pytest_imagebuild.qemu import base_image, machine
from pytest_imagebuild.qemu.config import QemuConfig
from pytest_imagebuild.qemu.machine import QemuMachine, free_port, merge_qemuargs
from pytest_imagebuild.qemu.seed import make_seed

BOOT_TIMEOUT = 600  # TCG on a busy 2-core machine; a healthy boot takes 60-100 s


def qemu_processes(name: str) -> list[int]:
    """Pids of processes whose command line names this machine."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cmdline = (entry / "cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if name.encode() in cmdline and b"-name" in cmdline:
                found.append(int(entry.name))
    return found


# ---------------------------------------------------------------- command line, no VM


def test_qemuargs_override_defaults_like_packer() -> None:
    defaults = [("-m", ["512M"]), ("-device", ["a", "b"]), ("-boot", ["c"])]
    argv = merge_qemuargs(
        defaults,
        [
            ["-m", "2048M"],
            ["-device", "x"],
            ["-device", "y"],
            ["-nographic"],
            ["-smp", "cpus=", "2"],
        ],
    )
    assert argv == [
        "-m",
        "2048M",
        "-device",
        "x",
        "-device",
        "y",
        "-boot",
        "c",
        "-nographic",
        "-smp",
        "cpus=2",
    ]
    assert merge_qemuargs(defaults, None) == [
        "-m",
        "512M",
        "-device",
        "a",
        "-device",
        "b",
        "-boot",
        "c",
    ]


def test_default_command_line(tmp_path: Path) -> None:
    vm = QemuMachine(
        tmp_path / "dir,with,commas" / "disk.qcow2",
        "qcow2",
        memory_mb=768,
        cpus=2,
        accelerator="tcg",
        ssh_host_port=2345,
        serial_log=tmp_path / "serial.log",
        cdrom=tmp_path / "seed.iso",
        name="vm1",
    )
    argv = vm.command()
    line = " ".join(argv)
    assert argv[0] == "qemu-system-x86_64"
    assert "-netdev user,id=user.0,hostfwd=tcp:127.0.0.1:2345-:22" in line
    assert "-device virtio-net,netdev=user.0" in line
    assert f"file={tmp_path}/dir,,with,,commas/disk.qcow2,if=virtio,cache=writeback" in line
    assert "-machine type=pc,accel=tcg -m 768M -smp 2" in line
    assert f"-cdrom {tmp_path}/seed.iso" in line
    assert f"-serial file:{tmp_path}/serial.log" in line
    assert "-display none" in line
    assert "-cpu" not in argv
    custom = QemuMachine(
        tmp_path / "d.raw",
        "raw",
        accelerator="kvm",
        ssh_host_port=1,
        serial_log=tmp_path / "s.log",
        headless=False,
        disk_interface="ide",
        net_device="e1000",
        qemuargs=[["-m", "2G"], ["-cpu", "qemu64"]],
    )
    line = " ".join(custom.command())
    assert " -m 2G " in line and "768M" not in line and "-display" not in line
    assert "if=ide" in line and "format=raw" in line and "e1000,netdev=user.0" in line
    assert line.endswith("-cpu qemu64")


def test_template_drive_options_reach_the_command_line_as_packer_writes_them(
    tmp_path: Path,
) -> None:
    """disk_cache, disk_discard and disk_detect_zeroes were accepted and then ignored."""

    def drive(**template: object) -> str:
        config = QemuConfig.from_plan("b", {"ssh_username": "u", **template})
        vm = QemuMachine(
            tmp_path / "disk.qcow2",
            "qcow2",
            ssh_host_port=1,
            serial_log=tmp_path / "s.log",
            cache=config.disk_cache,
            discard=config.disk_discard,
            detect_zeroes=config.disk_detect_zeroes,
        )
        argv = vm.command()
        return argv[argv.index("-drive") + 1]

    default = drive()
    assert default.endswith("cache=writeback,discard=ignore,format=qcow2")
    assert "detect-zeroes" not in default
    tuned = drive(disk_cache="unsafe", disk_discard="unmap", disk_detect_zeroes="unmap")
    assert tuned.endswith("cache=unsafe,discard=unmap,format=qcow2,detect-zeroes=unmap")


def test_zero_durations_mean_packers_defaults() -> None:
    """As Packer: "0s" is unset (boot_wait 10s, ssh and shutdown timeouts 5m); a negative
    boot_wait skips the wait."""
    zero = QemuConfig.from_plan(
        "b", {"boot_wait": "0s", "ssh_timeout": "0s", "shutdown_timeout": "0s"}
    )
    assert (zero.boot_wait, zero.ssh_timeout, zero.shutdown_timeout) == (10.0, 300.0, 300.0)
    assert QemuConfig.from_plan("b", {"boot_wait": "-1s"}).boot_wait < 0
    assert QemuConfig.from_plan("b", {"boot_wait": "3s"}).boot_wait == 3.0


def test_free_port_is_bindable_on_loopback() -> None:
    import socket

    port = free_port()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", port))


def test_detect_accelerator_without_kvm(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_kvm(path: str, flags: int) -> int:
        raise PermissionError(13, "Permission denied", path)

    monkeypatch.setattr(machine.os, "open", no_kvm)
    assert machine.detect_accelerator() == "tcg"


def test_detect_accelerator_matches_dev_kvm() -> None:
    usable = os.path.exists("/dev/kvm") and os.access("/dev/kvm", os.R_OK | os.W_OK)
    assert machine.detect_accelerator() == ("kvm" if usable else "tcg")


def test_bad_disk_fails_at_start_with_qemus_message(tmp_path: Path) -> None:
    vm = QemuMachine(
        tmp_path / "missing.qcow2",
        ssh_host_port=free_port(),
        serial_log=tmp_path / "serial.log",
        name=f"pib-{uuid.uuid4().hex[:8]}",
    )
    with pytest.raises(BuildError) as caught:
        vm.start()
    message = str(caught.value)
    assert f"QEMU machine {vm.name} did not start: QEMU (pid" in message
    assert "exited with code 1" in message
    assert "missing.qcow2" in message and "No such file" in message
    assert not vm.running
    assert vm.stop() == 1


def test_kvm_internal_error_is_reported_while_qemu_hangs(tmp_path: Path) -> None:
    """What KVM did here: QEMU stays alive, prints an internal error, the guest never boots."""
    vm = QemuMachine(
        tmp_path / "d.qcow2",
        accelerator="kvm",
        ssh_host_port=1,
        serial_log=tmp_path / "serial.log",
        binary="sh",
    )
    vm._proc = process.spawn(["sleep", "30"])
    try:
        assert vm.failure() is None
        vm.qemu_log.write_text("KVM internal error. Suberror: 1\nemulation failure\n")
        assert vm.failure() == (
            "KVM failed to run the guest (QEMU: KVM internal error); use accelerator tcg"
        )
        with pytest.raises(BuildError, match="use accelerator tcg"):
            vm.ensure_running()
    finally:
        vm.kill()


def test_serial_tail_strips_escape_codes(tmp_path: Path) -> None:
    vm = QemuMachine(tmp_path / "d", ssh_host_port=1, serial_log=tmp_path / "serial.log")
    lines = [f"line {i}" for i in range(50)]
    text = (
        "\r\n".join(lines) + "\r\n[\x1b[0;32m  OK  \x1b[0m] Reached target \x1b[1mBasic\x1b[0m.\r\n"
    )
    vm.serial_log.write_text(text)
    assert vm.serial_tail(3) == "line 48\nline 49\n[  OK  ] Reached target Basic."


# ---------------------------------------------------------------- base image, no build


def test_unknown_distro() -> None:
    with pytest.raises(ImagebuildError, match="known distributions: debian-12"):
        base_image.ensure_base_image("plan9")


def test_cache_key_follows_the_recipe() -> None:
    recipe = base_image.recipe_for("debian-12")
    same = base_image.Recipe(**{**recipe.__dict__})
    more = base_image.Recipe(**{**recipe.__dict__, "packages": (*recipe.packages, "vim")})
    script = base_image.Recipe(**{**recipe.__dict__, "script": recipe.script + "\ntrue\n"})
    assert same.key() == recipe.key()
    assert len({recipe.key(), more.key(), script.key()}) == 3


def test_cache_dir_from_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PYTEST_IMAGEBUILD_CACHE", str(tmp_path))
    assert base_image.cache_dir() == tmp_path / "base-images"
    monkeypatch.delenv("PYTEST_IMAGEBUILD_CACHE")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert base_image.cache_dir() == tmp_path / "xdg" / "pytest-imagebuild" / "base-images"


def test_building_needs_root(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PYTEST_IMAGEBUILD_CACHE", str(tmp_path))
    monkeypatch.setattr(base_image.os, "geteuid", lambda: 1000)
    with pytest.raises(ImagebuildError, match="needs root"):
        base_image.ensure_base_image()
    assert cli.main(["base-image", "debian-12", str(tmp_path / "out.qcow2")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("pytest-imagebuild: error: Building a base image needs root")
    assert err.count("\n") == 1 and "Traceback" not in err
    assert not list((tmp_path / "base-images").glob(".build-*"))


def test_cached_image_is_reused_without_root(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PYTEST_IMAGEBUILD_CACHE", str(tmp_path))
    monkeypatch.setattr(base_image.os, "geteuid", lambda: 1000)
    recipe = base_image.recipe_for("debian-12")
    cached = tmp_path / "base-images" / f"debian-12-{recipe.key()}.qcow2"
    cached.parent.mkdir(parents=True)
    cached.write_bytes(b"qcow2 stand-in")
    assert base_image.ensure_base_image() == cached
    out = base_image.ensure_base_image("debian-12", tmp_path / "copies" / "mine.qcow2")
    assert out.read_bytes() == b"qcow2 stand-in"


def test_concurrent_callers_build_once(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PYTEST_IMAGEBUILD_CACHE", str(tmp_path))
    builds: list[Path] = []

    def slow_build(recipe: base_image.Recipe, image: Path) -> None:
        builds.append(image)
        time.sleep(0.5)
        image.write_bytes(b"built")

    monkeypatch.setattr(base_image, "_build", slow_build)
    results: list[Path] = []
    threads = [
        threading.Thread(target=lambda: results.append(base_image.ensure_base_image()))
        for _ in range(3)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(builds) == 1
    assert len(results) == 3 and len(set(results)) == 1


def test_cli_reports_errors_as_one_paragraph() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "pytest_imagebuild", "base-image", "plan9"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert result.stderr == (
        "pytest-imagebuild: error: No base image recipe for 'plan9'; "
        "known distributions: debian-12.\n"
    )
    assert result.stdout == ""


# ---------------------------------------------------------------- real VMs (slow)


@pytest.fixture(scope="session")
def debian_image() -> Path:
    """Built by debootstrap on first use (minutes, root only), then taken from the cache."""
    if os.geteuid() != 0:
        pytest.skip("building the base image needs root")
    return base_image.ensure_base_image("debian-12")


@pytest.fixture
def make_vm(debian_image: Path, tmp_path: Path) -> Iterator[Callable[..., QemuMachine]]:
    """Machines on throwaway overlays of the base image; every one is killed at the end."""
    machines: list[QemuMachine] = []
    key = generate_key_pair(tmp_path)

    def make(accelerator: str = "tcg", seed: bool = True) -> QemuMachine:
        name = f"pib-test-{uuid.uuid4().hex[:8]}"
        disk = tmp_path / f"{name}.qcow2"
        process.run(
            ["qemu-img", "create", "-q", "-f", "qcow2", "-F", "qcow2", "-b", debian_image, disk],
            timeout=60,
        )
        cdrom = None
        if seed:
            cdrom = make_seed(
                tmp_path / f"{name}-seed.iso",
                "tester",
                key.public_key,
                password="s3cret-pw",
                hostname="pibvm",
            )
        vm = QemuMachine(
            disk,
            "qcow2",
            memory_mb=1024,
            cpus=2,
            accelerator=accelerator,
            ssh_host_port=free_port(),
            cdrom=cdrom,
            serial_log=tmp_path / f"{name}-serial.log",
            name=name,
        )
        vm.key = key  # type: ignore[attr-defined]
        machines.append(vm)
        return vm

    yield make
    for vm in machines:
        vm.kill()
        assert qemu_processes(vm.name) == []


def ssh_to(vm: QemuMachine, **auth: object) -> SSHCommunicator:
    if not auth:
        auth = {"private_key_file": vm.key.private_key_file}  # type: ignore[attr-defined]
    return SSHCommunicator("127.0.0.1", vm.ssh_host_port, "tester", **auth)  # type: ignore[arg-type]


@pytest.mark.slow
def test_boot_ssh_and_graceful_stop(make_vm: Callable[..., QemuMachine]) -> None:
    vm = make_vm()
    started = time.monotonic()
    vm.start()
    comm = ssh_to(vm)
    comm.wait_ready(BOOT_TIMEOUT, diagnostics=vm.serial_tail, abort=vm.failure)
    boot_seconds = time.monotonic() - started
    try:
        out: list[str] = []
        assert comm.run("uname -a", on_output=out.append) == 0
        assert re.match(r"Linux pibvm \S+-amd64 .* x86_64 GNU/Linux$", out[0]), out
        state: list[str] = []
        status = comm.run(
            "systemctl is-system-running --wait", on_output=state.append, timeout=BOOT_TIMEOUT
        )
        failed: list[str] = []
        comm.run("systemctl --failed --no-legend", on_output=failed.append)
        assert (status, state, failed) == (0, ["running"], [])
        assert comm.run("sudo -n true && python3 -c 'import sys; sys.exit(0)'") == 0
        assert comm.run("ip -4 -o addr show eth0 | grep -q 'inet 10.0.2.15/'") == 0
    finally:
        comm.close()
    password_comm = ssh_to(vm, password="s3cret-pw")
    password_comm.wait_ready(60)
    whoami: list[str] = []
    assert password_comm.run("whoami", on_output=whoami.append) == 0
    assert whoami == ["tester"]
    password_comm.close()
    print(f"boot to SSH under TCG: {boot_seconds:.0f}s")

    assert vm.stop(timeout=180) == 0  # ACPI power-off, not a kill
    assert not vm.running
    assert qemu_processes(vm.name) == []


@pytest.mark.slow
def test_ssh_timeout_message_carries_the_serial_console(
    make_vm: Callable[..., QemuMachine],
) -> None:
    # SSH is awaited on a port nothing listens on, so the timeout does not depend on how
    # fast this machine boots the guest; the console is real and already has lines.
    vm = make_vm()
    vm.start()
    deadline = time.monotonic() + BOOT_TIMEOUT
    while len(vm.serial_tail().strip().splitlines()) < 5 and time.monotonic() < deadline:
        vm.ensure_running()
        time.sleep(1)
    dead_port = free_port()
    unreachable = SSHCommunicator(
        "127.0.0.1",
        dead_port,
        "tester",
        private_key_file=vm.key.private_key_file,  # type: ignore[attr-defined]
    )
    with pytest.raises(BuildError) as caught:
        unreachable.wait_ready(5, diagnostics=vm.serial_tail, abort=vm.failure)
    message = str(caught.value)
    assert message.startswith(f"Timed out after 5s waiting for SSH on 127.0.0.1:{dead_port}")
    _, console = message.split("Last lines of the guest console:\n")
    assert console.strip()
    serial = vm.serial_log.read_text(errors="replace").replace("\r", "")
    shown = [line for line in console.splitlines() if line.strip()]
    assert len(shown) >= 5
    for line in shown:
        assert machine.ANSI.sub("", line.strip()) in machine.ANSI.sub("", serial)
    assert vm.stop(timeout=5) is not None
    assert qemu_processes(vm.name) == []


@pytest.mark.slow
def test_killed_qemu_is_reported_at_once(make_vm: Callable[..., QemuMachine]) -> None:
    vm = make_vm()
    vm.start()
    time.sleep(2)
    assert vm.pid is not None
    os.kill(vm.pid, signal.SIGKILL)
    started = time.monotonic()
    with pytest.raises(BuildError) as caught:
        ssh_to(vm).wait_ready(BOOT_TIMEOUT, diagnostics=vm.serial_tail, abort=vm.failure)
    assert time.monotonic() - started < 15
    message = str(caught.value)
    assert f"Gave up waiting for SSH on 127.0.0.1:{vm.ssh_host_port} as 'tester': " in message
    assert f"QEMU (pid {vm.pid}) was killed by signal 9 (SIGKILL)" in message
    with pytest.raises(BuildError, match="was killed by signal 9"):
        vm.ensure_running()
    assert vm.stop() == -signal.SIGKILL
    assert qemu_processes(vm.name) == []


@pytest.mark.slow
def test_detected_accelerator_boots_or_falls_back_to_tcg(
    make_vm: Callable[..., QemuMachine],
) -> None:
    """The builder's policy: try the detected accelerator, on a KVM failure restart with TCG."""
    accelerator = machine.detect_accelerator()
    if accelerator != "kvm":
        pytest.skip("no usable /dev/kvm: TCG is covered by the other tests")
    vm = make_vm(accelerator="kvm")
    vm.start()
    comm = ssh_to(vm)
    try:
        comm.wait_ready(180, diagnostics=vm.serial_tail, abort=vm.failure)
    except BuildError as error:
        assert "KVM" in str(error) or "Timed out" in str(error), error
        vm.restart("tcg")
        assert "accel=tcg" in " ".join(vm.command())
        comm.wait_ready(BOOT_TIMEOUT, diagnostics=vm.serial_tail, abort=vm.failure)
    assert comm.run("true") == 0
    comm.close()
    vm.kill()
    assert qemu_processes(vm.name) == []
