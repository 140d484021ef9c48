"""The janitor finds and removes what a run killed with SIGKILL left behind.

Each test starts a real recording process that journals what it creates (a directory and
file as a build's workdir, a process standing in for QEMU, Azure resource groups in the
loopback stand-in), kills it with SIGKILL, runs the janitor the way a user would, and asserts
nothing is left.
"""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from azure.identity import ClientSecretCredential
from azure.mgmt.resource.resources import ResourceManagementClient

from pytest_imagebuild.cleanup import pids
from pytest_imagebuild.cleanup.command import JanitorRequest, run_janitor
from pytest_imagebuild.cleanup.journal import Journal, Owner, journals
from standin import Standin, start_standin

RECORDER = textwrap.dedent(
    """
    import json, subprocess, sys, time
    from pathlib import Path
    from pytest_imagebuild.cleanup.journal import Journal, Owner, state_dir

    run_id, work, groups, data = sys.argv[1], Path(sys.argv[2]), sys.argv[3:], {}
    journal = Journal(state_dir(), Owner.current(run_id))
    if groups:
        data = json.loads(groups.pop(0))
    for group in groups:
        journal.created("azure-resource-group", group, **data)
    journal.created("path", str(work / "vm"))
    (work / "vm").mkdir()
    (work / "vm" / "overlay.qcow2").write_bytes(b"qcow")
    journal.created("path", str(work / "seed.iso"))
    (work / "seed.iso").write_bytes(b"iso")
    qemu = subprocess.Popen(
        ["bash", "-c", "exec -a qemu-system-x86_64 sleep 300"], start_new_session=True
    )
    journal.created("process", str(qemu.pid))
    print(qemu.pid, flush=True)
    time.sleep(300)
    """
)


def looks_like_qemu(pid: int) -> None:
    """Wait until the stand-in has exec'd under QEMU's name, as a real QEMU would be."""
    deadline = time.monotonic() + 10
    while not pids.is_qemu(pid):
        assert time.monotonic() < deadline, f"pid {pid} never looked like QEMU"
        time.sleep(0.01)


