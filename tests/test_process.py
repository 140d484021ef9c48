"""The process helper: logging with secrets masked, timeouts that kill whole groups, errors."""

from __future__ import annotations

import logging
import os
import signal
import sys
import time
from pathlib import Path

import pytest

from pytest_imagebuild import process
from pytest_imagebuild.errors import BuildError


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie is dead for our purpose; only its parent can reap it.
    state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    return state != "Z"


def wait_dead(pid: int, timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not alive(pid):
            return True
        time.sleep(0.05)
    return False


def test_run_returns_output_and_logs_command(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="pytest_imagebuild")
    result = process.run(["sh", "-c", "echo out; echo err >&2"], timeout=10)
    assert result.returncode == 0
    assert result.stdout == "out\n"
    assert result.stderr == "err\n"
    assert "running: sh -c 'echo out; echo err >&2'" in caplog.text


def test_run_feeds_input() -> None:
    assert process.run(["cat"], timeout=10, input="hello").stdout == "hello"


def test_nonzero_exit_is_one_paragraph_with_command_code_and_stderr_tail() -> None:
    script = "for i in $(seq 1 40); do echo line$i >&2; done; exit 3"
    with pytest.raises(BuildError) as caught:
        process.run(["sh", "-c", script], timeout=10)
    message = str(caught.value)
    assert message.startswith("Command `sh -c ")
    assert "exited with code 3" in message
    assert "line40" in message
    assert "line25" not in message  # only the tail
    assert "\n\n" not in message


def test_check_false_returns_the_failure() -> None:
    result = process.run(["sh", "-c", "exit 4"], timeout=10, check=False)
    assert result.returncode == 4


def test_secrets_are_masked_in_log_and_error(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="pytest_imagebuild")
    with pytest.raises(BuildError) as caught:
        process.run(
            ["sh", "-c", 'echo "token hunter2 rejected" >&2; exit 1', "hunter2"],
            timeout=10,
            secrets=["hunter2", ""],
        )
    assert "hunter2" not in str(caught.value)
    assert "token <sensitive> rejected" in str(caught.value)
    assert "hunter2" not in caplog.text
    assert "<sensitive>" in caplog.text


def test_timeout_kills_the_whole_group(tmp_path: Path) -> None:
    pidfile = tmp_path / "child.pid"
    script = f"sleep 60 & echo $! > {pidfile}; echo started; wait"
    started = time.monotonic()
    with pytest.raises(BuildError) as caught:
        process.run(["sh", "-c", script], timeout=1)
    assert time.monotonic() - started < 10
    assert "timed out after 1s" in str(caught.value)
    assert "started" in str(caught.value)
    assert wait_dead(int(pidfile.read_text()))


def test_missing_program_is_a_build_error() -> None:
    with pytest.raises(BuildError, match="Cannot start `no-such-program-xyz --flag`"):
        process.run(["no-such-program-xyz", "--flag"], timeout=5)


def test_spawn_own_group_log_file_and_masked_log(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="pytest_imagebuild")
    log_path = tmp_path / "out.log"
    proc = process.spawn(
        ["sh", "-c", "echo to-log; echo s3cret >&2; sleep 60", "s3cret"],
        secrets=["s3cret"],
        log_path=log_path,
    )
    try:
        assert os.getpgid(proc.pid) == proc.pid
        assert os.getsid(proc.pid) == proc.pid
        deadline = time.monotonic() + 5
        while "s3cret" not in log_path.read_text() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert log_path.read_text() == "to-log\ns3cret\n"  # the file is the process's own
        assert "s3cret" not in caplog.text
    finally:
        code = process.terminate(proc, grace=2)
    assert code == -signal.SIGTERM
    assert not alive(proc.pid)


def test_terminate_escalates_to_sigkill_and_reaches_grandchildren(tmp_path: Path) -> None:
    pidfile = tmp_path / "grandchild.pid"
    script = f"trap '' TERM; sleep 60 & echo $! > {pidfile}; while :; do sleep 0.1; done"
    proc = process.spawn(["sh", "-c", script])
    deadline = time.monotonic() + 5
    while not pidfile.exists() or not pidfile.read_text().strip():
        assert time.monotonic() < deadline
        time.sleep(0.05)
    grandchild = int(pidfile.read_text())
    started = time.monotonic()
    code = process.terminate(proc, grace=0.5)
    assert code == -signal.SIGKILL
    assert 0.4 < time.monotonic() - started < 5
    assert wait_dead(grandchild)


def test_terminate_after_exit_returns_code() -> None:
    proc = process.spawn([sys.executable, "-c", "raise SystemExit(7)"])
    proc.wait(10)
    assert process.terminate(proc) == 7


def test_exit_description() -> None:
    assert process.exit_description(2) == "exited with code 2"
    assert process.exit_description(-9) == "was killed by signal 9 (SIGKILL)"


def test_which_names_the_package() -> None:
    assert process.which("sh", "dash").endswith("/sh")
    with pytest.raises(BuildError, match="Debian package nope-pkg"):
        process.which("no-such-program-xyz", "nope-pkg")
