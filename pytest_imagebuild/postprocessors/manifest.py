"""The manifest post-processor: Packer's JSON record of builds, appended to across runs."""

from __future__ import annotations

import hashlib
import json
import tempfile
from pathlib import Path
from typing import Any

from filelock import FileLock

from ..multistep import Artifact
from ..template.types import as_bool
from .base import PostContext

DEFAULT_OUTPUT = "packer-manifest.json"


def build_entry(ctx: PostContext, config: dict[str, Any], artifact: Artifact) -> dict[str, Any]:
    strip_path = as_bool(config.get("strip_path", False))
    entry: dict[str, Any] = {"name": ctx.plan.name, "builder_type": ctx.plan.type}
    if not as_bool(config.get("strip_time", False)):
        entry["build_time"] = int(ctx.plan.template.run.wallclock())
    files = [
        {"name": path.name if strip_path else _display(ctx, path), "size": path.stat().st_size}
        for path in artifact.files
    ]
    entry["files"] = files or None
    entry["artifact_id"] = artifact.id
    entry["packer_run_uuid"] = ctx.plan.template.run.run_uuid
    entry["custom_data"] = config.get("custom_data") or None
    return entry


def _display(ctx: PostContext, path: Path) -> str:
    """As Packer writes it: relative to where the build ran ("output-x/x.qcow2")."""
    try:
        return str(Path(path).relative_to(ctx.output_base))
    except ValueError:
        return str(path)


def post_process(ctx: PostContext, config: dict[str, Any], artifact: Artifact) -> Artifact:
    output = ctx.output_path(str(config.get("output") or DEFAULT_OUTPUT))
    output.parent.mkdir(parents=True, exist_ok=True)
    entry = build_entry(ctx, config, artifact)
    with FileLock(_lock_path(output)):
        manifest = _read(output)
        manifest["builds"].append(entry)
        manifest["last_run_uuid"] = entry["packer_run_uuid"]
        output.write_text(json.dumps(manifest, indent=2) + "\n")
    ctx.ui.message(f"Manifest written to {output}")
    return Artifact(
        builder_type="packer.post-processor.manifest",
        build_name=ctx.plan.name,
        id=artifact.id,
        files=[output],
        data={"manifest": manifest},
    )


def _lock_path(output: Path) -> str:
    """A lock in the temp directory, not beside the manifest: Packer leaves no file there."""
    key = hashlib.sha256(str(output.resolve()).encode()).hexdigest()[:16]
    return str(Path(tempfile.gettempdir()) / f"pytest-imagebuild-manifest-{key}.lock")


def _read(output: Path) -> dict[str, Any]:
    if not output.exists():
        return {"builds": [], "last_run_uuid": ""}
    try:
        data = json.loads(output.read_text())
    except ValueError:
        return {"builds": [], "last_run_uuid": ""}
    if not isinstance(data, dict) or not isinstance(data.get("builds"), list):
        return {"builds": [], "last_run_uuid": ""}
    return data
