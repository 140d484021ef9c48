"""The azure-arm build, one small step per Azure stage, each undoing what it made.

The temporary resource group holds everything the build creates, so deleting it (and
waiting until Azure says it is gone) is the cleanup that matters; with an existing
build_resource_group_name each step deletes its own resources instead, as Packer does.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from azure.core.exceptions import HttpResponseError, ResourceNotFoundError

from ..clock import clock_of
from ..errors import BuildError
from ..multistep import BuildContext
from .calls import azure_call, delete_quietly, explain
from .cloud import AzureEndpoints, AzureSession, connect
from .compute import VmSpec, capture_image, create_vm, enable_winrm_https
from .config import AzureArmConfig
from .gallery import source_reference
from .groups import create_group, delete_group
from .names import TempNames
from .network import NetworkNames, NetworkPlan, create_network, delete_network, public_ip_address

RUN_TAG = "imagebuild-run"
KEY_TAG = "imagebuild-key"  # the build key on the image, when --image-reuse may look for it


def image_tags(ctx: BuildContext) -> dict[str, str]:
    """azure_tags, plus the build key when the run carries one (never otherwise)."""
    tags = dict(azure_state(ctx).tags)
    if ctx.options.build_key:
        tags[KEY_TAG] = ctx.options.build_key
    return tags


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
    ssh_public_key: str = ""
    gallery_version_id: str = ""
    custom_data: str = ""  # custom_data_file's content, base64, read once before anything

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

    @property
    def vm_name(self) -> str:
        return self.config.temp_compute_name or self.names.compute

    @property
    def network_names(self) -> NetworkNames:
        n = self.names
        return NetworkNames(n.vnet, n.subnet, n.public_ip, n.nsg, n.nic)


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
        state.session = connect(
            state.config,
            self.endpoints,
            ctx.ui,
            clock_of(ctx.options),
            live_chain=ctx.options.live_credentials,
        )
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
            raise explain("Checking the managed image", error) from None
        if ctx.options.force:  # packer build -force
            ctx.ui.say(f"Deleting the existing managed image {image} (-force) ...")
            azure_call(
                "Deleting the existing managed image",
                lambda: state.compute.images.begin_delete(group, image).result(),
            )
            return
        raise BuildError(
            f"the managed image named {image} already exists in the resource group "
            f"{group}; delete it first (az image delete -g {group} -n {image})."
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
        exists = azure_call(
            "Checking the temporary resource group",
            lambda: state.resources.resource_groups.check_existence(state.group),
        )
        if exists:
            raise BuildError(
                f"the temporary resource group '{state.group}' already exists; the build "
                "deletes its temporary group when it ends, so it must not exist yet (use "
                "build_resource_group_name to build inside an existing group)."
            )
        tags = {**state.tags, RUN_TAG: ctx.plan.template.run.run_uuid}
        ctx.ui.say("Creating resource group ...")
        ctx.ui.message(f" -> ResourceGroupName : '{state.group}'")
        ctx.ui.message(f" -> Location          : '{state.location}'")
        ctx.ui.message(" -> Tags              :")
        for key, value in tags.items():
            ctx.ui.message(f" ->> {key} : {value}")
        ctx.note_created("azure-resource-group", state.group)
        state.owns_group = True  # even a failed create may have made it: delete either way
        create_group(state.resources, state.group, state.location, tags)

    def cleanup(self, ctx: BuildContext) -> None:
        state = azure_state(ctx)
        if state.owns_group:
            delete_group(state.resources, state.group, ctx.ui)


class StepSshKey(AzureStep):
    """Linux builds log in with a throwaway key unless the template names one."""

    name = "StepCreateSshKey"

    def run(self, ctx: BuildContext) -> None:
        state = azure_state(ctx)
        if state.config.communicator != "ssh":
            return
        if state.config.ssh_private_key_file:
            ctx.state["ssh_key_file"] = state.config.ssh_private_key_file
            return
        from ..communicators.keys import generate_key_pair

        ctx.ui.say("Creating a temporary SSH key for the build ...")
        pair = generate_key_pair(ctx.workdir, "azure_build_key")
        ctx.state["ssh_key_file"] = str(pair.private_key_file)
        state.ssh_public_key = pair.public_key

    def cleanup(self, ctx: BuildContext) -> None:
        key = ctx.state.pop("ssh_key_file", None)
        state = azure_state(ctx)
        if key and state.ssh_public_key:
            from pathlib import Path

            for path in (Path(key), Path(f"{key}.pub")):
                path.unlink(missing_ok=True)


class StepNetwork(AzureStep):
    name = "StepCreateNetwork"

    def run(self, ctx: BuildContext) -> None:
        state = azure_state(ctx)
        port = state.config.winrm_port if state.config.communicator == "winrm" else 22
        ctx.ui.say("Creating the virtual network, public IP and network interface ...")
        state.ids["network"] = "started"
        state.ids.update(
            create_network(
                state.network,
                state.group,
                state.location,
                state.network_names,
                NetworkPlan(
                    inbound_ports=(port,),
                    allowed_sources=state.config.allowed_inbound_ip_addresses,
                ),
                state.tags,
            )
        )

    def cleanup(self, ctx: BuildContext) -> None:
        state = azure_state(ctx)
        if state.owns_group or "network" not in state.ids:
            return
        ctx.ui.say(
            "The resource group was not created by pytest-imagebuild, deleting "
            "individual resources ..."
        )
        delete_network(state.network, state.group, state.network_names)


class StepVirtualMachine(AzureStep):
    name = "StepDeployVirtualMachine"

    def run(self, ctx: BuildContext) -> None:
        state = azure_state(ctx)
        config = state.config
        ctx.ui.say("Deploying the virtual machine ...")
        ctx.ui.message(f" -> VM name : '{state.vm_name}'")
        ctx.ui.message(
            f" -> Image   : {config.image_publisher}:{config.image_offer}:"
            f"{config.image_sku}:{config.image_version}"
        )
        ctx.ui.message(f" -> Size    : '{config.vm_size}'")
        state.ids["vm"] = ""
        vm = create_vm(
            state.compute,
            state.group,
            VmSpec(
                name=state.vm_name,
                location=state.location,
                size=config.vm_size,
                nic_id=state.ids["nic"],
                admin_username=config.username,
                admin_password=state.admin_password,
                windows=config.is_windows,
                os_disk_name=state.names.os_disk,
                os_disk_size_gb=config.os_disk_size_gb,
                ssh_public_key=state.ssh_public_key,
                tags=state.tags,
                custom_data=state.custom_data,
                os_disk_caching=config.disk_caching_type,
                os_disk_storage_type=config.managed_image_storage_account_type,
                image_reference=source_reference(config)
                or {
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
        ctx.ui.say(f"Deleting the virtual machine '{state.vm_name}' ...")
        compute, group = state.compute, state.group
        azure_call(
            "Deleting the virtual machine",
            lambda: delete_quietly(
                lambda: compute.virtual_machines.begin_delete(group, state.vm_name).result()
            ),
        )
        ctx.ui.say(f"Deleting the OS disk '{state.names.os_disk}' ...")
        azure_call(
            "Deleting the OS disk",
            lambda: delete_quietly(
                lambda: compute.disks.begin_delete(group, state.names.os_disk).result()
            ),
        )


class StepWinRMListener(AzureStep):
    name = "StepConfigureWinRM"

    def run(self, ctx: BuildContext) -> None:
        state = azure_state(ctx)
        if state.config.communicator != "winrm" or not state.config.winrm_use_ssl:
            return
        ctx.ui.say("Configuring WinRM over HTTPS with a self-signed certificate (Run Command) ...")
        output = enable_winrm_https(state.compute, state.group, state.vm_name)
        for line in output.splitlines():
            ctx.ui.message(line)


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
        ctx.ui.say("Querying the machine's properties ...")
        vm = azure_call(
            "Querying the virtual machine",
            lambda: state.compute.virtual_machines.get(state.group, state.vm_name),
        )
        ctx.ui.message(f" -> Managed OS Disk : '{vm.storage_profile.os_disk.managed_disk.id}'")
        ctx.ui.say("Powering off machine ...")
        azure_call(
            "Deallocating the virtual machine",
            lambda: state.compute.virtual_machines.begin_deallocate(
                state.group, state.vm_name
            ).result(),
        )


class StepCaptureImage(AzureStep):
    name = "StepCaptureImage"
    started = False

    def run(self, ctx: BuildContext) -> None:
        state = azure_state(ctx)
        config = state.config
        ctx.ui.say("Generalizing the virtual machine ...")
        azure_call(
            "Generalizing the virtual machine",
            lambda: state.compute.virtual_machines.generalize(state.group, state.vm_name),
        )
        ctx.ui.say("Capturing image ...")
        ctx.ui.message(
            f" -> Image ResourceGroupName : '{config.managed_image_resource_group_name}'"
        )
        ctx.ui.message(f" -> Image Name              : '{config.managed_image_name}'")
        ctx.ui.message(f" -> Image Location          : '{state.location}'")
        self.started = True
        image = capture_image(
            state.compute,
            config.managed_image_resource_group_name,
            config.managed_image_name,
            state.location,
            state.ids["vm"],
            image_tags(ctx),
            zone_resilient=config.managed_image_zone_resilient,
        )
        state.image_id = image.id
        state.location = image.location or state.location

    def cleanup(self, ctx: BuildContext) -> None:
        """A capture that failed leaves a Failed image behind, which would block the next run."""
        state = azure_state(ctx)
        if not self.started or state.image_id:
            return
        config = state.config
        group, name = config.managed_image_resource_group_name, config.managed_image_name
        ctx.ui.say(f"Deleting the image '{name}' whose capture failed ...")
        azure_call(
            "Deleting the failed image",
            lambda: delete_quietly(lambda: state.compute.images.begin_delete(group, name).result()),
        )
