"""The manifest post-processor: Packer's JSON record of builds, appended to across runs."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from filelock import FileLock

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None  # type: ignore[assignment]

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
    with _locked(output) as file:
        manifest = _parse(file.read())
        manifest["builds"].append(entry)
        manifest["last_run_uuid"] = entry["packer_run_uuid"]
        file.seek(0)
        file.truncate()
        file.write(json.dumps(manifest, indent=2) + "\n")
    ctx.ui.message(f"Manifest written to {output}")
    return Artifact(
        builder_type="packer.post-processor.manifest",
        build_name=ctx.plan.name,
        id=artifact.id,
        files=[output],
        data={"manifest": manifest},
    )


@contextmanager
def _locked(output: Path) -> Iterator[IO[str]]:
    """The manifest, opened for update and locked against other xdist workers. The lock is
    on the manifest itself, so no lock file is left anywhere (Packer leaves none either)."""
    with open(output, "a+", encoding="utf-8") as file:
        if fcntl is not None:
            fcntl.flock(file, fcntl.LOCK_EX)
            file.seek(0)
            yield file
            file.flush()
            return
        # No flock (Windows): a lock file beside the manifest, removed afterwards.
        lock = output.with_name(f".{output.name}.lock")
        with FileLock(str(lock)):
            file.seek(0)
            yield file
            file.flush()
        lock.unlink(missing_ok=True)


def _parse(text: str) -> dict[str, Any]:
    if not text.strip():
        return {"builds": [], "last_run_uuid": ""}
    try:
        data = json.loads(text)
    except ValueError:
        return {"builds": [], "last_run_uuid": ""}
    if not isinstance(data, dict) or not isinstance(data.get("builds"), list):
        return {"builds": [], "last_run_uuid": ""}
    return data
