"""Ctrl-C and SIGTERM at each stage of a real run leave nothing behind.

A real `pytest --image-template ...` runs in a subprocess; the test reads its output line by
line and, once the live stage line it waits for has appeared (`[imagebuild    1.2s] azure-arm:
Deploying the virtual machine ...`) and the stage is seen at work (its request reached the
loopback Azure, its script printed), sends SIGINT or SIGTERM to that process. Afterwards it
judges by what a user would find: the run stopped with pytest's "interrupted" banner and exit
code and began no further stage, every Azure resource group it created received a delete
(the loopback Azure's own state says so), no QEMU process of the run is alive, no overlay,
seed, key, QMP socket or script of it remains, and its journal holds nothing outstanding.

Exceptions at each stage are tests/test_azure_faults.py's; a signal during a blocked step of
a bare pytest run is tests/test_signals.py's; kill -9 and crashed xdist workers are
tests/test_janitor.py's.
"""

from __future__ import annotations

import contextlib
import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from pytest_imagebuild.cleanup import pids
from pytest_imagebuild.cleanup.journal import Entry, journals, outstanding, read
from standin import Standin, start_standin
from standin.plugin_env import create_image_group, plugin_environment
from tests import test_qemu_builder as qemu_tests
from tests.test_azure_faults import assert_all_deleted, assert_no_secrets

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = REPO / "examples"
IMAGE_GROUP = "Packer-Poc-Mauri-RG"
IMAGE = "win2016_iis"

# The live progress line the plugin writes to the terminal when a stage starts.
LIVE_PREFIX = r"^\[imagebuild +-?\d+\.\ds\] "
LIVE_LINE = re.compile(LIVE_PREFIX + r"(?P<stage>.*)$")
# Stages an interrupted run may still start: its cleanups.
CLEANUP_STAGES = (
    "Cleanup requested, deleting resource group",
    "Resource group has been deleted.",
    "Deleting the image",
    "Halting the virtual machine...",
    "Deleting output directory...",
)
# Time limits only a hang exceeds: runs share two cores with whatever else runs.
STAGE_TIMEOUT = 300.0
HANG = 300.0  # seconds from the signal to the end of the run, cleanups included
# Seconds from the last cleanup line to the end of the process. It is under 3 s on an idle
# machine; pytest used to spend 7-30 s formatting the interrupt's traceback through the
# Azure SDK's source.
EXIT_AFTER_CLEANUPS = 10.0
SIGNALS = {"INT": signal.SIGINT, "TERM": signal.SIGTERM}


class Run:
    """A pytest run in a subprocess, its output read line by line as it is written."""

    def __init__(self, args: list[str], cwd: Path, env: dict[str, str]) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-s", *args],
            cwd=cwd,
            env={
                **env,
                # This checkout's plugin, whatever an editable install elsewhere points at.
                "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")])),
                "PYTHONUNBUFFERED": "1",
            },
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.lines: list[str] = []
        self.times: list[float] = []  # when each line arrived (time.monotonic)
        self.ended_at: float | None = None
        self.stage_at: int | None = None  # index of the stage line the signal answered
        self.exit_seconds: float | None = None
        self._fresh: queue.Queue[int | None] = queue.Queue()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.times.append(time.monotonic())
            self.lines.append(line.rstrip("\n"))
            self._fresh.put(len(self.lines) - 1)
        self._fresh.put(None)

    @property
    def output(self) -> str:
        return "\n".join(self.lines)

    def wait_for_line(self, pattern: str, timeout: float = STAGE_TIMEOUT) -> int:
        """Block until a line matching the regular expression appears; its index."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                index = self._fresh.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                raise AssertionError(
                    f"no line {pattern!r} within {timeout:g}s:\n{self.output[-4000:]}"
                ) from None
            if index is None:
                raise AssertionError(f"the run ended before {pattern!r}:\n{self.output[-4000:]}")
            if re.search(pattern, self.lines[index]):
                return index

    def wait_for_stage(self, stage: str) -> None:
        """Block until the live line of `stage` (e.g. "azure-arm: Capturing image") appears."""
        self.stage_at = self.wait_for_line(LIVE_PREFIX + re.escape(stage))

    def wait_until(self, condition: Callable[[], object], what: str) -> None:
        """Block until `condition()` holds while the run goes on (e.g. a request arrived)."""
        deadline = time.monotonic() + STAGE_TIMEOUT
        while not condition():
            assert self.proc.poll() is None, f"the run ended before {what}:\n{self.output[-4000:]}"
            assert time.monotonic() < deadline, f"never {what}:\n{self.output[-4000:]}"
            time.sleep(0.01)

    def interrupt(self, signum: int, again_after: float | None = None) -> None:
        """Send `signum` (twice, `again_after` seconds apart, if given) and wait for the run
        to end, timing how long it took."""
        started = time.monotonic()
        self.proc.send_signal(signum)
        if again_after is not None:
            time.sleep(again_after)
            self.proc.send_signal(signum)
        self.proc.wait(HANG)
        self.ended_at = time.monotonic()
        self.exit_seconds = self.ended_at - started
        self._reader.join(10)

    def seconds_after_cleanups(self) -> float:
        """From the last cleanup line the run printed to the end of its process."""
        assert self.ended_at is not None and self.stage_at is not None
        last = max(
            (
                index
                for index, line in enumerate(self.lines)
                if index > self.stage_at and any(stage in line for stage in CLEANUP_STAGES)
            ),
            default=None,
        )
        assert last is not None, f"no cleanup line after the signal:\n{self.output[-4000:]}"
        return self.ended_at - self.times[last]

    def stages_after_signal(self) -> list[str]:
        """Live stage lines printed after the one the signal answered."""
        assert self.stage_at is not None
        found = (LIVE_LINE.match(line) for line in self.lines[self.stage_at + 1 :])
        return [match.group("stage") for match in found if match]

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self._reader.join(10)


def journaled(state: Path) -> list[Entry]:
    """What the run's journal says is outstanding: created and not released."""
    return [entry for path in journals(state) for entry in outstanding(read(path))]


