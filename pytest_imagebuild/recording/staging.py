"""A recording never replaces good cassettes unless it succeeded.

While a session records, cassettes are written to a hidden folder beside their build's folder
(``cassettes/<template>/.<build>.partial/``). When the session ends, each build folder whose
recordings (build, launch, tests, teardown) all succeeded gets its new cassettes moved into
place; after any failure the old cassettes stay as they were, none replaced, and the partial
recording is kept where the session summary says. The hidden name is one ``safepath.component``
never produces, so it cannot be another build's folder.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path


def staging_folder(folder: Path) -> Path:
    """Where recordings of one build folder wait: hidden, beside it, one per xdist worker."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    return folder.parent / f".{folder.name}.partial{'-' + worker if worker else ''}"


def is_staging(path: Path) -> bool:
    return path.name.startswith(".")


@dataclass
class StagedCassettes:
    """The build folders this session records into, and whether each recording succeeded."""

    succeeded: dict[Path, bool] = field(default_factory=dict)

    def begin(self, cassette: Path) -> None:
        """A recording into this cassette's folder starts; a stale partial one is dropped."""
        folder = cassette.parent
        if folder not in self.succeeded:
            shutil.rmtree(staging_folder(folder), ignore_errors=True)
            self.succeeded[folder] = True

    def failed(self, cassette: Path) -> None:
        self.succeeded[cassette.parent] = False

    def staged(self, cassette: Path) -> Path:
        """Where a recorded cassette is saved until the session ends."""
        return staging_folder(cassette.parent) / cassette.name

    def finish(self) -> list[str]:
        """Move each successful recording into place; one line per folder left unchanged."""
        notes = []
        for folder, ok in self.succeeded.items():
            stage = staging_folder(folder)
            if not stage.is_dir():
                continue
            if not ok:
                notes.append(
                    f"{folder}: the recording failed, so its cassettes were left as they were; "
                    f"the partial recording is in {stage}"
                )
                continue
            folder.mkdir(parents=True, exist_ok=True)
            for cassette in sorted(stage.iterdir()):
                os.replace(cassette, folder / cassette.name)
            shutil.rmtree(stage, ignore_errors=True)
        self.succeeded.clear()
        return notes
