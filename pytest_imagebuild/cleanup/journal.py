"""The run journal: one append-only JSON-lines file per run, written before a resource exists.

It lives in a state directory that outlives pytest's temporary directories, so that after a
``kill -9`` the janitor can still read what the run created. Secrets are never written: an
Azure entry keeps the endpoints needed to find the group again, and credentials are read
from the environment when deleting.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ..errors import ImagebuildError
from . import pids

STATE_ENV = "IMAGEBUILD_STATE_DIR"
CREATED = "created"
RELEASED = "released"


def state_dir(override: str | os.PathLike[str] | None = None) -> Path:
    """--state-dir, else $IMAGEBUILD_STATE_DIR, else ~/.local/state/pytest-imagebuild."""
    if override:
        return Path(override).expanduser()
    if os.environ.get(STATE_ENV):
        return Path(os.environ[STATE_ENV]).expanduser()
    base = os.environ.get("XDG_STATE_HOME") or Path.home() / ".local" / "state"
    return Path(base) / "pytest-imagebuild"


def checked_state_dir(override: str | os.PathLike[str] | None = None) -> Path:
    """state_dir(), or ImagebuildError naming the setting when it cannot hold journals."""
    root = state_dir(override)
    existing = root
    while not os.path.lexists(existing) and existing != existing.parent:
        existing = existing.parent
    if existing.is_dir():
        if os.access(existing, os.W_OK | os.X_OK):
            return root
        reason = f"{existing} is not writable"
    elif existing == root:
        reason = "it exists and is not a directory"
    else:
        reason = f"{existing} is not a directory"
    if override:
        setting = f"--image-state-dir (--state-dir) {root}"
    elif os.environ.get(STATE_ENV):
        setting = f"{STATE_ENV}={os.environ[STATE_ENV]}"
    else:
        setting = f"the default state directory {root} (from XDG_STATE_HOME or HOME)"
    raise ImagebuildError(
        f"{setting}: run journals cannot be kept there: {reason}. Point it at a directory "
        f"(created if missing) with {STATE_ENV} or --image-state-dir."
    )


def journal_dir(root: Path) -> Path:
    return root / "journal"


@dataclass(frozen=True)
class Owner:
    """The recording process: pid plus start time and host, so liveness survives pid reuse."""

    run_id: str
    pid: int
    pid_start: int | None
    host: str
    session: str = ""
    worker: str = ""

    @classmethod
    def current(cls, run_id: str, session: str = "", worker: str = "") -> Owner:
        pid = os.getpid()
        return cls(run_id, pid, pids.start_time(pid), socket.gethostname(), session, worker)

    def alive(self) -> bool | None:
        """True/False on this host; None when it ran elsewhere and nobody here can tell."""
        if self.host != socket.gethostname():
            return None
        return pids.alive(self.pid, self.pid_start)


@dataclass(frozen=True)
class Entry:
    event: str
    kind: str
    name: str
    time: float
    owner: Owner
    data: dict[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> tuple[str, str]:
        return (self.kind, self.name)

    def to_json(self) -> str:
        record = {k: v for k, v in asdict(self).items() if k != "owner"}
        record.update(asdict(self.owner))
        return json.dumps(record, sort_keys=True)

    @classmethod
    def from_json(cls, line: str) -> Entry:
        record = json.loads(line)
        owner = Owner(
            str(record["run_id"]),
            int(record["pid"]),
            record.get("pid_start"),
            str(record.get("host", "")),
            str(record.get("session", "")),
            str(record.get("worker", "")),
        )
        return cls(
            str(record["event"]),
            str(record["kind"]),
            str(record["name"]),
            float(record["time"]),
            owner,
            dict(record.get("data") or {}),
        )


def describe_process(name: str) -> dict[str, Any]:
    """What tells the recorded process from a later one with the same pid: its start time.

    (Its program name is not reliable here: right after a fork it may not have exec'd yet.)
    """
    return {"start": pids.start_time(int(name))} if name.isdigit() else {}


class Journal:
    """Appends entries for one run; the file appears with the first entry, not before."""

    def __init__(self, root: Path, owner: Owner) -> None:
        self.root = root
        self.owner = owner
        # pid and start time: a seeded (replayed) run repeats its run id, pids get reused.
        self.path = journal_dir(root) / f"{owner.run_id}-{owner.pid}-{owner.pid_start}.jsonl"

    def created(self, kind: str, name: str, **data: Any) -> None:
        if kind == "path":
            name = os.path.abspath(name)
        elif kind == "process":
            data = {**describe_process(name), **data}
        self._append(Entry(CREATED, kind, name, time.time(), self.owner, data))

    def released(self, kind: str, name: str) -> None:
        if kind == "path":
            name = os.path.abspath(name)
        if self.path.exists():
            self._append(Entry(RELEASED, kind, name, time.time(), self.owner))

    def _append(self, entry: Entry) -> None:
        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        line = (entry.to_json() + "\n").encode()
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, line)
            os.fsync(fd)
        finally:
            os.close(fd)

    def outstanding(self) -> list[Entry]:
        return outstanding(read(self.path))

    def discard_if_done(self) -> None:
        """Remove the file once everything in it was released: only leftovers keep a journal."""
        discard_if_done(self.path)


def read(path: Path) -> list[Entry]:
    """Entries of one file; a torn last line (a kill mid-write) is skipped, not fatal."""
    entries = []
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return []
    for line in text.splitlines():
        with contextlib.suppress(ValueError, KeyError, TypeError):
            entries.append(Entry.from_json(line))
    return entries


def outstanding(entries: list[Entry]) -> list[Entry]:
    """Created entries not released afterwards, oldest first."""
    live: dict[tuple[str, str], Entry] = {}
    for entry in entries:
        if entry.event == CREATED:
            live[entry.key] = entry
        elif entry.event == RELEASED:
            live.pop(entry.key, None)
    return list(live.values())


def journals(root: Path) -> Iterator[Path]:
    folder = journal_dir(root)
    if folder.is_dir():
        yield from sorted(folder.glob("*.jsonl"))


def release_in(path: Path, entry: Entry, by: str = "janitor") -> None:
    """Mark a recorded resource as removed on behalf of the run that recorded it."""
    if not path.exists():
        return
    done = Entry(RELEASED, entry.kind, entry.name, time.time(), entry.owner, {"by": by})
    line = (done.to_json() + "\n").encode()
    fd = os.open(path, os.O_WRONLY | os.O_APPEND)
    try:
        os.write(fd, line)
    finally:
        os.close(fd)


def discard_if_done(path: Path) -> None:
    if path.exists() and not outstanding(read(path)):
        with contextlib.suppress(OSError):
            path.unlink()