def assert_interrupted(run: Run, signum: int) -> None:
    """Stopped as interrupted, with pytest's banner, starting nothing but cleanups after the
    signal."""
    out = run.output[-6000:]
    assert run.proc.returncode == pytest.ExitCode.INTERRUPTED, out
    assert run.exit_seconds is not None and run.exit_seconds < HANG, out
    banners = [line for line in run.lines if line.startswith("! ") or line.startswith("!!!")]
    if signum == signal.SIGTERM:
        expected = "received SIGTERM: stopping after cleaning up what this run created"
    else:
        expected = " KeyboardInterrupt "
    assert any(expected in line for line in banners), out
    assert "Traceback" not in out and "SystemError" not in out, out
    later = [
        stage
        for stage in run.stages_after_signal()
        if not stage.split(": ", 1)[-1].startswith(CLEANUP_STAGES)
    ]
    assert later == [], f"the run went on to other stages after the signal:\n{out}"


def assert_journal_clean(state: Path) -> None:
    assert journaled(state) == [], "the journal lists resources the run left behind"
    assert list(journals(state)) == [], "a run that cleaned up everything keeps no journal"


# ------------------------------------------------------------------------------------ Azure


@dataclass(frozen=True)
class AzureStage:
    """A stage of the main job, how the loopback Azure makes it last, and what shows it
    at work: a request (method and path fragments) or an output line."""

    line: str
    delays: dict[str, float] = field(default_factory=dict)
    settings: dict[str, Any] = field(default_factory=dict)
    prepare: Callable[[Standin], Any] = lambda azure: None
    request: tuple[str, ...] = ()
    output: str = ""


AZURE_STAGES: dict[str, AzureStage] = {
    "network": AzureStage(
        "azure-arm: Creating the virtual network",
        delays={"network": 5.0},
        request=("PUT", "/virtualNetworks/"),
    ),
    "vm": AzureStage(
        "azure-arm: Deploying the virtual machine",
        delays={"vm_create": 5.0},
        request=("PUT", "/virtualMachines/pkrvm"),
    ),
    "winrm": AzureStage(
        "azure-arm: Waiting for WinRM",
        prepare=lambda azure: azure.faults.winrm_timeout(mode="refuse"),
    ),
    # The template's second provisioner runs sysprep and prints the image state until done.
    "provisioning": AzureStage(
        "azure-arm: Provisioning with powershell script: inline script",
        settings={"sysprep_seconds": 300.0},
        output=r"^    azure-arm: IMAGE_STATE_UNDEPLOYABLE$",
    ),
    "capture": AzureStage(
        "azure-arm: Capturing image",
        delays={"image_create": 5.0},
        request=("PUT", f"/images/{IMAGE}"),
    ),
    "launch": AzureStage(
        "azure-arm-vm: Creating virtual machine",
        delays={"vm_create": 3.0},
        request=("PUT", "/imagebuild-launch-", "/virtualMachines/"),
    ),
}
AZURE_CASES = [(stage, sig) for stage in AZURE_STAGES for sig in SIGNALS]
PARALLEL = 3


