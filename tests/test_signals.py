"""SIGTERM from a CI runner (or SIGHUP, or Ctrl-C) still runs every cleanup of a build.

A real pytest process runs a build whose step blocks; the test signals it and checks that the
step's cleanup ran, the journal was released, and pytest reported an interrupted run.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pytest_imagebuild.cleanup import signals
from pytest_imagebuild.cleanup.journal import journals

INNER = """
import os, signal, time
from pathlib import Path
from pytest_imagebuild.multistep import BuildContext, run_steps
from pytest_imagebuild.cleanup.resources import BuildJournal
from pytest_imagebuild.ui import BuildUI

WORK = Path(os.environ["WORK"])


class StepBlocked:
    name = "StepBlocked"

    def run(self, ctx):
        ctx.note_created("path", str(WORK / "overlay.qcow2"))
        (WORK / "overlay.qcow2").write_bytes(b"qcow")
        (WORK / "blocked").touch()
        time.sleep(120)

    def cleanup(self, ctx):
        (WORK / "cleaning").touch()
        if os.environ.get("SLOW_CLEANUP"):
            time.sleep(1.5)
        (WORK / "overlay.qcow2").unlink()
        (WORK / "cleaned").touch()


def test_build(imagebuild_store, tmp_path):
    assert type(signal.getsignal(signal.SIGTERM)).__name__ == "_Raiser"
    recorder = BuildJournal(imagebuild_store.journal)
    ctx = BuildContext(None, BuildUI("blocked"), tmp_path)
    ctx.journal, ctx.journal_released = recorder.created, recorder.released
    run_steps(ctx, [StepBlocked()])
"""


def wait_for(path: Path, proc: subprocess.Popen, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, f"{path.name} never appeared"
        time.sleep(0.02)


def start_run(pytester: pytest.Pytester, work: Path, **env: str) -> subprocess.Popen:
    pytester.makepyfile(test_inner=INNER)
    work.mkdir()
    return subprocess.Popen(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-s", "test_inner.py"],
        cwd=pytester.path,
        env={**os.environ, "WORK": str(work), **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.mark.parametrize(
    "signum", [signal.SIGTERM, signal.SIGHUP, signal.SIGINT], ids=["TERM", "HUP", "INT"]
)
def test_a_signal_during_a_blocked_build_step_still_runs_its_cleanup(
    pytester: pytest.Pytester, tmp_path: Path, signum: int
) -> None:
    work, state = tmp_path / "work", tmp_path / "state"
    proc = start_run(pytester, work, IMAGEBUILD_STATE_DIR=str(state))
    wait_for(work / "blocked", proc)
    assert list(journals(state)), "the overlay is journaled before it exists"
    proc.send_signal(signum)
    out, err = proc.communicate(timeout=30)
    assert (work / "cleaned").exists(), out + err
    assert not (work / "overlay.qcow2").exists()
    assert proc.returncode == pytest.ExitCode.INTERRUPTED, out + err
    if signum != signal.SIGINT:
        assert f"received {signal.Signals(signum).name}" in out
    assert list(journals(state)) == [], "released resources leave no journal behind"


@pytest.mark.parametrize(
    ("signum", "warning"),
    [
        (signal.SIGTERM, "SIGTERM received while cleaning up"),
        (signal.SIGINT, signals.CTRL_C_WARNING),
    ],
    ids=["TERM", "INT"],
)
def test_a_second_signal_warns_and_lets_the_cleanup_finish(
    pytester: pytest.Pytester, tmp_path: Path, signum: int, warning: str
) -> None:
    work = tmp_path / "work"
    proc = start_run(pytester, work, IMAGEBUILD_STATE_DIR=str(tmp_path / "state"), SLOW_CLEANUP="1")
    wait_for(work / "blocked", proc)
    proc.send_signal(signum)
    wait_for(work / "cleaning", proc)
    proc.send_signal(signum)
    out, err = proc.communicate(timeout=30)
    assert (work / "cleaned").exists(), out + err
    assert warning in err
    assert proc.returncode == pytest.ExitCode.INTERRUPTED, out + err


def test_a_third_ctrl_c_stops_the_cleanup_and_leaves_it_to_the_janitor(
    pytester: pytest.Pytester, tmp_path: Path
) -> None:
    work, state = tmp_path / "work", tmp_path / "state"
    proc = start_run(pytester, work, IMAGEBUILD_STATE_DIR=str(state), SLOW_CLEANUP="1")
    wait_for(work / "blocked", proc)
    proc.send_signal(signal.SIGINT)
    wait_for(work / "cleaning", proc)
    proc.send_signal(signal.SIGINT)
    time.sleep(0.3)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    assert not (work / "cleaned").exists(), out + err
    assert (work / "overlay.qcow2").exists()
    assert list(journals(state)), "what was left stays in the journal for the janitor"


def test_an_interrupt_whose_traceback_lacks_a_line_number_still_ends_as_interrupted(
    pytester: pytest.Pytester,
) -> None:
    """Python 3.11 can leave such an entry where a signal lands; pytest alone then crashes."""
    pytester.makepyfile(
        """
        import sys, types

        def test_stopped():
            nowhere = types.TracebackType(None, sys._getframe(), 10**6, -1)
            assert nowhere.tb_lineno is None
            raise KeyboardInterrupt().with_traceback(nowhere)
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.INTERRUPTED, result.stdout.str() + result.stderr.str()
    assert "TypeError" not in result.stdout.str() + result.stderr.str()


