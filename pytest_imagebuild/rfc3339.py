"""RFC 3339 times, as Go's ``time.RFC3339`` reads them: ``2030-12-31T23:59:59.5Z``.

One parser for every place a template or a tag holds such a time. ``datetime.fromisoformat``
is laxer (no offset needed) and, before Python 3.11, refuses fractions other than 3 or 6
digits and a ``Z``.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

_RFC3339 = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(Z|[+-]\d{2}:\d{2})"
)


def parse(text: str) -> datetime:
    """An aware datetime; ValueError when ``text`` is not an RFC 3339 time."""
    found = _RFC3339.fullmatch(text.strip())
    if not found:
        raise ValueError(f"not an RFC 3339 time: {text!r}")
    year, month, day, hour, minute, second, fraction, offset = found.groups()
    if offset == "Z":
        zone = timezone.utc
    else:
        sign = -1 if offset[0] == "-" else 1
        hours, minutes = int(offset[1:3]), int(offset[4:6])
        if hours > 23 or minutes > 59:
            raise ValueError(f"not an RFC 3339 time: {text!r}")
        zone = timezone(sign * timedelta(hours=hours, minutes=minutes))
    micro = int((fraction or "0")[:6].ljust(6, "0"))
    return datetime(
        int(year), int(month), int(day), int(hour), int(minute), int(second), micro, zone
    )
