"""What pip and type checkers see of the package: a version, py.typed, supported Pythons."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import pytest_imagebuild

ROOT = Path(__file__).parent.parent


def test_cli_prints_its_version():
    done = subprocess.run(
        [sys.executable, "-m", "pytest_imagebuild", "--version"],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"pytest-imagebuild {pytest_imagebuild.__version__}"


def test_package_is_typed_and_classifiers_name_the_tested_pythons():
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+; the other test runs on 3.10
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert (ROOT / "pytest_imagebuild" / "py.typed").is_file()
    assert "py.typed" in project["tool"]["setuptools"]["package-data"]["pytest_imagebuild"]
    classifiers = project["project"]["classifiers"]
    versions = {c.rsplit(" ", 1)[1] for c in classifiers if c.count("::") == 2 and "3." in c}
    assert versions == {"3.10", "3.11", "3.12", "3.13"}
    assert any(c.startswith("Development Status ::") for c in classifiers)
    assert project["project"]["version"] == pytest_imagebuild.__version__
