"""Reusing Azure images by build key: the managed image carries an ``imagebuild-key`` tag.

The look-up lists the managed image resource group's resources filtered by that tag
(``$filter=tagName eq 'imagebuild-key' and tagValue eq '<key>'``), recorded in its own
cassette (``reuse-lookup``) so a replay finds the same image offline. Only an image with
the template's ``managed_image_name`` counts: a renamed image is a different artifact.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ..clock import clock_of
from ..multistep import Artifact, RunOptions
from ..reuse.cache import ImageCache
from ..reuse.registry import KeptThing
from ..template.model import BuildPlan
from ..ui import BuildUI
from . import BUILDER_ID
from .calls import azure_call
from .config import AzureArmConfig
from .steps import KEY_TAG

IMAGE_TYPE = "microsoft.compute/images"


class AzureReuse:
    def __init__(self, cache: ImageCache) -> None:
        self.cache = cache

    def find(self, plan: BuildPlan, key: str, lookup: Any) -> tuple[Artifact, float] | None:
        config = AzureArmConfig.from_plan(plan.config)
        if not config.managed_image_name or lookup is None:
            return None
        return lookup(lambda run: self._find(plan, config, key, run))

    def _find(
        self, plan: BuildPlan, config: AzureArmConfig, key: str, run: RunOptions
    ) -> tuple[Artifact, float] | None:
        from azure.mgmt.compute import ComputeManagementClient
        from azure.mgmt.resource.resources import ResourceManagementClient

        from .cloud import connect
        from .options import endpoints

        ui = BuildUI(plan.name, plan.secrets())
        session = connect(config, endpoints(run.provider), ui, clock_of(run))
        resources = session.client(ResourceManagementClient)
        group = config.managed_image_resource_group_name
        found = azure_call(
            "Looking for an image tagged with the build key",
            lambda: list(
                resources.resources.list_by_resource_group(
                    group, filter=f"tagName eq '{KEY_TAG}' and tagValue eq '{key}'"
                )
            ),
        )
        names = {
            r.name for r in found if (r.type or "").lower() == IMAGE_TYPE and r.name
        }
        if config.managed_image_name not in names:
            return None
        compute = session.client(ComputeManagementClient)
        image = azure_call(
            "Reading the tagged image",
            lambda: compute.images.get(group, config.managed_image_name),
        )
        if (image.tags or {}).get(KEY_TAG) != key:
            return None
        built = _built(image)
        artifact = Artifact(
            builder_type=BUILDER_ID,
            build_name=plan.name,
            id=image.id,
            data={
                "managed_image_id": image.id,
                "managed_image_name": config.managed_image_name,
                "managed_image_resource_group_name": group,
                "location": image.location or config.location,
                "os_type": config.os_type,
                "communicator": config.communicator,
                "username": config.username,
            },
        )
        return artifact, built

    def keep(self, plan: BuildPlan, artifact: Artifact, key: str, ui: BuildUI) -> Artifact:
        """Nothing to copy: the image stays in Azure, tagged with its key by the build."""
        return artifact

    def vm_alive(self, thing: KeptThing) -> bool:
        """Trusted from the registry (checking costs an Azure session); a VM that is gone fails
        the smoke tests' connection, never passes them."""
        return True

    def destroy_vm(self, thing: KeptThing, settings: dict[str, str]) -> None:
        from azure.mgmt.resource.resources import ResourceManagementClient

        from ..template import read_template
        from .cloud import connect
        from .groups import delete_group
        from .options import endpoints

        template, _ = read_template(thing.template)
        if template is None:
            raise_missing(thing)
        config = AzureArmConfig.from_plan(template.builder(thing.build).config)
        ui = BuildUI(thing.name)
        session = connect(config, endpoints(settings), ui)
        delete_group(session.client(ResourceManagementClient), thing.data["resource_group"], ui)


def raise_missing(thing: KeptThing) -> None:
    from ..errors import ImagebuildError

    raise ImagebuildError(
        f"{thing.name}: its template {thing.template} cannot be read for its credentials; "
        f"delete the resource group yourself: az group delete --name "
        f"{thing.data.get('resource_group')} --yes"
    )


def _built(image: Any) -> float:
    """When the image was made, if Azure says (the stand-in does not); else now."""
    stamp = getattr(image, "time_created", None) or (image.tags or {}).get("imagebuild-built")
    if isinstance(stamp, datetime):
        return stamp.timestamp()
    import time

    return time.time()
