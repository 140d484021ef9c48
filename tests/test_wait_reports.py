"""A wait for a machine says how it goes (attempts, last error) every 15 s, not silence."""

from __future__ import annotations

import json
import socket

import pytest

from pytest_imagebuild.clock import VirtualClock
from pytest_imagebuild.communicators.base import wait_until_ready
from pytest_imagebuild.communicators.wait_reports import reporting_waits
from pytest_imagebuild.errors import BuildError


def test_a_long_wait_reports_attempts_and_the_last_error_every_15_seconds():
    lines: list[str] = []
    clock = VirtualClock()
    with reporting_waits(lines.append), pytest.raises(BuildError, match="Timed out after 60s"):
        wait_until_ready(
            "SSH on 10.0.0.9:22",
            60,
            lambda left: "connection refused",
            clock=clock,
            poll_interval=1.0,
        )
    assert len(lines) == 3  # at 15, 30 and 45 s; the timeout itself says the rest
    assert lines[0] == (
        "Waiting for SSH on 10.0.0.9:22... 15s, attempt 16, last error: connection refused"
    )


def test_a_quick_wait_says_nothing_more():
    lines: list[str] = []
    clock = VirtualClock()
    answers = iter(["connection refused", None])
    with reporting_waits(lines.append):
        wait_until_ready("SSH", 60, lambda left: next(answers), clock=clock, poll_interval=1.0)
    assert lines == []


def test_a_build_waiting_for_ssh_shows_its_attempts(pytester):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # nothing listens there once closed
    builder = {
        "type": "null",
        "ssh_host": "127.0.0.1",
        "ssh_port": port,
        "ssh_username": "nobody",
        "ssh_password": "not-a-secret-here",
        "ssh_timeout": "17s",
    }
    (pytester.path / "t.json").write_text(json.dumps({"builders": [builder]}))
    result = pytester.runpytest_subprocess("--image-template", "t.json", "-q")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(
        [
            f"[[]imagebuild *s[]] null: Waiting for SSH on 127.0.0.1:{port}* 1?s, attempt *, "
            "last error: *"
        ]
    )
