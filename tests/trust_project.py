"""Helpers of the trust tests: a project holding the webserver example (and a same-named copy
in another folder), run with pytest in a subprocess offline, without credentials."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from standin.record_examples import ROOT, offline_environment

SHIPPED = ROOT / "cassettes" / "examples" / "webserver"
needs_cassettes = pytest.mark.skipif(not SHIPPED.is_dir(), reason="no shipped cassettes")


def project_with_copy(tmp_path: Path, copy_variables: dict[str, str]) -> Path:
    """A project with examples/webserver.json and other/webserver.json (the copy, with
    changed variables), and a pytest.ini making it the rootdir."""
    project = tmp_path / "project"
    for folder in ("examples", "other"):
        shutil.copytree(ROOT / "examples" / "scripts", project / folder / "scripts")
        shutil.copy(ROOT / "examples" / "webserver.json", project / folder / "webserver.json")
    copy = project / "other" / "webserver.json"
    template = json.loads(copy.read_text())
    template["variables"].update(copy_variables)
    copy.write_text(json.dumps(template, indent=2))
    (project / "pytest.ini").write_text("[pytest]\n")
    return project


def run_offline(project: Path, *args: str, mode: str = "none") -> tuple[int, str]:
    """pytest in the project, offline and without credentials; exit code and output."""
    command = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "-rA", *args]
    command += [f"--image-record-mode={mode}"] if mode else []
    command += ["--image-block-network"]
    command += [f"--basetemp={project.parent / 'run'}"]
    env = offline_environment()
    env["PYTHONPATH"] = ":".join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    done = subprocess.run(command, cwd=project, env=env, capture_output=True, text=True)
    return done.returncode, done.stdout + done.stderr
