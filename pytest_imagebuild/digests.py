"""A file's digest, read in blocks: checksums, base-image verification and build keys."""

from __future__ import annotations

import hashlib
import os


def file_digest(path: str | os.PathLike[str], kind: str = "sha256") -> str:
    """The hex digest of a file's bytes with the hashlib algorithm ``kind``."""
    digest = hashlib.new(kind)
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
