"""Process identity from /proc: a pid alone is not an identity, pids are reused.

The journal stores a process's start time next to its pid, so the janitor can tell the
recorded process from an unrelated one that later got the same pid.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from pathlib import Path

PROC = Path("/proc")


def _stat_fields(pid: int) -> list[str] | None:
    try:
        text = (PROC / str(pid) / "stat").read_text()
    except OSError:
        return None
    # The command name may hold spaces and parentheses: split after its last ")".
    return text[text.rfind(")") + 2 :].split()


def start_time(pid: int) -> int | None:
    """Clock ticks after boot at which the process started (field 22 of /proc/PID/stat)."""
    fields = _stat_fields(pid)
    return int(fields[19]) if fields and len(fields) > 19 else None


def cmdline(pid: int) -> list[str]:
    try:
        raw = (PROC / str(pid) / "cmdline").read_bytes()
    except OSError:
        return []
    return [part.decode(errors="replace") for part in raw.split(b"\0") if part]


def alive(pid: int, started: int | None = None) -> bool:
    """True while the process runs (zombies count as gone) and, if known, started then."""
    if pid <= 0:
        return False
    fields = _stat_fields(pid)
    if fields is None:
        if PROC.is_dir():
            return False
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True
    if fields[0] in ("Z", "X"):
        return False
    return started is None or start_time(pid) == started


def is_qemu(pid: int) -> bool:
    """Whether the program running as pid is a QEMU system emulator."""
    argv = cmdline(pid)
    return bool(argv) and Path(argv[0]).name.startswith("qemu")


def kill(pid: int, grace: float = 5.0) -> bool:
    """SIGTERM the process (its whole group when it leads one), SIGKILL after grace.

    True when it is gone afterwards.
    """
    started = start_time(pid)
    leader = _leads_group(pid)
    for sig in (signal.SIGTERM, signal.SIGKILL):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            if leader:
                os.killpg(pid, sig)
            else:
                os.kill(pid, sig)
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline:
            if not alive(pid, started):
                return True
            _reap(pid)
            time.sleep(0.05)
    return not alive(pid, started)


def _leads_group(pid: int) -> bool:
    try:
        return os.getpgid(pid) == pid
    except OSError:
        return False


def _reap(pid: int) -> None:
    """Collect the exit status when the process happens to be our child."""
    with contextlib.suppress(ChildProcessError, OSError):
        os.waitpid(pid, os.WNOHANG)
