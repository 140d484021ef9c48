"""The one door through which external processes (qemu, debootstrap, ssh, packer) start.

Every command is logged with secrets masked, runs in its own process group so that a timeout
or a teardown can kill whatever it forked, and fails as a BuildError users can read.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import os
import shlex
import signal
import subprocess
import time
import weakref
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from .errors import BuildError
from .secrets import mask

log = logging.getLogger("pytest_imagebuild")

TAIL_LINES = 15

Command = Sequence[str | os.PathLike[str]]

_spawned: weakref.WeakSet[subprocess.Popen[bytes]] = weakref.WeakSet()


def describe(cmd: Command, secrets: Iterable[str] = ()) -> str:
    """The command as a shell line a user could paste, secrets masked."""
    return mask(shlex.join(os.fspath(part) for part in cmd), secrets)


def tail(text: str, lines: int = TAIL_LINES) -> str:
    """The last non-blank lines of some output, for error messages that stay one paragraph."""
    kept = [line.rstrip() for line in text.splitlines() if line.strip()]
    return "\n".join(kept[-lines:])


def _failure(
    cmd: Command, secrets: Iterable[str], why: str, stdout: str, stderr: str
) -> BuildError:
    output = tail(stderr) or tail(stdout)
    message = f"Command `{describe(cmd, secrets)}` {why}."
    if output:
        message += " Last lines of its output:\n" + mask(output, secrets)
    else:
        message += " It printed nothing."
    return BuildError(message)


def _kill_group(proc: subprocess.Popen, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, sig)


def run(
    cmd: Command,
    *,
    timeout: float,
    secrets: Iterable[str] = (),
    check: bool = True,
    cwd: str | os.PathLike[str] | None = None,
    env: Mapping[str, str] | None = None,
    input: str | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run a command to completion, capturing text output.

    A timeout kills the whole process group (not just the direct child, whose children would
    otherwise keep the pipes open and hang us); it always raises, ``check`` only governs the
    exit code.
    """
    secrets = tuple(secrets)
    argv = [os.fspath(part) for part in cmd]
    log.info("running: %s", describe(argv, secrets))
    started = time.monotonic()
    try:
        proc = subprocess.Popen(
            argv,
            stdin=subprocess.PIPE if input is not None else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=cwd,
            env=dict(env) if env is not None else None,
            start_new_session=True,
        )
    except OSError as exc:
        raise BuildError(f"Cannot start `{describe(argv, secrets)}`: {exc.strerror}.") from exc
    try:
        stdout, stderr = proc.communicate(input, timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill_group(proc, signal.SIGKILL)
        stdout, stderr = proc.communicate()
        raise _failure(argv, secrets, f"timed out after {timeout:g}s", stdout, stderr) from None
    except BaseException:
        _kill_group(proc, signal.SIGKILL)
        proc.wait()
        raise
    elapsed = time.monotonic() - started
    log.debug("exit %s after %.1fs: %s", proc.returncode, elapsed, describe(argv, secrets))
    if check and proc.returncode != 0:
        why = f"exited with code {proc.returncode} after {elapsed:.1f}s"
        raise _failure(argv, secrets, why, stdout, stderr)
    return subprocess.CompletedProcess(argv, proc.returncode, stdout, stderr)


def spawn(
    cmd: Command,
    *,
    secrets: Iterable[str] = (),
    log_path: str | os.PathLike[str] | None = None,
    cwd: str | os.PathLike[str] | None = None,
    env: Mapping[str, str] | None = None,
) -> subprocess.Popen[bytes]:
    """Start a long-running process in a new process group, output appended to ``log_path``.

    Spawned groups still alive when the interpreter exits are terminated, so a crashed test
    run does not leave a VM behind.
    """
    secrets = tuple(secrets)
    argv = [os.fspath(part) for part in cmd]
    log.info("starting: %s", describe(argv, secrets))
    out = open(log_path, "ab") if log_path is not None else subprocess.DEVNULL  # noqa: SIM115
    try:
        proc = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=cwd,
            env=dict(env) if env is not None else None,
            start_new_session=True,
        )
    except OSError as exc:
        raise BuildError(f"Cannot start `{describe(argv, secrets)}`: {exc.strerror}.") from exc
    finally:
        if log_path is not None:
            out.close()
    _spawned.add(proc)
    log.debug("started pid %d", proc.pid)
    return proc


def terminate(proc: subprocess.Popen, grace: float = 5.0) -> int:
    """Stop a spawned process group: SIGTERM, then SIGKILL after ``grace`` seconds.

    The group is signalled even when the leader already exited, since its children may not have.
    """
    if proc.poll() is None:
        _kill_group(proc, signal.SIGTERM)
        try:
            proc.wait(grace)
        except subprocess.TimeoutExpired:
            log.info("pid %d ignored SIGTERM for %gs, killing it", proc.pid, grace)
    _kill_group(proc, signal.SIGKILL)
    returncode = proc.wait()
    _spawned.discard(proc)
    return returncode


def exit_description(returncode: int) -> str:
    """Say 'exited with code 1' or 'was killed by signal 9 (SIGKILL)' as Popen reports it."""
    if returncode >= 0:
        return f"exited with code {returncode}"
    try:
        name = signal.Signals(-returncode).name
    except ValueError:
        return f"was killed by signal {-returncode}"
    return f"was killed by signal {-returncode} ({name})"


def which(program: str, package: str) -> str:
    """Path of a required host program, or an error telling which Debian package provides it."""
    for directory in [*os.environ.get("PATH", "").split(os.pathsep), "/usr/sbin", "/sbin"]:
        candidate = Path(directory) / program
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    raise BuildError(
        f"`{program}` is not installed on this machine; install it (Debian package {package})."
    )


def keep_running(pid: int) -> bool:
    """Let a spawned process outlive this interpreter (``--image-on-error=abort`` keeps the VM)."""
    for proc in list(_spawned):
        if proc.pid == pid:
            _spawned.discard(proc)
            return True
    return False


@atexit.register
def _terminate_leftovers() -> None:
    for proc in list(_spawned):
        if proc.poll() is None:
            terminate(proc, grace=2.0)
