"""Options Packer honours that a builder here cannot: one wording for validate's warning, for
the build's refusal, and for options a builder goes without because they change only how
Packer works. A template is never accepted and then built as something else."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from ..errors import BuildError, Caveat
from .jsonsource import JsonPath

# (keys, what they ask for): any of the keys set means the builder cannot do what is asked.
UnsupportedTable = Sequence[tuple[tuple[str, ...], str]]
Report = Callable[[JsonPath, str], None]


def is_given(value: Any) -> bool:
    """Set to something: not missing, empty or false (Packer's zero values)."""
    if isinstance(value, str) and value.strip().lower() in ("false", "0"):
        return False
    return value not in (None, "", [], {}, False, 0)


def table_keys(table: UnsupportedTable) -> tuple[str, ...]:
    return tuple(key for keys, _ in table for key in keys)


def unsupported_in(config: dict[str, Any], table: UnsupportedTable) -> list[str]:
    """``"key, key (what they ask for)"`` for each row of ``table`` the template uses."""
    found = []
    for keys, what in table:
        used = [key for key in keys if is_given(config.get(key))]
        if used:
            found.append(f"{', '.join(used)} ({what})")
    return found


def warn(
    config: dict[str, Any],
    path: JsonPath,
    report: Report,
    builder: str,
    missing: list[str],
    ignored: Iterable[str],
    stops: str,
) -> None:
    """Validate's warnings: Packer accepts these templates, a build here refuses or ignores."""
    if missing:
        report(
            path,
            Caveat(
                f"uses what pytest-imagebuild's {builder} builder does not support: "
                + "; ".join(missing)
                + f"; a build here stops {stops}."
            ),
        )
    used = [key for key in ignored if is_given(config.get(key))]
    if used:
        report(
            path,
            Caveat(
                f"{', '.join(used)}: ignored by pytest-imagebuild's {builder} builder (they "
                "change how Packer works, not the image)."
            ),
        )


def refusal(builder: str, missing: list[str], nothing: str) -> BuildError:
    """The build's error, raised before it starts anything."""
    return BuildError(
        f"{builder}: pytest-imagebuild's {builder} builder does not support "
        + "; ".join(missing)
        + f". {nothing}"
    )
