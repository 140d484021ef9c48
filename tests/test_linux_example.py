"""examples/ubuntu-gallery.json: a Linux build over SSH against the QEMU-backed loopback
Azure, recorded (HTTP and SSH) and replayed offline with the same outcomes."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from standin import start_standin
from standin.record_examples import (
    ROOT,
    create_example_gallery,
    offline_environment,
    recording_options,
    run_main_job,
    standin_environment,
)

TEMPLATE = "examples/ubuntu-gallery.json"
SHIPPED = ROOT / "cassettes" / "examples" / "ubuntu-gallery"
TESTS = (
    "test_nginx_is_installed",
    "test_nginx_is_running_and_enabled",
    "test_http_answers_200_on_port_80",
    "test_the_deprovisioned_build_admin_is_gone",
    "test_the_vm_admin_logs_in_with_its_own_key",
)


def replay(cassettes: Path) -> tuple[int, str]:
    code, _, output = run_main_job(
        offline_environment(), cassettes, "none", "--image-block-network", "-rA", template=TEMPLATE
    )
    return code, output


@pytest.mark.skipif(not SHIPPED.is_dir(), reason="no shipped cassettes")
def test_shipped_linux_cassettes_replay_offline_in_seconds(tmp_path: Path) -> None:
    copy = tmp_path / "cassettes"
    shutil.copytree(ROOT / "cassettes", copy)
    code, output = replay(copy)
    assert code == 0, output
    for name in TESTS:
        assert f"PASSED examples/test_ubuntu_gallery.py::{name}" in output, output
    assert list(SHIPPED.rglob("*.ssh.yaml")), "the SSH sessions are shipped beside the HTTP"


@pytest.mark.slow
def test_linux_example_records_against_qemu_guests_and_replays_offline(tmp_path: Path) -> None:
    cassettes = tmp_path / "cassettes"
    with start_standin(**recording_options(False)) as standin:
        env = standin_environment(standin)
        create_example_gallery(standin)
        code, _, recorded = run_main_job(env, cassettes, "rewrite", "-rA", template=TEMPLATE)
        assert code == 0, recorded
        for group in standin.state.groups():
            assert not group.lower().startswith(("pkr-resource-group", "imagebuild-launch"))
    for secret in (standin.client_secret, standin.tenant_id, standin.subscription_id):
        for path in cassettes.rglob("*.yaml"):
            assert secret not in path.read_text(), path
    code, replayed = replay(cassettes)
    assert code == 0, replayed
    for name in TESTS:
        passed = f"PASSED examples/test_ubuntu_gallery.py::{name}"
        assert passed in recorded and passed in replayed
