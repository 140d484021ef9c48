"""Azure Compute Gallery: the stand-in's galleries, definitions and versions behave as Azure's,
and a build with `shared_image_gallery_destination` publishes a version the smoke-test VM
then starts from."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from azure.core.exceptions import HttpResponseError
from azure.identity import ClientSecretCredential
from azure.mgmt.compute import ComputeManagementClient
from azure.mgmt.compute import models as cm
from azure.mgmt.resource.resources import ResourceManagementClient

from standin import Standin, start_standin
from standin.state import Resource
from tests.test_azure_faults import (
    IMAGE_GROUP,
    Scenario,
    assert_one_paragraph,
    failure_paragraph,
    play,
)

GALLERY_GROUP = "gallery-rg"
GALLERY = "imagebuild_gallery"
DEFINITION = "webserver"


def compute_client(azure: Standin) -> ComputeManagementClient:
    credential = ClientSecretCredential(**azure.credential_kwargs())
    kwargs = {**azure.client_kwargs(), "retry_total": 0}
    ResourceManagementClient(
        credential, azure.subscription_id, **kwargs
    ).resource_groups.create_or_update(GALLERY_GROUP, {"location": "eastus2"})
    return ComputeManagementClient(credential, azure.subscription_id, **kwargs)


def make_gallery(azure: Standin, os_type: str = "Windows") -> ComputeManagementClient:
    compute = compute_client(azure)
    compute.galleries.begin_create_or_update(
        GALLERY_GROUP, GALLERY, cm.Gallery(location="eastus2")
    ).result()
    compute.gallery_images.begin_create_or_update(
        GALLERY_GROUP,
        GALLERY,
        DEFINITION,
        cm.GalleryImage(
            location="eastus2",
            os_type=os_type,
            os_state="Generalized",
            identifier=cm.GalleryImageIdentifier(publisher="me", offer="web", sku="iis"),
        ),
    ).result()
    return compute


def destination(version: str = "1.0.0") -> dict[str, Any]:
    return {
        "shared_image_gallery_destination": {
            "resource_group": GALLERY_GROUP,
            "gallery_name": GALLERY,
            "image_name": DEFINITION,
            "image_version": version,
            "replication_regions": ["westeurope"],
            "storage_account_type": "Standard_LRS",
        }
    }


# -- the stand-in ------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def azure() -> Iterator[Standin]:
    with start_standin(fast=True, polls={"gallery_version": 3}) as standin:
        yield standin


@pytest.fixture(scope="module")
def compute(azure: Standin) -> ComputeManagementClient:
    client = make_gallery(azure)
    # A captured managed image, as a finished build leaves it (Linux: no guest to boot).
    image_id = azure.store.rid(GALLERY_GROUP, "Microsoft.Compute/images", "linux-img")
    azure.store.put(
        Resource(
            image_id,
            "Microsoft.Compute/images",
            GALLERY_GROUP,
            "linux-img",
            "eastus2",
            {},
            {
                "storageProfile": {"osDisk": {"osType": "Linux", "osState": "Generalized"}},
                "hyperVGeneration": "V1",
            },
        )
    )
    client.gallery_images.begin_create_or_update(
        GALLERY_GROUP,
        GALLERY,
        "linux",
        cm.GalleryImage(
            location="eastus2",
            os_type="Linux",
            os_state="Generalized",
            identifier=cm.GalleryImageIdentifier(publisher="me", offer="deb", sku="12"),
        ),
    ).result()
    return client


def version_model(image_id: str, *regions: str) -> cm.GalleryImageVersion:
    return cm.GalleryImageVersion(
        location="eastus2",
        publishing_profile=cm.GalleryImageVersionPublishingProfile(
            target_regions=[cm.TargetRegion(name=r) for r in regions]
        ),
        storage_profile=cm.GalleryImageVersionStorageProfile(
            source=cm.GalleryArtifactVersionFullSource(id=image_id)
        ),
    )


def test_a_version_replicates_through_caps_operations(
    azure: Standin, compute: ComputeManagementClient
) -> None:
    image_id = azure.store.rid(GALLERY_GROUP, "Microsoft.Compute/images", "linux-img")
    poller = compute.gallery_image_versions.begin_create_or_update(
        GALLERY_GROUP, GALLERY, "linux", "1.0.0", version_model(image_id, "East US 2", "westeurope")
    )
    early = compute.gallery_image_versions.get(
        GALLERY_GROUP, GALLERY, "linux", "1.0.0", expand="ReplicationStatus"
    )
    assert early.provisioning_state == "Creating"
    assert early.replication_status.aggregated_state == "InProgress"
    version = poller.result()
    assert version.provisioning_state == "Succeeded"
    polls = azure.log.find(method="GET", path_contains="/capsOperations/")
    assert len(polls) >= 3
    done = compute.gallery_image_versions.get(
        GALLERY_GROUP, GALLERY, "linux", "1.0.0", expand="ReplicationStatus"
    )
    assert done.replication_status.aggregated_state == "Completed"
    assert sorted(s.region for s in done.replication_status.summary) == ["eastus2", "westeurope"]


@pytest.mark.parametrize(
    ("definition", "regions", "code", "words"),
    [
        (DEFINITION, ("eastus2",), "InvalidParameter", "OS type 'Linux'"),
        ("linux", ("westeurope",), "InvalidParameter", "must include the source image's region"),
        ("nothere", ("eastus2",), "ParentResourceNotFound", "'nothere' not found"),
    ],
)
def test_versions_azure_refuses(
    azure: Standin,
    compute: ComputeManagementClient,
    definition: str,
    regions: tuple[str, ...],
    code: str,
    words: str,
) -> None:
    image_id = azure.store.rid(GALLERY_GROUP, "Microsoft.Compute/images", "linux-img")
    with pytest.raises(HttpResponseError) as info:
        compute.gallery_image_versions.begin_create_or_update(
            GALLERY_GROUP, GALLERY, definition, "2.0.0", version_model(image_id, *regions)
        ).result()
    assert info.value.error.code == code
    assert words in info.value.error.message


@pytest.mark.parametrize(
    ("name", "code"), [("1.0", "InvalidParameter"), ("1.0.99999999999", "InvalidParameter")]
)
def test_version_names_azure_refuses(
    azure: Standin, compute: ComputeManagementClient, name: str, code: str
) -> None:
    image_id = azure.store.rid(GALLERY_GROUP, "Microsoft.Compute/images", "linux-img")
    with pytest.raises(HttpResponseError) as info:
        compute.gallery_image_versions.begin_create_or_update(
            GALLERY_GROUP, GALLERY, "linux", name, version_model(image_id, "eastus2")
        ).result()
    assert (info.value.status_code, info.value.error.code) == (400, code)


def test_a_definition_without_os_state_is_refused(compute: ComputeManagementClient) -> None:
    with pytest.raises(HttpResponseError) as info:
        compute.gallery_images.begin_create_or_update(
            GALLERY_GROUP,
            GALLERY,
            "half",
            cm.GalleryImage(
                location="eastus2",
                os_type="Linux",
                identifier=cm.GalleryImageIdentifier(publisher="a", offer="b", sku="c"),
            ),
        ).result()
    assert (info.value.error.code, info.value.error.target) == ("InvalidParameter", "osState")


# -- through the plugin ------------------------------------------------------------------------
BUILDS = {
    "publish-and-launch": Scenario(make_gallery, builder=destination(), smoke=True),
    "no-definition": Scenario(lambda a: compute_client(a), builder=destination()),
    "linux-definition": Scenario(lambda a: make_gallery(a, "Linux"), builder=destination()),
}


@pytest.fixture(scope="module")
def builds(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    with ThreadPoolExecutor(3) as pool:
        futures = {
            name: pool.submit(play, name, scenario, tmp_path_factory.mktemp(name))
            for name, scenario in BUILDS.items()
        }
        return {name: future.result() for name, future in futures.items()}


def test_a_build_publishes_a_version_and_the_smoke_vm_starts_from_it(
    builds: dict[str, Any],
) -> None:
    outcome = builds["publish-and-launch"]
    assert outcome.code == 0, outcome.output[-4000:]
    assert "5 passed" in outcome.output
    assert "azure-arm: Publishing to Shared Image Gallery ..." in outcome.output
    azure: Standin = outcome.azure
    version_put = azure.log.find(
        method="PUT", path_contains=f"/galleries/{GALLERY}/images/{DEFINITION}/versions/1.0.0"
    )
    assert [e.status for e in version_put] == [201]
    assert len(azure.log.find(method="GET", path_contains="/capsOperations/")) >= 1
    version = azure.store.get(
        f"/subscriptions/{azure.subscription_id}/resourceGroups/{GALLERY_GROUP}/providers/"
        f"Microsoft.Compute/galleries/{GALLERY}/images/{DEFINITION}/versions/1.0.0"
    )
    assert version is not None and version.provisioning_state == "Succeeded"
    assert sorted(version.properties["_replication"]) == ["eastus2", "westeurope"]
    launch_vm = [
        e
        for e in azure.log.find(method="PUT", path_contains="/virtualMachines/")
        if "imagebuild-launch-" in e.path
    ]
    assert launch_vm and all(e.status == 201 for e in launch_vm)
    assert f"Launching a VM from gallery image version '{GALLERY}/{DEFINITION}:1.0.0'" in (
        outcome.output
    )
    assert_all_deleted_except_gallery(azure)


def assert_all_deleted_except_gallery(azure: Standin) -> None:
    groups = set(azure.state.groups())
    assert groups == {IMAGE_GROUP, GALLERY_GROUP}


@pytest.mark.parametrize(
    ("case", "words"),
    [
        ("no-definition", ("Shared Gallery Image 'webserver'", "does not exist", "az sig")),
        ("linux-definition", ("is for Linux images", "Windows image")),
    ],
)
def test_a_build_checks_its_gallery_destination_before_creating_anything(
    builds: dict[str, Any], case: str, words: tuple[str, ...]
) -> None:
    outcome = builds[case]
    assert outcome.code == 1, outcome.output[-4000:]
    assert_one_paragraph(failure_paragraph(outcome.output), *words)
    azure: Standin = outcome.azure
    assert not azure.log.find(method="PUT", path_contains="/virtualNetworks/")
    assert not azure.log.find(method="PUT", path_contains="/resourcegroups/packer-resource-group-")


@pytest.mark.parametrize(
    ("version", "suffix"), [("1.2.3", "/images/base/versions/1.2.3"), ("", "/images/base")]
)
def test_a_gallery_source_starts_the_build_vm_from_that_version(version: str, suffix: str) -> None:
    from pytest_imagebuild.azure.config import AzureArmConfig
    from pytest_imagebuild.azure.gallery import source_reference

    config = AzureArmConfig.from_plan(
        {
            "subscription_id": "sub-1",
            "os_type": "Windows",
            "shared_image_gallery": {
                "resource_group": "g-rg",
                "gallery_name": "gal",
                "image_name": "base",
                "image_version": version,
            },
        }
    )
    assert source_reference(config) == {
        "id": "/subscriptions/sub-1/resourceGroups/g-rg/providers/Microsoft.Compute/galleries/gal"
        + suffix
    }
    assert source_reference(AzureArmConfig.from_plan({"os_type": "Windows"})) is None
