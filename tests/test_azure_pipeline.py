"""The seed pipeline end to end against the loopback Azure: build, launch, smoke-test, delete.

A real `pytest --image-template examples/webserver.json examples/test_webserver.py` runs in a
subprocess with the environment a user would set (ARM_* credentials and the endpoint
overrides) pointing at the stand-in; the stand-in's request log and state are the evidence.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from standin import Standin
from standin.plugin_env import create_image_group, run_pytest, secrets_of

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
IMAGE_GROUP = "Packer-Poc-Mauri-RG"
IMAGE = "win2016_iis"


@pytest.fixture(scope="module", autouse=True)
def image_group(azure: Standin) -> None:
    """The managed image's resource group exists before a build, as Packer requires."""
    create_image_group(azure, IMAGE_GROUP)


@pytest.fixture(scope="module")
def seed_run(azure: Standin, tmp_path_factory: pytest.TempPathFactory) -> tuple[int, str, Path]:
    """One full run, logging everything at DEBUG so the secret check sees every line."""
    work = tmp_path_factory.mktemp("seed-run")
    code, output = run_pytest(
        azure,
        [
            f"--basetemp={work / 'base'}",
            "-o",
            f"image_cassette_dir={work / 'cassettes'}",
            "-o",
            "log_cli=true",
            "--log-cli-level=DEBUG",
            "-rA",
            "--image-template",
            str(EXAMPLES / "webserver.json"),
            str(EXAMPLES / "test_webserver.py"),
        ],
        cwd=work,
    )
    return code, output, work


def _paths(azure: Standin, method: str, fragment: str) -> list[tuple[str, int]]:
    return [(e.path, e.status) for e in azure.log.find(method=method, path_contains=fragment)]


def _group_puts(azure: Standin, prefix: str) -> list[tuple[str, int]]:
    """PUTs of resource groups themselves (not of resources inside them)."""
    return [
        (p, s) for p, s in _paths(azure, "PUT", f"/resourcegroups/{prefix}") if p.count("/") == 4
    ]


def test_the_seed_pipeline_builds_launches_and_passes(seed_run: tuple[int, str, Path]) -> None:
    code, output, _ = seed_run
    assert code == 0, output[-5000:]
    assert "5 passed" in output  # validate, build and the three smoke tests
    for line in (
        "==> azure-arm: Getting tokens using client secret",
        "==> azure-arm: Creating resource group ...",
        "==> azure-arm: Waiting for WinRM to become available...",
        "==> azure-arm: Connected to WinRM!",
        "==> azure-arm: Provisioning with powershell",
        "==> azure-arm: Waiting until Windows reports the generalized state ...",
        "==> azure-arm: Powering off machine ...",
        "==> azure-arm: Capturing image ...",
        "==> azure-arm: Resource group has been deleted.",
    ):
        assert line in output


def test_temporary_group_created_and_deleted_image_captured(
    azure: Standin, seed_run: tuple[int, str, Path]
) -> None:
    created = _group_puts(azure, "packer-Resource-Group-")
    assert len(created) == 1 and created[0][1] == 201
    temp_group = created[0][0].rsplit("/", 1)[1]
    assert temp_group in azure.state.deleted_groups
    assert _paths(azure, "PUT", f"/providers/Microsoft.Compute/images/{IMAGE}") == [
        (
            f"/subscriptions/{azure.subscription_id}/resourceGroups/{IMAGE_GROUP}"
            f"/providers/Microsoft.Compute/images/{IMAGE}",
            201,
        )
    ]
    assert any(p.endswith("/runCommand") for p, _ in _paths(azure, "POST", temp_group))
    assert any(p.endswith("/deallocate") for p, _ in _paths(azure, "POST", temp_group))
    assert any(p.endswith("/generalize") for p, _ in _paths(azure, "POST", temp_group))


def test_launch_group_deleted_and_only_the_image_is_left(
    azure: Standin, seed_run: tuple[int, str, Path]
) -> None:
    launched = _group_puts(azure, "imagebuild-launch-")
    assert len(launched) == 1
    launch_group = launched[0][0].rsplit("/", 1)[1]
    assert launch_group in azure.state.deleted_groups
    vm_puts = _paths(azure, "PUT", f"/resourceGroups/{launch_group}/providers/Microsoft.Compute")
    assert vm_puts and all(status == 201 for _, status in vm_puts)
    assert set(azure.state.groups()) == {IMAGE_GROUP}
    assert azure.state.resources(IMAGE_GROUP) == [
        f"/subscriptions/{azure.subscription_id}/resourceGroups/{IMAGE_GROUP}"
        f"/providers/Microsoft.Compute/images/{IMAGE}"
    ]


def test_manifest_records_the_managed_image(
    azure: Standin, seed_run: tuple[int, str, Path]
) -> None:
    _, _, work = seed_run
    manifest = json.loads(
        next((work / "base").rglob("webserver-azure-arm-*/manifest.json")).read_text()
    )
    (build,) = manifest["builds"]
    assert build["name"] == "azure-arm" and build["builder_type"] == "azure-arm"
    assert build["files"] is None
    assert build["artifact_id"] == (
        f"/subscriptions/{azure.subscription_id}/resourceGroups/{IMAGE_GROUP}"
        f"/providers/Microsoft.Compute/images/{IMAGE}"
    )
    assert manifest["last_run_uuid"] == build["packer_run_uuid"]


def test_no_secret_reaches_the_terminal_or_the_logs(
    azure: Standin, seed_run: tuple[int, str, Path]
) -> None:
    _, output, _ = seed_run
    issued = azure.state.secrets_issued
    assert len(issued) >= 4  # tokens and the build and launch admin passwords
    leaked = [name for name, value in secrets_of(azure).items() if value in output]
    leaked += [f"issued secret #{i}" for i, value in enumerate(issued) if value in output]
    assert not leaked
