"""Leftovers on this machine: files and directories, and processes standing for VMs."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from ..errors import ImagebuildError
from . import pids
from .journal import Entry


def path_exists(entry: Entry) -> bool:
    return os.path.lexists(entry.name)


def delete_path(entry: Entry, protected: tuple[Path, ...] = ()) -> None:
    """Remove a recorded file or tree, but never / nor anything holding home or the state."""
    path = Path(entry.name)
    resolved = path.resolve()
    keep = (Path.home().resolve(), *(p.resolve() for p in protected))
    if (
        not path.is_absolute()
        or resolved == Path("/")
        or any(resolved == p or resolved in p.parents for p in keep)
    ):
        raise ImagebuildError(f"refusing to delete {path}: it is not a path a run creates")
    try:
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        else:
            path.unlink(missing_ok=True)
    except OSError as error:
        raise ImagebuildError(f"cannot delete {path}: {error.strerror or error}") from None


def recorded_pid(entry: Entry) -> int | None:
    """The pid a process entry names: the number itself, or the content of a pidfile."""
    if entry.name.isdigit():
        return int(entry.name)
    try:
        text = Path(entry.name).read_text().strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None


def process_running(entry: Entry) -> bool:
    """Still the recorded process (same start time when known) and a QEMU.

    A pid reused by an unrelated program is never reported, so never killed.
    """
    pid = recorded_pid(entry)
    if pid is None or not pids.alive(pid, entry.data.get("start")):
        return False
    return pids.is_qemu(pid)


def stop_process(entry: Entry) -> None:
    pid = recorded_pid(entry)
    if pid is None or not process_running(entry):
        return
    if not pids.kill(pid):
        raise ImagebuildError(f"process {pid} survived SIGTERM and SIGKILL")
