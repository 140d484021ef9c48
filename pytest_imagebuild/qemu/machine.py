"""A running QEMU virtual machine: Packer's default command line, ACPI shutdown, diagnostics.

The serial console goes to a file so every failure (no SSH, a crash) can show what the guest
printed last; QEMU's own output goes to a second file so its errors ("KVM internal error",
a bad ``-drive``) are reported too.
"""

from __future__ import annotations

import fcntl
import ipaddress
import json
import os
import re
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import BinaryIO

from .. import process
from ..errors import BuildError

KVM_GET_API_VERSION = 0xAE00
KVM_API_VERSION = 12
# Seen on nested virtualisation here: the guest stops with no console output, QEMU stays up.
KVM_FAILURE = re.compile(r"KVM internal error|KVM: entry failed|kvm run failed", re.I)
ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b[()][0-9A-Za-z]")


def detect_accelerator() -> str:
    """Say "kvm" when /dev/kvm answers its API-version ioctl, else "tcg" (software emulation).

    A usable /dev/kvm can still hang a guest (nested virtualisation); ``QemuMachine.failure``
    notices QEMU's own report of that, and callers fall back with ``restart("tcg")``.
    """
    try:
        fd = os.open("/dev/kvm", os.O_RDWR | os.O_CLOEXEC)
    except OSError:
        return "tcg"
    try:
        version = fcntl.ioctl(fd, KVM_GET_API_VERSION)
    except OSError:
        return "tcg"
    finally:
        os.close(fd)
    return "kvm" if version == KVM_API_VERSION else "tcg"


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port free on ``host`` right now (the kernel's pick, so parallel runs differ)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def merge_qemuargs(
    defaults: Sequence[tuple[str, Sequence[str]]], qemuargs: Sequence[Sequence[str]] | None
) -> list[str]:
    """Packer's rule: a user switch replaces every default of that name.

    The words after a switch are joined without spaces (``["-m", "2048M"]``), a switch alone
    is emitted bare; defaults keep their order, new switches follow in the user's order.
    """
    user: dict[str, list[str]] = {}
    for arg in qemuargs or ():
        if not arg:
            continue
        value = "".join(str(part) for part in arg[1:])
        user.setdefault(str(arg[0]), [])
        if value:
            user[str(arg[0])].append(value)
    merged: list[tuple[str, Sequence[str]]] = []
    seen: set[str] = set()
    for switch, values in defaults:
        if switch in user:
            if switch not in seen:
                merged.append((switch, user[switch]))
        else:
            merged.append((switch, values))
        seen.add(switch)
    merged += [(switch, values) for switch, values in user.items() if switch not in seen]
    argv: list[str] = []
    for switch, values in merged:
        if not values:
            argv.append(switch)
        for value in values:
            argv += [switch, value]
    return argv


def _is_loopback(address: str) -> bool:
    try:
        return ipaddress.ip_address(address) in ipaddress.ip_network("127.0.0.0/8")
    except ValueError:
        return False


