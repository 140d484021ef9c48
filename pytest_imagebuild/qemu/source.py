"""The source disk or ISO (``iso_url``) and its ``iso_checksum``, as Packer reads them.

Only local files are supported (a path or a ``file://`` URL): the test machines reach no
download mirror for images, and a cached local base image is the fast path anyway.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from urllib.parse import unquote, urlparse

from ..digests import file_digest
from ..errors import BuildError

BY_LENGTH = {32: "md5", 40: "sha1", 64: "sha256", 128: "sha512"}
_BSD_LINE = re.compile(r"^(\w+) \((.+)\) = ([0-9a-fA-F]+)$")


def local_file(url: str, what: str = "iso_url") -> Path:
    """A local path from ``url``; anything else is an error naming the fix."""
    parsed = urlparse(url)
    if parsed.scheme in ("", "file") or len(parsed.scheme) == 1:  # C:\\ style stays a path
        path = Path(unquote(parsed.path) if parsed.scheme == "file" else url).expanduser()
        if not path.is_file():
            raise BuildError(f"{what} {url!r}: no such file ({path.absolute()}).")
        return path.absolute()
    raise BuildError(
        f"{what} {url!r}: only local files (a path or a file:// URL) are supported by "
        "pytest-imagebuild's qemu builder; download the image first and point iso_url at it."
    )



def expected_checksum(checksum: str, image: Path) -> tuple[str, str] | None:
    """(type, hex) from Packer's ``iso_checksum`` forms, or None for ``none``."""
    checksum = checksum.strip()
    if checksum.lower() == "none":
        return None
    kind, sep, value = checksum.partition(":")
    if not sep:
        kind, value = BY_LENGTH.get(len(checksum), ""), checksum
        if not kind:
            raise BuildError(f"iso_checksum {checksum!r}: cannot tell its type from its length.")
    kind = kind.lower()
    if kind == "file":
        return _from_checksum_file(value, image)
    if kind not in hashlib.algorithms_available:
        raise BuildError(f"iso_checksum {checksum!r}: unknown checksum type {kind!r}.")
    if not re.fullmatch(r"[0-9a-fA-F]+", value):
        raise BuildError(f"iso_checksum {checksum!r}: the checksum is not hexadecimal.")
    return kind, value.lower()


def _from_checksum_file(url: str, image: Path) -> tuple[str, str]:
    listing = local_file(url, "iso_checksum file")
    for line in listing.read_text(errors="replace").splitlines():
        bsd = _BSD_LINE.match(line.strip())
        if bsd and Path(bsd.group(2)).name == image.name:
            return bsd.group(1).lower(), bsd.group(3).lower()
        parts = line.split()
        if len(parts) >= 2 and Path(parts[-1].lstrip("*")).name == image.name:
            kind = BY_LENGTH.get(len(parts[0]))
            if kind:
                return kind, parts[0].lower()
    raise BuildError(f"iso_checksum file {url!r} has no entry for {image.name}.")


def verify(image: Path, checksum: str) -> str | None:
    """Check the image against ``iso_checksum``; the "type:hex" verified, or None if unchecked."""
    expected = expected_checksum(checksum, image)
    if expected is None:
        return None
    kind, value = expected
    actual = file_digest(image, kind)
    if actual != value:
        raise BuildError(
            f"Checksum of {image} does not match iso_checksum: expected {kind} {value}, "
            f"got {actual}."
        )
    return f"{kind}:{actual}"
