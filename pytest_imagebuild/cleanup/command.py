"""The janitor as a command: shared by ``python -m pytest_imagebuild janitor`` and pytest's
``--image-janitor``, so both print and exit alike."""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass
from typing import TextIO

from ..catalogue import catalogue
from ..errors import ImagebuildError
from ..template.durations import parse_duration
from .janitor import Janitor
from .journal import checked_state_dir, journal_dir
from .summary import render


@dataclass(frozen=True)
class JanitorRequest:
    yes: bool = False
    older_than: str = ""
    state_dir: str = ""
    settings: dict[str, dict[str, str]] | None = None  # by provider; None: the environment


def older_than_seconds(text: str) -> float | None:
    if not text:
        return None
    try:
        seconds = parse_duration(text)
    except ValueError:
        seconds = -1.0
    if seconds < 0:
        raise ImagebuildError(
            f"--older-than {text!r} is not a duration; write it like 30m, 2h or 1h30m."
        )
    return seconds


def run_janitor(request: JanitorRequest, out: TextIO | None = None) -> int:
    """List (or with yes, delete) leftovers; 0 when nothing failed, 1 otherwise."""
    out = out or sys.stdout
    root = checked_state_dir(request.state_dir or None)
    settings = request.settings
    if settings is None:  # as a test run would read them: the providers' option defaults
        settings = catalogue().provider_settings(None)
    janitor = Janitor(root, older_than_seconds(request.older_than), settings)
    survey = janitor.survey()
    if request.yes:
        janitor.remove(survey)
    print(render(survey, time.time(), request.yes, str(journal_dir(root))), file=out)
    return 1 if survey.errors else 0
