"""Throwaway SSH key pairs, as Packer makes for ``ssh_private_key_file``-less builds.

Ed25519 because generating it is instant; paramiko and every OpenSSH since 6.5 accept it.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey


@dataclass(frozen=True)
class KeyPair:
    private_key_file: Path
    public_key: str  # one OpenSSH authorized_keys line


def generate_key_pair(
    directory: Path, name: str = "id_ed25519", comment: str = "pytest-imagebuild"
) -> KeyPair:
    """Write ``name`` (mode 0600 from the start, never readable by others) and ``name.pub``."""
    key = Ed25519PrivateKey.generate()
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.OpenSSH,
        serialization.NoEncryption(),
    )
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
        .decode()
    )
    line = f"{public} {comment}"
    path = Path(directory) / name
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(private)
    path.with_name(f"{name}.pub").write_text(line + "\n")
    return KeyPair(path, line)


@contextmanager
def temporary_key_pair(comment: str = "pytest-imagebuild") -> Iterator[KeyPair]:
    """A key pair in a private temporary directory, deleted on exit."""
    directory = Path(tempfile.mkdtemp(prefix="pytest-imagebuild-key-"))
    try:
        yield generate_key_pair(directory, comment=comment)
    finally:
        shutil.rmtree(directory, ignore_errors=True)
