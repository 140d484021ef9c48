"""Four azure-arm builds with pytest-xdist: -n 1, -n 2, -n 4 side by side.

    python benchmarks/parallel.py [--live]

Copies examples/webserver.json four times (one managed image name each). By default records
the four builds once against the loopback Azure, then replays them offline with each worker
count. With --live each worker count builds the four images against a fresh loopback Azure
that waits as Azure does, compressed (see live_parallel.py). Prints wall times and speedups.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from standin import start_standin  # noqa: E402
from standin.record_examples import (  # noqa: E402
    offline_environment,
    standin_environment,
)

NAMES = ("alpha", "bravo", "charlie", "delta")


def pytest_run(workdir: Path, env: dict[str, str], *args: str) -> tuple[int, float, str]:
    command = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", *args]
    command += ["--image-template", "images/*.json", "-o", f"image_cassette_dir={workdir}/c"]
    started = time.monotonic()
    done = subprocess.run(command, cwd=workdir, env=env, capture_output=True, text=True)
    return done.returncode, time.monotonic() - started, done.stdout + done.stderr


def copies_of_the_seed_template() -> Path:
    """A folder images/ with four copies of examples/webserver.json, one image name each."""
    workdir = Path(tempfile.mkdtemp(prefix="imagebuild-parallel-"))
    (workdir / "images").mkdir()
    shutil.copytree(ROOT / "examples" / "scripts", workdir / "images" / "scripts")
    template = json.loads((ROOT / "examples" / "webserver.json").read_text())
    for name in NAMES:  # one image name each: a build refuses to overwrite an existing image
        template["variables"]["managed_image_name"] = f"win2016_iis_{name}"
        (workdir / "images" / f"{name}.json").write_text(json.dumps(template, indent=2))
    return workdir


def main() -> int:
    if "--live" in sys.argv[1:]:
        from benchmarks.live_parallel import main as live_main

        return live_main(copies_of_the_seed_template(), pytest_run)
    workdir = copies_of_the_seed_template()
    with start_standin(fast=True) as standin:
        code, seconds, output = pytest_run(
            workdir, standin_environment(standin), "--image-record-mode=rewrite", "-n", "2"
        )
    if code != 0:
        print(output)
        return 1
    print(f"recorded 4 builds against the loopback Azure in {seconds:.1f} s")
    offline = offline_environment()
    times = {}
    for workers in (1, 2, 4):
        code, seconds, output = pytest_run(
            workdir,
            offline,
            "--image-record-mode=none",
            "--image-block-network",
            "-n",
            str(workers),
        )
        if code != 0:
            print(output)
            return 1
        times[workers] = seconds
    print(f"{'workers':>8}{'wall s':>10}{'speedup':>10}")
    for workers, seconds in times.items():
        print(f"{workers:>8}{seconds:>10.1f}{times[1] / seconds:>10.2f}")
    print(f"(this machine has {os.cpu_count()} cores)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
