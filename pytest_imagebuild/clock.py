"""Time as builders see it: real while recording, virtual on replay so waits cost nothing.

Builders, launchers and communicators sleep and measure through a Clock taken from the build
options (``RunOptions.clock``), never through ``time`` directly; recording swaps in a
VirtualClock so polling loops, Retry-After and restart waits take no wall time on replay.
"""

from __future__ import annotations

import time
from typing import Any


class Clock:
    """Wall-clock time."""

    virtual = False

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            time.sleep(seconds)

    def monotonic(self) -> float:
        return time.monotonic()


class VirtualClock(Clock):
    """Sleeping advances a counter instead of waiting; deadlines still expire in order."""

    virtual = True

    def __init__(self) -> None:
        self.slept = 0.0

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            self.slept += seconds

    def monotonic(self) -> float:
        return time.monotonic() + self.slept


REAL_CLOCK = Clock()


def clock_of(options: Any) -> Clock:
    """The clock a build or launch runs on (its RunOptions' clock)."""
    return getattr(options, "clock", None) or REAL_CLOCK
