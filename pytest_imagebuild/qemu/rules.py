"""What the qemu builder's Prepare rejects in Packer 1.6.6, checked without running QEMU."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from ..safepath import component
from ..template.checksums import iso_checksum_error
from ..template.communicator_rules import CommunicatorNeeds, check_communicator
from ..template.hints import did_you_mean
from ..template.jsonsource import JsonPath
from ..template.types import as_bool, is_set, string_list
from ..template.unsupported import UnsupportedTable, table_keys, unsupported_in, warn

Report = Callable[[JsonPath, str], None]

ACCELERATORS = ("none", "kvm", "tcg", "hax", "hvf", "whpx", "xen")
# (key, default, allowed values, Packer's message)
CHOICES = (
    ("disk_interface", "virtio", ("ide", "scsi", "virtio", "virtio-scsi"), "disk interface type"),
    (
        "disk_cache",
        "writeback",
        ("writethrough", "writeback", "none", "unsafe", "directsync"),
        "disk cache type",
    ),
    ("disk_discard", "ignore", ("unmap", "ignore"), "disk discard type"),
    ("disk_detect_zeroes", "off", ("unmap", "on", "off"), "disk detect zeroes setting"),
)


# Options Packer honours that this builder cannot: a build stops before starting the VM
# rather than build something else than the template says.
UNSUPPORTED: UnsupportedTable = (
    (("boot_command",), "typing a boot command over VNC"),
    (("floppy_files", "floppy_dirs"), "a floppy disk"),
    (("http_directory",), "Packer's HTTP server for the guest"),
    (("net_bridge",), "bridged networking"),
    (("disk_additional_size",), "additional disks"),
    (("skip_nat_mapping",), "connecting without the NAT port forward"),
)
UNSUPPORTED_KEYS = table_keys(UNSUPPORTED)
# Options that change how Packer drives QEMU (VNC, its HTTP server's ports, where it caches
# the ISO, QMP, port ranges), not the image; a build here goes without them.
IGNORED = (
    "boot_key_interval",
    "boot_keygroup_interval",
    "cdrom_interface",
    "disable_vnc",
    "display",
    "floppy_label",
    "host_port_max",
    "host_port_min",
    "http_bind_address",
    "http_interface",
    "http_port_max",
    "http_port_min",
    "iso_target_extension",
    "iso_target_path",
    "qmp_enable",
    "qmp_socket_path",
    "run_once",
    "ssh_host_port_max",
    "ssh_host_port_min",
    "use_default_display",
    "vnc_bind_address",
    "vnc_port_max",
    "vnc_port_min",
    "vnc_use_password",
)


def unsupported(config: dict[str, Any]) -> list[str]:
    """What the template asks of the qemu builder that pytest-imagebuild cannot do."""
    found = unsupported_in(config, UNSUPPORTED)
    if not as_bool(config.get("disk_image", False)):
        found.insert(0, "disk_image false (installing from an ISO; start from a disk image)")
    return found


def _missing(path: str) -> str | None:
    """Go's stat error for a missing file; patterns only need to be valid globs."""
    if any(char in path for char in "*?["):
        return None
    if os.path.exists(path):
        return None
    return f"stat {path}: no such file or directory"


def _check_files(config: dict[str, Any], path: JsonPath, report: Report) -> None:
    """floppy_files, floppy_dirs and cd_files must exist when the template is validated."""
    for key, label in (
        ("floppy_files", "Bad Floppy disk file"),
        ("floppy_dirs", "Bad Floppy disk directory"),
        ("cd_files", "Bad CD disk file"),
    ):
        for index, name in enumerate(string_list(config.get(key))):
            error = _missing(name)
            if error:
                report((*path, key, index), f"{label} '{name}': {error}")


def _check_iso(config: dict[str, Any], path: JsonPath, report: Report) -> None:
    if is_set(config, "iso_url") and is_set(config, "iso_urls"):
        report((*path, "iso_urls"), "Only one of iso_url or iso_urls must be specified")
        return
    if is_set(config, "iso_url"):
        urls = [str(config["iso_url"])]
    else:
        urls = string_list(config.get("iso_urls"))
    if not urls:
        report(path, "One of iso_url or iso_urls must be specified")
        return
    if as_bool(config.get("iso_skip_cache", False)):
        return  # Packer then ignores the checksum
    if not is_set(config, "iso_checksum"):
        report(path, "A checksum must be specified")
        return
    error = iso_checksum_error(str(config["iso_checksum"]), urls[0])
    if error:
        report((*path, "iso_checksum"), error)


def _check_choices(config: dict[str, Any], path: JsonPath, report: Report) -> None:
    fmt = str(config.get("format") or "qcow2")
    if fmt not in ("qcow2", "raw"):
        report((*path, "format"), "invalid format, only 'qcow2' or 'raw' are allowed")
    accelerator = str(config.get("accelerator") or "kvm")
    if accelerator not in ACCELERATORS:
        report(
            (*path, "accelerator"),
            "invalid accelerator, only 'kvm', 'tcg', 'xen', 'hax', "
            "'hvf', 'whpx', or 'none' are allowed" + did_you_mean(accelerator, ACCELERATORS),
        )
    for key, default, allowed, what in CHOICES:
        value = str(config.get(key) or default)
        if value not in allowed:
            report(
                (*path, key),
                f"unrecognized {what} '{value}' (one of: {', '.join(allowed)})"
                + did_you_mean(value, allowed),
            )
    disk_image = as_bool(config.get("disk_image", False))
    if as_bool(config.get("use_backing_file", False)) and (fmt != "qcow2" or not disk_image):
        report(
            (*path, "use_backing_file"),
            "use_backing_file can only be enabled for QCOW2 images and when disk_image is true",
        )
    if as_bool(config.get("skip_resize_disk", False)) and not disk_image:
        report(
            (*path, "skip_resize_disk"),
            "skip_resize_disk can only be used when disk_image is true",
        )


def _number(value: Any) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None  # a wrong type is reported by the type check


def _check_ports(config: dict[str, Any], path: JsonPath, report: Report) -> None:
    for low, high in (("host_port_min", "host_port_max"), ("vnc_port_min", "vnc_port_max")):
        minimum, maximum = _number(config.get(low)), _number(config.get(high))
        if minimum is not None and maximum is not None and minimum > maximum:
            report((*path, low), f"{low} must be less than {high}")


def qemu(config: dict[str, Any], path: JsonPath, report: Report, build_name: str) -> None:
    _check_iso(config, path, report)
    _check_files(config, path, report)
    check_communicator(config, path, report, CommunicatorNeeds())
    _check_choices(config, path, report)
    _check_ports(config, path, report)
    warn(config, path, report, "qemu", unsupported(config), IGNORED, "before starting the VM")
    output = str(config.get("output_directory") or f"output-{component(build_name)}")
    if os.path.exists(output):
        report(
            (*path, "output_directory"),
            f"Output directory '{output}' already exists. It must not exist. "
            "(Packer refuses to overwrite an earlier build's output; remove it or pick another)",
        )
