"""A small bootable Debian cloud-style qcow2, built with debootstrap and cached by its recipe.

Tests need a disk image that boots with a plain ``-drive`` (BIOS, MBR, extlinux), gets an
address by DHCP and takes users and keys from a NoCloud seed, exactly like a vendor cloud image,
but without downloading one: only the Debian mirror is reachable. The root filesystem is created
at a 1 MiB offset inside the raw disk and mounted through a plain loop device with an offset, so
no partition scanning (``losetup -P``, kpartx) is needed.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import shutil
import signal
import struct
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

from filelock import FileLock, Timeout

from .. import process
from ..errors import BuildError, ImagebuildError

log = logging.getLogger("pytest_imagebuild")

SECTOR = 512
PART_START = 2048  # sectors: the usual 1 MiB alignment
MBR_CODE = Path("/usr/lib/syslinux/mbr/mbr.bin")
DEFAULT_MIRROR = "http://deb.debian.org/debian"
LOCK_WAIT = 1800.0

# Runs inside the chroot with ROOT_UUID set; every line is part of the cache key.
DEBIAN_CONFIGURE = r"""
set -eu
export DEBIAN_FRONTEND=noninteractive LC_ALL=C
cd /
cat > /etc/fstab <<EOF
UUID=$ROOT_UUID / ext4 defaults,errors=remount-ro 0 1
EOF
echo debian > /etc/hostname
printf '127.0.0.1 localhost\n::1 localhost ip6-localhost ip6-loopback\n' > /etc/hosts
mkdir -p /etc/systemd/network /etc/systemd/system/ssh.service.d
printf '[Match]\nName=eth* en*\n\n[Network]\nDHCP=yes\n' > /etc/systemd/network/80-dhcp.network
cat > /etc/systemd/system/ssh.service.d/host-key.conf <<'EOF'
[Service]
ExecStartPre=/bin/sh -c 'test -e /etc/ssh/ssh_host_ed25519_key || \
  ssh-keygen -q -t ed25519 -N "" -f /etc/ssh/ssh_host_ed25519_key'
EOF
systemctl enable systemd-networkd.service systemd-resolved.service ssh.service
cat > /etc/cloud/cloud.cfg.d/90-pytest-imagebuild.cfg <<'EOF'
datasource_list: [NoCloud, ConfigDrive, None]
network: {config: disabled}
locale: C.UTF-8
ssh_genkeytypes: [ed25519, ecdsa]
grub_dpkg: {enabled: false}
ssh: {emit_keys_to_console: false}
no_ssh_fingerprints: true
apt: {preserve_sources_list: true}
EOF
# Network config is left to systemd-networkd, so networking need not wait for the local stage;
# a drop-in cannot remove an ordering, hence a whole copy of the unit.
sed '/network-pre.target/d' /lib/systemd/system/cloud-init-local.service \
  > /etc/systemd/system/cloud-init-local.service
# Jobs that only matter on long-lived machines and would take the dpkg lock or CPU mid-test.
systemctl disable e2scrub_reap.service apt-daily.timer apt-daily-upgrade.timer \
  dpkg-db-backup.timer e2scrub_all.timer fstrim.timer
# Devices a QEMU guest has but never uses; probing them costs seconds under TCG.
printf 'blacklist %s\n' floppy pcspkr parport parport_pc ppdev kvm kvm_amd kvm_intel ccp \
  bochs cfg80211 serio_raw > /etc/modprobe.d/pytest-imagebuild.conf
# A 7 MB initramfs instead of 30 MB, with the disk, CD and filesystem drivers that Packer's
# disk_interface choices need: SYSLINUX loads it and the kernel unpacks it faster.
echo MODULES=list > /etc/initramfs-tools/conf.d/pytest-imagebuild
printf '%s\n' virtio_pci virtio_blk virtio_scsi sd_mod sr_mod cdrom ata_piix ata_generic ahci \
  nvme sym53c8xx ext4 crc32c_generic >> /etc/initramfs-tools/modules
[ -e vmlinuz ] || ln -s "$(ls boot/vmlinuz-* | sort -V | tail -n 1)" vmlinuz
[ -e initrd.img ] || ln -s "$(ls boot/initrd.img-* | sort -V | tail -n 1)" initrd.img
mkdir -p /boot/extlinux
cat > /boot/extlinux/extlinux.conf <<EOF
SERIAL 0 115200
DEFAULT debian
PROMPT 0
TIMEOUT 1
LABEL debian
  LINUX /vmlinuz
  INITRD /initrd.img
  APPEND root=UUID=$ROOT_UUID ro console=tty0 console=ttyS0,115200n8 net.ifnames=0 biosdevname=0 \
 nomodeset fsck.mode=skip
