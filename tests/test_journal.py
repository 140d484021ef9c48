"""The run journal: what a run created is on disk before it exists, and drops out once removed.

These use real files and processes and read the journal back the way the janitor does.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path
from typing import Any, cast

import pytest

from pytest_imagebuild.azure.options import journal_data
from pytest_imagebuild.cleanup import pids
from pytest_imagebuild.cleanup.journal import Journal, Owner, journals, outstanding, read
from pytest_imagebuild.cleanup.resources import BuildJournal
from pytest_imagebuild.errors import BuildError
from pytest_imagebuild.multistep import BuildContext, run_steps
from pytest_imagebuild.ui import BuildUI


@pytest.fixture
def journal(tmp_path: Path) -> Journal:
    return Journal(tmp_path / "state", Owner.current("run-1234"))


def context(tmp_path: Path, journal: Journal, on_error: str = "cleanup") -> BuildContext:
    recorder = BuildJournal(journal)
    ui = BuildUI("test", stream=io.StringIO())
    ctx = BuildContext(cast(Any, None), ui, tmp_path, on_error)
    ctx.journal, ctx.journal_released = recorder.created, recorder.released
    return ctx


class MakeFile:
    """A step that records a file, creates it, and removes it on cleanup."""

    def __init__(self, path: Path, fail_run: bool = False, fail_cleanup: bool = False) -> None:
        self.name = f"make {path.name}"
        self.path, self.fail_run, self.fail_cleanup = path, fail_run, fail_cleanup

    def run(self, ctx: BuildContext) -> None:
        ctx.note_created("path", str(self.path))
        self.path.write_text("x")
        if self.fail_run:
            raise BuildError(f"{self.name} failed")

    def cleanup(self, ctx: BuildContext) -> None:
        if self.fail_cleanup:
            raise BuildError("disk busy")
        self.path.unlink()


def open_names(journal: Journal) -> list[str]:
    return [Path(e.name).name for e in outstanding(read(journal.path))]


def test_a_run_that_creates_nothing_leaves_no_journal(journal: Journal) -> None:
    journal.released("path", "/nowhere")
    assert not journal.path.exists()
    assert list(journals(journal.root)) == []


def test_an_entry_is_on_disk_before_the_resource_and_released_ones_drop_out(
    journal: Journal, tmp_path: Path
) -> None:
    target = tmp_path / "overlay.qcow2"
    journal.created("path", str(target))
    assert not target.exists()
    (entry,) = read(journal.path)
    assert (entry.kind, entry.name, entry.owner.run_id) == ("path", str(target), "run-1234")
    assert entry.owner.alive() is True
    journal.released("path", str(target))
    assert outstanding(read(journal.path)) == []
    journal.discard_if_done()
    assert not journal.path.exists()


def test_a_line_torn_by_a_kill_mid_write_is_skipped(journal: Journal) -> None:
    journal.created("path", "/tmp/a")
    with journal.path.open("a") as handle:
        handle.write('{"event": "created", "kind": "pa')
    assert [e.name for e in read(journal.path)] == ["/tmp/a"]


def test_a_process_is_recorded_with_its_start_time(journal: Journal) -> None:
    proc = subprocess.Popen(["sleep", "30"])
    try:
        journal.created("process", str(proc.pid))
        (entry,) = read(journal.path)
        assert entry.data["start"] == pids.start_time(proc.pid)
    finally:
        proc.kill()
        proc.wait()
    assert not pids.alive(proc.pid, entry.data["start"])


def test_steps_whose_cleanup_succeeded_are_released(journal: Journal, tmp_path: Path) -> None:
    steps = [MakeFile(tmp_path / "disk"), MakeFile(tmp_path / "seed.iso")]
    run_steps(context(tmp_path, journal), steps)
    assert open_names(journal) == []
    assert not (tmp_path / "disk").exists()


def test_a_failed_cleanup_leaves_the_build_in_the_journal(journal: Journal, tmp_path: Path) -> None:
    steps = [
        MakeFile(tmp_path / "disk", fail_cleanup=True),
        MakeFile(tmp_path / "seed.iso", fail_run=True),
    ]
    with pytest.raises(BuildError, match="disk busy"):
        run_steps(context(tmp_path, journal), steps)
    assert open_names(journal) == ["disk", "seed.iso"]
    assert (tmp_path / "disk").exists() and not (tmp_path / "seed.iso").exists()


def test_on_error_abort_keeps_everything_for_the_janitor(journal: Journal, tmp_path: Path) -> None:
    ctx = context(tmp_path, journal, on_error="abort")
    with pytest.raises(BuildError):
        run_steps(ctx, [MakeFile(tmp_path / "disk"), MakeFile(tmp_path / "vm", fail_run=True)])
    assert open_names(journal) == ["disk", "vm"]
    assert "rm -rf" in cast(io.StringIO, ctx.ui.stream).getvalue()


def test_builders_work_without_a_journal(tmp_path: Path) -> None:
    ctx = BuildContext(cast(Any, None), BuildUI("t", stream=io.StringIO()), tmp_path)
    run_steps(ctx, [MakeFile(tmp_path / "disk")])
    assert ctx.released == {("path", str(tmp_path / "disk"))}


def test_azure_entries_name_the_cloud_but_hold_no_secret(journal: Journal) -> None:
    config = {
        "client_id": "11111111-aaaa-4bbb-8ccc-222222222222",
        "client_secret": "s3cr3t-value",
        "tenant_id": "33333333-dddd-4eee-8fff-444444444444",
        "subscription_id": "55555555-aaaa-4bbb-8ccc-666666666666",
        "cloud_environment_name": "China",
    }
    endpoints = {"arm_url": "https://127.0.0.1:1/", "authority": "", "ca_bundle": ""}
    BuildJournal(journal, journal_data(config, endpoints)).created("azure-resource-group", "pkr-rg")
    text = journal.path.read_text()
    for key in ("client_secret", "tenant_id", "subscription_id", "client_id"):
        assert config[key] not in text
    record = json.loads(text)
    assert record["data"]["cloud"] == "China"
    assert record["data"]["arm_url"] == "https://127.0.0.1:1/"


def test_state_dir_follows_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from pytest_imagebuild.cleanup.journal import state_dir

    monkeypatch.setenv("IMAGEBUILD_STATE_DIR", str(tmp_path))
    assert state_dir() == tmp_path
    assert state_dir(tmp_path / "x") == tmp_path / "x"
    monkeypatch.delenv("IMAGEBUILD_STATE_DIR")
    monkeypatch.delenv("XDG_STATE_HOME", raising=False)
    assert state_dir() == Path.home() / ".local/state/pytest-imagebuild"


def test_the_recorder_process_is_the_owner() -> None:
    out = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    dead = Owner("r", int(out.stdout), None, Owner.current("r").host)
    assert dead.alive() is False
    assert Owner("r", 1, None, "some-other-host").alive() is None
