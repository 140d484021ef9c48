"""Is building with pytest-imagebuild's qemu builder as fast as `packer build` (Packer 1.6.6)?

Builds examples/debian-nginx.json (or --template) alternately with

* the plugin: `python -m pytest --image-template T T` (the template's validate and build items);
* Packer: `packer build T`, in a fresh working directory each time;

then, once, the whole plugin cycle a user runs: build, boot a VM, the smoke tests in
examples/test_debian_nginx.py, teardown. Prints each run, the medians and the ratio
plugin / packer (goal: <= 0.9) and the cycle time.

Then where a build's time goes, for both tools: the guest's work (boot to SSH, the
provisioning commands, shutdown) against the tool's own (process start, collection, image
copies, QEMU start, polling). The plugin's phases come from its build stage times (JUnit XML
properties), Packer's from `-timestamp-ui` (whole seconds). Goal: the plugin's own work is at
most 5% of its build.

Both get the same key pair and NoCloud seed (Packer cannot put its temporary key into a seed in
a JSON template) and the same accelerator: TCG by default, since KVM here fails to boot guests
and Packer 1.6.6 would then wait out its whole ssh_timeout.

    python benchmarks/qemu_build.py [--runs 2] [--cycle-runs 1] [--accelerator tcg]
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ElementTree
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from benchmarks.machine import describe_machine  # noqa: E402
from pytest_imagebuild.communicators.keys import generate_key_pair  # noqa: E402
from pytest_imagebuild.qemu.seed import authorize_key  # noqa: E402

GOAL_RATIO = 0.9
GOAL_OVERHEAD = 0.05
TIMEOUT = 1800
# The plugin's build steps that wait on the guest; everything else is its own work.
GUEST_STEPS = {
    "StepConnect": "boot to SSH",
    "StepProvision": "provisioning",
    "StepShutdown": "shutdown",
}
IMAGE_COPIES = ("StepCopyDisk", "StepConvertDisk")
SSH_POLL_INTERVAL = 0.5  # StepConnect retries this often: up to this much of it is polling slack
PHASES = ("boot to SSH", "provisioning", "shutdown")


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


def plugin_phases(junit: Path, wall: float) -> dict[str, float]:
    """The plugin's build, split into guest phases and its own work, from its stage times."""
    stages: dict[str, float] = {}
    for prop in ElementTree.parse(junit).iter("property"):
        name = prop.get("name", "")
        if name.startswith("stage_time[") and name.endswith("]"):
            stages[name[len("stage_time[") : -1]] = float(prop.get("value", "0"))
    missing = [step for step in GUEST_STEPS if step not in stages]
    if missing:
        sys.exit(f"{junit}: no stage time for {', '.join(missing)}; stages: {stages}")
    phases = {label: stages[step] for step, label in GUEST_STEPS.items()}
    phases["boot to SSH"] -= SSH_POLL_INTERVAL  # counted as the plugin's own work, at worst
    phases["image copies"] = sum(stages.get(step, 0.0) for step in IMAGE_COPIES)
    phases["QEMU start"] = stages.get("StepRun", 0.0)
    phases["SSH polling (at most)"] = SSH_POLL_INTERVAL
    phases["process start, collection, other steps"] = (
        wall
        - sum(stages.values())
        + sum(
            seconds
            for step, seconds in stages.items()
            if step not in GUEST_STEPS and step not in IMAGE_COPIES and step != "StepRun"
        )
    )
    return phases


PACKER_MARKS = (  # boot starts with QEMU: Packer's boot_wait and SSH polls overlap the boot
    ("Starting VM, booting disk image", "boot to SSH"),
    ("Connected to SSH!", "provisioning"),
    ("Gracefully halting virtual machine", "shutdown"),
)


def packer_phases(log: Path, wall: float) -> dict[str, float]:
    """Packer's build from its `-timestamp-ui` lines: each phase ends at the next tool line."""
    marks: list[tuple[float, str]] = []
    for line in log.read_text(errors="replace").splitlines():
        stamp, _, text = line.partition("Z: ")
        try:
            when = datetime.datetime.fromisoformat(stamp).timestamp()
        except ValueError:
            continue
        label = next((name for mark, name in PACKER_MARKS if mark in text), None)
        if label is not None:
            marks.append((when, label))
        elif text.startswith("==> ") and marks and marks[-1][1] == "shutdown":
            marks.append((when, "after shutdown"))
    times = dict((label, when) for when, label in marks)
    order = [label for _, label in PACKER_MARKS] + ["after shutdown"]
    if any(label not in times for label in order):
        sys.exit(f"{log}: could not find Packer's phases; found {sorted(times)}")
    phases = {label: times[order[i + 1]] - times[label] for i, label in enumerate(order[:-1])}
    phases["Packer's own work"] = wall - sum(phases.values())
    return phases


