"""The end-of-run table of image builds, from build items' reports (works under xdist too,
where the builds ran in workers and only their reports reach the controller)."""

from __future__ import annotations

import threading
import time
from collections.abc import Generator
from contextlib import nullcontext
from dataclasses import dataclass, field
from typing import Any

import pytest

from . import progress_relay

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
    in CI logs, shown under -q too (-qq silences it). An xdist worker has no terminal: it sends
    its lines to the controller as they happen (progress_relay.py), which prints them with the
    worker's id; a worker that cannot reach the controller attaches them to its next report."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.started: dict[str, float] = {}
        self.pending: list[list[str]] = []  # in a worker: [elapsed, line] for the next report
        self.relay: progress_relay.RelayServer | None = None  # on the xdist controller
        self.client = progress_relay.client_for(config)  # in an xdist worker
        self._lock = threading.Lock()

    def __call__(self, line: str) -> None:
        if self.config.option.verbose < -1:
            return
        build = line.split(":", 1)[0]
        now = time.monotonic()
        elapsed = f"{now - self.started.setdefault(build, now):6.1f}s"
        if hasattr(self.config, "workerinput"):
            if self.client is None or not self.client.send(elapsed, line):
                self.pending.append([elapsed, line])
            return
        self._write(f"[imagebuild {elapsed}] {line}")

    def _write(self, text: str, from_relay: bool = False) -> None:
        reporter = self.config.pluginmanager.get_plugin("terminalreporter")
        capture = self.config.pluginmanager.get_plugin("capturemanager")
        if reporter is None:
            return
        # The relay's thread leaves capturing alone: on the controller nothing is captured.
        disabled = capture.global_and_fixture_disabled() if capture and not from_relay else None
        with self._lock, disabled or nullcontext():
            reporter.ensure_newline()
            if getattr(getattr(reporter, "_tw", None), "width_of_current_line", 0):
                reporter.write("\n")  # after -q's or xdist's progress dots
            reporter.write_line(text)

    def _relayed(self, worker: str, elapsed: str, line: str) -> None:
        self._write(f"[imagebuild {worker} {elapsed}] {line}", from_relay=True)

    @pytest.hookimpl(optionalhook=True)
    def pytest_configure_node(self, node: Any) -> None:
        """On the xdist controller: offer each worker the relay for its stage lines."""
        if self.config.option.verbose < -1:
            return
        if self.relay is None:
            try:
                self.relay = progress_relay.RelayServer(self._relayed)
            except OSError:
                return  # no Unix socket here: lines still come with the reports
        node.workerinput[progress_relay.WORKERINPUT_KEY] = self.relay.path

    def pytest_unconfigure(self) -> None:
        if self.relay is not None:
            self.relay.close()
            self.relay = None
        if self.client is not None:
            self.client.close()

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(
        self, item: pytest.Item, call: pytest.CallInfo[None]
    ) -> Generator[None, Any, None]:
        """In a worker: the stage lines of this phase travel with its report."""
        outcome = yield
        if self.pending:
            outcome.get_result().imagebuild_progress = self.pending
            self.pending = []

    @pytest.hookimpl
    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        """On the xdist controller: a worker's stage lines, with its id."""
        lines = getattr(report, "imagebuild_progress", None)
        node = getattr(report, "node", None)
        if hasattr(self.config, "workerinput") or not lines or node is None:
            return
        worker = getattr(getattr(node, "gateway", None), "id", "worker")
        for elapsed, line in lines:
            self._write(f"[imagebuild {worker} {elapsed}] {line}")
