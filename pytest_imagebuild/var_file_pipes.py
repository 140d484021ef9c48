"""Variable files given as pipes (``--image-var-file <(...)``), handed to xdist workers.

A pipe can be read once, by one process, and an xdist worker does not inherit the shell's
``/dev/fd/N``: the controller reads each such file (bounded, as any input file) and passes its
content in the worker's ``workerinput``; the worker reads it from there instead of the path.
"""

from __future__ import annotations

import base64
import os
import stat
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from . import bounded_read

WORKERINPUT_KEY = "imagebuild_var_file_pipes"


def _is_stream(path: Path) -> bool:
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return False
    return stat.S_ISFIFO(mode) or stat.S_ISCHR(mode)


class PipeHandoff:
    """On the xdist controller: the content of every piped variable file, for each worker."""

    def __init__(self, var_files: Sequence[Path]) -> None:
        self.var_files = tuple(var_files)

    @pytest.hookimpl(optionalhook=True)
    def pytest_configure_node(self, node: Any) -> None:
        contents = {}
        for path in self.var_files:
            if not _is_stream(path):
                continue
            try:
                data = bounded_read.read_bounded(path)  # kept: the next worker gets it too
            except bounded_read.InputFileError:
                continue  # the worker cannot read it either, and says why
            contents[str(path)] = base64.b64encode(data).decode("ascii")
        if contents:
            node.workerinput[WORKERINPUT_KEY] = contents


def receive(config: pytest.Config) -> None:
    """In an xdist worker: what the controller read from piped variable files."""
    given = (getattr(config, "workerinput", None) or {}).get(WORKERINPUT_KEY) or {}
    for path, data in given.items():
        bounded_read.remember(path, base64.b64decode(data))
