"""The file provisioner: upload to, or download from, the guest; files and directory trees.

Packer's path rules: a destination ending in "/" is a directory the file goes into; a source
directory without a trailing slash is copied as itself, with one only its contents are.
"""

from __future__ import annotations

import posixpath
import shlex
from pathlib import Path
from typing import Any

from ..errors import BuildError
from .base import ProvisionContext, local_path


def _sources(config: dict[str, Any]) -> list[str]:
    sources = config.get("sources") or []
    sources = [str(s) for s in (sources if isinstance(sources, list) else [sources])]
    if config.get("source"):
        sources.insert(0, str(config["source"]))
    if not sources:
        raise BuildError("Source must be specified.")
    return sources


def remote_target(source: Path, original: str, destination: str, many: bool) -> str:
    """Where a local source lands on the guest."""
    if source.is_dir():
        return destination if original.endswith("/") else posixpath.join(destination, source.name)
    if destination.endswith("/") or many:
        return posixpath.join(destination, source.name)
    return destination


def upload(ctx: ProvisionContext, sources: list[str], destination: str) -> None:
    comm = ctx.require_communicator("file")
    for original in sources:
        source = local_path(ctx, original)
        if not source.exists():
            raise BuildError(f"Bad source '{original}': no such file or directory")
        target = remote_target(source, original, destination, len(sources) > 1)
        ctx.ui.message(f"Uploading {original} => {target}")
        parent = posixpath.dirname(target.rstrip("/"))
        if parent:
            comm.run(f"mkdir -p {shlex.quote(parent)}", timeout=60)
        comm.upload(source, target)


def download(ctx: ProvisionContext, sources: list[str], destination: str) -> None:
    comm = ctx.require_communicator("file")
    for original in sources:
        local = local_path(ctx, destination)
        if destination.endswith("/") or len(sources) > 1:
            local = local / posixpath.basename(original.rstrip("/"))
        ctx.ui.message(f"Downloading {original} => {local}")
        comm.download(original, local)


def provision(ctx: ProvisionContext, config: dict[str, Any]) -> None:
    destination = str(config.get("destination") or "")
    if not destination:
        raise BuildError("Destination must be specified.")
    direction = str(config.get("direction") or "upload")
    if direction not in ("upload", "download"):
        raise BuildError(f"direction {direction!r} must be 'upload' or 'download'.")
    sources = _sources(config)
    if direction == "download":
        download(ctx, sources, destination)
    else:
        upload(ctx, sources, destination)
