"""Linux VMs of the loopback Azure as real QEMU guests.

A Linux VM boots the project's Debian base image with Debian's ``waagent`` installed (its
daemon disabled, so ``waagent -force -deprovision+user`` is the real command), provisioned by
cloud-init from a NoCloud seed made of the VM's osProfile: admin user, SSH public keys,
password, customData, and the ``ovf-env.xml`` Azure's provisioning leaves for the agent (it
names the user that deprovisioning deletes). The VM's public IP is a loopback address whose
ports 22 and 80 QEMU forwards to the guest. Deallocating shuts the guest down, capturing
copies its disk into the image, and a VM made from an image boots a copy-on-write overlay of
it. Nothing here listens anywhere but 127.0.0.0/8.
"""

from __future__ import annotations

import base64
import hashlib
import shutil
import threading
import uuid
from pathlib import Path
from xml.sax.saxutils import escape

import yaml
from filelock import FileLock

from pytest_imagebuild.qemu import accel, disk
from pytest_imagebuild.qemu.base_image import cache_dir, ensure_base_image
from pytest_imagebuild.qemu.machine import QemuMachine
from pytest_imagebuild.qemu.seed import authorize_key, make_cd

GUEST_PORTS = (22, 80)
MEMORY_MB = 1024
PREPARE_TIMEOUT = 1200.0
SHUTDOWN_TIMEOUT = 180.0
READY_MARK = "pytest-imagebuild-waagent-ready"

# Runs once in a guest of the base image; every line is part of the cached image's name.
PREPARE_AGENT = f"""\
set -eu
export DEBIAN_FRONTEND=noninteractive
# The agent's daemon must never start here: it would look for Azure's wire server, which
# is a public address. policy-rc.d keeps the package's scripts from starting it.
printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
chmod +x /usr/sbin/policy-rc.d
apt-get update
apt-get install -y --no-install-recommends waagent
systemctl disable walinuxagent.service
rm -f /usr/sbin/policy-rc.d
apt-get clean
rm -rf /var/lib/apt/lists/* /var/lib/waagent/*
rm -f /etc/ssh/ssh_host_*
: > /etc/machine-id
echo {READY_MARK} > /dev/ttyS0
"""


def agent_image() -> Path:
    """The base image with waagent installed, made once and cached by its recipe."""
    base = ensure_base_image()
    key = hashlib.sha256(f"{base.name}\n{PREPARE_AGENT}".encode()).hexdigest()[:16]
    image = cache_dir() / f"debian-12-waagent-{key}.qcow2"
    if image.exists():
        return image
    with FileLock(f"{image}.lock", timeout=PREPARE_TIMEOUT + 300):
        if not image.exists():
            _prepare(base, image)
    return image


def _prepare(base: Path, image: Path) -> None:
    work = image.with_name(image.name + ".work")
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    try:
        overlay = work / "disk.qcow2"
        disk.overlay(base, overlay)
        user_data = {
            "users": [],
            "runcmd": [["sh", "-c", PREPARE_AGENT]],
            "power_state": {"mode": "poweroff", "condition": True, "timeout": 30},
        }
        seed = make_cd(
            work / "seed.iso",
            cd_content={
                "user-data": "#cloud-config\n" + yaml.safe_dump(user_data, sort_keys=False),
                "meta-data": f"instance-id: iid-{uuid.uuid4().hex[:12]}\n",
            },
        )
        machine = QemuMachine(
            overlay,
            memory_mb=MEMORY_MB,
            accelerator=accel.choose("").qemu_name,
            ssh_host_port=_free_loopback_port(),
            serial_log=work / "serial.log",
            cdrom=seed,
            name="standin-waagent-image",
        )
        machine.start()
        try:
            machine.wait_exit(PREPARE_TIMEOUT)
        finally:
            machine.kill()
        if READY_MARK not in machine.serial_tail(2000):
            raise RuntimeError(
                "installing waagent in the stand-in's Linux image failed; console:\n"
                + machine.serial_tail(40)
            )
        partial = image.with_name(image.name + ".partial")
        disk.copy(overlay, partial, "qcow2")
        partial.replace(image)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _free_loopback_port() -> int:
    from pytest_imagebuild.qemu.machine import free_port

    return free_port()


