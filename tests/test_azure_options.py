"""azure-arm options Packer documents that change what gets built: each either reaches Azure
or stops the build before anything is created, never accepted and then ignored."""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path

import pytest

from pytest_imagebuild.template import check_all
from tests.test_azure_faults import IMAGE_GROUP, Scenario, failure_paragraph, play
from tests.test_azure_gallery import DEFINITION, GALLERY, GALLERY_GROUP, destination, make_gallery

CUSTOM_DATA = "#cloud-config\nruncmd:\n  - echo built by imagebuild\n"


def sent(tmp_path: Path) -> str:
    """Every request body the run recorded (the cassettes keep them as sent)."""
    return "\n".join(p.read_text() for p in (tmp_path / "cassettes").rglob("*.yaml"))


@pytest.mark.slow
def test_options_that_shape_the_vm_the_image_and_the_version_reach_azure(tmp_path: Path) -> None:
    custom = tmp_path / "custom-data.yaml"
    custom.write_text(CUSTOM_DATA)
    builder = {
        **destination(),
        "custom_data_file": str(custom),
        "disk_caching_type": "ReadOnly",
        "managed_image_storage_account_type": "Premium_LRS",
        "managed_image_zone_resilient": True,
        "shared_image_gallery_replica_count": 2,
        "shared_gallery_image_version_end_of_life_date": "2030-12-31T00:00:00Z",
        "shared_gallery_image_version_exclude_from_latest": True,
        "azure_tag": [{"name": "team", "value": "web"}],
    }
    outcome = play("options", Scenario(make_gallery, builder=builder), tmp_path)
    assert outcome.code == 0, outcome.output[-4000:]
    bodies = sent(tmp_path)
    assert base64.b64encode(CUSTOM_DATA.encode()).decode() in bodies
    assert '\\"caching\\": \\"ReadOnly\\"' in bodies or '"caching": "ReadOnly"' in bodies
    azure = outcome.azure
    sub = azure.subscription_id
    image = azure.store.get(
        f"/subscriptions/{sub}/resourceGroups/Packer-Poc-Mauri-RG/providers/Microsoft.Compute/"
        "images/win2016_iis"
    )
    assert image is not None
    assert image.properties["storageProfile"]["zoneResilient"] is True
    assert image.properties["storageProfile"]["osDisk"]["storageAccountType"] == "Premium_LRS"
    assert image.tags["team"] == "web"
    version = azure.store.get(
        f"/subscriptions/{sub}/resourceGroups/{GALLERY_GROUP}/providers/Microsoft.Compute/"
        f"galleries/{GALLERY}/images/{DEFINITION}/versions/1.0.0"
    )
    assert version is not None
    profile = version.properties["publishingProfile"]
    assert profile["replicaCount"] == 2
    assert profile["excludeFromLatest"] is True
    assert profile["endOfLifeDate"].startswith("2030-12-31T00:00:00")


@pytest.mark.slow
def test_an_option_the_builder_cannot_honour_stops_the_build_before_anything_exists(
    tmp_path: Path,
) -> None:
    builder = {"virtual_network_name": "corp-vnet", "virtual_network_resource_group_name": "net"}
    outcome = play("vnet", Scenario(builder=builder), tmp_path)
    assert outcome.code == 1, outcome.output[-4000:]
    assert "azure-arm: pytest-imagebuild's azure-arm builder does not support " in (
        failure_paragraph(outcome.output)
    )
    assert "virtual_network_name, virtual_network_resource_group_name (an existing virtual " in (
        failure_paragraph(outcome.output)
    )
    created = [e.path for e in outcome.azure.log.find(method="PUT")]
    assert [path for path in created if not path.endswith(f"/{IMAGE_GROUP}")] == []


def write(tmp_path: Path, **builder: object) -> Path:
    data = json.loads((Path(__file__).parent.parent / "examples" / "webserver.json").read_text())
    data["builders"][0].update(builder)
    data["provisioners"] = []
    path = tmp_path / "t.json"
    path.write_text(json.dumps(data, indent=2))
    return path


def test_validate_warns_of_what_a_build_here_would_refuse_or_ignore(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        custom_managed_image_name="base",
        custom_managed_image_resource_group_name="images-rg",
        image_publisher="",
        image_offer="",
        image_sku="",
        polling_duration_timeout="30m",
        build_key_vault_name="kv",
    )
    problems = check_all(path)
    assert [p.message for p in problems if not p.warning] == []
    warnings = [p.message for p in problems if p.warning]
    assert any(
        "does not support: custom_managed_image_name, custom_managed_image_resource_group_name"
        " (a managed image as the source image); a build here stops" in w
        for w in warnings
    ), warnings
    assert any(
        w.startswith("polling_duration_timeout, build_key_vault_name: ignored") for w in warnings
    ), warnings


def test_validate_reads_custom_data_file_and_the_end_of_life_date_as_packer_does(
    tmp_path: Path,
) -> None:
    path = write(
        tmp_path,
        custom_data_file=str(tmp_path / "missing.yaml"),
        shared_gallery_image_version_end_of_life_date="next year",
    )
    problems = {p.path: p for p in check_all(path)}
    missing = problems["builders[0].custom_data_file"]
    assert not missing.warning  # as packer validate: "open ...: no such file or directory"
    assert missing.message == f"open {tmp_path / 'missing.yaml'}: no such file or directory"
    late = problems["builders[0].shared_gallery_image_version_end_of_life_date"]
    assert late.warning  # Packer 1.6.6 accepts it; Azure does not
    assert late.message.startswith('"next year" is not an RFC 3339 time')
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)  # nobody writes to it: reading it would never return
    errors = {p.path: p.message for p in check_all(write(tmp_path, custom_data_file=str(fifo)))}
    expected = f"custom_data_file {fifo} is not a regular file"
    assert errors["builders[0].custom_data_file"] == expected
