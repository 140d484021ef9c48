"""Reading a user-named input file (template, variable file, cassette) without trusting it.

A path on the command line can name anything: ``/dev/zero`` (endless), a named pipe nobody
writes to (a read that never returns), a directory, or a file far larger than any template.
Packer reads whatever it is given; a test session must not hang or run out of memory, so
every read here is capped at ``MAX_INPUT_BYTES`` and pipes and devices are read with a
deadline. Pipes given as ``/dev/fd/N`` (shell process substitution, ``<(...)``) work: their
content is kept after the first read, because a pipe can only be read once and a session
reads a variable file more than once.
"""

from __future__ import annotations

import os
import select
import stat
import time

from .errors import ImagebuildError

MAX_INPUT_BYTES = 8 * 1024 * 1024
"""The most read from one template, variable file or cassette (8 MiB)."""

PIPE_TIMEOUT = 10.0
"""Seconds a pipe or device may take to deliver its content."""

_CHUNK = 64 * 1024
# Pipes already read in this process, by (device, inode): a pipe's content cannot be read twice.
_PIPES: dict[tuple[int, int], bytes] = {}
# Contents another process read for this one, by path (xdist workers: var_file_pipes.py).
_GIVEN: dict[str, bytes] = {}


def remember(path: str | os.PathLike[str], data: bytes) -> None:
    """Serve ``data`` for ``path`` from now on, instead of reading it."""
    _GIVEN[os.fspath(path)] = data


class InputFileError(ImagebuildError):
    """Why a file cannot be read; ``reason`` completes "cannot read <what>: ..."."""

    def __init__(self, path: str | os.PathLike[str], reason: str) -> None:
        self.path = str(path)
        self.reason = reason
        super().__init__(f"{self.path}: {reason}")


def too_large(limit: int) -> str:
    return (
        f"it is larger than {limit} bytes ({limit / 1024 / 1024:g} MiB), the most "
        "pytest-imagebuild reads from one input file"
    )


def read_bounded(
    path: str | os.PathLike[str],
    limit: int | None = None,
    timeout: float | None = None,
) -> bytes:
    """The bytes of a regular file, pipe or character device; InputFileError otherwise."""
    limit = MAX_INPUT_BYTES if limit is None else limit
    timeout = PIPE_TIMEOUT if timeout is None else timeout
    if os.fspath(path) in _GIVEN:
        data = _GIVEN[os.fspath(path)]
        if len(data) > limit:
            raise InputFileError(path, too_large(limit))
        return data
    try:
        info = os.stat(path)
    except OSError as error:
        raise InputFileError(path, error.strerror or str(error)) from None
    mode = info.st_mode
    if stat.S_ISDIR(mode):
        raise InputFileError(path, "it is a directory, not a file")
    if stat.S_ISSOCK(mode):
        raise InputFileError(path, "it is a socket, not a file")
    if stat.S_ISREG(mode):
        if info.st_size > limit:
            raise InputFileError(path, too_large(limit))
        try:
            with open(path, "rb") as handle:
                data = handle.read(limit + 1)
        except OSError as error:
            raise InputFileError(path, error.strerror or str(error)) from None
        if len(data) > limit:
            raise InputFileError(path, too_large(limit))
        return data
    key = (info.st_dev, info.st_ino) if stat.S_ISFIFO(mode) else None
    if key in _PIPES:
        return _PIPES[key]  # type: ignore[index]
    kind = "a pipe" if key else "a device"
    data = _read_stream(path, kind, limit, timeout)
    if key:
        _PIPES[key] = data
    return data


def read_text_bounded(
    path: str | os.PathLike[str],
    limit: int | None = None,
    timeout: float | None = None,
) -> str:
    """read_bounded decoded as UTF-8; UnicodeDecodeError is left to the caller to word."""
    return read_bounded(path, limit, timeout).decode("utf-8")


def _read_stream(path: str | os.PathLike[str], kind: str, limit: int, timeout: float) -> bytes:
    """Read a pipe or device until its end, at most limit bytes, within timeout seconds.

    The open does not block (a named pipe without a writer would wait forever); a read that
    finds nothing yet waits in poll() for the rest of the deadline.
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as error:
        raise InputFileError(path, error.strerror or str(error)) from None
    deadline = time.monotonic() + timeout
    chunks: list[bytes] = []
    size = 0
    polled = False
    try:
        poller = select.poll()
        poller.register(fd, select.POLLIN | select.POLLPRI)
        while True:
            try:
                chunk: bytes | None = os.read(fd, min(_CHUNK, limit + 1 - size))
            except BlockingIOError:
                chunk = None
            except OSError as error:
                raise InputFileError(path, error.strerror or str(error)) from None
            if chunk:
                chunks.append(chunk)
                size += len(chunk)
                if size > limit:
                    raise InputFileError(path, too_large(limit))
                polled = False
                continue
            if chunk == b"" and (chunks or polled):
                return b"".join(chunks)  # the writer is done (or the device has no more)
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise InputFileError(
                    path,
                    f"it is {kind} and nothing {'more ' if chunks else ''}arrived within "
                    f"{timeout:g} s (is a program meant to be writing to it?)",
                )
            polled = bool(poller.poll(max(1, int(remaining * 1000))))
    finally:
        os.close(fd)

