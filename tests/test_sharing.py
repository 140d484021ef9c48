"""Each image is built once per session, however many xdist workers ask for it."""

from __future__ import annotations

import multiprocessing
import time
from pathlib import Path

import pytest

from pytest_imagebuild.errors import ImagebuildError
from pytest_imagebuild.multistep import Artifact
from pytest_imagebuild.sharing import SharedBuilds


def _worker(root: str, log: str, name: str, fail: bool, queue: multiprocessing.Queue) -> None:
    def build() -> Artifact:
        with open(log, "a") as handle:
            handle.write(f"{name}\n")
        time.sleep(0.5)
        if fail:
            raise ImagebuildError("provisioner failed")
        return Artifact("qemu", "debian", id="VM", files=[Path("/images/debian.qcow2")])

    try:
        artifact = SharedBuilds(Path(root), name).once("debian-qemu", build)
        queue.put((name, artifact.files[0].name))
    except ImagebuildError as error:
        queue.put((name, f"error: {error}"))


def _run(tmp_path: Path, fail: bool) -> tuple[list[str], dict[str, str]]:
    log = tmp_path / "builds.log"
    queue: multiprocessing.Queue = multiprocessing.Queue()
    workers = [
        multiprocessing.Process(
            target=_worker, args=(str(tmp_path / "shared"), str(log), f"gw{i}", fail, queue)
        )
        for i in range(3)
    ]
    for worker in workers:
        worker.start()
    results = dict(queue.get(timeout=30) for _ in workers)
    for worker in workers:
        worker.join(timeout=30)
    return log.read_text().split(), results


def test_three_workers_one_build(tmp_path: Path) -> None:
    builders, results = _run(tmp_path, fail=False)
    assert len(builders) == 1
    assert set(results.values()) == {"debian.qcow2"}


def test_a_failed_build_fails_every_worker_without_rebuilding(tmp_path: Path) -> None:
    builders, results = _run(tmp_path, fail=True)
    assert len(builders) == 1
    for worker, message in results.items():
        assert message.startswith("error: provisioner failed")
        if worker != builders[0]:
            assert f"built by xdist worker {builders[0]}" in message


def test_without_xdist_nothing_is_shared() -> None:
    calls = []
    artifact = SharedBuilds().once("k", lambda: calls.append(1) or Artifact("qemu", "b"))
    assert artifact.build_name == "b" and calls == [1]


@pytest.fixture(autouse=True)
def _fork_start() -> None:
    multiprocessing.set_start_method("fork", force=True)
