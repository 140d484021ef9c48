"""What binds the journal to one build or one launched VM.

Builders only say ``ctx.note_created(kind, name)``; this adds what the janitor needs later
(where the provider's resource lives, which template) and remembers what was made, so a
launcher whose teardown succeeded can release everything it recorded without each launcher doing so.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .journal import Journal

LOCAL_KINDS = frozenset({"path", "process"})  # this machine's; the janitor's own kinds


@dataclass
class BuildJournal:
    """The journal as one build or launch writes it."""

    journal: Journal | None
    data: dict[str, str] = field(default_factory=dict)  # the provider's, for its own kinds
    about: dict[str, str] = field(default_factory=dict)
    made: list[tuple[str, str]] = field(default_factory=list)

    def created(self, kind: str, name: str) -> None:
        self.made.append((kind, name))
        if self.journal is not None:
            extra = self.data if kind not in LOCAL_KINDS else {}
            self.journal.created(kind, name, **extra, **self.about)

    def released(self, kind: str, name: str) -> None:
        if self.journal is not None:
            self.journal.released(kind, name)

    def release_all(self) -> None:
        for kind, name in reversed(self.made):
            self.released(kind, name)
        self.made.clear()



class TrackedLauncher:
    """A launcher whose successful teardown marks what it created as released."""

    def __init__(self, launcher: Any, recorder: BuildJournal) -> None:
        self.launcher = launcher
        self.recorder = recorder

    def launch(self) -> Any:
        return self.launcher.launch()

    def teardown(self) -> None:
        self.launcher.teardown()
        self.recorder.release_all()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.launcher, name)
