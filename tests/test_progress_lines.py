"""Builds say what they are doing: stage lines with elapsed time under -q, and under xdist on
the controller with the id of the worker that ran the build."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import threading

import pytest

TEMPLATE = {
    "builders": [{"type": "null", "communicator": "none"}],
    "provisioners": [{"type": "shell-local", "inline": ["echo provisioned"]}],
}


@pytest.fixture
def template(pytester):
    (pytester.path / "t.json").write_text(json.dumps(TEMPLATE))
    return pytester


def test_stage_lines_show_under_quiet(template):
    result = template.runpytest_subprocess("--image-template", "t.json", "-q")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(["[[]imagebuild *.?s[]] null: Provisioning with shell-local*"])


def test_double_quiet_silences_them(template):
    result = template.runpytest_subprocess("--image-template", "t.json", "-qq")
    assert result.ret == 0
    result.stdout.no_fnmatch_line("[[]imagebuild*")


def test_xdist_workers_stage_lines_reach_the_controller_with_the_worker_id(template):
    pytest.importorskip("xdist")
    result = template.runpytest_subprocess("--image-template", "t.json", "-n", "2")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(
        ["[[]imagebuild gw[01] *.?s[]] null: Provisioning with shell-local*"]
    )


def test_xdist_stage_lines_arrive_while_the_build_still_runs(pytester, tmp_path):
    """The build waits for a file the test writes only once the controller has printed the
    build's provisioning line: lines that came only with the finished build's report would
    leave it waiting until its deadline, and the run would fail."""
    pytest.importorskip("xdist")
    flag = tmp_path / "seen"
    waiting = {
        "builders": [{"type": "null", "communicator": "none"}],
        "provisioners": [
            {
                "type": "shell-local",
                "inline": [
                    f"for i in $(seq 600); do [ -f {flag} ] && exit 0; sleep 0.2; done; exit 1"
                ],
            }
        ],
    }
    (pytester.path / "t.json").write_text(json.dumps(waiting))
    command = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-n", "1"]
    proc = subprocess.Popen(
        [*command, "--image-template", "t.json", "-k", "build"],
        cwd=pytester.path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    seen = []
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            seen.append(line)
            if re.match(r"\[imagebuild gw0 +\S+s\] null: Provisioning with shell-local", line):
                flag.touch()
                break
        rest = proc.communicate(timeout=300)[0]
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert flag.exists(), "".join(seen)
    assert proc.returncode == 0, "".join(seen) + rest


def test_relay_ignores_garbage_and_a_worker_without_it_keeps_its_lines(tmp_path):
    from pytest_imagebuild.progress_relay import RelayClient, RelayServer

    shown = []
    arrived = threading.Event()
    server = RelayServer(lambda *message: (shown.append(message), arrived.set()))
    try:
        with socket.socket(socket.AF_UNIX) as stranger:
            stranger.connect(server.path)
            stranger.sendall(b"not json\n{}\n")
        client = RelayClient(server.path, "gw3")
        assert client.send("  1.0s", "q1: Starting VM")
        assert arrived.wait(30)
        assert shown == [("gw3", "  1.0s", "q1: Starting VM")]
        client.close()
    finally:
        server.close()
    assert not os.path.exists(server.path)
    assert not RelayClient(str(tmp_path / "gone.sock"), "gw0").send("0.0s", "x")
