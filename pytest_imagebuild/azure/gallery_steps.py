"""The build steps for an Azure Compute Gallery destination: check it before anything is
created, publish the captured image to it at the end."""

from __future__ import annotations

from ..multistep import BuildContext
from .gallery import GalleryDestination, VersionOptions, check_destination, compute_for, publish
from .steps import AzureStep, azure_state, image_tags


def destination_of(ctx: BuildContext) -> GalleryDestination | None:
    config = azure_state(ctx).config
    return GalleryDestination.from_config(
        config.shared_image_gallery_destination, config.subscription_id
    )


class StepCheckGalleryDestination(AzureStep):
    name = "StepCheckSharedImageGalleryDestination"

    def run(self, ctx: BuildContext) -> None:
        dest = destination_of(ctx)
        if dest is None:
            return
        state = azure_state(ctx)
        ctx.ui.say(f"Checking the gallery destination {dest.image.label} ...")
        compute = compute_for(state.session, dest.image.subscription)
        check_destination(compute, dest, state.config.os_type)


class StepPublishToGallery(AzureStep):
    name = "StepPublishToSharedImageGallery"

    def run(self, ctx: BuildContext) -> None:
        dest = destination_of(ctx)
        if dest is None:
            return
        state = azure_state(ctx)
        image = dest.image
        ctx.ui.say("Publishing to Shared Image Gallery ...")
        ctx.ui.message(f" -> Gallery ResourceGroupName : '{image.resource_group}'")
        ctx.ui.message(f" -> Gallery Name              : '{image.gallery_name}'")
        ctx.ui.message(f" -> Gallery Image Name        : '{image.image_name}'")
        ctx.ui.message(f" -> Gallery Image Version     : '{image.image_version}'")
        ctx.ui.message(f" -> Replication Regions       : {', '.join(dest.regions(state.location))}")
        compute = compute_for(state.session, image.subscription)
        config = state.config
        options = VersionOptions(
            replica_count=config.shared_image_gallery_replica_count,
            end_of_life_date=config.shared_gallery_image_version_end_of_life_date,
            exclude_from_latest=config.shared_gallery_image_version_exclude_from_latest,
        )
        version = publish(
            compute, dest, state.image_id, state.location, image_tags(ctx), options
        )
        state.gallery_version_id = version.id
        ctx.ui.message(f" -> Shared Image Gallery image version : '{version.id}'")
