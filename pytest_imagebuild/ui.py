"""Build output in Packer's shape ("==> name: ..."), with every secret masked before printing."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TextIO

from .secrets import hide_in_logs, mask

log = logging.getLogger("pytest_imagebuild")


@dataclass
class BuildUI:
    """Prints a build's progress; the only way build code talks to the user."""

    name: str
    secrets: set[str] = field(default_factory=set)
    stream: TextIO | None = None
    on_stage: Callable[[str], None] | None = None

    def __post_init__(self) -> None:
        hide_in_logs(*self.secrets)  # a build's secrets stay out of every library's log too

    def _emit(self, prefix: str, text: str) -> None:
        text = mask(text, self.secrets)
        for line in text.splitlines() or [""]:
            formatted = f"{prefix}{self.name}: {line}"
            log.info(formatted)
            print(formatted, file=self.stream or sys.stdout, flush=True)

    def say(self, text: str) -> None:
        """A stage starting: ``==> name: text``; also shown live on the terminal."""
        self._emit("==> ", text)
        if self.on_stage:
            self.on_stage(f"{self.name}: {mask(text, self.secrets)}")

    def message(self, text: str) -> None:
        """Detail within a stage: ``    name: text``."""
        self._emit("    ", text)

    def error(self, text: str) -> None:
        self._emit("==> ", f"Error: {text}")

    def add_secret(self, value: str) -> None:
        if value:
            self.secrets.add(value)
            hide_in_logs(value)
