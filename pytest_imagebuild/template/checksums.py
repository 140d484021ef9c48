"""qemu's iso_checksum, checked the way Packer 1.6.6 checks it when validating.

Packer decodes the checksum value (hex) and, for "file:<path>", reads the checksum file
and looks for the ISO's entry, all at validate time. We do the same for local files;
a checksum file behind a URL is not fetched (validation stays offline).
"""

from __future__ import annotations

import os
import re
from urllib.parse import urlparse

from ..bounded_read import InputFileError, read_bounded

HASH_LENGTHS = {32: "md5", 40: "sha1", 64: "sha256", 128: "sha512"}
HASH_TYPES = frozenset(HASH_LENGTHS.values())
_HEX = frozenset("0123456789abcdefABCDEF")
_BSD_NAME = re.compile(r"^\((.+)\)$")


def hex_error(value: str) -> str | None:
    """Go's encoding/hex error for value, or None when it decodes."""
    for char in value[: len(value) - len(value) % 2]:
        if char not in _HEX:
            return f"encoding/hex: invalid byte: U+{ord(char):04X} {char!r}"
    if len(value) % 2:
        if value[-1] not in _HEX:
            return f"encoding/hex: invalid byte: U+{ord(value[-1]):04X} {value[-1]!r}"
        return "encoding/hex: odd length hex string"
    return None


def _typed_error(kind: str, value: str) -> str | None:
    if kind.lower() not in HASH_TYPES:
        return f"unsupported checksum type: {kind}"
    error = hex_error(value)
    return f"invalid checksum: {error}" if error else None


def _untyped_error(value: str) -> str | None:
    error = hex_error(value)
    if error:
        return f"invalid checksum: {error}"
    if len(value) not in HASH_LENGTHS:
        return f"Unknown type for checksum {value}"
    return None


def iso_checksum_error(checksum: str, iso_url: str) -> str | None:
    """Why Packer would refuse this iso_checksum for this ISO, or None."""
    if checksum == "none":
        return None
    kind, sep, value = checksum.partition(":")
    if not sep:
        error = _untyped_error(checksum)
    elif kind == "file":
        error = _checksum_file_error(value, iso_url)
    else:
        error = _typed_error(kind, value)
    return f'{error} in "{checksum}"' if error else None


def _checksum_file_error(location: str, iso_url: str) -> str | None:
    if location.startswith("//") or urlparse(location).scheme not in ("", "file"):
        return None  # a remote checksum file: not fetched while validating
    path = os.path.join(os.getcwd(), location)
    if not os.path.exists(path):
        return (
            "Error downloading checksum file: source path error: "
            f"stat {path}: no such file or directory"
        )
    if os.path.isdir(path):
        return "Error downloading checksum file: source path must be a file"
    try:
        lines = read_bounded(path).decode("utf-8", errors="replace").splitlines()
    except InputFileError as error:
        return f"Error reading checksum file: {error.reason}"
    names = _names_for(iso_url, os.path.dirname(path))
    for line in lines:
        entry = _parse_line(line)
        if entry is not None and (entry == "" or entry in names):
            return None
    return f"no checksum found in: {location}"


def _names_for(iso_url: str, checksum_dir: str) -> set[str]:
    """How a checksum file may name the ISO (GNU, shasum -p, relative or absolute path)."""
    iso_path = urlparse(iso_url).path if "://" in iso_url else iso_url
    filename = os.path.basename(iso_path)
    names = {filename, f"*{filename}", f"?{filename}"}
    if not urlparse(iso_url).scheme or iso_url.startswith("file:"):
        absolute = os.path.abspath(iso_path)
        relative = os.path.relpath(absolute, os.path.abspath(checksum_dir))
        names |= {absolute, relative, f"./{relative}"}
    return names


def _parse_line(line: str) -> str | None:
    """The file name a checksum line is for ("" for any file), or None if it has no checksum."""
    parts = line.split()
    if len(parts) == 4:  # BSD style: SHA256 (name) = value
        name = _BSD_NAME.match(parts[1])
        if not name or _typed_error(parts[0], parts[3]):
            return None
        return name.group(1)
    if len(parts) == 2:  # GNU style: value  name
        return None if _untyped_error(parts[0]) else parts[1]
    if not parts:
        return None
    return None if _untyped_error(parts[0]) else ""
