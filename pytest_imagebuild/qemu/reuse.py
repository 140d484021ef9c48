"""Reusing qemu images and kept VMs: built images live in the image cache by build key.

A fresh build's disk is copied into the cache as a standalone file (``qemu-img convert``
flattens an overlay, so the cached image never depends on a base image that may change or
be evicted); a reused image is that file, which launchers only ever boot through an overlay.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

from ..cleanup import pids
from ..multistep import Artifact
from ..reuse.cache import ImageCache
from ..reuse.registry import KeptThing
from ..template.model import BuildPlan
from ..ui import BuildUI
from . import disk


class QemuReuse:
    def __init__(self, cache: ImageCache) -> None:
        self.cache = cache

    def find(self, plan: BuildPlan, key: str, lookup: Any = None) -> tuple[Artifact, float] | None:
        entry = self.cache.lookup(key)
        if entry is None:
            return None
        data = dict(entry.meta.get("data", {}))
        image = entry.folder / str(entry.meta.get("file", ""))
        if not image.is_file():
            return None
        data.update(path=str(image), backing_file="", output_directory=str(entry.folder))
        artifact = Artifact(
            builder_type=str(entry.meta.get("builder_type")),
            build_name=plan.name,
            id="VM",
            files=[image],
            data=data,
        )
        return artifact, entry.built

    def keep(self, plan: BuildPlan, artifact: Artifact, key: str, ui: BuildUI) -> Artifact:
        source = Path(artifact.data["path"])
        staging = self.cache.staging(key)
        target = staging / source.name
        if artifact.data.get("backing_file"):
            disk.copy(source, target, str(artifact.data.get("format") or "qcow2"))
        else:
            try:
                os.link(source, target)
            except OSError:
                shutil.copy2(source, target)
        meta = {
            "name": source.name,
            "file": source.name,
            "build": plan.name,
            "template": str(plan.template.path),
            "builder_type": artifact.builder_type,
            "data": {k: v for k, v in artifact.data.items() if isinstance(v, str | int | float)},
        }
        entry = self.cache.commit(key, staging, meta)
        ui.say(f"image kept in the image cache: {entry.folder / source.name}")
        image = entry.folder / source.name
        kept = Artifact(
            builder_type=artifact.builder_type,
            build_name=artifact.build_name,
            id=artifact.id,
            files=[image],
            data={**artifact.data, "path": str(image), "backing_file": ""},
            stage_times=artifact.stage_times,
            outputs=artifact.outputs,
        )
        return kept

    def vm_alive(self, thing: KeptThing) -> bool:
        pid = int(thing.data.get("pid", 0) or 0)
        return bool(pid) and pids.alive(pid, thing.data.get("started")) and pids.is_qemu(pid)

    def destroy_vm(self, thing: KeptThing, settings: dict[str, str]) -> None:
        pid = int(thing.data.get("pid", 0) or 0)
        if pid and pids.alive(pid, thing.data.get("started")) and pids.is_qemu(pid):
            pids.kill(pid)
        folder = thing.data.get("folder")
        if folder:
            shutil.rmtree(folder, ignore_errors=True)
