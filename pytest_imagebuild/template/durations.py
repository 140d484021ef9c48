"""Go duration strings ("1h30m", "500ms"), as Packer accepts them for every timeout."""

from __future__ import annotations

import re

_UNITS = {
    "ns": 1e-9,
    "us": 1e-6,
    "µs": 1e-6,
    "μs": 1e-6,
    "ms": 1e-3,
    "s": 1.0,
    "m": 60.0,
    "h": 3600.0,
}
_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)")


def parse_duration(text: str | float) -> float:
    """Seconds in a Go duration; ValueError with Go's wording when it is not one.

    A bare JSON number is nanoseconds, as Go's decoder reads it.
    """
    if isinstance(text, (int, float)) and not isinstance(text, bool):
        return text / 1e9
    original = text
    text = text.strip()
    sign = -1.0 if text.startswith("-") else 1.0
    text = text.lstrip("+-")
    if text == "0":
        return 0.0
    total, pos = 0.0, 0
    while pos < len(text):
        match = _PART.match(text, pos)
        if not match:
            if re.fullmatch(r"[\d.]+", text[pos:]):
                raise ValueError(f'time: missing unit in duration "{original}"')
            raise ValueError(f'time: invalid duration "{original}"')
        total += float(match.group(1)) * _UNITS[match.group(2)]
        pos = match.end()
    if not text:
        raise ValueError(f'time: invalid duration "{original}"')
    return sign * total
