"""Built local images kept by build key, with a size limit and least-recently-used eviction.

One folder per key holds the image files and ``entry.json`` (name, build, template, when
built and last used, the artifact's data). A lock file per key makes one build per key on
this machine, across xdist workers and concurrent runs; an entry in use (its lock held) is
never evicted.
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from filelock import FileLock, Timeout

ENTRY = "entry.json"


@dataclass
class CacheEntry:
    key: str
    folder: Path
    meta: dict[str, Any]

    @property
    def name(self) -> str:
        return str(self.meta.get("name", ""))

    @property
    def built(self) -> float:
        return float(self.meta.get("built", 0))

    def size(self) -> int:
        return sum(f.stat().st_size for f in self.folder.rglob("*") if f.is_file())


def age(seconds_since: float, now: float | None = None) -> str:
    """'12 min ago' style."""
    delta = max(0.0, (now or time.time()) - seconds_since)
    for unit, length in (("day", 86400), ("h", 3600), ("min", 60)):
        if delta >= length:
            count = int(delta // length)
            return f"{count} {unit}{'s' if unit == 'day' and count > 1 else ''} ago"
    return f"{int(delta)} s ago"


class ImageCache:
    def __init__(self, root: Path, limit: int) -> None:
        self.root = root
        self.limit = limit

    def folder(self, key: str) -> Path:
        return self.root / key

    @contextmanager
    def lock(self, key: str) -> Iterator[None]:
        """Held while an image of this key is looked up, built or used: one build per key."""
        locks = self.root / "locks"
        locks.mkdir(parents=True, exist_ok=True)
        with FileLock(str(locks / f"{key}.lock")):
            yield

    def lookup(self, key: str) -> CacheEntry | None:
        """The complete entry of this key (its last use now), else None."""
        meta_file = self.folder(key) / ENTRY
        try:
            meta = json.loads(meta_file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        meta["last_used"] = time.time()
        self._write(key, meta)
        return CacheEntry(key, self.folder(key), meta)

    def staging(self, key: str) -> Path:
        """An empty folder to put a new entry's files in before ``commit``."""
        staging = self.root / f".{key}.new"
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(parents=True)
        return staging

    def commit(self, key: str, staging: Path, meta: dict[str, Any]) -> CacheEntry:
        """Make the staged files the entry of this key (replacing an older one)."""
        folder = self.folder(key)
        shutil.rmtree(folder, ignore_errors=True)
        staging.rename(folder)
        now = time.time()
        meta = {**meta, "key": key, "built": now, "last_used": now}
        self._write(key, meta)
        self.evict(keep=key)
        return CacheEntry(key, folder, meta)

    def _write(self, key: str, meta: dict[str, Any]) -> None:
        target = self.folder(key) / ENTRY
        temporary = target.with_suffix(".tmp")
        temporary.write_text(json.dumps(meta, indent=1, sort_keys=True), encoding="utf-8")
        temporary.replace(target)

    def entries(self) -> list[CacheEntry]:
        found = []
        for meta_file in sorted(self.root.glob(f"*/{ENTRY}")) if self.root.is_dir() else []:
            try:
                meta = json.loads(meta_file.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                continue
            found.append(CacheEntry(meta_file.parent.name, meta_file.parent, meta))
        return found

    def remove(self, key: str) -> bool:
        folder = self.folder(key)
        if not folder.exists():
            return False
        shutil.rmtree(folder)
        return True

    def evict(self, keep: str = "") -> list[str]:
        """Remove least recently used entries until the cache fits its limit; skip locked ones."""
        entries = sorted(self.entries(), key=lambda e: float(e.meta.get("last_used", 0)))
        sizes = {entry.key: entry.size() for entry in entries}
        total = sum(sizes.values())
        removed = []
        for entry in entries:
            if total <= self.limit:
                break
            if entry.key == keep:
                continue
            try:
                with FileLock(str(self.root / "locks" / f"{entry.key}.lock"), timeout=0):
                    shutil.rmtree(entry.folder, ignore_errors=True)
            except Timeout:
                continue
            total -= sizes[entry.key]
            removed.append(entry.key)
        return removed
