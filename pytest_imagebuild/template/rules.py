"""Checks beyond key names and types: required fields and the combinations Packer rejects.

Messages follow Packer 1.6.6's wording so that users searching for them find Packer's docs.
"""

from __future__ import annotations

import glob
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .hints import did_you_mean
from .jsonsource import JsonPath
from .types import as_bool, is_set, string_list

Report = Callable[[JsonPath, str], None]
Rule = Callable[[dict[str, Any], JsonPath, Report], None]
# Builder rules also get the build's name (qemu's default output_directory depends on it).
BuilderRule = Callable[[dict[str, Any], JsonPath, Report, str], None]

_ENV_VAR = re.compile(r"^[^=]+=", re.DOTALL)


def _script_sources(config: dict[str, Any], path: JsonPath, report: Report) -> int:
    """Check script/scripts exist; return how many script sources (inline counts once) are set."""
    scripts = []
    if is_set(config, "script"):
        scripts.append(("script", str(config["script"])))
    for index, script in enumerate(string_list(config.get("scripts"))):
        scripts.append((("scripts", index), script))
    for key, script in scripts:
        if not Path(script).exists():
            location = (*path, *key) if isinstance(key, tuple) else (*path, key)
            report(location, f"Bad script '{script}': stat {script}: no such file or directory")
    return sum(1 for key in ("script", "scripts", "inline") if is_set(config, key))


def _inline_or_script(config: dict[str, Any], path: JsonPath, report: Report) -> None:
    count = _script_sources(config, path, report)
    if count == 0:
        report(path, "Either a script file or inline script must be specified.")
    elif is_set(config, "inline") and count > 1:
        report(path, "Only a script file or an inline script can be specified, not both.")


def _environment_vars(config: dict[str, Any], path: JsonPath, report: Report) -> None:
    for index, item in enumerate(string_list(config.get("environment_vars"))):
        if not _ENV_VAR.match(str(item)):
            report(
                (*path, "environment_vars", index),
                f"Environment variable not in format 'key=value': {item}",
            )


def shell(config: dict[str, Any], path: JsonPath, report: Report) -> None:
    _inline_or_script(config, path, report)
    _environment_vars(config, path, report)


EXECUTION_POLICIES = (
    "bypass",
    "allsigned",
    "default",
    "remotesigned",
    "restricted",
    "undefined",
    "unrestricted",
    "none",
)


def powershell(config: dict[str, Any], path: JsonPath, report: Report) -> None:
    """An elevated_user may go without password: SYSTEM and service accounts have none."""
    shell(config, path, report)
    if is_set(config, "elevated_password") and not is_set(config, "elevated_user"):
        report(
            (*path, "elevated_password"),
            "Must supply an 'elevated_user' if 'elevated_password' provided",
        )
    policy = str(config.get("execution_policy") or "bypass")
    if policy not in EXECUTION_POLICIES:
        report(
            (*path, "execution_policy"),
            f"error decoding 'execution_policy': {policy} does not belong to ExecutionPolicy "
            f"values (use one of: {', '.join(EXECUTION_POLICIES)})"
            + did_you_mean(policy, EXECUTION_POLICIES),
        )


OS_NAMES = ("darwin", "freebsd", "linux", "openbsd", "solaris", "windows")


def shell_local(config: dict[str, Any], path: JsonPath, report: Report) -> None:
    count = _script_sources(config, path, report)
    if count == 0 and not is_set(config, "command"):
        report(path, "Command, Inline, Script and Scripts options cannot all be empty.")
    elif count > 1 or (count and is_set(config, "command")):
        report(path, "Only one of command, inline, script or scripts can be specified.")
    _environment_vars(config, path, report)
    for index, name in enumerate(string_list(config.get("only_on"))):
        if name not in OS_NAMES:
            report(
                (*path, "only_on", index),
                f"Invalid OS specified in only_on: '{name}' Supported OS names: "
                f"{', '.join(OS_NAMES)}" + did_you_mean(name, OS_NAMES),
            )


def file(config: dict[str, Any], path: JsonPath, report: Report) -> None:
    direction = str(config.get("direction") or "upload")
    if direction not in ("upload", "download"):
        report((*path, "direction"), "Direction must be one of: download, upload.")
    sources = [str(config["source"])] if is_set(config, "source") else []
    sources += string_list(config.get("sources"))
    if not sources:
        report(path, "Source must be specified.")
    if not is_set(config, "destination"):
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
    for index, kind in enumerate(string_list(config.get("checksum_types"))):
        if kind not in CHECKSUM_TYPES:
            report((*path, "checksum_types", index), f"Unrecognized checksum type: {kind}")


PROVISIONER_RULES: dict[str, Rule] = {
    "shell": shell,
    "powershell": powershell,
    "windows-shell": _inline_or_script,
    "shell-local": shell_local,
    "file": file,
}
POST_PROCESSOR_RULES: dict[str, Rule] = {"checksum": checksum, "shell-local": shell_local}