@dataclass
class AzureOutcome:
    azure: Standin
    run: Run
    groups_journaled: list[str]
    state: Path


def requested(azure: Standin, method: str, *fragments: str) -> bool:
    return any(
        all(fragment.lower() in entry.path.lower() for fragment in fragments)
        for entry in azure.log.find(method=method)
    )


def play(
    stage_name: str, sig: str, tmp_path: Path, again_after: float | None = None
) -> AzureOutcome:
    """Run the main job against a fresh loopback Azure and signal it during the stage (and
    once more `again_after` seconds later, if given)."""
    stage = AZURE_STAGES[stage_name]
    state = tmp_path / "state"
    with start_standin(fast=True, delays=stage.delays, **stage.settings) as azure:
        create_image_group(azure, IMAGE_GROUP)
        stage.prepare(azure)
        run = Run(
            [
                f"--basetemp={tmp_path / 'base'}",
                "-o",
                f"image_cassette_dir={tmp_path / 'cassettes'}",
                "--image-record-mode=rewrite",
                "--image-template",
                str(EXAMPLES / "webserver.json"),
                str(EXAMPLES / "test_webserver.py"),
            ],
            cwd=tmp_path,
            env={**os.environ, **plugin_environment(azure), "IMAGEBUILD_STATE_DIR": str(state)},
        )
        try:
            run.wait_for_stage(stage.line)
            if stage.request:
                run.wait_until(
                    lambda: requested(azure, *stage.request), f"{stage.request} reached Azure"
                )
            if stage.output:
                run.wait_for_line(stage.output)
            groups = [e.name for e in journaled(state) if e.kind == "azure-resource-group"]
            run.interrupt(SIGNALS[sig], again_after)
        finally:
            run.close()
    return AzureOutcome(azure, run, groups, state)