EOF
cat > /etc/apt/sources.list <<'EOF'
deb http://deb.debian.org/debian bookworm main
deb http://deb.debian.org/debian bookworm-updates main
deb http://deb.debian.org/debian-security bookworm-security main
EOF
rm -f /etc/ssh/ssh_host_*
# Again, now that fstab exists: the initramfs then carries fsck for the root filesystem.
update-initramfs -u -k all
apt-get clean
rm -rf /var/lib/apt/lists/* /var/cache/debconf/*-old /var/log/*.log /var/log/apt/*
: > /etc/machine-id
rm -f /var/lib/dbus/machine-id
"""


@dataclass(frozen=True)
class Recipe:
    """Everything that decides the image's content; its hash names the cached file."""

    distro: str
    suite: str
    packages: tuple[str, ...]
    script: str
    disk_mb: int = 3072
    layout: str = "mbr-ext4-extlinux-1"

    def key(self) -> str:
        text = json.dumps(asdict(self), sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:16]


RECIPES = {
    "debian-12": Recipe(
        distro="debian-12",
        suite="bookworm",
        packages=(
            "systemd-sysv",
            "udev",
            "dbus",
            "linux-image-amd64",
            "initramfs-tools",
            "zstd",
            "systemd-resolved",
            "iproute2",
            "netbase",
            "openssh-server",
            "cloud-init",
            "cloud-guest-utils",
            "sudo",
            "python3",
            # debootstrap does not resolve virtual packages; cryptography needs this one.
            "python3-cffi-backend",
        ),
        script=DEBIAN_CONFIGURE,
    ),
}


def cache_dir() -> Path:
    """``$PYTEST_IMAGEBUILD_CACHE/base-images``, else the XDG cache of the user."""
    root = os.environ.get("PYTEST_IMAGEBUILD_CACHE")
    if not root:
        xdg = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
        root = str(Path(xdg) / "pytest-imagebuild")
    return Path(root) / "base-images"


def recipe_for(distro: str) -> Recipe:
    try:
        return RECIPES[distro]
    except KeyError:
        known = ", ".join(sorted(RECIPES))
        raise ImagebuildError(
            f"No base image recipe for {distro!r}; known distributions: {known}."
        ) from None


def ensure_base_image(distro: str = "debian-12", out: Path | None = None) -> Path:
    """The cached base image (built on first use), or a copy of it at ``out``.

    A file lock makes concurrent sessions (xdist workers, parallel CI jobs) wait for one
    build instead of running debootstrap twice.
    """
    recipe = recipe_for(distro)
    directory = cache_dir()
    directory.mkdir(parents=True, exist_ok=True)
    image = directory / f"{recipe.distro}-{recipe.key()}.qcow2"
    if not image.exists():
        try:
            with FileLock(f"{image}.lock", timeout=LOCK_WAIT):
                if not image.exists():
                    _build(recipe, image)
        except Timeout:
            raise ImagebuildError(
                f"Waited {LOCK_WAIT:g}s for another process building {image} (lock "
                f"{image}.lock); remove the lock file if no build is running."
            ) from None
    if out is None:
        return image
    return _copy_atomically(image, Path(out))


def _copy_atomically(source: Path, target: Path) -> Path:
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.partial")
    shutil.copyfile(source, partial)
    os.replace(partial, target)
    return target


def _require_tools() -> dict[str, str]:
    if os.geteuid() != 0:
        raise ImagebuildError(
            "Building a base image needs root (debootstrap, mount and chroot): run as root, "
            "or point PYTEST_IMAGEBUILD_CACHE at a cache a root run has already filled."
        )
    if not MBR_CODE.is_file():
        raise BuildError(f"{MBR_CODE} is missing; install the Debian package syslinux-common.")
    tools = {
        "debootstrap": "debootstrap",
        "mkfs.ext4": "e2fsprogs",
        "extlinux": "extlinux",
        "qemu-img": "qemu-utils",
        "fstrim": "util-linux",
        "mount": "mount",
        "umount": "mount",
        "chroot": "coreutils",
    }
    return {name: process.which(name, package) for name, package in tools.items()}


@contextlib.contextmanager
def _sigterm_raises() -> Iterator[None]:
    """Turn SIGTERM (a CI timeout, a kill) into an exception so the build still unmounts.

    Children run in their own sessions and never see the signal; without this, debootstrap
    would go on inside a mount nobody removes.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupted(signum: int, frame: object) -> None:
        raise BuildError("Base image build interrupted by SIGTERM; its mounts were removed.")

    previous = signal.signal(signal.SIGTERM, interrupted)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _build(recipe: Recipe, image: Path) -> None:
    tools = _require_tools()
    with _sigterm_raises():
        _build_as_root(recipe, image, tools)


def _build_as_root(recipe: Recipe, image: Path, tools: dict[str, str]) -> None:
    started = time.monotonic()
    log.info("building base image %s (about 3 minutes)", image.name)
    work = Path(tempfile.mkdtemp(prefix=".build-", dir=image.parent))
    raw, root = work / "disk.raw", work / "root"
    root.mkdir()
    mounted = False
    try:
        root_uuid = str(uuid.uuid5(uuid.NAMESPACE_URL, f"pytest-imagebuild:{recipe.key()}"))
        _make_disk(raw, recipe.disk_mb, root_uuid, tools)
        offset = PART_START * SECTOR
        process.run([tools["mount"], "-o", f"loop,offset={offset}", raw, root], timeout=60)
        mounted = True
        _install(recipe, root, root_uuid, tools)
        _unmount_tree(root, tools)
        mounted = False
        _set_hidden_sectors(raw)
        partial = work / "image.qcow2"
        # -m 8 -W: compress clusters on every core, about twice as fast as the default.
        convert = ["convert", "-c", "-m", "8", "-W", "-f", "raw", "-O", "qcow2"]
        process.run([tools["qemu-img"], *convert, raw, partial], timeout=900)
        os.replace(partial, image)
    finally:
        if mounted:
            _unmount_tree(root, tools)
        if _mounts_under(work):
            log.error("not removing %s: something is still mounted below it", work)
        else:
            shutil.rmtree(work, ignore_errors=True)
    size = image.stat().st_size / 2**20
    log.info("built %s (%.0f MiB) in %.0fs", image, size, time.monotonic() - started)


def _make_disk(raw: Path, disk_mb: int, root_uuid: str, tools: dict[str, str]) -> None:
    """A sparse raw disk: syslinux MBR code, one bootable Linux partition, ext4 inside it."""
    total = disk_mb * 2**20 // SECTOR
    with raw.open("wb") as disk:
        disk.truncate(total * SECTOR)
        entry = struct.pack(
            "<B3sB3sII",
            0x80,
            b"\xfe\xff\xff",
            0x83,
            b"\xfe\xff\xff",
            PART_START,
            total - PART_START,
        )
        code = MBR_CODE.read_bytes()[:440]
        signature = int(root_uuid[:8], 16)
        disk.write(code.ljust(440, b"\0") + struct.pack("<IH", signature, 0) + entry)
        disk.seek(510)
        disk.write(b"\x55\xaa")
    fs_kib = (total - PART_START) * SECTOR // 1024
    # 64bit is not needed below 16 TiB and older syslinux cannot read it.
    process.run(
        [
            tools["mkfs.ext4"],
            "-q",
            "-F",
            "-L",
            "root",
            "-U",
            root_uuid,
            "-O",
            "^64bit",
            "-E",
            f"offset={PART_START * SECTOR}",
            raw,
            f"{fs_kib}k",
        ],
        timeout=120,
    )


def _install(recipe: Recipe, root: Path, root_uuid: str, tools: dict[str, str]) -> None:
    _debootstrap(recipe, root, tools)
    env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "ROOT_UUID": root_uuid, "HOME": "/root"}
    process.run([tools["chroot"], root, "/bin/sh", "-s"], input=recipe.script, env=env, timeout=300)
    process.run([tools["extlinux"], "--install", root / "boot" / "extlinux"], timeout=60)
    process.run([tools["fstrim"], root], timeout=120)


def _debootstrap(recipe: Recipe, root: Path, tools: dict[str, str]) -> None:
    """Install the system; .debs are kept in the cache so a changed recipe rebuilds faster."""
    mirror = os.environ.get("PYTEST_IMAGEBUILD_DEBIAN_MIRROR", DEFAULT_MIRROR)
    debs = cache_dir().parent / "debs"
    debs.mkdir(parents=True, exist_ok=True)
    begin = time.monotonic()
    try:
        process.run(
            [
                tools["debootstrap"],
                "--variant=minbase",
                f"--cache-dir={debs}",
                "--include=" + ",".join(recipe.packages),
                recipe.suite,
                root,
                mirror,
            ],
            timeout=1800,
        )
    except BuildError as error:
        detail = root / "debootstrap" / "debootstrap.log"
        if detail.is_file():
            lines = process.tail(detail.read_text(errors="replace"), 25)
            raise BuildError(f"{error}\nLast lines of debootstrap.log:\n{lines}") from None
        raise
    log.info("debootstrap took %.0fs", time.monotonic() - begin)


def _set_hidden_sectors(raw: Path) -> None:
    """Tell the extlinux boot sector where its partition starts.

    extlinux reads the partition offset from the block device; through an offset loop device
    it sees 0, so the "hidden sectors" field of the boot record is patched afterwards.
    """
    with raw.open("r+b") as disk:
        disk.seek(PART_START * SECTOR + 0x1C)
        disk.write(struct.pack("<I", PART_START))


def _mounts_under(path: Path) -> list[Path]:
    """Mount points at or below ``path``, deepest first, from this process's mount table."""
    base = os.path.realpath(path)
    found = []
    with open("/proc/self/mountinfo") as table:
        for line in table:
            point = line.split()[4].encode().decode("unicode_escape")
            if point == base or point.startswith(base + "/"):
                found.append(Path(point))
    return sorted(found, key=lambda p: len(p.parts), reverse=True)


def _unmount_tree(root: Path, tools: dict[str, str]) -> None:
    """Unmount ``root`` and anything a failed debootstrap left mounted inside it (proc, sys)."""
    for point in _mounts_under(root):
        try:
            process.run([tools["umount"], point], timeout=60)
        except BuildError:
            process.run([tools["umount"], "--lazy", point], timeout=60, check=False)
