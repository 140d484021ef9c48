"""What was kept on purpose (VMs by --image-keep), so it is listed, reused and destroyed by
name, and the janitor does not take it for a leak.

``kept.json`` in the state directory, written under a file lock; a password is never in
it, only the path of a 0600 file holding it.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from filelock import FileLock

from ..cleanup.journal import state_dir

REGISTRY = "kept.json"


@dataclass
class KeptThing:
    name: str
    kind: str  # "vm"
    key: str
    builder_type: str
    template: str = ""
    build: str = ""
    created: float = field(default_factory=time.time)
    where: str = "local"
    reach: list[str] = field(default_factory=list)  # how to log in, one command a line
    data: dict[str, Any] = field(default_factory=dict)  # the provider's: pid, folder, group...


class Registry:
    def __init__(self, root: Path | None = None) -> None:
        self.root = root or state_dir()

    @property
    def file(self) -> Path:
        return self.root / REGISTRY

    def folder_for(self, name: str) -> Path:
        """Where a kept VM's files live (its key, overlay, password file): outside base temps."""
        folder = self.root / "kept" / name
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        return folder

    def _lock(self) -> FileLock:
        self.root.mkdir(parents=True, exist_ok=True)
        return FileLock(str(self.root / f"{REGISTRY}.lock"))

    def _read(self) -> dict[str, dict[str, Any]]:
        try:
            data = json.loads(self.file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def _write(self, data: dict[str, dict[str, Any]]) -> None:
        temporary = self.file.with_suffix(".tmp")
        temporary.write_text(json.dumps(data, indent=1, sort_keys=True), encoding="utf-8")
        temporary.replace(self.file)

    def add(self, thing: KeptThing) -> None:
        with self._lock():
            data = self._read()
            data[thing.name] = asdict(thing)
            self._write(data)

    def remove(self, name: str) -> None:
        with self._lock():
            data = self._read()
            data.pop(name, None)
            self._write(data)

    def things(self) -> list[KeptThing]:
        with self._lock():
            data = self._read()
        return [KeptThing(**entry) for entry in data.values()]

    def get(self, name: str) -> KeptThing | None:
        return next((t for t in self.things() if t.name == name), None)

    def kept_vm(self, key: str) -> KeptThing | None:
        return next((t for t in self.things() if t.kind == "vm" and t.key == key), None)

    def kept_names(self) -> set[str]:
        """Journal names (pids, paths, groups) that belong to kept things: not leaks."""
        names: set[str] = set()
        for thing in self.things():
            names |= {str(v) for v in thing.data.get("resources", [])}
        return names