@pytest.fixture(scope="module")
def azure_outcomes(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> dict[tuple[str, str], Future[AzureOutcome]]:
    """Play every case a selected test of this module needs, a few at a time (a run spends
    most of its time waiting on its own stand-in); a case that could not be played fails
    only its own test."""
    wanted = sorted(
        {
            (item.callspec.params["stage"], item.callspec.params["sig"])
            for item in request.session.items
            if getattr(item, "module", None) is request.module
            and "azure_outcomes" in getattr(item, "fixturenames", ())
        }
    )
    with ThreadPoolExecutor(PARALLEL) as pool:
        return {
            case: pool.submit(play, *case, tmp_path_factory.mktemp("-".join(case)))
            for case in wanted
        }


@pytest.mark.parametrize(("stage", "sig"), AZURE_CASES)
def test_a_signal_at_an_azure_stage_deletes_every_group_the_run_created(
    azure_outcomes: dict[tuple[str, str], Future[AzureOutcome]], stage: str, sig: str
) -> None:
    o = azure_outcomes[(stage, sig)].result()
    out = o.run.output[-6000:]
    assert_interrupted(o.run, SIGNALS[sig])
    assert o.groups_journaled, "the run had created a resource group when it was signalled"
    created = assert_all_deleted(o.azure)
    assert set(o.groups_journaled) <= created
    images = [rid.rsplit("/", 1)[1] for rid in o.azure.state.resources(IMAGE_GROUP)]
    if stage == "launch":
        assert any(g.startswith("imagebuild-launch-") for g in o.groups_journaled), out
        assert images == [IMAGE], "the image is the build's artifact, kept on purpose"
    else:
        assert images == [], f"an image whose build was interrupted was left behind:\n{out}"
    assert_journal_clean(o.state)
    assert_no_secrets(o.azure, o.run.output)


def assert_cleaned_up(o: AzureOutcome) -> None:
    assert o.groups_journaled, "the run had created a resource group when it was signalled"
    assert set(o.groups_journaled) <= assert_all_deleted(o.azure)
    assert_journal_clean(o.state)


@pytest.mark.parametrize(("stage", "sig"), [("vm", "INT"), ("capture", "TERM")])
def test_an_interrupted_run_ends_within_seconds_of_its_cleanups(
    tmp_path: Path, stage: str, sig: str
) -> None:
    """Played alone, after the cases above: the time measured is the run's, not the queue's."""
    o = play(stage, sig, tmp_path)
    assert_interrupted(o.run, SIGNALS[sig])
    assert_cleaned_up(o)
    seconds = o.run.seconds_after_cleanups()
    print(f"{stage}-{sig}: the run ended {seconds:.1f}s after its cleanups")
    assert seconds < EXIT_AFTER_CLEANUPS, (
        f"the run ended {seconds:.1f}s after its cleanups:\n{o.run.output[-3000:]}"
    )


def test_a_second_ctrl_c_right_after_the_first_still_ends_as_interrupted(tmp_path: Path) -> None:
    """The second Ctrl-C lands while the cleanups or pytest's report of the interrupt run;
    it warns, and the run still ends with the interrupted banner and exit code 2."""
    o = play("vm", "INT", tmp_path, again_after=0.2)
    assert_interrupted(o.run, signal.SIGINT)
    assert_cleaned_up(o)
    warnings = ("Ctrl-C received while cleaning up", "Ctrl-C received while the interrupted run")
    assert any(warning in o.run.output for warning in warnings), o.run.output[-3000:]


# ------------------------------------------------------------------------------------- QEMU

debian_base = qemu_tests.debian_base

# (stage line, output line showing it at work or "", provisioners)
QEMU_STAGES: dict[str, tuple[str, str, list[dict[str, Any]]]] = {
    "ssh": ("intr: Waiting for SSH to become available", "", []),
    "provisioning": (
        "intr: Provisioning with shell script",
        r"^    intr: provisioning started$",
        [{"type": "shell", "inline": ["echo provisioning started", "sleep 600"]}],
    ),
}


def qemu_files(pid: int) -> list[Path]:
    """Files named on a QEMU command line: disk, seed, serial log, QMP socket."""
    found = []
    for arg in pids.cmdline(pid):
        for part in re.split(r"[,=]", arg.replace("unix:", "=")):
            if part.startswith("/"):
                found.append(Path(part))
    return found


@pytest.mark.slow
@pytest.mark.parametrize(("stage", "sig"), [("ssh", "INT"), ("provisioning", "TERM")])
def test_a_signal_during_a_qemu_build_stops_its_vm_and_removes_its_files(
    tmp_path: Path, debian_base: Path, stage: str, sig: str
) -> None:
    line, output, provisioners = QEMU_STAGES[stage]
    builder = qemu_tests.qemu_builder(debian_base, "intr")
    template = qemu_tests.write_template(tmp_path, [builder], provisioners)
    base, state = tmp_path / "base", tmp_path / "state"
    run = Run(
        [f"--basetemp={base}", "--image-template", str(template), str(template)],
        cwd=tmp_path,
        env={**os.environ, "IMAGEBUILD_STATE_DIR": str(state)},
    )
    vms: list[tuple[int, int | None]] = []
    try:
        run.wait_for_stage(line)
        if output:
            run.wait_for_line(output)
        made = journaled(state)
        vms = [(int(e.name), e.data.get("start")) for e in made if e.kind == "process"]
        paths = [Path(e.name) for e in made if e.kind == "path"]
        assert len(vms) == 1 and all(pids.alive(*vm) for vm in vms), run.output[-4000:]
        assert pids.is_qemu(vms[0][0]) and qemu_tests.processes_mentioning(str(base))
        files = qemu_files(vms[0][0])
        named = {f.name for f in files}
        assert {"qmp.sock", "cd.iso", builder["vm_name"]} <= named, pids.cmdline(vms[0][0])
        if provisioners:  # the inline script's local copy, in a temporary directory
            assert run.stage_at is not None
            match = re.search(r" script: (/\S+)$", run.lines[run.stage_at])
            assert match, run.lines[run.stage_at]
            files.append(Path(match.group(1)).parent)
        assert all(f.exists() for f in [*files, *paths]), files + paths
        run.interrupt(SIGNALS[sig])

        assert_interrupted(run, SIGNALS[sig])
        assert "Halting the virtual machine..." in run.output
        assert [vm for vm in vms if pids.alive(*vm)] == []
        assert qemu_tests.processes_mentioning(str(base)) == []
        assert [f for f in [*files, *paths] if f.exists()] == []
        assert qemu_tests.leftovers(base) == []
        assert_journal_clean(state)
    finally:
        run.close()
        for pid, start in vms:  # a failed test still stops the VM it started
            if pids.alive(pid, start) and pids.is_qemu(pid):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
