"""The iteration loop on real QEMU: build once, reuse by content, keep a VM and log in to it,
test it again without booting, destroy it. One slow test costing one build and two boots; that
a changed provisioned file or variable changes the key (and so rebuilds) is proven fast, in
test_reuse_units.py.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pytest_imagebuild.cleanup import pids
from pytest_imagebuild.qemu import base_image

REPO = Path(__file__).resolve().parent.parent
EXAMPLES = REPO / "examples"
EXAMPLE_BASE = EXAMPLES / "base" / "debian-12.qcow2"
RUN_LIMIT = 1200  # seconds: only a hang takes this long, even on a busy machine


def _run(
    args: list[str], cwd: Path, env: dict[str, str]
) -> tuple[subprocess.CompletedProcess[str], float]:
    started = time.monotonic()
    result = subprocess.run(
        args, cwd=cwd, env=env, capture_output=True, text=True, timeout=RUN_LIMIT
    )
    return result, time.monotonic() - started


@pytest.mark.slow
def test_build_reuse_keep_and_destroy(tmp_path: Path) -> None:
    if not EXAMPLE_BASE.is_file():
        if os.geteuid() != 0:
            pytest.skip("building the base image needs root")
        base_image.ensure_base_image("debian-12", out=EXAMPLE_BASE)
    project = tmp_path / "project"
    project.mkdir()
    shutil.copy(EXAMPLES / "debian-nginx.json", project)
    shutil.copy(EXAMPLES / "test_debian_nginx.py", project)
    shutil.copytree(EXAMPLES / "files", project / "files")
    env = {
        **os.environ,
        "IMAGEBUILD_STATE_DIR": str(tmp_path / "state"),
        "PYTHONPATH": str(REPO),
    }
    pytest_command = [
        sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-v", "-s",
        "--image-template", "debian-nginx.json", "test_debian_nginx.py",
        "--image-var", f"base_image={EXAMPLE_BASE}",
        "-o", f"image_cache_dir={tmp_path / 'cache'}", "--image-reuse",
    ]  # fmt: skip

    pytest_imagebuild = [sys.executable, "-m", "pytest_imagebuild"]

    def pytest_run(*extra: str) -> tuple[str, float]:
        result, seconds = _run(
            [*pytest_command, *extra, f"--basetemp={tmp_path / 'bt'}"], project, env
        )
        assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
        return result.stdout, seconds

    first, first_seconds = pytest_run()
    assert "Provisioning with shell" in first
    assert "key: " in first  # the build table shows the key

    # The image is reused (nothing provisioned), booted through an overlay and kept.
    try:
        second, second_seconds = pytest_run("--image-keep=always")
        name = re.search(r"kept VM (\S+) ", second).group(1)  # type: ignore[union-attr]
        assert "Provisioning with" not in second, second
        assert re.search(
            r"reusing debian-nginx\.qcow2 built \d+ \w+ ago, key [0-9a-f]{12}", second
        )
        # The reuse itself is asserted above; this bound only catches a hidden rebuild, with
        # room for a busy machine (benchmarks/reuse.py measures the ratio: under 0.4 idle).
        assert second_seconds < 0.6 * first_seconds, (first_seconds, second_seconds)
        ssh_line = next(
            line.strip() for line in second.splitlines() if line.strip().startswith("ssh -i")
        )
        login, _ = _run(
            [*shlex.split(ssh_line), "-o", "BatchMode=yes", "cat /var/www/html/index.html"],
            project,
            env,
        )
        assert login.returncode == 0, login.stderr
        assert login.stdout == (project / "files" / "index.html").read_text()

        third, _ = pytest_run()  # the kept VM is tested again, nothing booted
        assert f"reusing kept VM {name}" in third
        assert "Booting" not in third

        listing, _ = _run(
            [*pytest_imagebuild, "list", "--cache-dir", str(tmp_path / "cache")], project, env
        )
        assert name in listing.stdout and "debian-nginx.qcow2" in listing.stdout, listing.stdout
        destroyed, _ = _run([*pytest_imagebuild, "destroy", name], project, env)
        assert destroyed.returncode == 0, destroyed.stderr
    finally:  # whatever failed: nothing kept outlives the test (its state folder is private)
        _run([*pytest_imagebuild, "destroy", "--all", "--cache-dir", str(tmp_path / "cache")],
             project, env)  # fmt: skip
    running = [p for p in Path("/proc").iterdir() if p.name.isdigit()]
    assert not [p for p in running if name in " ".join(pids.cmdline(int(p.name)))]
    gone, _ = _run(
        [*shlex.split(ssh_line), "-o", "BatchMode=yes", "-o", "ConnectTimeout=5", "true"],
        project,
        env,
    )
    assert gone.returncode != 0, "the destroyed VM still answers"
