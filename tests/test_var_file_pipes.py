"""`--image-var-file <(...)` (a pipe, readable once, by one process) works under xdist too:
the controller reads it and hands its content to every worker."""

from __future__ import annotations

import json
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

TEMPLATE = {
    "variables": {"greeting": None},
    "builders": [{"type": "null", "communicator": "none"}],
    "provisioners": [{"type": "shell-local", "inline": ["echo {{user `greeting`}} > said.txt"]}],
}


def run_with_piped_var_file(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider"]
    pytest_command = shlex.join([*command, "--image-template", "t.json", *args])
    script = f"{pytest_command} --image-var-file <(echo '{json.dumps({'greeting': 'hello'})}')"
    return subprocess.run(
        ["bash", "-c", script], cwd=folder, capture_output=True, text=True, timeout=600
    )


@pytest.mark.parametrize("workers", [[], ["-n", "2"]])
def test_a_piped_variable_file_reaches_every_build(tmp_path: Path, workers: list[str]) -> None:
    if workers:
        pytest.importorskip("xdist")
    (tmp_path / "t.json").write_text(json.dumps(TEMPLATE))
    done = run_with_piped_var_file(tmp_path, *workers)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert "2 passed" in done.stdout
    assert (tmp_path / "said.txt").read_text() == "hello\n"
