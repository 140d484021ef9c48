"""Four live azure-arm builds against a loopback Azure that waits: do xdist workers overlap?

    python benchmarks/parallel.py --live

Replayed builds do not wait (the plugin's clock is virtual), so they show only CPU work. Here
each worker count builds the four copies of the seed template against a fresh stand-in that
waits as Azure does, with minutes compressed to seconds but real: every long-running operation
takes a few seconds and answers `Retry-After: 1`, the guest's sysprep and sleeps run at a
tenth of their time. The builds are mostly waiting, so four workers should finish in about the
time of one build (goal: -n 4 at least 3.5x faster than -n 1), unless the plugin or the
stand-in serializes them. Worker start-up is measured apart: `-k validate` (no build) with
each worker count against the same run without xdist.

Every run uses one bytecode cache (a temporary folder), filled first by an untimed build of
the four copies against a stand-in that does not wait: a user's runs find their bytecode
cached, and otherwise each worker would compile the Azure SDK again.
"""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.machine import describe_machine  # noqa: E402
from standin import start_standin  # noqa: E402
from standin.record_examples import offline_environment, standin_environment  # noqa: E402

GOAL = 3.5
WORKERS = (1, 2, 4)
# Seconds each kind of long-running operation takes (Azure: one to several minutes).
LRO_SECONDS = {
    "network": 2.0,
    "vm_create": 5.0,
    "vm_action": 3.0,
    "run_command": 2.0,
    "image_create": 4.0,
    "vm_delete": 3.0,
    "network_delete": 2.0,
    "disk_delete": 2.0,
    "group_delete": 3.0,
}
# Guest time (sysprep's 20 s, Start-Sleep, reboots) runs ten times faster than the wall clock.
GUEST_TIME_SCALE = 0.1

PytestRun = Callable[..., tuple[int, float, str]]


def azure_like() -> dict[str, object]:
    return {
        "fast": False,
        "retry_after": 1,
        "default_polls": 2,
        "delays": LRO_SECONDS,
        "guest_time_scale": GUEST_TIME_SCALE,
    }


PYCACHE = tempfile.mkdtemp(prefix="imagebuild-pycache-")


def with_bytecode_cache(env: dict[str, str]) -> dict[str, str]:
    """As a user's second run has it: bytecode written once and read from then on."""
    env = {**env, "PYTHONPYCACHEPREFIX": PYCACHE}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def build_all(
    workdir: Path, pytest_run: PytestRun, workers: int, **standin: object
) -> tuple[float, str] | None:
    """Wall seconds of building the four images with `workers` workers, on a fresh stand-in."""
    with start_standin(**(standin or azure_like())) as running:
        env = with_bytecode_cache(standin_environment(running))
        code, seconds, output = pytest_run(
            workdir, env, "--image-record-mode=rewrite", "-n", str(workers)
        )
    if code != 0:
        print(output)
        return None
    outcome = [line for line in output.splitlines() if " passed" in line or " failed" in line]
    return seconds, (outcome or ["(no summary)"])[-1].strip("= ")


def startup(workdir: Path, pytest_run: PytestRun) -> dict[int, float]:
    """Wall seconds of the validate items alone, without xdist (0) and with each worker count."""
    env = with_bytecode_cache(offline_environment())
    times = {}
    for workers in (0, *WORKERS):
        code, seconds, output = pytest_run(workdir, env, "-k", "validate", "-n", str(workers))
        if code != 0:
            print(output)
            return {}
        times[workers] = seconds
    return times


def main(workdir: Path, pytest_run: PytestRun) -> int:
    print(describe_machine())
    if build_all(workdir, pytest_run, 2, fast=True) is None:  # warm-up: fills the bytecode cache
        return 1
    builds: dict[int, float] = {}
    for workers in WORKERS:
        outcome = build_all(workdir, pytest_run, workers)
        if outcome is None:
            return 1
        builds[workers], summary = outcome
        print(f"-n {workers}: {summary} ({builds[workers]:.1f} s wall)")
    started = startup(workdir, pytest_run)
    print()
    print(f"{'workers':>8}{'wall s':>10}{'speedup':>10}{'start-up s':>12}")
    for workers, seconds in builds.items():
        cost = started.get(workers, float("nan")) - started.get(0, float("nan"))
        print(f"{workers:>8}{seconds:>10.1f}{builds[1] / seconds:>10.2f}{cost:>12.2f}")
    print(
        f"(start-up: `-k validate` with -n N minus without xdist, {started.get(0, 0):.2f} s;"
        f" this machine has {os.cpu_count()} cores)"
    )
    verdict = "met" if builds[1] / builds[4] >= GOAL else "NOT met"
    print(f"Goal: -n 4 at least {GOAL}x faster than -n 1: {verdict}")
    return 0