class QemuMachine:
    """One VM; ``start`` it, reach it on 127.0.0.1:``ssh_host_port``, ``stop`` it always."""

    def __init__(
        self,
        disk: Path,
        disk_format: str = "qcow2",
        *,
        memory_mb: int = 1024,
        cpus: int = 2,
        accelerator: str = "tcg",
        ssh_host_port: int,
        serial_log: Path,
        guest_ssh_port: int = 22,
        forwards: dict[int, int] | None = None,
        cdrom: Path | None = None,
        net_device: str = "virtio-net",
        disk_interface: str = "virtio",
        qemuargs: Sequence[Sequence[str]] | None = None,
        name: str = "pytest-imagebuild",
        headless: bool = True,
        machine_type: str = "pc",
        binary: str = "qemu-system-x86_64",
        qemu_log: Path | None = None,
        host_address: str = "127.0.0.1",
        cache: str = "writeback",
        discard: str = "ignore",
        detect_zeroes: str = "off",
    ) -> None:
        if not _is_loopback(host_address):
            raise BuildError(f"QEMU forwards listen on loopback only, not on {host_address}.")
        self.host_address = host_address  # where the forwards listen: 127.0.0.0/8 only
        self.disk, self.disk_format = Path(disk), disk_format
        self.memory_mb, self.cpus, self.accelerator = memory_mb, cpus, accelerator
        self.ssh_host_port = ssh_host_port
        self.guest_ssh_port = guest_ssh_port
        self.forwards = dict(forwards or {})  # guest port -> host port on 127.0.0.1
        self.serial_log = Path(serial_log)
        self.qemu_log = (
            Path(qemu_log)
            if qemu_log
            else self.serial_log.with_name(self.serial_log.name + ".qemu.log")
        )
        self.cdrom = Path(cdrom) if cdrom else None
        self.net_device, self.disk_interface = net_device, disk_interface
        self.qemuargs = qemuargs
        self.name, self.headless, self.machine_type = name, headless, machine_type
        self.binary = binary
        self.cache, self.discard, self.detect_zeroes = cache, discard, detect_zeroes
        self._proc: subprocess.Popen[bytes] | None = None
        self._qmp_dir: str | None = None

    @property
    def qmp_socket(self) -> Path | None:
        return Path(self._qmp_dir, "qmp.sock") if self._qmp_dir else None

    def command(self) -> list[str]:
        """The full QEMU command line (Packer's defaults, overridden by ``qemuargs``)."""

        def escape(path: Path) -> str:
            return str(path).replace(",", ",,")

        drive = (
            f"file={escape(self.disk)},if={self.disk_interface},cache={self.cache},"
            f"discard={self.discard},format={self.disk_format}"
        )
        if self.detect_zeroes != "off":  # as Packer: only when the template turns it on
            drive += f",detect-zeroes={self.detect_zeroes}"
        defaults: list[tuple[str, Sequence[str]]] = [
            ("-name", [self.name]),
            ("-machine", [f"type={self.machine_type},accel={self.accelerator}"]),
            ("-m", [f"{self.memory_mb}M"]),
            ("-smp", [str(self.cpus)]),
            ("-drive", [drive]),
            ("-netdev", [self._netdev()]),
            ("-device", [f"{self.net_device},netdev=user.0"]),
            ("-boot", ["c"]),
            ("-serial", [f"file:{self.serial_log}"]),
        ]
        if self.cdrom is not None:
            defaults.append(("-cdrom", [str(self.cdrom)]))
        if self.headless:
            defaults.append(("-display", ["none"]))
        if self.qmp_socket is not None:
            defaults.append(("-qmp", [f"unix:{self.qmp_socket},server=on,wait=off"]))
        return [self.binary, *merge_qemuargs(defaults, self.qemuargs)]

    def _netdev(self) -> str:
        """User networking; every forward listens on loopback only, never on the LAN."""
        ports = {self.guest_ssh_port: self.ssh_host_port, **self.forwards}
        rules = "".join(
            f",hostfwd=tcp:{self.host_address}:{host}-:{guest}"
            for guest, host in sorted(ports.items())
        )
        return f"user,id=user.0{rules}"

    def start(self, ready_timeout: float = 30.0) -> None:
        """Launch QEMU; return once it answers on QMP (devices opened), or raise its error."""
        if self.running:
            raise BuildError(f"QEMU machine {self.name} is already running.")
        process.which(self.binary, "qemu-system-x86")
        self._qmp_dir = tempfile.mkdtemp(prefix="pib-qmp-")
        self.serial_log.parent.mkdir(parents=True, exist_ok=True)
        self.serial_log.write_bytes(b"")
        self.qemu_log.write_bytes(b"")
        self._proc = process.spawn(self.command(), log_path=self.qemu_log)
        deadline = time.monotonic() + ready_timeout
        while True:
            if self._proc.poll() is not None:
                self._cleanup_qmp()
                raise BuildError(f"QEMU machine {self.name} did not start: {self.failure()}")
            if self._answers_qmp():
                return
            if time.monotonic() > deadline:
                self.kill()
                raise BuildError(
                    f"QEMU machine {self.name} did not come up within "
                    f"{ready_timeout:g}s. {self._qemu_output()}"
                )
            time.sleep(0.05)

    def _answers_qmp(self) -> bool:
        """QEMU greets on QMP only after initialising (a bad -drive has exited by then)."""
        if self.qmp_socket is None or not self.qmp_socket.exists():
            return False
        try:
            self.qmp("query-status", timeout=2.0)
        except (OSError, ValueError, BuildError):
            return False
        return True

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc else None

    def failure(self) -> str | None:
        """Why this VM cannot come up (QEMU exited, or KVM failed), or None.

        Shaped for ``Communicator.wait_ready(abort=...)``, to stop waiting for SSH at once.
        """
        if self._proc is None:
            return "QEMU was never started"
        code = self._proc.poll()
        if code is not None:
            return (
                f"QEMU (pid {self._proc.pid}) {process.exit_description(code)}. "
                f"{self._qemu_output()}"
            ).strip()
        found = KVM_FAILURE.search(self._read(self.qemu_log))
        if found:
            return f"KVM failed to run the guest (QEMU: {found.group(0)}); use accelerator tcg"
        return None

    def ensure_running(self) -> None:
        """Raise a BuildError with the console tail if the VM died or hung in KVM."""
        reason = self.failure()
        if reason:
            raise BuildError(
                f"QEMU machine {self.name}: {reason}. Last lines of the guest "
                f"console:\n{self.serial_tail() or '(nothing)'}"
            )

    def stop(self, timeout: float = 60.0) -> int | None:
        """ACPI power button via QMP, then SIGTERM/SIGKILL if the guest ignores it."""
        if self._proc is None:
            return None
        try:
            if self.running and not self.failure():
                try:
                    self.qmp("system_powerdown")
                    return self.wait_exit(timeout)
                except (OSError, BuildError, ValueError):
                    pass
            return self.kill()
        finally:
            self._cleanup_qmp()

    def kill(self) -> int | None:
        """End QEMU now (SIGTERM, then SIGKILL): for hung guests and failed boots."""
        if self._proc is None:
            return None
        code = process.terminate(self._proc, grace=5.0)
        self._cleanup_qmp()
        return code

    def wait_exit(self, timeout: float) -> int:
        """Wait for the guest to power off, as after a ``shutdown_command``."""
        if self._proc is None:
            raise BuildError(f"QEMU machine {self.name} was never started.")
        try:
            return self._proc.wait(timeout)
        except subprocess.TimeoutExpired:
            raise BuildError(
                f"Timeout while waiting for machine {self.name} to shut down ({timeout:g}s). "
                f"Last lines of the guest console:\n{self.serial_tail() or '(nothing)'}"
            ) from None

    def restart(self, accelerator: str | None = None) -> None:
        """Kill and boot again, e.g. with ``"tcg"`` after a KVM guest never reached SSH."""
        self.kill()
        if accelerator:
            self.accelerator = accelerator
        self.start()

    def qmp(self, command: str, timeout: float = 5.0) -> dict:
        """Send one QMP command and return its reply."""
        if self.qmp_socket is None:
            raise BuildError(f"QEMU machine {self.name} is not running.")
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(timeout)
            sock.connect(str(self.qmp_socket))
            stream = sock.makefile("rwb")
            json.loads(stream.readline() or b"{}")  # greeting
            for name in ("qmp_capabilities", command):
                stream.write(json.dumps({"execute": name}).encode() + b"\n")
                stream.flush()
                reply = self._qmp_reply(stream)
        return reply

    @staticmethod
    def _qmp_reply(stream: BinaryIO) -> dict:
        while True:
            line = stream.readline()
            if not line:
                raise BuildError("QEMU closed the QMP connection.")
            message = json.loads(line)
            if "error" in message:
                raise BuildError(f"QMP error: {message['error'].get('desc', message)}")
            if "return" in message:
                return message

    def serial_tail(self, lines: int = 30) -> str:
        """The last lines the guest printed on its serial console, escape codes removed."""
        text = ANSI.sub("", self._read(self.serial_log)).replace("\r", "")
        return process.tail(text, lines)

    def _qemu_output(self) -> str:
        output = process.tail(self._read(self.qemu_log), 10)
        return f"QEMU printed:\n{output}" if output else "QEMU printed nothing."

    @staticmethod
    def _read(path: Path, limit: int = 65536) -> str:
        try:
            with path.open("rb") as handle:
                handle.seek(max(path.stat().st_size - limit, 0))
                return handle.read().decode("utf-8", "replace")
        except FileNotFoundError:
            return ""

    def _cleanup_qmp(self) -> None:
        if self._qmp_dir and not self.running:
            shutil.rmtree(self._qmp_dir, ignore_errors=True)
            self._qmp_dir = None
