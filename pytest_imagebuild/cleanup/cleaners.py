"""What a provider's janitor looks like to the generic one.

The janitor reads journals and decides what is left behind (a run that ended, or is too old);
only a provider knows whether one of its resources still exists, how to find resources a
crashed CI runner never journaled here (Azure: by tag), and how to delete one. Each provider
registers a class with this shape in the catalogue for the journal kinds it writes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from .journal import Entry


@dataclass
class Found:
    """A resource a cleaner found by itself, with the run that tagged it."""

    kind: str
    name: str
    run_id: str
    since: float | None
    where: str
    handle: Any = None  # what the cleaner needs to remove it


@dataclass
class Existence:
    """Whether a journaled resource is still there, and where it lives (for the table)."""

    exists: bool | None  # None: could not tell (an error was reported)
    where: str
    note: str = ""  # said once in the janitor's output (e.g. "left alone: not ours")


class Cleaner(Protocol):
    def __init__(self, settings: Mapping[str, str], env: Mapping[str, str] | None) -> None: ...

    def check(self, entry: Entry) -> Existence:
        """Raises ImagebuildError when the provider cannot be asked."""
        ...

    def scan(self, report: Callable[[str], None]) -> list[Found]:
        """Resources tagged by any run, in every place checked so far (and the configured one);
        failures go to report, one paragraph each."""
        ...

    def begin_remove(self, kind: str, name: str, entry: Entry | None, handle: Any) -> Any:
        """Start deleting; returns a token for ``finish_remove``."""
        ...

    def finish_remove(self, kind: str, name: str, token: Any) -> None: ...
