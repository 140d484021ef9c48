"""The pytest side of cleanup: janitor options, the run's journal, signals, crashed workers.

plugin.py stays thin: it adds these options, asks ``janitor_main`` whether to run the janitor
instead of tests, and registers one ``RunCleanup`` per run at configure time.
"""

from __future__ import annotations

import os
import sys
from typing import Any

import pytest

from ..catalogue import catalogue
from ..errors import ImagebuildError
from . import signals
from .command import JanitorRequest, run_janitor
from .interrupt_report import InterruptReport
from .janitor import Janitor
from .journal import Journal, Owner, checked_state_dir
from .summary import render

SESSION_KEY = "imagebuild_session"


def add_options(parser: pytest.Parser) -> None:
    group = parser.getgroup("imagebuild")
    group.addoption(
        "--image-janitor",
        action="store_true",
        help="instead of running tests, list what earlier runs left behind (QEMU processes, "
        "files, Azure resource groups tagged imagebuild-run) and exit.",
    )
    group.addoption(
        "--image-janitor-delete",
        action="store_true",
        help="like --image-janitor, and delete what it lists.",
    )
    group.addoption(
        "--image-janitor-older-than",
        default="",
        metavar="DURATION",
        help="with --image-janitor: also take runs still going but older than this "
        "(e.g. 2h); runs whose age is unknown are spared.",
    )
    group.addoption(
        "--image-state-dir",
        default="",
        metavar="DIR",
        help="where run journals are kept; default $IMAGEBUILD_STATE_DIR or "
        "~/.local/state/pytest-imagebuild.",
    )


def janitor_main(config: pytest.Config) -> int | None:
    """Run the janitor when asked; None lets pytest run the tests."""
    option = config.option
    if not (option.image_janitor or option.image_janitor_delete):
        return None
    request = JanitorRequest(
        yes=option.image_janitor_delete,
        older_than=option.image_janitor_older_than,
        state_dir=option.image_state_dir,
        settings=catalogue().provider_settings(option),
    )
    try:
        code = run_janitor(request)
    except ImagebuildError as error:
        print(f"pytest-imagebuild: error: {error}", file=sys.stderr)
        return int(pytest.ExitCode.USAGE_ERROR)
    return int(pytest.ExitCode.TESTS_FAILED if code else pytest.ExitCode.OK)


def start_journal(config: pytest.Config, run_id: str) -> Journal:
    """This process's journal; under xdist every worker keeps its own, tied to the session."""
    workerinput: dict[str, Any] = getattr(config, "workerinput", {})
    session = workerinput.get(SESSION_KEY) or f"{run_id}-{os.getpid()}"
    worker = workerinput.get("workerid", "")
    owner = Owner.current(run_id, session, worker)
    try:
        root = checked_state_dir(config.option.image_state_dir or None)
    except ImagebuildError as error:
        raise pytest.UsageError(str(error)) from None
    journal = Journal(root, owner)
    config.pluginmanager.register(RunCleanup(journal), "imagebuild-cleanup")
    config.pluginmanager.register(InterruptReport(config), "imagebuild-interrupts")
    return journal


class RunCleanup:
    """Per run: SIGTERM handling, and in an xdist controller, cleanup after its workers.

    A worker killed mid-build (crash, OOM, an interrupted session) cannot clean up; the
    controller outlives it and removes what it journaled, unless --image-on-error=abort asked to
    keep resources, which then wait for the janitor.
    """

    def __init__(self, journal: Journal) -> None:
        self.journal = journal
        self.previous = signals.install()
        self.workers: set[str] = set()
        self.crashed: set[str] = set()

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_protocol(self, item: pytest.Item) -> Any:
        try:
            return (yield)
        except KeyboardInterrupt as stop:
            raise signals.printable(stop)  # noqa: B904 - the same exception, made printable

    @pytest.hookimpl(optionalhook=True)
    def pytest_configure_node(self, node: Any) -> None:
        node.workerinput[SESSION_KEY] = self.journal.owner.session
        self.workers.add(node.workerinput.get("workerid") or node.gateway.id)

    @pytest.hookimpl(optionalhook=True)
    def pytest_testnodedown(self, node: Any, error: object | None) -> None:
        if error is not None:
            self.crashed.add(node.gateway.id)

    def pytest_unconfigure(self, config: pytest.Config) -> None:
        try:
            chosen = config.getoption("image_on_error") or config.getini("image_on_error")
            keep = chosen == "abort"
            workers = self.crashed if keep else self.workers | self.crashed
            if workers:
                self.sweep(config, workers)
            self.journal.discard_if_done()
        finally:
            signals.restore(self.previous)

    def sweep(self, config: pytest.Config, workers: set[str]) -> None:
        """Remove what this session's dead workers created and could not clean up."""
        session = self.journal.owner.session
        janitor = Janitor(
            self.journal.root,
            scan_tags=False,
            select=lambda e: e.owner.session == session and e.owner.worker in workers,
        )
        survey = janitor.survey()
        if not survey.leftovers and not survey.gone:
            return
        janitor.remove(survey)
        crashed = ", ".join(sorted(self.crashed)) or "none"
        where = f"workers that stopped; crashed: {crashed}"
        text = render(survey, janitor.now(), True, where, str(self.journal.path.parent))
        config.get_terminal_writer().line(text.replace("earlier runs", "this run's workers"))
