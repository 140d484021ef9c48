"""RFC 3339 times as Go reads them, the same on Python 3.10 as on 3.13."""

from datetime import datetime, timedelta, timezone

import pytest

from pytest_imagebuild import rfc3339


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2030-12-31T00:00:00Z", datetime(2030, 12, 31, tzinfo=timezone.utc)),
        ("2030-12-31T23:59:59.5Z", datetime(2030, 12, 31, 23, 59, 59, 500000, timezone.utc)),
        (
            "2030-12-31T23:59:59.123456789+02:00",
            datetime(2030, 12, 31, 23, 59, 59, 123456, timezone(timedelta(hours=2))),
        ),
        (
            "2024-02-29T12:00:00-05:30",
            datetime(2024, 2, 29, 12, tzinfo=timezone(-timedelta(hours=5, minutes=30))),
        ),
    ],
)
def test_rfc3339_times_parse_with_their_offset(text: str, expected: datetime) -> None:
    assert rfc3339.parse(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "2030-12-31T00:00:00",
        "2030-12-31",
        "next year",
        "2030-13-01T00:00:00Z",
        "2030-12-31T00:00:00+25:00",
    ],
)
def test_what_go_refuses_is_refused(text: str) -> None:
    with pytest.raises(ValueError):
        rfc3339.parse(text)
