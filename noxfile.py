"""Run the tests on every supported Python this machine has: ``python -m nox``.

Sessions (``python -m nox -l`` lists them):

* ``main_job-3.X``: the README's main job, ``pytest --image-template examples/webserver.json``
  (replayed offline from cassettes/);
* ``quick-3.X``: the main job and the plugin's quick tests (CI runs these on every Python);
* ``fast-3.X``: every test not marked slow (no real QEMU builds).

Pythons are found as ``python3.X`` on PATH, and in pyenv's versions folder when pyenv is
installed; versions this machine lacks are left out, not failed.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
from pathlib import Path

import nox

SUPPORTED = ("3.10", "3.11", "3.12", "3.13")
MAIN_JOB = ("--image-template", "examples/webserver.json")
# A few seconds to a minute each: the plugin as users meet it, recording, templates.
QUICK_TESTS = (
    "tests/test_plugin.py",
    "tests/test_good_neighbour.py",
    "tests/test_recording.py",
    "tests/test_validate.py",
    "tests/test_hcl2.py",
    "tests/test_catalogue.py",
    "tests/test_readme_catalogue.py",
)

nox.options.reuse_existing_virtualenvs = True
nox.options.error_on_missing_interpreters = False


def _add_pyenv_versions_to_path() -> None:
    """pyenv's shims refuse versions that are not selected; its real binaries do not."""
    root = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv"))
    folders = sorted(glob.glob(str(root / "versions" / "3.*" / "bin")), reverse=True)
    if folders:
        os.environ["PATH"] = os.pathsep.join([*folders, os.environ.get("PATH", "")])


def _runs(version: str) -> bool:
    program = shutil.which(f"python{version}")
    if program is None:
        return False
    done = subprocess.run([program, "-c", "pass"], capture_output=True, check=False)
    return done.returncode == 0


_add_pyenv_versions_to_path()
PYTHONS = [version for version in SUPPORTED if _runs(version)]


def _install(session: nox.Session) -> None:
    session.install("-e", ".[dev]")


@nox.session(python=PYTHONS)
def main_job(session: nox.Session) -> None:
    """The README's main job: validate, build (replayed) and smoke-test webserver.json."""
    _install(session)
    session.run("python", "-m", "pytest", "-p", "no:cacheprovider", *MAIN_JOB, *session.posargs)


@nox.session(python=PYTHONS)
def quick(session: nox.Session) -> None:
    """The main job, then the quick tests."""
    _install(session)
    session.run("python", "-m", "pytest", "-p", "no:cacheprovider", "-q", *MAIN_JOB)
    tests = [path for path in QUICK_TESTS if Path(path).exists()]
    session.run("python", "-m", "pytest", "-p", "no:cacheprovider", "-q", *tests, *session.posargs)


@nox.session(python=PYTHONS)
def fast(session: nox.Session) -> None:
    """Every test not marked slow (no real QEMU builds)."""
    _install(session)
    session.run("python", "-m", "pytest", "-m", "not slow", *session.posargs)
