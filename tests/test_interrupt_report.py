"""pytest's report of an interrupted run: the same banner and exit code 2, at once, even when
the user presses Ctrl-C again while it is written.

The end-to-end timings against the loopback Azure are tests/test_interrupts.py's; these run a
bare pytest in a subprocess with the plugin loaded.
"""

from __future__ import annotations

import re

import pytest

from pytest_imagebuild.cleanup import signals

DEEP = """
import os, signal


def deep(n):
    if n == 0:
        os.kill(os.getpid(), signal.SIGINT)
        while True:
            pass
    return deep(n - 1)


def test_stopped():
    deep(30)
"""


def _run(pytester: pytest.Pytester, *args: str) -> tuple[pytest.RunResult, str]:
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", *args, timeout=300)
    return result, result.stdout.str() + "\n" + result.stderr.str()


def test_the_interrupt_banner_is_pytests_and_names_where_it_landed(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(test_deep=DEEP)
    result, out = _run(pytester)
    assert result.ret == pytest.ExitCode.INTERRUPTED, out
    assert "!!! KeyboardInterrupt !!!" in out
    assert re.search(r"test_deep.py:[678]: KeyboardInterrupt$", out, re.M), out
    assert "signals.py" not in out  # the plugin's handler is not where the run was
    assert "(to show a full traceback on KeyboardInterrupt use --full-trace)" in out


def test_full_trace_still_shows_every_frame_with_its_source(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_deep=DEEP)
    result, out = _run(pytester, "--full-trace")
    assert result.ret == pytest.ExitCode.INTERRUPTED, out
    assert out.count("return deep(n - 1)") >= 30, out
    assert re.search(r"test_deep.py:[678]: KeyboardInterrupt$", out, re.M), out


def test_a_ctrl_c_while_pytest_reports_the_interrupt_only_warns(
    pytester: pytest.Pytester,
) -> None:
    """The second Ctrl-C lands in pytest's reporting of the first (a conftest hook stands in
    for the traceback formatting and the imports it used to land in)."""
    pytester.makeconftest(
        """
        import os, signal

        import pytest

        @pytest.hookimpl(trylast=True)
        def pytest_keyboard_interrupt(excinfo):
            os.kill(os.getpid(), signal.SIGINT)
            compile("x = 1\\n" * 20000, "big.py", "exec")
            print("reporting went on")
        """
    )
    pytester.makepyfile(test_deep=DEEP)
    result, out = _run(pytester)
    assert result.ret == pytest.ExitCode.INTERRUPTED, out
    assert signals.STOPPING_WARNING in out
    assert "reporting went on" in out
    assert "!!! KeyboardInterrupt !!!" in out
    assert "Traceback" not in out and "SystemError" not in out


def test_a_third_ctrl_c_stops_at_once(pytester: pytest.Pytester) -> None:
    """For a user who would rather not wait: the next Ctrl-C after the warning is obeyed."""
    pytester.makeconftest(
        """
        import os, signal, time

        def pytest_keyboard_interrupt(excinfo):
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(0.1)
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(0.1)
            print("reporting went on")
        """
    )
    pytester.makepyfile(test_deep=DEEP)
    result, out = _run(pytester)
    assert signals.STOPPING_WARNING in out
    assert "reporting went on" not in out
    assert result.ret != pytest.ExitCode.OK