def print_breakdown(
    plugin: list[dict[str, float]], packer: list[dict[str, float]], walls: dict[str, float]
) -> None:
    """Median of each phase, for both tools, and the share of the plugin's own work."""

    def median(runs: list[dict[str, float]], key: str) -> float | None:
        values = [run[key] for run in runs if key in run]
        return statistics.median(values) if values else None

    print()
    print("where a build's time goes (medians):")
    print(f"  {'':44}{'pytest-imagebuild':>18}{'packer 1.6.6':>14}")
    keys = list(PHASES) + [key for key in plugin[0] if key not in PHASES]
    keys += [key for key in packer[0] if key not in keys]
    for key in keys:
        kind = "guest" if key in PHASES else "tool"
        cells = []
        for runs in (plugin, packer):
            value = median(runs, key)
            cells.append("" if value is None else f"{value:.1f} s")
        print(f"  {key + ' (' + kind + ')':44}{cells[0]:>18}{cells[1]:>14}")
    print(
        "  (Packer's boot to SSH includes its own SSH polling, every 5 s; its phases are read "
        "from whole-second timestamps)"
    )
    own = statistics.median([sum(v for k, v in run.items() if k not in PHASES) for run in plugin])
    share = own / walls["plugin"]
    verdict = "met" if share <= GOAL_OVERHEAD else "NOT met"
    print(
        f"the plugin's own work: {own:.1f} s of {walls['plugin']:.1f} s, {share:.1%} "
        f"(goal <= {GOAL_OVERHEAD:.0%}: {verdict})"
    )


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
    print(describe_machine())
    template = Path(args.template).resolve()
    smoke = template.parent / f"test_{template.stem.replace('-', '_')}.py"
    if not shutil.which("packer"):
        sys.exit("packer is not installed (Debian package packer).")
    work = Path(tempfile.mkdtemp(prefix="qemu-bench-"))
    env = {**os.environ, "CHECKPOINT_DISABLE": "1", "PACKER_NO_COLOR": "1"}
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # as a user's runs have it: bytecode cached
    env["PYTHONPYCACHEPREFIX"] = str(work / "pycache")
    variables = [
        ("accelerator", args.accelerator),
        *seed_variables(work, template, "debian"),
    ]
    plugin_vars = [part for name, value in variables for part in ("--image-var", f"{name}={value}")]
    packer_vars = [part for name, value in variables for part in ("-var", f"{name}={value}")]
    pytest = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"]
    times: dict[str, list[float]] = {"plugin": [], "packer": []}
    phases: dict[str, list[dict[str, float]]] = {"plugin": [], "packer": []}
    try:
        warm_up = [*pytest, "--image-template", str(template), str(template), "-k", "validate"]
        timed([*warm_up, *plugin_vars], REPO, work / "warm-up.log", env)  # fills the cache
        for run in range(1, args.runs + 1):
            base = work / f"plugin-{run}"
            seconds = timed(
                [
                    *pytest,
                    f"--basetemp={base}",
                    f"--junitxml={work / f'plugin-{run}.xml'}",
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
            phases["plugin"].append(plugin_phases(work / f"plugin-{run}.xml", seconds))
            print(f"run {run}: pytest-imagebuild build {seconds:6.1f} s", flush=True)
            cwd = work / f"packer-{run}"
            cwd.mkdir()
            command = ["packer", "build", "-color=false", "-timestamp-ui", *packer_vars]
            seconds = timed([*command, str(template)], cwd, work / f"packer-{run}.log", env)
            times["packer"].append(seconds)
            phases["packer"].append(packer_phases(work / f"packer-{run}.log", seconds))
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
    verdict = "met" if ratio <= GOAL_RATIO else "NOT met"
    print(f"ratio pytest-imagebuild / packer: {ratio:.2f} (goal <= {GOAL_RATIO:.1f}: {verdict})")
    if cycles:
        cycle = statistics.median(cycles)
        print(f"median full cycle (build, boot, smoke tests, teardown): {cycle:.1f} s")
    print_breakdown(phases["plugin"], phases["packer"], {"plugin": plugin, "packer": packer})


if __name__ == "__main__":
    main()
