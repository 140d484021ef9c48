"""First run vs reused run of the qemu example: `python benchmarks/reuse.py`.

Runs `pytest --image-template examples/debian-nginx.json examples/test_debian_nginx.py
--image-reuse` twice with an empty image cache of its own: the first run builds, boots and
tests; the second boots the cached image and tests. Prints both times and their ratio.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
TIMEOUT = 1800


def main() -> None:
    work = Path(tempfile.mkdtemp(prefix="reuse-bench-"))
    env = {**os.environ, "IMAGEBUILD_STATE_DIR": str(work / "state")}
    command = [
        sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--image-reuse",
        "-o", f"image_cache_dir={work / 'cache'}",
        "--image-template", "examples/debian-nginx.json", "examples/test_debian_nginx.py",
    ]  # fmt: skip
    times = []
    for run in ("first (builds)", "second (reuses)"):
        started = time.monotonic()
        done = subprocess.run(
            [*command, f"--basetemp={work / 'bt'}"], cwd=REPO, env=env, timeout=TIMEOUT,
            capture_output=True, text=True,
        )  # fmt: skip
        seconds = time.monotonic() - started
        if done.returncode != 0:
            sys.exit(f"{run} run failed:\n{done.stdout[-3000:]}")
        times.append(seconds)
        print(f"{run:16} {seconds:7.1f} s", flush=True)
    print(f"reused/first     {times[1] / times[0]:7.0%}")


if __name__ == "__main__":
    main()