class Recording:
    """A run in progress: its process, the QEMU stand-in it started, what it made."""

    def __init__(self, run_id: str, work: Path, *groups: str) -> None:
        work.mkdir(parents=True, exist_ok=True)
        self.work = work
        self.proc = subprocess.Popen(
            [sys.executable, "-c", RECORDER, run_id, str(work), *groups],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stdout is not None
        self.qemu_pid = int(self.proc.stdout.readline())
        looks_like_qemu(self.qemu_pid)

    def kill9(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def made(self) -> list[bool]:
        """Whether each thing it made still exists: directory, file, QEMU."""
        return [
            (self.work / "vm").exists(),
            (self.work / "seed.iso").exists(),
            pids.alive(self.qemu_pid),
        ]

    def close(self) -> None:
        self.proc.kill()
        self.proc.wait()
        if pids.alive(self.qemu_pid) and pids.is_qemu(self.qemu_pid):
            os.killpg(self.qemu_pid, signal.SIGKILL)


@pytest.fixture
def state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "state"
    monkeypatch.setenv("IMAGEBUILD_STATE_DIR", str(root))
    for name in ("ARM_SUBSCRIPTION_ID", "AZURE_SUBSCRIPTION_ID"):
        monkeypatch.delenv(name, raising=False)
    return root


@pytest.fixture
def recordings() -> Iterator[list[Recording]]:
    started: list[Recording] = []
    yield started
    for recording in started:
        recording.close()


def janitor_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "pytest_imagebuild", "janitor", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )


def janitor(**kwargs: Any) -> tuple[int, str]:
    out = io.StringIO()
    return run_janitor(JanitorRequest(**kwargs), out), out.getvalue()


def test_janitor_removes_what_a_killed_run_left(
    state: Path, tmp_path: Path, recordings: list[Recording]
) -> None:
    run = Recording("run-killed", tmp_path / "work")
    recordings.append(run)
    run.kill9()
    assert run.made() == [True, True, True]

    listing = janitor_cli()
    assert listing.returncode == 0, listing.stderr
    assert "3 resources left behind" in listing.stdout
    assert str(run.qemu_pid) in listing.stdout and "seed.iso" in listing.stdout
    assert "Run again with --yes" in listing.stdout
    assert run.made() == [True, True, True]

    deleted = janitor_cli("--yes")
    assert deleted.returncode == 0, deleted.stderr
    assert deleted.stdout.count("deleted") == 3
    assert run.made() == [False, False, False]
    assert list(journals(state)) == []
    assert "0 resources left behind" in janitor_cli().stdout


BLOCKED_RUN = """
import os, time
from pathlib import Path
from pytest_imagebuild import process

def test_blocked_build(imagebuild_store):
    work = Path(os.environ["WORK"])
    imagebuild_store.journal.created("path", str(work / "overlay.qcow2"))
    (work / "overlay.qcow2").write_bytes(b"qcow")
    qemu = process.spawn(["bash", "-c", "exec -a qemu-system-x86_64 sleep 300"])
    imagebuild_store.journal.created("process", str(qemu.pid))
    (work / "pid").write_text(str(qemu.pid))
    time.sleep(300)
"""


def test_kill_9_of_a_whole_pytest_run_is_cleaned_up(
    state: Path, tmp_path: Path, pytester: pytest.Pytester
) -> None:
    work = tmp_path / "work"
    work.mkdir()
    pytester.makepyfile(test_blocked=BLOCKED_RUN)
    run = subprocess.Popen(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "test_blocked.py"],
        cwd=pytester.path,
        env={**os.environ, "WORK": str(work)},
        stdout=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + 30
    while not (work / "pid").exists():
        assert run.poll() is None and time.monotonic() < deadline
        time.sleep(0.02)
    qemu = int((work / "pid").read_text())
    looks_like_qemu(qemu)
    os.killpg(run.pid, signal.SIGKILL)
    run.wait()
    try:
        assert pids.alive(qemu) and (work / "overlay.qcow2").exists()
        deleted = janitor_cli("--yes")
        assert deleted.returncode == 0, deleted.stdout + deleted.stderr
        assert not pids.alive(qemu)
        assert not (work / "overlay.qcow2").exists()
        assert list(journals(state)) == []
    finally:
        if pids.alive(qemu) and pids.is_qemu(qemu):
            os.killpg(qemu, signal.SIGKILL)


def test_a_live_run_is_spared_until_older_than_says_otherwise(
    state: Path, tmp_path: Path, recordings: list[Recording]
) -> None:
    run = Recording("run-live", tmp_path / "work")
    recordings.append(run)
    code, out = janitor(yes=True)
    assert code == 0 and "0 resources left behind" in out
    assert "3 resources of runs still in progress were spared" in out
    assert "3 resources of runs still in progress" in janitor(yes=True, older_than="2h")[1]
    assert run.made() == [True, True, True]

    code, out = janitor(yes=True, older_than="0s")
    assert code == 0 and "run too old" in out
    assert run.made() == [False, False, False]


def test_a_reused_pid_or_a_program_that_is_not_qemu_is_never_killed(
    state: Path, tmp_path: Path
) -> None:
    bystander = subprocess.Popen(["sleep", "60"])
    qemu_like = subprocess.Popen(["bash", "-c", "exec -a qemu-system-x86_64 sleep 60"])
    try:
        looks_like_qemu(qemu_like.pid)
        started = pids.start_time(qemu_like.pid)
        script = (
            "import sys; from pytest_imagebuild.cleanup.journal import *\n"
            "j = Journal(state_dir(), Owner.current('run-gone'))\n"
            f"j.created('process', '{bystander.pid}')\n"
            f"j._append(Entry('created', 'process', '{qemu_like.pid}', 0, j.owner,"
            f" {{'start': {started} - 1}}))\n"
        )
        subprocess.run([sys.executable, "-c", script], check=True)
        code, out = janitor(yes=True)
        assert code == 0
        assert "0 resources left behind" in out
        assert "2 journal entries name resources already gone (cleared)" in out
        assert bystander.poll() is None and qemu_like.poll() is None
        assert list(journals(state)) == []
    finally:
        for proc in (bystander, qemu_like):
            proc.kill()
            proc.wait()


def test_pytest_option_lists_and_deletes(
    state: Path, tmp_path: Path, recordings: list[Recording], pytester: pytest.Pytester
) -> None:
    run = Recording("run-pytest", tmp_path / "work")
    recordings.append(run)
    run.kill9()
    pytester.makepyfile("def test_never_runs(): assert False")

    listed = pytester.runpytest("--image-janitor", "--image-state-dir", str(state))
    assert listed.ret == 0
    listed.stdout.fnmatch_lines(["*3 resources left behind*", "*KIND*NAME*RUN*AGE*"])
    assert "test_never_runs" not in listed.stdout.str()
    assert run.made() == [True, True, True]

    deleted = pytester.runpytest("--image-janitor-delete")
    assert deleted.ret == 0
    assert run.made() == [False, False, False]

    bad = pytester.runpytest("--image-janitor", "--image-janitor-older-than", "soon")
    assert bad.ret == pytest.ExitCode.USAGE_ERROR
    bad.stderr.fnmatch_lines(["*--older-than 'soon' is not a duration*"])


def test_a_crashed_xdist_worker_is_cleaned_up_by_the_controller(
    state: Path, tmp_path: Path, pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "made-by-worker"
    monkeypatch.setenv("TARGET", str(target))
    pytester.makepyfile(
        """
        import os, signal
        from pathlib import Path

        def test_worker_dies(imagebuild_store):
            target = Path(os.environ["TARGET"])
            imagebuild_store.journal.created("path", str(target))
            target.mkdir(exist_ok=True)
            (target / "disk.qcow2").write_bytes(b"x")
            os.kill(os.getpid(), signal.SIGKILL)
        """
    )
    result = pytester.runpytest_subprocess(
        "-n", "1", "--max-worker-restart", "0", "-p", "no:cacheprovider"
    )
    assert not target.exists(), result.stdout.str()
    result.stdout.fnmatch_lines(["*left behind by this run's workers (*crashed: gw0)*"])
    assert list(journals(state)) == []


# -- Azure ---------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def azure() -> Iterator[Standin]:
    with start_standin(retry_after=1, default_polls=1) as standin:
        yield standin


def azure_env(azure: Standin, state: Path) -> dict[str, str]:
    return {
        **os.environ,
        "IMAGEBUILD_STATE_DIR": str(state),
        "ARM_SUBSCRIPTION_ID": azure.subscription_id,
        "ARM_TENANT_ID": azure.tenant_id,
        "ARM_CLIENT_ID": azure.client_id,
        "ARM_CLIENT_SECRET": azure.client_secret,
        "IMAGEBUILD_AZURE_ARM_URL": azure.arm_url,
        "AZURE_AUTHORITY_HOST": azure.authority,
        "IMAGEBUILD_AZURE_CA_BUNDLE": azure.ca_bundle,
    }


def test_janitor_deletes_azure_groups_of_a_killed_run_and_by_tag(
    azure: Standin, state: Path, tmp_path: Path, recordings: list[Recording]
) -> None:
    credential = ClientSecretCredential(**azure.credential_kwargs())
    client = ResourceManagementClient(credential, azure.subscription_id, **azure.client_kwargs())
    groups = {
        "pkr-rg-killed": {"imagebuild-run": "run-az"},
        "imagebuild-launch-killed": {"imagebuild-launch": "run-az"},
        "pkr-rg-orphan": {"imagebuild-run": "run-from-another-runner"},
        "pkr-rg-live": {"imagebuild-run": "run-live"},
        "same-name-not-ours": {"owner": "someone"},
        "unrelated": {},
    }
    for name, tags in groups.items():
        client.resource_groups.create_or_update(name, {"location": "westeurope", "tags": tags})
    endpoints = {
        "arm_url": azure.arm_url,
        "authority": azure.authority,
        "ca_bundle": azure.ca_bundle,
    }
    live = Journal(state, Owner.current("run-live"))
    live.created("azure-resource-group", "pkr-rg-live", **endpoints)
    journaled = ["pkr-rg-killed", "imagebuild-launch-killed", "same-name-not-ours"]
    run = Recording("run-az", tmp_path / "work", json.dumps(endpoints), *journaled)
    recordings.append(run)
    run.kill9()
    env = azure_env(azure, state)

    listing = janitor_cli(env=env)
    assert listing.returncode == 0, listing.stderr
    for name in ("pkr-rg-killed", "imagebuild-launch-killed", "pkr-rg-orphan"):
        assert name in listing.stdout
    assert "tagged by a run unknown here" in listing.stdout
    assert "same-name-not-ours" in listing.stdout  # named in a note, left alone
    for secret in (azure.client_secret, azure.subscription_id, azure.tenant_id):
        assert secret not in listing.stdout + listing.stderr

    spare_unknown = janitor_cli("--yes", "--older-than", "2h", env=env)
    assert spare_unknown.returncode == 0, spare_unknown.stdout + spare_unknown.stderr
    assert set(azure.state.groups()) == {
        "pkr-rg-orphan",
        "pkr-rg-live",
        "same-name-not-ours",
        "unrelated",
    }
    assert run.made() == [False, False, False]

    everything = janitor_cli("--yes", env=env)
    assert everything.returncode == 0, everything.stdout + everything.stderr
    assert set(azure.state.groups()) == {"pkr-rg-live", "same-name-not-ours", "unrelated"}
    assert "pkr-rg-live" not in azure.state.deleted_groups
    live.released("azure-resource-group", "pkr-rg-live")


def test_azure_without_credentials_says_what_to_set(state: Path, tmp_path: Path) -> None:
    script = (
        "from pytest_imagebuild.cleanup.journal import *\n"
        "Journal(state_dir(), Owner.current('run-x')).created("
        "'azure-resource-group', 'pkr-rg-x', arm_url='https://127.0.0.1:9/')\n"
    )
    subprocess.run([sys.executable, "-c", script], check=True)
    code, out = janitor()
    assert code == 1
    assert "pkr-rg-x" in out and "not checked" in out
    assert "set ARM_SUBSCRIPTION_ID" in out
