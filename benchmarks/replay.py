"""Main job recorded live against the loopback Azure (Azure-like delays) vs replayed offline.

    python benchmarks/replay.py [--runs 3]

Prints the wall time of the recording run, the median of the replays (no credentials, network
blocked), and the ratio. The goal is a replay under 10 s.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from standin import start_standin  # noqa: E402
from standin.record_examples import (  # noqa: E402
    offline_environment,
    run_main_job,
    standin_environment,
)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="replays to time")
    args = parser.parse_args()
    cassettes = Path(tempfile.mkdtemp(prefix="imagebuild-replay-bench-"))
    with start_standin() as standin:
        code, recorded, output = run_main_job(standin_environment(standin), cassettes, "rewrite")
    if code != 0:
        print(output)
        print(f"recording failed (exit {code})")
        return 1
    offline = offline_environment()
    replays = []
    for _ in range(args.runs):
        code, seconds, output = run_main_job(offline, cassettes, "none", "--image-block-network")
        if code != 0:
            print(output)
            print(f"replay failed (exit {code})")
            return 1
        replays.append(seconds)
    median = statistics.median(replays)
    print(f"{'run':<34}{'wall s':>10}")
    print(f"{'recorded live (loopback Azure)':<34}{recorded:>10.1f}")
    print(f"{'replayed offline (median of ' + str(args.runs) + ')':<34}{median:>10.1f}")
    print(f"speedup: {recorded / median:.1f}x; replay under 10 s: {'yes' if median < 10 else 'NO'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
