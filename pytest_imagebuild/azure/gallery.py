"""Azure Compute Gallery: publishing the managed image as a gallery image version, and starting
a build from a gallery image, as Packer's `shared_image_gallery_destination` and
`shared_image_gallery` options do.

As in Packer, the gallery and the image definition must exist before the build (their
publisher/offer/sku, OS type and generation are the image owner's decisions) and the version
must not: the build checks both before creating anything, then publishes after the capture,
replicating to `replication_regions` (the build's location is always one of them: Azure
requires the source's region among the targets).
"""

from __future__ import annotations

import dataclasses
import datetime
from dataclasses import dataclass
from typing import Any

from azure.core.exceptions import HttpResponseError, ResourceNotFoundError

from .. import rfc3339
from ..errors import BuildError
from ..template.types import string_list
from .calls import azure_call, explain


@dataclass(frozen=True)
class GalleryImage:
    """A gallery image definition (and optionally a version) in some subscription."""

    subscription: str
    resource_group: str
    gallery_name: str
    image_name: str
    image_version: str = ""

    @classmethod
    def from_config(cls, value: Any, default_subscription: str) -> GalleryImage | None:
        if not isinstance(value, dict) or not value.get("gallery_name"):
            return None
        return cls(
            subscription=str(value.get("subscription") or default_subscription),
            resource_group=str(value.get("resource_group") or ""),
            gallery_name=str(value["gallery_name"]),
            image_name=str(value.get("image_name") or ""),
            image_version=str(value.get("image_version") or ""),
        )

    @property
    def definition_id(self) -> str:
        return (
            f"/subscriptions/{self.subscription}/resourceGroups/{self.resource_group}"
            f"/providers/Microsoft.Compute/galleries/{self.gallery_name}/images/{self.image_name}"
        )

    @property
    def id(self) -> str:
        """The version's id, or the definition's (Azure then takes its latest version)."""
        if self.image_version and self.image_version != "latest":
            return f"{self.definition_id}/versions/{self.image_version}"
        return self.definition_id

    @property
    def label(self) -> str:
        version = f":{self.image_version}" if self.image_version else ""
        return f"{self.gallery_name}/{self.image_name}{version}"


@dataclass(frozen=True)
class GalleryDestination:
    image: GalleryImage
    replication_regions: tuple[str, ...]
    storage_account_type: str = "Standard_LRS"

    @classmethod
    def from_config(cls, value: Any, default_subscription: str) -> GalleryDestination | None:
        image = GalleryImage.from_config(value, default_subscription)
        if image is None:
            return None
        return cls(
            image=image,
            replication_regions=tuple(
                r.strip() for r in string_list(value.get("replication_regions")) if r.strip()
            ),
            storage_account_type=str(value.get("storage_account_type") or "Standard_LRS"),
        )

    def regions(self, location: str) -> list[str]:
        """Where the version goes: the build's location first, then each other region once."""
        seen: dict[str, str] = {}
        for region in (location, *self.replication_regions):
            seen.setdefault(region.replace(" ", "").lower(), region)
        return list(seen.values())


def compute_for(session: Any, subscription: str) -> Any:
    """A compute client for the gallery's subscription (it may not be the build's)."""
    from azure.mgmt.compute import ComputeManagementClient

    if subscription.lower() == session.subscription_id.lower():
        return session.client(ComputeManagementClient)
    return dataclasses.replace(session, subscription_id=subscription).client(
        ComputeManagementClient
    )


def check_destination(compute: Any, dest: GalleryDestination, os_type: str) -> None:
    """Packer's checks before a build: the definition exists (with this OS), the version not."""
    image = dest.image
    try:
        definition = compute.gallery_images.get(
            image.resource_group, image.gallery_name, image.image_name
        )
    except ResourceNotFoundError:
        raise BuildError(
            f"the Shared Gallery Image '{image.image_name}' to which to publish the managed "
            f"image version does not exist in gallery '{image.gallery_name}' of resource group "
            f"'{image.resource_group}': create the gallery and the image definition first "
            "(az sig create / az sig image-definition create), as Packer requires."
        ) from None
    except HttpResponseError as error:
        raise explain("Reading the gallery image definition", error) from None
    # the SDK gives an enum member (OperatingSystemTypes.LINUX) whose value is "Linux"
    definition_os = str(getattr(definition.os_type, "value", definition.os_type) or "")
    if os_type and definition_os.lower() != os_type.lower():
        raise BuildError(
            f"the gallery image definition '{image.image_name}' is for {definition_os} "
            f"images but this build makes a {os_type} image (os_type); publish to a "
            f"{os_type} image definition."
        )
    try:
        compute.gallery_image_versions.get(
            image.resource_group, image.gallery_name, image.image_name, image.image_version
        )
    except ResourceNotFoundError:
        return
    except HttpResponseError as error:
        raise explain("Reading the gallery image version", error) from None
    raise BuildError(
        f"the gallery image version {image.label} already exists; choose a new "
        "shared_image_gallery_destination.image_version (versions cannot be replaced)."
    )


@dataclass(frozen=True)
class VersionOptions:
    """The builder's top-level settings for the version it publishes (Packer's names)."""

    replica_count: int = 0  # shared_image_gallery_replica_count; Azure's default is 1
    end_of_life_date: str = ""  # shared_gallery_image_version_end_of_life_date
    exclude_from_latest: bool = False  # shared_gallery_image_version_exclude_from_latest


def end_of_life(text: str) -> datetime.datetime:
    """shared_gallery_image_version_end_of_life_date, an RFC 3339 time as Packer takes it."""
    try:
        return rfc3339.parse(text)
    except ValueError:
        raise BuildError(
            f"shared_gallery_image_version_end_of_life_date {text!r} is not an RFC 3339 time "
            "such as 2030-12-31T00:00:00Z."
        ) from None


def publish(
    compute: Any,
    dest: GalleryDestination,
    image_id: str,
    location: str,
    tags: dict[str, str],
    options: VersionOptions = VersionOptions(),
) -> Any:
    """Create the version from the managed image and wait until it has replicated."""
    from azure.mgmt.compute import models as cm

    image = dest.image
    profile = cm.GalleryImageVersionPublishingProfile(
        target_regions=[
            cm.TargetRegion(name=region, storage_account_type=dest.storage_account_type)
            for region in dest.regions(location)
        ],
        storage_account_type=dest.storage_account_type,
    )
    if options.replica_count:
        profile.replica_count = options.replica_count
    if options.end_of_life_date:
        profile.end_of_life_date = end_of_life(options.end_of_life_date)
    if options.exclude_from_latest:
        profile.exclude_from_latest = True
    version = cm.GalleryImageVersion(
        location=location,
        tags=tags,
        publishing_profile=profile,
        storage_profile=cm.GalleryImageVersionStorageProfile(
            source=cm.GalleryArtifactVersionFullSource(id=image_id)
        ),
    )
    return azure_call(
        f"Publishing gallery image version {image.label}",
        lambda: compute.gallery_image_versions.begin_create_or_update(
            image.resource_group, image.gallery_name, image.image_name, image.image_version, version
        ).result(),
    )


def source_reference(config: Any) -> dict[str, str] | None:
    """The VM imageReference for a `shared_image_gallery` source, or None for other sources."""
    image = GalleryImage.from_config(config.shared_image_gallery, config.subscription_id)
    return {"id": image.id} if image is not None else None