def ovf_environment(
    hostname: str, user: str, keys: list[tuple[str, str]], no_password: bool
) -> str:
    """The ovf-env.xml Azure's provisioning leaves in /var/lib/waagent (Azure's OVF format)."""
    public_keys = "".join(
        f"<ns1:PublicKey><ns1:Fingerprint></ns1:Fingerprint><ns1:Path>{escape(path)}</ns1:Path>"
        f"<ns1:Value>{escape(value)}</ns1:Value></ns1:PublicKey>"
        for path, value in keys
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n'
        '<ns0:Environment xmlns:ns0="http://schemas.dmtf.org/ovf/environment/1" '
        'xmlns:ns1="http://schemas.microsoft.com/windowsazure">'
        "<ns1:ProvisioningSection><ns1:Version>1.0</ns1:Version>"
        "<ns1:LinuxProvisioningConfigurationSet>"
        "<ns1:ConfigurationSetType>LinuxProvisioningConfiguration</ns1:ConfigurationSetType>"
        f"<ns1:HostName>{escape(hostname)}</ns1:HostName>"
        f"<ns1:UserName>{escape(user)}</ns1:UserName>"
        f"<ns1:DisableSshPasswordAuthentication>{str(no_password).lower()}"
        "</ns1:DisableSshPasswordAuthentication>"
        f"<ns1:SSH><ns1:PublicKeys>{public_keys}"
        "</ns1:PublicKeys></ns1:SSH>"
        "</ns1:LinuxProvisioningConfigurationSet></ns1:ProvisioningSection>"
        "<ns1:PlatformSettingsSection><ns1:Version>1.0</ns1:Version><ns1:PlatformSettings>"
        "<ns1:ProvisionGuestAgent>true</ns1:ProvisionGuestAgent>"
        "</ns1:PlatformSettings></ns1:PlatformSettingsSection></ns0:Environment>\n"
    )


def seed_content(
    hostname: str,
    user: str,
    keys: list[tuple[str, str]],
    password: str,
    custom_data: str,
) -> dict[str, str]:
    """user-data and meta-data for cloud-init, as Azure's provisioning would set the guest up."""
    account: dict[str, object] = {
        "name": user,
        "sudo": "ALL=(ALL) NOPASSWD:ALL",
        "shell": "/bin/bash",
        "lock_passwd": not password,
        "ssh_authorized_keys": [value.strip() for _, value in keys],
    }
    if password:
        account["plain_text_passwd"] = password
    config: dict[str, object] = {
        "users": [account],
        "ssh_pwauth": bool(password),
        "hostname": hostname,
        "write_files": [
            {
                "path": "/var/lib/waagent/ovf-env.xml",
                "permissions": "0600",
                "content": ovf_environment(hostname, user, keys, not password),
            }
        ],
    }
    user_data = "#cloud-config\n" + yaml.safe_dump(config, sort_keys=False)
    decoded = base64.b64decode(custom_data).decode("utf-8", "replace") if custom_data else ""
    if decoded:
        merged = None
        for _, value in keys:
            merged = authorize_key(merged or decoded, user, value)
        if merged is not None:  # cloud-config customData: cloud-init applies it, plus ours
            extra = yaml.safe_load(merged) or {}
            config = {
                **extra,
                **{k: v for k, v in config.items() if k != "users"},
                "users": extra.get("users", config["users"]),
            }
            user_data = "#cloud-config\n" + yaml.safe_dump(config, sort_keys=False)
        else:  # any other customData: where Azure's agent leaves it
            config["write_files"].append(  # type: ignore[union-attr]
                {
                    "path": "/var/lib/waagent/CustomData",
                    "content": custom_data,
                    "encoding": "b64",
                    "permissions": "0600",
                }
            )
            user_data = "#cloud-config\n" + yaml.safe_dump(config, sort_keys=False)
    meta = {"instance-id": f"iid-{uuid.uuid4().hex[:12]}", "local-hostname": hostname}
    return {"user-data": user_data, "meta-data": yaml.safe_dump(meta, sort_keys=False)}


class LinuxGuest:
    """One Linux VM's QEMU guest: its disk (an overlay of the source) and seed."""

    def __init__(self, workdir: Path, source: Path, seed: dict[str, str], name: str) -> None:
        self.workdir = workdir
        self.name = name
        workdir.mkdir(parents=True, exist_ok=True)
        self.disk = workdir / "os-disk.qcow2"
        disk.overlay(source, self.disk)
        self.seed = make_cd(workdir / "seed.iso", cd_content=seed)
        self.machine: QemuMachine | None = None
        self.lock = threading.Lock()

    def boot(self, ip: str) -> None:
        """Start the guest with its ports on ``ip`` (a loopback address)."""
        with self.lock:
            if self.machine is not None and self.machine.running:
                return
            self.machine = QemuMachine(
                self.disk,
                memory_mb=MEMORY_MB,
                accelerator=accel.choose("").qemu_name,
                ssh_host_port=22,
                forwards={80: 80},
                serial_log=self.workdir / "serial.log",
                cdrom=self.seed,
                name=self.name,
                host_address=ip,
            )
            self.machine.start()

    @property
    def running(self) -> bool:
        return self.machine is not None and self.machine.running

    def shut_down(self) -> None:
        """ACPI power-off, as Azure's deallocate does; killed if the guest ignores it."""
        with self.lock:
            if self.machine is not None:
                self.machine.stop(SHUTDOWN_TIMEOUT)
                self.machine = None

    def capture(self, target: Path) -> Path:
        """A standalone copy of the (shut down) disk: what a managed image keeps."""
        self.shut_down()
        target.parent.mkdir(parents=True, exist_ok=True)
        disk.copy(self.disk, target, "qcow2")
        return target

    def destroy(self) -> None:
        with self.lock:
            if self.machine is not None:
                self.machine.kill()
                self.machine = None
        shutil.rmtree(self.workdir, ignore_errors=True)

    def console(self, lines: int = 30) -> str:
        return self.machine.serial_tail(lines) if self.machine else ""
