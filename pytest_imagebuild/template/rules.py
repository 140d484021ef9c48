"""Checks beyond key names and types: required fields and the combinations Packer rejects.

Messages follow Packer 1.6.6's wording so that users searching for them find Packer's docs.
"""

from __future__ import annotations

import glob
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .jsonsource import JsonPath
from .types import as_bool

Report = Callable[[JsonPath, str], None]
Rule = Callable[[dict[str, Any], JsonPath, Report], None]

_MANAGED_IMAGE_NAME = re.compile(r"^[^_\W][\w\-._)]{0,79}$")
_RESOURCE_GROUP_NAME = re.compile(r"^[^_\W][\w\-._()]{0,89}$")
_ENV_VAR = re.compile(r"^[^=]+=", re.DOTALL)


def _set(config: dict[str, Any], key: str) -> bool:
    value = config.get(key)
    return value not in (None, "", [], {})


def _script_sources(config: dict[str, Any], path: JsonPath, report: Report) -> int:
    """Check script/scripts exist; return how many script sources (inline counts once) are set."""
    scripts = []
    if _set(config, "script"):
        scripts.append(("script", str(config["script"])))
    raw_scripts = config.get("scripts") or []
    for index, script in enumerate(raw_scripts if isinstance(raw_scripts, list) else [raw_scripts]):
        scripts.append((("scripts", index), str(script)))
    for key, script in scripts:
        if not Path(script).exists():
            location = (*path, *key) if isinstance(key, tuple) else (*path, key)
            report(location, f"Bad script '{script}': stat {script}: no such file or directory")
    return sum(1 for key in ("script", "scripts", "inline") if _set(config, key))


def _inline_or_script(config: dict[str, Any], path: JsonPath, report: Report) -> None:
    count = _script_sources(config, path, report)
    if count == 0:
        report(path, "Either a script file or inline script must be specified.")
    elif _set(config, "inline") and count > 1:
        report(path, "Only a script file or an inline script can be specified, not both.")


def _environment_vars(config: dict[str, Any], path: JsonPath, report: Report) -> None:
    for index, item in enumerate(config.get("environment_vars") or []):
        if not _ENV_VAR.match(str(item)):
            report(
                (*path, "environment_vars", index),
                f"Environment variable not in format 'key=value': {item}",
            )


def shell(config: dict[str, Any], path: JsonPath, report: Report) -> None:
    _inline_or_script(config, path, report)
    _environment_vars(config, path, report)


def powershell(config: dict[str, Any], path: JsonPath, report: Report) -> None:
    shell(config, path, report)
    if _set(config, "elevated_user") and not _set(config, "elevated_password"):
        report(
            (*path, "elevated_user"),
            "Must supply an 'elevated_password' if 'elevated_user' provided",
        )


def shell_local(config: dict[str, Any], path: JsonPath, report: Report) -> None:
    count = _script_sources(config, path, report)
    if count == 0 and not _set(config, "command"):
        report(path, "Command, Inline, Script and Scripts options cannot all be empty.")
    elif count > 1 or (count and _set(config, "command")):
        report(path, "Only one of command, inline, script or scripts can be specified.")
    _environment_vars(config, path, report)


def file(config: dict[str, Any], path: JsonPath, report: Report) -> None:
    direction = str(config.get("direction") or "upload")
    if direction not in ("upload", "download"):
        report((*path, "direction"), "Direction must be one of: download, upload.")
    sources = [str(config["source"])] if _set(config, "source") else []
    sources += [str(s) for s in config.get("sources") or []]
    if not sources:
        report(path, "Source must be specified.")
    if not _set(config, "destination"):
        report(path, "Destination must be specified.")
    if direction == "upload" and not as_bool(config.get("generated", False)):
        for source in sources:
            if not glob.glob(source) and not Path(source).exists():
                report(
                    (*path, "source"),
                    f"Bad source '{source}': stat {source}: no such file or directory",
                )


CHECKSUM_TYPES = ("md5", "sha1", "sha224", "sha256", "sha384", "sha512")


def checksum(config: dict[str, Any], path: JsonPath, report: Report) -> None:
    for index, kind in enumerate(config.get("checksum_types") or []):
        if str(kind) not in CHECKSUM_TYPES:
            report((*path, "checksum_types", index), f"Unrecognized checksum type: {kind}")


