"""The end-of-run table of image builds, from build items' reports (works under xdist too,
where the builds ran in workers and only their reports reach the controller)."""

from __future__ import annotations

import time
from contextlib import nullcontext
from dataclasses import dataclass, field

import pytest

BUILD_MARK = "::build["


@dataclass
class BuildRow:
    item: str
    outcome: str
    seconds: float
    artifact: str = ""
    stages: dict[str, str] = field(default_factory=dict)
    key: str = ""
    reused: str = ""


class BuildTable:
    """Collects build items' reports; prints them as one table at the end."""

    def __init__(self) -> None:
        self.rows: dict[str, BuildRow] = {}

    @pytest.hookimpl
    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if BUILD_MARK not in report.nodeid:
            return
        if report.when == "call" or (report.when == "setup" and report.outcome != "passed"):
            properties = dict(report.user_properties)
            self.rows[report.nodeid] = BuildRow(
                item=report.nodeid,
                outcome=report.outcome,
                seconds=report.duration,
                artifact=str(properties.get("artifact", "")),
                key=str(properties.get("build_key", "")),
                reused=str(properties.get("reused", "")),
                stages={
                    key[len("stage_time[") : -1]: str(value)
                    for key, value in properties.items()
                    if key.startswith("stage_time[")
                },
            )

    @pytest.hookimpl
    def pytest_terminal_summary(self, terminalreporter: pytest.TerminalReporter) -> None:
        if not self.rows:
            return
        terminalreporter.section("image builds")
        for row in self.rows.values():
            terminalreporter.line(f"{row.outcome.upper():<7} {row.seconds:7.1f}s  {row.item}")
            if row.artifact:
                terminalreporter.line(f"{'':17}artifact: {row.artifact}")
            if row.key:
                reused = f" (reused, {row.reused})" if row.reused else ""
                terminalreporter.line(f"{'':17}key: {row.key[:12]}{reused}")
            if row.stages:
                stages = ", ".join(f"{name} {seconds}s" for name, seconds in row.stages.items())
                terminalreporter.line(f"{'':17}stages: {stages}")


class LiveProgress:
    """One line per build stage, printed as it starts, with the build's elapsed time; readable
    in CI logs. Silent in xdist workers (their output never reaches the terminal)."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.started: dict[str, float] = {}

    def __call__(self, line: str) -> None:
        if hasattr(self.config, "workerinput") or self.config.option.verbose < 0:
            return
        reporter = self.config.pluginmanager.get_plugin("terminalreporter")
        capture = self.config.pluginmanager.get_plugin("capturemanager")
        if reporter is None:
            return
        build = line.split(":", 1)[0]
        now = time.monotonic()
        elapsed = now - self.started.setdefault(build, now)
        with capture.global_and_fixture_disabled() if capture else nullcontext():
            reporter.ensure_newline()
            reporter.write_line(f"[imagebuild {elapsed:6.1f}s] {line}")
