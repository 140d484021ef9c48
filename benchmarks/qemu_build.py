"""Is building with pytest-imagebuild's qemu builder as fast as `packer build` (Packer 1.6.6)?

Builds examples/debian-nginx.json (or --template) alternately with

* the plugin: `python -m pytest --image-template T T` (the template's validate and build items);
* Packer: `packer build T`, in a fresh working directory each time;

then, once, the whole plugin cycle a user runs: build, boot a VM, the smoke tests in
examples/test_debian_nginx.py, teardown. Prints each run, the medians and the ratio
plugin / packer (goal: <= 1.0) and the cycle time (goal: < 90 s under TCG).

Both get the same key pair and NoCloud seed (Packer cannot put its temporary key into a seed in
a JSON template) and the same accelerator: TCG by default, since KVM here fails to boot guests
and Packer 1.6.6 would then wait out its whole ssh_timeout.

    python benchmarks/qemu_build.py [--runs 2] [--cycle-runs 1] [--accelerator tcg]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from pytest_imagebuild.communicators.keys import generate_key_pair  # noqa: E402
from pytest_imagebuild.qemu.seed import authorize_key  # noqa: E402

GOAL_RATIO = 1.0
GOAL_CYCLE = 90.0
TIMEOUT = 1800


def other_vms() -> int:
    """QEMU processes already running: on a 2-core machine they skew every TCG timing."""
    count = 0
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                count += (entry / "comm").read_text().startswith("qemu-system")
    return count


def timed(command: list[str], cwd: Path, log: Path, env: dict[str, str]) -> float:
    """Wall time of one command; its output goes to ``log``; a failure stops the benchmark."""
    if other_vms():
        print(f"  warning: {other_vms()} other QEMU process(es) running; timings are skewed")
    started = time.monotonic()
    with log.open("w") as out:
        proc = subprocess.Popen(
            command, cwd=cwd, stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True
        )
        try:
            code = proc.wait(TIMEOUT)
        except BaseException:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            raise
    elapsed = time.monotonic() - started
    if code != 0:
        tail = "\n".join(log.read_text(errors="replace").splitlines()[-25:])
        sys.exit(f"`{' '.join(command)}` failed with exit code {code}; see {log}:\n{tail}")
    return elapsed


def seed_variables(work: Path, template: Path, user: str) -> list[tuple[str, str]]:
    """A key pair and a seed whose user-data authorizes it, as template variables."""
    seed = work / "seed"
    seed.mkdir()
    key = generate_key_pair(work)
    files = template.parent / "files"
    shutil.copy(files / "meta-data", seed / "meta-data")
    user_data = authorize_key((files / "user-data").read_text(), user, key.public_key)
    (seed / "user-data").write_text(user_data or "")
    return [("ssh_private_key_file", str(key.private_key_file)), ("seed_dir", str(seed))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=2, help="builds per tool (default 2)")
    parser.add_argument("--cycle-runs", type=int, default=1, help="full plugin cycles (default 1)")
    parser.add_argument("--template", default=str(REPO / "examples" / "debian-nginx.json"))
    parser.add_argument("--accelerator", default="tcg", help="given to both tools (default tcg)")
    parser.add_argument("--keep", action="store_true", help="keep the working directory")
    args = parser.parse_args()
    template = Path(args.template).resolve()
    smoke = template.parent / f"test_{template.stem.replace('-', '_')}.py"
    if not shutil.which("packer"):
        sys.exit("packer is not installed (Debian package packer).")
    work = Path(tempfile.mkdtemp(prefix="qemu-bench-"))
    env = {**os.environ, "CHECKPOINT_DISABLE": "1", "PACKER_NO_COLOR": "1"}
    variables = [
        ("accelerator", args.accelerator),
        *seed_variables(work, template, "debian"),
    ]
    plugin_vars = [part for name, value in variables for part in ("--image-var", f"{name}={value}")]
    packer_vars = [part for name, value in variables for part in ("-var", f"{name}={value}")]
    pytest = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"]
    times: dict[str, list[float]] = {"plugin": [], "packer": []}
    try:
        for run in range(1, args.runs + 1):
            base = work / f"plugin-{run}"
            seconds = timed(
                [
                    *pytest,
                    f"--basetemp={base}",
                    "--image-template",
                    template,
                    template,
                    *plugin_vars,
                ],
                REPO,
                work / f"plugin-{run}.log",
                env,
            )
            times["plugin"].append(seconds)
            print(f"run {run}: pytest-imagebuild build {seconds:6.1f} s", flush=True)
            cwd = work / f"packer-{run}"
            cwd.mkdir()
            command = ["packer", "build", "-color=false", *packer_vars, str(template)]
            seconds = timed(command, cwd, work / f"packer-{run}.log", env)
            times["packer"].append(seconds)
            print(f"run {run}: packer 1.6.6 build       {seconds:6.1f} s", flush=True)
            shutil.rmtree(cwd, ignore_errors=True)
            shutil.rmtree(base, ignore_errors=True)
        cycles = []
        for run in range(1, args.cycle_runs + 1):
            base = work / f"cycle-{run}"
            command = [*pytest, f"--basetemp={base}", "--image-template", template, smoke]
            seconds = timed([*command, *plugin_vars], REPO, work / f"cycle-{run}.log", env)
            cycles.append(seconds)
            print(f"cycle {run}: build + boot + smoke tests + teardown {seconds:6.1f} s")
            shutil.rmtree(base, ignore_errors=True)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    plugin, packer = statistics.median(times["plugin"]), statistics.median(times["packer"])
    ratio = plugin / packer
    print(f"median build: pytest-imagebuild {plugin:.1f} s, packer {packer:.1f} s")
    print(f"ratio pytest-imagebuild / packer: {ratio:.2f} (goal <= {GOAL_RATIO:.1f})")
    if cycles:
        cycle = statistics.median(cycles)
        print(f"median full cycle: {cycle:.1f} s (goal < {GOAL_CYCLE:.0f} s)")


if __name__ == "__main__":
    main()