def azure_arm(config: dict[str, Any], path: JsonPath, report: Report) -> None:
    os_type = config.get("os_type")
    if not _set(config, "os_type"):
        report(path, "An os_type must be specified")
    elif os_type not in ("Linux", "Windows"):
        report((*path, "os_type"), f'The os_type "{os_type}" is invalid')
    marketplace = [
        key for key in ("image_publisher", "image_offer", "image_sku") if _set(config, key)
    ]
    other_sources = [
        key
        for key in ("image_url", "custom_managed_image_name", "shared_image_gallery")
        if _set(config, key)
    ]
    if marketplace or not other_sources:
        for key in ("image_publisher", "image_offer", "image_sku"):
            if key not in marketplace:
                article = "An" if key[0] in "aeiou" else "A"
                report(path, f"{article} {key} must be specified")
    if _set(config, "managed_image_name"):
        name = str(config["managed_image_name"])
        if not _MANAGED_IMAGE_NAME.match(name) or name.endswith(("-", ".")):
            report(
                (*path, "managed_image_name"),
                "The setting managed_image_name must match the regular expression "
                "\"^[^_\\\\W][\\\\w-._)]{0,79}$\", and not end with a '-' or '.'.",
            )
        if not _set(config, "managed_image_resource_group_name"):
            report(path, "A managed_image_resource_group_name must be specified")
    elif not _set(config, "capture_container_name"):
        report(path, "A capture_container_name or managed_image_name must be specified")
    group = config.get("managed_image_resource_group_name")
    if _set(config, "managed_image_resource_group_name") and not _RESOURCE_GROUP_NAME.match(
        str(group)
    ):
        report(
            (*path, "managed_image_resource_group_name"),
            f"The setting managed_image_resource_group_name '{group}' is not a valid "
            "resource group name",
        )
    if _set(config, "location") == _set(config, "build_resource_group_name"):
        report(
            path,
            "Specify either a location to create the resource group in or an existing "
            "build_resource_group_name, but not both.",
        )


QEMU_ACCELERATORS = ("none", "kvm", "tcg", "hax", "hvf", "whpx", "xen")
QEMU_DISK_INTERFACES = ("ide", "sata", "scsi", "virtio", "virtio-scsi")


def qemu(config: dict[str, Any], path: JsonPath, report: Report) -> None:
    if not (_set(config, "iso_url") or _set(config, "iso_urls")):
        report(path, "One of iso_url or iso_urls must be specified")
    elif not _set(config, "iso_checksum"):
        report(path, "A checksum must be specified")
    communicator = str(config.get("communicator") or "ssh")
    if communicator == "ssh" and not _set(config, "ssh_username"):
        report(
            path,
            "An ssh_username must be specified\n  Note: some builders used to default "
            'ssh_username to "root".',
        )
    fmt = str(config.get("format") or "qcow2")
    if fmt not in ("qcow2", "raw"):
        report((*path, "format"), "invalid format, only 'qcow2' or 'raw' are allowed")
    accelerator = str(config.get("accelerator") or "kvm")
    if accelerator not in QEMU_ACCELERATORS:
        report(
            (*path, "accelerator"),
            "invalid accelerator, only 'kvm', 'tcg', 'xen', 'hax', "
            "'hvf', 'whpx', or 'none' are allowed",
        )
    interface = str(config.get("disk_interface") or "virtio")
    if interface not in QEMU_DISK_INTERFACES:
        report((*path, "disk_interface"), "unrecognized disk interface type")
    if as_bool(config.get("use_backing_file", False)) and (
        fmt != "qcow2" or not as_bool(config.get("disk_image", False))
    ):
        report(
            (*path, "use_backing_file"),
            "use_backing_file can only be enabled for QCOW2 images and when disk_image is true",
        )


BUILDER_RULES: dict[str, Rule] = {"azure-arm": azure_arm, "qemu": qemu}
PROVISIONER_RULES: dict[str, Rule] = {
    "shell": shell,
    "powershell": powershell,
    "windows-shell": _inline_or_script,
    "shell-local": shell_local,
    "file": file,
}
POST_PROCESSOR_RULES: dict[str, Rule] = {"checksum": checksum, "shell-local": shell_local}
