"""Resource groups: the unit everything temporary lives in, so one delete removes it all."""

from __future__ import annotations

from typing import Any

from azure.core.exceptions import HttpResponseError, ResourceNotFoundError, ServiceRequestError

from ..errors import BuildError
from ..ui import BuildUI
from .calls import azure_call, explain


def create_group(resources: Any, name: str, location: str, tags: dict[str, str]) -> Any:
    from azure.mgmt.resource.resources.models import ResourceGroup

    return azure_call(
        f"Creating resource group '{name}'",
        lambda: resources.resource_groups.create_or_update(
            name, ResourceGroup(location=location, tags=tags)
        ),
    )


def delete_group(resources: Any, name: str, ui: BuildUI) -> None:
    """Delete a resource group and wait until Azure reports it gone."""
    ui.say(f"Cleanup requested, deleting resource group '{name}' ...")
    hint = f" Delete it yourself: az group delete --name {name} --yes"
    try:
        poller = resources.resource_groups.begin_delete(name)
        poller.result()
    except ResourceNotFoundError:
        ui.message("Resource group was already gone.")
        return
    except (HttpResponseError, ServiceRequestError) as error:
        raise BuildError(str(explain(f"Deleting resource group {name}", error)) + hint) from None
    ui.say("Resource group has been deleted.")
