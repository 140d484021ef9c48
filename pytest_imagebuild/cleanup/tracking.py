"""What binds the journal to one build or one launched VM.

Builders only say ``ctx.record_created(kind, name)``; this adds what the janitor needs later
(which Azure, which template) and remembers what was made, so a launcher whose teardown
succeeded can release everything it recorded without each launcher doing so.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .journal import Journal


@dataclass
class Recorder:
    journal: Journal | None
    azure: dict[str, str] = field(default_factory=dict)
    about: dict[str, str] = field(default_factory=dict)
    made: list[tuple[str, str]] = field(default_factory=list)

    def created(self, kind: str, name: str) -> None:
        self.made.append((kind, name))
        if self.journal is not None:
            extra = self.azure if kind.startswith("azure-") else {}
            self.journal.created(kind, name, **extra, **self.about)

    def released(self, kind: str, name: str) -> None:
        if self.journal is not None:
            self.journal.released(kind, name)

    def release_all(self) -> None:
        for kind, name in reversed(self.made):
            self.released(kind, name)
        self.made.clear()


def azure_data(config: dict[str, Any], endpoints: Any) -> dict[str, str]:
    """Where the build's Azure lives: cloud name and endpoint overrides, never credentials."""
    return {
        "cloud": str(config.get("cloud_environment_name") or "Public"),
        "arm_url": str(getattr(endpoints, "arm_url", "") or ""),
        "authority": str(getattr(endpoints, "authority", "") or ""),
        "ca_bundle": str(getattr(endpoints, "ca_bundle", "") or ""),
    }


class TrackedLauncher:
    """A launcher whose successful teardown marks what it created as released."""

    def __init__(self, launcher: Any, recorder: Recorder) -> None:
        self.launcher = launcher
        self.recorder = recorder

    def launch(self) -> Any:
        return self.launcher.launch()

    def teardown(self) -> None:
        self.launcher.teardown()
        self.recorder.release_all()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.launcher, name)
