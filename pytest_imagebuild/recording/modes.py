"""Record modes, named and behaving as in vcrpy and pytest-recording."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # vcr is imported when a cassette is used: not by a validate-only run
    from vcr.record_mode import RecordMode

from ..errors import ImagebuildError

MODES = ("none", "once", "new_episodes", "all", "rewrite")
RECORDING_MODES = ("once", "new_episodes", "all", "rewrite")
# Modes that change or replace cassettes that exist: refused without credentials.
REWRITING_MODES = ("new_episodes", "all", "rewrite")


def check_mode(mode: str) -> str:
    if mode and mode not in MODES:
        raise ImagebuildError(f"--image-record-mode={mode!r} is not one of {', '.join(MODES)}")
    return mode



def effective_mode(requested: str, cassette: Path, can_record: bool) -> str:
    """An explicit mode wins; otherwise replay what exists, and record only with credentials."""
    if requested:
        return requested
    if cassette.exists() or not can_record:
        return "none"
    return "once"


def vcr_mode(mode: str) -> RecordMode:
    from vcr.record_mode import RecordMode

    return RecordMode.ALL if mode == "rewrite" else RecordMode(mode)


def replays_only(mode: str, cassette: Path) -> bool:
    """Every request will come from the cassette, so waiting is pointless."""
    return mode == "none" or (mode == "once" and cassette.exists())
