"""The qemu builder's options, with Packer 1.6.6's defaults."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from ..errors import BuildError
from ..safepath import component
from ..template.durations import parse_duration
from ..template.types import as_bool, string_list

_SIZE = re.compile(r"^(\d+(?:\.\d+)?)\s*([KMGT]?)i?B?$", re.IGNORECASE)
_UNITS = {"": 1, "K": 1 / 1024, "M": 1, "G": 1024, "T": 1024 * 1024}


def size_mb(value: Any) -> int:
    """Packer's disk_size: a number of MiB, or a string with a unit ("40960M", "4G")."""
    if isinstance(value, (int, float)):
        return int(value)
    match = _SIZE.match(str(value).strip())
    if not match:
        raise BuildError(f'disk_size {value!r} is not a size such as 4096, "4096M" or "4G"')
    return int(float(match.group(1)) * _UNITS[match.group(2).upper()])


def _seconds(value: Any, default: str) -> float:
    """A duration option; zero means Packer's default (``boot_wait`` skips with ``"-1s"``)."""
    seconds = parse_duration(value if isinstance(value, (int, float)) else str(value or default))
    return seconds if seconds != 0 else parse_duration(default)


@dataclass
class QemuConfig:
    build_name: str
    iso_url: str
    iso_checksum: str
    disk_image: bool
    use_backing_file: bool
    disk_size_mb: int
    format: str
    output_directory: str
    vm_name: str
    accelerator: str
    memory_mb: int
    cpus: int
    headless: bool
    qemuargs: list[list[str]]
    net_device: str
    disk_interface: str
    communicator: str
    ssh_username: str
    ssh_password: str
    ssh_private_key_file: str
    ssh_timeout: float
    shutdown_command: str
    shutdown_timeout: float
    boot_wait: float
    skip_compaction: bool
    disk_compression: bool
    cd_files: list[str] = field(default_factory=list)
    cd_content: dict[str, str] = field(default_factory=dict)
    cd_label: str = ""
    ssh_port: int = 22
    qemu_binary: str = "qemu-system-x86_64"
    machine_type: str = "pc"
    qemu_img_args: dict[str, list[str]] = field(default_factory=dict)
    skip_resize_disk: bool = False
    boot_command: list[str] = field(default_factory=list)
    disk_cache: str = "writeback"
    disk_discard: str = "ignore"
    disk_detect_zeroes: str = "off"

    @classmethod
    def from_plan(cls, name: str, config: dict[str, Any]) -> QemuConfig:
        urls = string_list(config.get("iso_urls"))
        iso_url = str(config.get("iso_url") or (urls[0] if urls else ""))
        qemuargs = config.get("qemuargs") or []
        cd_files = config.get("cd_files") or []
        return cls(
            build_name=name,
            iso_url=iso_url,
            iso_checksum=str(config.get("iso_checksum") or "none"),
            disk_image=as_bool(config.get("disk_image", False)),
            use_backing_file=as_bool(config.get("use_backing_file", False)),
            disk_size_mb=size_mb(config.get("disk_size") or "40960M"),
            format=str(config.get("format") or "qcow2"),
            # Packer's defaults, with the build name made one safe file name (safepath.py).
            output_directory=str(config.get("output_directory") or f"output-{component(name)}"),
            vm_name=str(config.get("vm_name") or f"packer-{component(name)}"),
            accelerator=str(config.get("accelerator") or ""),
            memory_mb=int(config.get("memory") or 512),
            cpus=int(config.get("cpus") or 1),
            headless=as_bool(config.get("headless", False)),
            qemuargs=[
                [str(a) for a in (row if isinstance(row, list) else [row])] for row in qemuargs
            ],
            net_device=str(config.get("net_device") or "virtio-net"),
            disk_interface=str(config.get("disk_interface") or "virtio"),
            communicator=str(config.get("communicator") or "ssh"),
            ssh_username=str(config.get("ssh_username") or ""),
            ssh_password=str(config.get("ssh_password") or ""),
            ssh_private_key_file=str(config.get("ssh_private_key_file") or ""),
            ssh_timeout=_seconds(config.get("ssh_timeout"), "5m"),
            shutdown_command=str(config.get("shutdown_command") or ""),
            shutdown_timeout=_seconds(config.get("shutdown_timeout"), "5m"),
            boot_wait=_seconds(config.get("boot_wait"), "10s"),
            skip_compaction=as_bool(config.get("skip_compaction", False)),
            disk_compression=as_bool(config.get("disk_compression", False)),
            cd_files=[str(f) for f in (cd_files if isinstance(cd_files, list) else [cd_files])],
            cd_content={str(k): str(v) for k, v in (config.get("cd_content") or {}).items()},
            cd_label=str(config.get("cd_label") or ""),
            ssh_port=int(config.get("ssh_port") or 22),
            qemu_binary=str(config.get("qemu_binary") or "qemu-system-x86_64"),
            machine_type=str(config.get("machine_type") or "pc"),
            qemu_img_args={
                str(k): [str(a) for a in (v if isinstance(v, list) else [v])]
                for k, v in (config.get("qemu_img_args") or {}).items()
            },
            skip_resize_disk=as_bool(config.get("skip_resize_disk", False)),
            boot_command=[str(c) for c in (config.get("boot_command") or [])],
            disk_cache=str(config.get("disk_cache") or "writeback"),
            disk_discard=str(config.get("disk_discard") or "ignore"),
            disk_detect_zeroes=str(config.get("disk_detect_zeroes") or "off"),
        )

