"""The communicator settings every builder checks (Packer's communicator.Config.Prepare).

Builders differ in what they fill in themselves: azure-arm creates the SSH/WinRM user
and reads the key file its own way, the null builder needs a host to connect to.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..bounded_read import InputFileError, read_bounded
from .hints import did_you_mean
from .jsonsource import JsonPath
from .types import as_bool, is_set

Report = Callable[[JsonPath, str], None]

COMMUNICATOR_TYPES = ("ssh", "winrm", "none", "docker", "dockerWindowsContainer")
FILE_TRANSFER_METHODS = ("scp", "sftp")


def key_file_problem(name: str) -> str | None:
    """Why ssh_private_key_file cannot be used, in the communicator's words, or None."""
    reason = _key_file_error(name)
    return f"ssh_private_key_file is invalid: {reason}" if reason else None


@dataclass(frozen=True)
class CommunicatorNeeds:
    """What a builder leaves to the user rather than filling in itself."""

    username: bool = True
    # azure-arm reads ssh_private_key_file itself, with its own wording.
    key_file: Callable[[str], str | None] = key_file_problem


def communicator_type(config: dict[str, Any]) -> str:
    return str(config.get("communicator") or "ssh")


def _stat_error(name: str) -> str | None:
    """Go's os.Stat error text for a missing file, or None when it exists."""
    path = os.path.expanduser(name)
    if os.path.exists(path):
        return None
    return f"stat {path}: no such file or directory"


def _key_file_error(name: str) -> str | None:
    """Why an SSH private key file cannot be used (missing, a directory, not a key)."""
    path = os.path.expanduser(name)
    missing = _stat_error(name)
    if missing:
        return missing
    if Path(path).is_dir():
        return f"Error setting up SSH config: read {path}: is a directory"
    try:
        text = read_bounded(path).decode("utf-8", errors="replace")
    except InputFileError as error:
        return f"Error setting up SSH config: {error.reason}"
    if "-----BEGIN " not in text:
        return f"Error setting up SSH config: Failed to read key '{name}': no key found"
    return None


def check_communicator(
    config: dict[str, Any], path: JsonPath, report: Report, needs: CommunicatorNeeds
) -> None:
    kind = communicator_type(config)
    if kind not in COMMUNICATOR_TYPES:
        report(
            (*path, "communicator"),
            f"Communicator type {kind} is invalid" + did_you_mean(kind, COMMUNICATOR_TYPES),
        )
    elif kind == "ssh":
        _check_ssh(config, path, report, needs)
    elif kind == "winrm" and needs.username and not is_set(config, "winrm_username"):
        report(path, "winrm_username must be specified.")


def _check_ssh(
    config: dict[str, Any], path: JsonPath, report: Report, needs: CommunicatorNeeds
) -> None:
    if needs.username and not is_set(config, "ssh_username"):
        report(
            path,
            "An ssh_username must be specified (Note: some builders used to default "
            'ssh_username to "root".)',
        )
    if is_set(config, "ssh_private_key_file"):
        problem = needs.key_file(str(config["ssh_private_key_file"]))
        if problem:
            report((*path, "ssh_private_key_file"), problem)
        elif is_set(config, "ssh_certificate_file"):
            certificate = os.path.expanduser(str(config["ssh_certificate_file"]))
            if not os.path.isfile(certificate):
                report(
                    (*path, "ssh_certificate_file"),
                    "ssh_private_key_file is invalid: unable to read certificate file: "
                    f"open {certificate}: no such file or directory",
                )
    bastion_auth = as_bool(config.get("ssh_bastion_agent_auth", False)) or any(
        is_set(config, key) for key in ("ssh_bastion_password", "ssh_bastion_private_key_file")
    )
    if is_set(config, "ssh_bastion_host") and not bastion_auth:
        report(path, "ssh_bastion_password or ssh_bastion_private_key_file must be specified")
    if is_set(config, "ssh_bastion_host") and is_set(config, "ssh_proxy_host"):
        report(path, "please specify either ssh_bastion_host or ssh_proxy_host, not both")
    method = str(config.get("ssh_file_transfer_method") or "scp")
    if method not in FILE_TRANSFER_METHODS:
        report(
            (*path, "ssh_file_transfer_method"),
            f"ssh_file_transfer_method ('{method}') is invalid, valid methods: sftp, scp",
        )


def null_builder(config: dict[str, Any], path: JsonPath, report: Report, build_name: str) -> None:
    """The null builder only connects: it needs somewhere to connect to and a way to log in."""
    check_communicator(config, path, report, CommunicatorNeeds())
    kind = communicator_type(config)
    if kind == "none" or kind not in COMMUNICATOR_TYPES:
        return
    prefix = "winrm" if kind == "winrm" else "ssh"
    if not is_set(config, f"{prefix}_host"):
        report(
            path,
            f"a Host must be specified ({prefix}_host), please reference your communicator "
            "documentation",
        )
    if kind == "docker" or kind == "dockerWindowsContainer":
        return
    methods = [key for key in ("ssh_password", "ssh_private_key_file") if is_set(config, key)]
    if as_bool(config.get("ssh_agent_auth", False)):
        methods.append("ssh_agent_auth")
    if kind == "winrm":
        methods = ["winrm_password"] if is_set(config, "winrm_password") else []
    if not methods:
        choices = (
            "winrm_password"
            if kind == "winrm"
            else "ssh_password, ssh_private_key_file or ssh_agent_auth"
        )
        report(
            path,
            "one authentication method must be specified, please reference your communicator "
            f"documentation ({choices})",
        )
    elif len(methods) > 1:
        report(
            path,
            "only one of ssh_agent_auth, ssh_password, and ssh_private_key_file must be specified",
        )