def test_cleaning_up_leaves_a_foreign_sigint_handler_alone() -> None:
    def mine(signum: int, frame: object) -> None:
        pass

    before = signal.signal(signal.SIGINT, mine)
    try:
        with signals.cleaning_up():
            assert signal.getsignal(signal.SIGINT) is mine
    finally:
        signal.signal(signal.SIGINT, before)


def test_handlers_are_restored_after_the_run(pytester: pytest.Pytester) -> None:
    before = signal.getsignal(signal.SIGTERM)
    pytester.makepyfile(
        """
        import signal
        def test_installed():
            assert type(signal.getsignal(signal.SIGTERM)).__name__ == "_Raiser"
        """
    )
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=1)
    assert signal.getsignal(signal.SIGTERM) is before


def test_sigterm_raises_in_the_main_thread_and_an_ignored_sighup_stays_ignored() -> None:
    before = {s: signal.getsignal(s) for s in (signal.SIGTERM, signal.SIGHUP)}
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    previous = signals.install()
    try:
        assert signal.getsignal(signal.SIGHUP) == signal.SIG_IGN
        with pytest.raises(signals.Terminated, match="received SIGTERM"):
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(5)
    finally:
        signals.restore(previous)
        signal.signal(signal.SIGHUP, before[signal.SIGHUP])
    assert signal.getsignal(signal.SIGTERM) is before[signal.SIGTERM]


def test_sigterm_during_one_cleanup_still_runs_the_others(tmp_path: Path) -> None:
    import io
    from typing import Any, cast

    from pytest_imagebuild.multistep import BuildContext, run_steps
    from pytest_imagebuild.ui import BuildUI

    ran: list[str] = []

    class Step:
        def __init__(self, name: str, signal_in_cleanup: bool = False) -> None:
            self.name, self.signal_in_cleanup = name, signal_in_cleanup

        def run(self, ctx: BuildContext) -> None:
            ctx.note_created("path", str(tmp_path / self.name))

        def cleanup(self, ctx: BuildContext) -> None:
            if self.signal_in_cleanup:
                os.kill(os.getpid(), signal.SIGTERM)
                time.sleep(5)
            ran.append(self.name)

    ctx = BuildContext(cast(Any, None), BuildUI("t", stream=io.StringIO()), tmp_path)
    previous = signals.install()
    try:
        with pytest.raises(signals.Terminated):
            run_steps(ctx, [Step("disk"), Step("vm", signal_in_cleanup=True)])
    finally:
        signals.restore(previous)
    assert ran == ["disk"]
    assert ctx.released == set(), "an interrupted cleanup leaves the build to the janitor"
