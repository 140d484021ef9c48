"""The build's hard drive: an overlay on, or a copy of, the source image; resized; compacted.

Every call goes through qemu-img; ``-F`` is always given with ``-b`` because qemu-img 6.1 and
later refuse a backing file without a format (what breaks ``use_backing_file`` in Packer 1.6.6).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from .. import process
from ..errors import BuildError

QEMU_IMG_TIMEOUT = 1800


def _qemu_img() -> str:
    return process.which("qemu-img", "qemu-utils")


def info(path: Path) -> dict:
    """``qemu-img info`` as JSON (format, virtual-size, backing file)."""
    result = process.run([_qemu_img(), "info", "--output=json", path], timeout=60)
    try:
        return json.loads(result.stdout)
    except ValueError:
        raise BuildError(f"qemu-img info {path} printed no JSON: {result.stdout[:200]}") from None


def overlay(backing: Path, target: Path, extra: list[str] | None = None) -> None:
    """A qcow2 file whose unwritten blocks read from ``backing`` (absolute path, as Packer)."""
    backing = backing.absolute()
    extra = list(extra or [])
    if "-F" not in extra:
        extra += ["-F", info(backing)["format"]]
    process.run(
        [_qemu_img(), "create", "-q", "-f", "qcow2", *extra, "-b", backing, target], timeout=60
    )


def copy(source: Path, target: Path, disk_format: str, extra: list[str] | None = None) -> None:
    """A standalone copy of the source image in ``disk_format``."""
    command = [_qemu_img(), "convert", "-O", disk_format, *(extra or []), source, target]
    process.run(command, timeout=QEMU_IMG_TIMEOUT)


def grow(path: Path, disk_format: str, size_mb: int, extra: list[str] | None = None) -> bool:
    """Resize to ``size_mb`` when that is larger; shrinking would destroy data, so never."""
    current = int(info(path).get("virtual-size", 0))
    if size_mb * 2**20 <= current:
        return False
    command = [_qemu_img(), "resize", "-q", "-f", disk_format, *(extra or [])]
    process.run([*command, path, f"{size_mb}M"], timeout=120)
    return True


def compact(path: Path, disk_format: str, compress: bool, extra: list[str] | None = None) -> None:
    """Rewrite the disk without its unused blocks (Packer's "Converting hard drive...")."""
    partial = path.with_name(f".{path.name}.converting")
    command = [_qemu_img(), "convert", "-O", disk_format, *(["-c"] if compress else [])]
    try:
        process.run([*command, *(extra or []), path, partial], timeout=QEMU_IMG_TIMEOUT)
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
