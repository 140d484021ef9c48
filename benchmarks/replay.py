"""The main job replayed offline: wall time, where it goes, and the live recording it replays.

    python benchmarks/replay.py [--runs 3] [--shipped] [--compare CHECKOUT]

Records examples/webserver.json against the loopback Azure (Azure-like delays), or with
--shipped uses the cassettes in cassettes/, then replays the main job
(`pytest --image-template examples/webserver.json`, no credentials, network blocked) and
prints the median wall time of the replays and its phases, from pytest's --durations:

* start-up and exit: the interpreter, pytest and its plugins, until the session starts;
* collection and validate: reading the template, the validate item;
* build replay: the build item (Azure SDK calls and WinRM answered from the cassette);
* launch: the VM fixture the first smoke test sets up; tests: the smoke tests themselves.

A warm-up replay runs first, untimed, with Python's bytecode cache in a temporary folder, as a
user's second run has it. With --compare, another checkout of the project (an older commit)
replays the same cassettes in turn with this one: its median and the ratio are printed.
Goal: the replay under 3.0 s (median).
"""

from __future__ import annotations

import argparse
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.machine import describe_machine  # noqa: E402
from standin import start_standin  # noqa: E402
from standin.record_examples import (  # noqa: E402
    offline_environment,
    run_main_job,
    standin_environment,
)


def replay(checkout: Path, env: dict[str, str], cassettes: Path) -> tuple[int, float, str]:
    """The main job replayed by the plugin of checkout, in that checkout."""
    env = {**env, "PYTHONPATH": str(checkout)}
    command = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q"]
    command += ["--image-template", "examples/webserver.json", "--image-record-mode=none"]
    command += ["-o", f"image_cassette_dir={cassettes}", "--image-block-network"]
    command += ["--durations=0", "--durations-min=0"]
    started = time.monotonic()
    done = subprocess.run(command, cwd=checkout, env=env, capture_output=True, text=True)
    return done.returncode, time.monotonic() - started, done.stdout + done.stderr


GOAL = 3.0
DURATION = re.compile(r"^([\d.]+)s (setup|call|teardown)\s+(\S+)$", re.M)
SESSION = re.compile(r"passed in ([\d.]+)s")
PHASES = ("start-up and exit", "collection and validate", "build replay", "launch", "tests")


def phases(wall: float, output: str) -> dict[str, float]:
    """Seconds per phase of one replay, from its --durations lines and session time."""
    found = SESSION.search(output)
    session = float(found.group(1)) if found else wall
    spent = dict.fromkeys(PHASES, 0.0)
    launched = False
    for seconds, when, item in DURATION.findall(output):
        value = float(seconds)
        if "::build[" in item:
            spent["build replay"] += value
        elif "::validate" in item:
            spent["collection and validate"] += value
        elif when == "setup" and not launched:
            spent["launch"] += value
            launched = True
        else:
            spent["tests"] += value
    spent["collection and validate"] += max(0.0, session - sum(spent.values()))
    spent["start-up and exit"] = max(0.0, wall - session)
    return spent


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="replays to time (3)")
    parser.add_argument("--shipped", action="store_true", help="replay cassettes/ as shipped")
    parser.add_argument("--compare", type=Path, help="another checkout to replay in turn")
    args = parser.parse_args()
    print(describe_machine())
    recorded = None
    if args.shipped:
        cassettes = ROOT / "cassettes"
    else:
        cassettes = Path(tempfile.mkdtemp(prefix="imagebuild-replay-bench-"))
        with start_standin() as standin:
            env = standin_environment(standin)
            code, recorded, output = run_main_job(env, cassettes, "rewrite")
        if code != 0:
            print(output)
            print(f"recording failed (exit {code})")
            return 1
    offline = offline_environment()
    offline.pop("PYTHONDONTWRITEBYTECODE", None)
    offline["PYTHONPYCACHEPREFIX"] = tempfile.mkdtemp(prefix="imagebuild-pycache-")
    replays: list[tuple[float, dict[str, float]]] = []
    others: list[float] = []
    for attempt in range(args.runs + 1):  # the first round fills the bytecode caches
        for checkout in [ROOT, args.compare] if args.compare else [ROOT]:
            code, seconds, output = replay(checkout.resolve(), offline, cassettes)
            if code != 0:
                print(output)
                print(f"replay by {checkout} failed (exit {code})")
                return 1
            if attempt and checkout == ROOT:
                replays.append((seconds, phases(seconds, output)))
            elif attempt:
                others.append(seconds)
    median = statistics.median(seconds for seconds, _ in replays)
    print(f"{'replay':<28}" + "".join(f"{n + 1:>8}" for n in range(len(replays))) + "  median")
    rows = [("wall s", [s for s, _ in replays])]
    rows += [(name, [p[name] for _, p in replays]) for name in PHASES]
    for name, values in rows:
        cells = "".join(f"{value:>8.2f}" for value in values)
        print(f"{name:<28}{cells}{statistics.median(values):>8.2f}")
    if recorded is not None:
        print(
            f"recorded live (loopback Azure, Azure-like delays): {recorded:.1f} s, "
            f"{recorded / median:.1f}x the replay"
        )
    if others:
        other = statistics.median(others)
        print(f"{args.compare} replays in {other:.2f} s (median): {other / median:.2f}x this one")
    print(f"replay median {median:.2f} s; under {GOAL} s: {'yes' if median < GOAL else 'NO'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
