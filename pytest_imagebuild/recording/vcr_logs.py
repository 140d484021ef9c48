"""vcrpy's own log kept quiet unless asked for.

At INFO vcrpy logs every recorded request and response whole ("Appending request ... and
response ..."), and at DEBUG every comparison of a live request with each recorded one:
thousands of lines of HTTP bodies that bury a build's progress under ``--log-cli-level=INFO``.
The plugin sets the ``vcr`` logger to WARNING; ``image_vcr_log_level`` (ini) asks for more.
Whatever the level, the log-record filter of ``secrets.py`` masks secrets in those lines.
"""

from __future__ import annotations

import logging

import pytest

INI_KEY = "image_vcr_log_level"
DEFAULT_LEVEL = "WARNING"
_PREVIOUS = pytest.StashKey[int]()


def add_ini(parser: pytest.Parser) -> None:
    parser.addini(
        INI_KEY,
        default=DEFAULT_LEVEL,
        help="level of vcrpy's own log (its INFO and DEBUG lines hold whole HTTP bodies); "
        f"default {DEFAULT_LEVEL}.",
    )


def _level(config: pytest.Config) -> int:
    name = str(config.getini(INI_KEY) or DEFAULT_LEVEL).strip().upper()
    level = logging.getLevelName(name)
    if not isinstance(level, int):
        raise pytest.UsageError(
            f"{INI_KEY} = {name!r} is not a log level: use DEBUG, INFO, WARNING, ERROR or "
            "CRITICAL."
        )
    return level


def configure(config: pytest.Config) -> None:
    logger = logging.getLogger("vcr")
    level = _level(config)
    config.stash[_PREVIOUS] = logger.level
    logger.setLevel(level)


def unconfigure(config: pytest.Config) -> None:
    previous = config.stash.get(_PREVIOUS, None)
    if previous is not None:
        logging.getLogger("vcr").setLevel(previous)
