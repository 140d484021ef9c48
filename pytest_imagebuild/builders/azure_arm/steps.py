"""The azure-arm build, one small step per Azure stage, each undoing what it made.

The temporary resource group holds everything the build creates, so deleting it (and
waiting until Azure says it is gone) is the cleanup that matters; with an existing
build_resource_group_name each step deletes its own resources instead, as Packer does.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from azure.core.exceptions import HttpResponseError, ResourceNotFoundError

from ...errors import BuildError
from ..base import BuildContext
from .cloud import AzureEndpoints, AzureSession, connect
from .config import AzureArmConfig
from .names import TempNames
from .resources import (
    NetworkNames,
    NetworkPlan,
    VmSpec,
    azure_call,
    create_network,
    create_vm,
    delete_group,
    delete_quietly,
    enable_winrm_https,
    public_ip_address,
)

RUN_TAG = "imagebuild-run"


@dataclass
class AzureState:
    """What the steps share: clients, names, and what exists so far."""

    config: AzureArmConfig
    names: TempNames
    admin_password: str
    session: AzureSession | None = None
    clients: dict[str, Any] = field(default_factory=dict)
    group: str = ""
    owns_group: bool = False
    location: str = ""
    ids: dict[str, str] = field(default_factory=dict)
    ip_address: str = ""
    image_id: str = ""

    @property
    def resources(self) -> Any:
        return self.clients["resource"]

    @property
    def network(self) -> Any:
        return self.clients["network"]

    @property
    def compute(self) -> Any:
        return self.clients["compute"]

    @property
    def tags(self) -> dict[str, str]:
        return self.config.azure_tags


def azure_state(ctx: BuildContext) -> AzureState:
    return ctx.state["azure"]


class AzureStep:
    name = "step"

    def run(self, ctx: BuildContext) -> None:
        raise NotImplementedError

    def cleanup(self, ctx: BuildContext) -> None:
        return None


class StepConnectAzure(AzureStep):
    name = "StepConnectAzure"

    def __init__(self, endpoints: AzureEndpoints):
        self.endpoints = endpoints

    def run(self, ctx: BuildContext) -> None:
        from azure.mgmt.compute import ComputeManagementClient
        from azure.mgmt.network import NetworkManagementClient
        from azure.mgmt.resource.resources import ResourceManagementClient

        state = azure_state(ctx)
        state.session = connect(state.config, self.endpoints, ctx.ui)
        state.clients = {
            "resource": state.session.client(ResourceManagementClient),
            "network": state.session.client(NetworkManagementClient),
            "compute": state.session.client(ComputeManagementClient),
        }


class StepPreflight(AzureStep):
    """Fail before creating anything when the image could not be saved."""

    name = "StepPreflight"

    def run(self, ctx: BuildContext) -> None:
        state = azure_state(ctx)
        group = state.config.managed_image_resource_group_name
        image = state.config.managed_image_name
        exists = azure_call(
            "Checking the managed image resource group",
            lambda: state.resources.resource_groups.check_existence(group),
        )
        if not exists:
            raise BuildError(f"Cannot locate the managed image resource group {group}.")
        try:
            state.compute.images.get(group, image)
        except ResourceNotFoundError:
            return
        except HttpResponseError as error:
            raise BuildError(f"Checking the managed image failed: {error.message}") from None
        raise BuildError(
            f"the managed image named {image} already exists in the resource group "
            f"{group}; delete it first (Packer's -force would)"
        )


class StepResourceGroup(AzureStep):
    name = "StepCreateResourceGroup"

    def run(self, ctx: BuildContext) -> None:
        state = azure_state(ctx)
        config = state.config
        if config.build_resource_group_name:
            state.group = config.build_resource_group_name
            group = azure_call(
                "Reading the build resource group",
                lambda: state.resources.resource_groups.get(state.group),
            )
            state.location = group.location
            ctx.ui.say(f"Using existing resource group '{state.group}'")
            return
        state.group = config.temp_resource_group_name or state.names.resource_group
        state.location = config.location
        tags = {**state.tags, RUN_TAG: ctx.plan.template.run.run_uuid}
        ctx.ui.say("Creating resource group ...")
        ctx.ui.message(f" -> ResourceGroupName : '{state.group}'")
        ctx.ui.message(f" -> Location          : '{state.location}'")
        ctx.ui.message(" -> Tags              :")
        for key, value in tags.items():
            ctx.ui.message(f" ->> {key} : {value}")
        ctx.record_created("azure-resource-group", state.group)
        azure_call(
            "Creating the resource group",
            lambda: state.resources.resource_groups.create_or_update(
                state.group, {"location": state.location, "tags": tags}
            ),
        )
        state.owns_group = True

    def cleanup(self, ctx: BuildContext) -> None:
        state = azure_state(ctx)
        if state.owns_group:
            delete_group(state.resources, state.group, ctx.ui)


class StepNetwork(AzureStep):
    name = "StepCreateNetwork"

    def run(self, ctx: BuildContext) -> None:
        state = azure_state(ctx)
        names = state.names
        port = state.config.winrm_port if state.config.communicator == "winrm" else 22
        ctx.ui.say("Creating the virtual network, public IP and network interface ...")
        state.ids.update(
            create_network(
                state.network,
                state.group,
                state.location,
                NetworkNames(names.vnet, names.subnet, names.public_ip, names.nsg, names.nic),
                NetworkPlan(inbound_ports=(port,)),
                state.tags,
            )
        )

    def cleanup(self, ctx: BuildContext) -> None:
        state = azure_state(ctx)
        if state.owns_group or not state.ids:
            return
        ctx.ui.say(
            "The resource group was not created by pytest-imagebuild, deleting "
            "individual resources ..."
        )
        network, group, names = state.network, state.group, state.names
        for operations, name in (
            (network.network_interfaces, names.nic),
            (network.public_ip_addresses, names.public_ip),
            (network.network_security_groups, names.nsg),
            (network.virtual_networks, names.vnet),
        ):
            delete_quietly(lambda ops=operations, n=name: ops.begin_delete(group, n).result())


class StepVirtualMachine(AzureStep):
    name = "StepDeployVirtualMachine"

    def run(self, ctx: BuildContext) -> None:
        state = azure_state(ctx)
        config = state.config
        ctx.ui.say("Deploying the virtual machine ...")
        ctx.ui.message(f" -> VM name : '{state.names.compute}'")
        ctx.ui.message(
            f" -> Image   : {config.image_publisher}:{config.image_offer}:"
            f"{config.image_sku}:{config.image_version}"
        )
        ctx.ui.message(f" -> Size    : '{config.vm_size}'")
        vm = create_vm(
            state.compute,
            state.group,
            VmSpec(
                name=config.temp_compute_name or state.names.compute,
                location=state.location,
                size=config.vm_size,
                nic_id=state.ids["nic"],
                admin_username=config.username,
                admin_password=state.admin_password,
                windows=config.is_windows,
                os_disk_name=state.names.os_disk,
                os_disk_size_gb=config.os_disk_size_gb,
                ssh_public_key=ctx.state.get("ssh_public_key", ""),
                tags=state.tags,
                image_reference={
                    "publisher": config.image_publisher,
                    "offer": config.image_offer,
                    "sku": config.image_sku,
                    "version": config.image_version,
                },
            ),
        )
        state.ids["vm"] = vm.id

    def cleanup(self, ctx: BuildContext) -> None:
        state = azure_state(ctx)
        if state.owns_group or "vm" not in state.ids:
            return
        name = state.config.temp_compute_name or state.names.compute
        delete_quietly(
            lambda: state.compute.virtual_machines.begin_delete(state.group, name).result()
        )
        ctx.ui.say(f"Deleting the OS disk '{state.names.os_disk}' ...")
        delete_quietly(
            lambda: state.compute.disks.begin_delete(state.group, state.names.os_disk).result()
        )


class StepWinRMListener(AzureStep):
    name = "StepConfigureWinRM"

    def run(self, ctx: BuildContext) -> None:
        state = azure_state(ctx)
        if state.config.communicator != "winrm" or not state.config.winrm_use_ssl:
            return
        ctx.ui.say("Configuring the WinRM HTTPS listener (Run Command) ...")
        enable_winrm_https(
            state.compute, state.group, state.config.temp_compute_name or state.names.compute
        )


class StepPublicIP(AzureStep):
    name = "StepGetIPAddress"

    def run(self, ctx: BuildContext) -> None:
        state = azure_state(ctx)
        ctx.ui.say("Getting the VM's IP address ...")
        state.ip_address = public_ip_address(state.network, state.group, state.names.public_ip)
        ctx.ui.message(f" -> IP Address : '{state.ip_address}'")
        ctx.state["host"] = state.ip_address


class StepPowerOff(AzureStep):
    name = "StepPowerOffCompute"

    def run(self, ctx: BuildContext) -> None:
        state = azure_state(ctx)
        name = state.config.temp_compute_name or state.names.compute
        ctx.ui.say("Querying the machine's properties ...")
        vm = azure_call(
            "Querying the virtual machine",
            lambda: state.compute.virtual_machines.get(state.group, name),
        )
        ctx.ui.message(f" -> Managed OS Disk : '{vm.storage_profile.os_disk.managed_disk.id}'")
        ctx.ui.say("Powering off machine ...")
        azure_call(
            "Deallocating the virtual machine",
            lambda: state.compute.virtual_machines.begin_deallocate(state.group, name).result(),
        )


class StepCaptureImage(AzureStep):
    name = "StepCaptureImage"

    def run(self, ctx: BuildContext) -> None:
        state = azure_state(ctx)
        config = state.config
        name = config.temp_compute_name or state.names.compute
        ctx.ui.say("Generalizing the virtual machine ...")
        azure_call(
            "Generalizing the virtual machine",
            lambda: state.compute.virtual_machines.generalize(state.group, name),
        )
        ctx.ui.say("Capturing image ...")
        ctx.ui.message(
            f" -> Image ResourceGroupName : '{config.managed_image_resource_group_name}'"
        )
        ctx.ui.message(f" -> Image Name              : '{config.managed_image_name}'")
        ctx.ui.message(f" -> Image Location          : '{state.location}'")
        image = azure_call(
            "Capturing the managed image",
            lambda: state.compute.images.begin_create_or_update(
                config.managed_image_resource_group_name,
                config.managed_image_name,
                {
                    "location": state.location,
                    "tags": state.tags,
                    "source_virtual_machine": {"id": state.ids["vm"]},
                },
            ).result(),
        )
        state.image_id = image.id
