"""Build each image once per session even across pytest-xdist workers.

The first worker to need an image builds it while holding a file lock; the others wait on
the lock and then read the artifact (or the build's error) that it left beside the lock.
"""

from __future__ import annotations

import pickle
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from filelock import FileLock

from .errors import ImagebuildError
from .multistep import Artifact


@dataclass
class SharedBuilds:
    root: Path | None = None  # None (and no locate): a single process, nothing to share
    worker: str = ""
    locate: Callable[[], Path] | None = None  # finds root on first use (after configure)

    def once(self, key: str, build: Callable[[], Artifact]) -> Artifact:
        if self.root is None and self.locate is not None:
            self.root = self.locate()
        if self.root is None:
            return build()
        self.root.mkdir(parents=True, exist_ok=True)
        result = self.root / f"{key}.result"
        with FileLock(str(self.root / f"{key}.lock")):
            if result.exists():
                self._log(f"{self.worker} reused {key}")
                outcome = pickle.loads(result.read_bytes())
                if isinstance(outcome, str):
                    raise ImagebuildError(outcome)
                return outcome
            self._log(f"{self.worker} builds {key}")
            try:
                artifact = build()
            except ImagebuildError as error:
                result.write_bytes(pickle.dumps(f"{error} (built by xdist worker {self.worker})"))
                raise
            result.write_bytes(pickle.dumps(artifact))
            return artifact

    def _log(self, line: str) -> None:
        """builds.log in the shared directory: who built and who reused each image."""
        assert self.root is not None
        with open(self.root / "builds.log", "a", encoding="utf-8") as log:
            log.write(line + "\n")
