"""What a benchmark ran on: cores, CPU model and load, printed above its figures."""

from __future__ import annotations

import os
from pathlib import Path


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown CPU"


def describe_machine() -> str:
    """One line: cores, CPU model, load averages (other users of a shared machine skew it)."""
    try:
        load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    except OSError:
        load = "unknown"
    return f"machine: {os.cpu_count()} cores, {cpu_model()}, load average {load} (1, 5, 15 min)"
