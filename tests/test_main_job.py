"""The README's main job, recorded against the loopback Azure and replayed offline."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from pytest_imagebuild.recording.placeholders import placeholder_for
from standin import Standin, start_standin
from standin.record_examples import (
    ROOT,
    offline_environment,
    run_main_job,
    standin_environment,
)

SHIPPED = ROOT / "cassettes"
SHIPPED_WEBSERVER = SHIPPED / "examples" / "webserver"
Recorded = tuple[Standin, Path, str, Path]


def _manifest(basetemp: Path) -> dict:
    found = sorted(basetemp.rglob("manifest.json"))
    assert found, f"no manifest.json under {basetemp}"
    return json.loads(found[0].read_text())


@pytest.fixture(scope="module")
def recorded(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Recorded]:
    """One live recording of the main job into a fresh cassette directory."""
    cassettes = tmp_path_factory.mktemp("cassettes")
    basetemp = tmp_path_factory.mktemp("recording-run")
    with start_standin(fast=True) as standin:
        code, _, output = run_main_job(
            standin_environment(standin), cassettes, "rewrite", f"--basetemp={basetemp}"
        )
        assert code == 0, output
        yield standin, cassettes, output, basetemp


def test_recording_creates_and_deletes_everything(
    recorded: Recorded,
) -> None:
    standin, _, output, _ = recorded
    assert standin.state.deleted_groups, "the temporary and launch groups were deleted"
    for group in standin.state.groups():
        assert not group.lower().startswith(("pkr-resource-group", "imagebuild-launch")), group
    assert "passed" in output


def test_no_secret_reaches_cassettes_or_terminal(recorded: Recorded) -> None:
    standin, cassettes, output, _ = recorded
    secrets = {
        "client secret": standin.client_secret,
        "tenant id": standin.tenant_id,
        "subscription id": standin.subscription_id,
        "client id": standin.client_id,
    }
    secrets.update({f"admin password {i}": p for i, p in enumerate(standin.admin_passwords)})
    files = {path: path.read_text() for path in cassettes.rglob("*") if path.is_file()}
    assert files, "cassettes were written"
    for name, value in secrets.items():
        assert value not in output, f"{name} printed"
        for path, text in files.items():
            assert value not in text, f"{name} in {path}"


def test_replay_offline_gives_the_same_outcome_and_manifest(
    recorded: Recorded, tmp_path: Path
) -> None:
    standin, cassettes, live_output, live_basetemp = recorded
    standin.stop()  # replay must not need it
    code, _, output = run_main_job(
        offline_environment(), cassettes, "none", "--image-block-network", f"--basetemp={tmp_path}"
    )
    assert code == 0, output
    assert _outcomes(output) == _outcomes(live_output)
    # The replay knows the subscription only by its placeholder.
    live = json.dumps(_manifest(live_basetemp)).replace(
        standin.subscription_id, placeholder_for("subscription_id", standin.subscription_id)
    )
    assert _manifest(tmp_path) == json.loads(live)


def _outcomes(output: str) -> str:
    return output.strip().splitlines()[-1].split(" in ")[0]


def test_changed_template_fails_with_not_in_cassette(recorded: Recorded, tmp_path: Path) -> None:
    _, cassettes, _, _ = recorded
    code, _, output = run_main_job(
        offline_environment(), cassettes, "none", "--image-var", "vm_size=Standard_D4s_v3", "-x"
    )
    assert code == 1, output
    assert "is not in the cassette" in output
    assert "Standard_D4s_v3" in output and "Standard_DS2_v2" in output
    assert "Traceback" not in output


@pytest.mark.skipif(not SHIPPED_WEBSERVER.is_dir(), reason="no shipped cassettes")
def test_shipped_cassettes_replay_the_main_job_offline(tmp_path: Path) -> None:
    copy = tmp_path / "cassettes"
    shutil.copytree(SHIPPED, copy)
    code, _, output = run_main_job(offline_environment(), copy, "none", "--image-block-network")
    assert code == 0, output
    assert "passed" in output and "failed" not in output


@pytest.mark.skipif(not SHIPPED_WEBSERVER.is_dir(), reason="no shipped cassettes")
def test_two_workers_build_the_image_once(tmp_path: Path) -> None:
    copy = tmp_path / "cassettes"
    shutil.copytree(SHIPPED, copy)
    state = tmp_path / "state"
    env = {**offline_environment(), "IMAGEBUILD_STATE_DIR": str(state)}
    code, _, output = run_main_job(env, copy, "none", "-n", "2", f"--basetemp={tmp_path / 't'}")
    assert code == 0, output
    assert "5 passed" in output
    log = (tmp_path / "t" / "imagebuild-shared" / "builds.log").read_text().splitlines()
    assert [line.split()[1] for line in log].count("builds") == 1, log
