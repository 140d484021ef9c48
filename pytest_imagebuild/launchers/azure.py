"""A VM from the managed image, in a resource group of its own that teardown deletes.

This is the seed pipeline's second half: vnet 192.168.0.0/16 with subnet 192.168.1.0/24,
a static public IP, an NSG letting TCP 80 in, a NIC, and a VM with a fresh admin password.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..builders.azure_arm.cloud import AzureEndpoints, connect
from ..builders.azure_arm.config import AzureArmConfig
from ..builders.azure_arm.names import TempNames, random_password
from ..builders.azure_arm.resources import (
    NetworkNames,
    NetworkPlan,
    VmSpec,
    azure_call,
    create_network,
    create_vm,
    delete_group,
    enable_winrm_https,
    public_ip_address,
)
from ..builders.base import Artifact
from ..ui import BuildUI
from .base import LaunchedVM

LAUNCH_TAG = "imagebuild-launch"


class AzureLauncher:
    def __init__(self, artifact: Artifact, ui: BuildUI, workdir: Path, options: dict[str, Any]):
        self.artifact = artifact
        self.ui = ui
        self.config: AzureArmConfig = options["azure_config"]
        self.endpoints: AzureEndpoints = options.get("azure_endpoints") or AzureEndpoints()
        seed = options.get("seed", "")
        self.names = TempNames.create(seed, f"launch/{artifact.build_name}")
        self.password = random_password(seed, f"launch-admin/{artifact.build_name}")
        self.username = "imagebuild"
        self.group = f"imagebuild-launch-{self.names.suffix}"
        self.run_id = options.get("run_id", "")
        self.record_created = options.get("record_created")
        self.clients: dict[str, Any] = {}
        self.created = False
        ui.add_secret(self.password)

    def launch(self) -> LaunchedVM:
        from azure.mgmt.compute import ComputeManagementClient
        from azure.mgmt.network import NetworkManagementClient
        from azure.mgmt.resource.resources import ResourceManagementClient

        session = connect(self.config, self.endpoints, self.ui)
        resources = session.client(ResourceManagementClient)
        network = session.client(NetworkManagementClient)
        compute = session.client(ComputeManagementClient)
        self.clients = {"resource": resources}
        location = self.artifact.data["location"]
        windows = self.config.is_windows
        tags = {LAUNCH_TAG: self.run_id}
        self.ui.say(
            f"Launching a VM from {self.artifact.data['managed_image_name']} in resource "
            f"group '{self.group}' ..."
        )
        if self.record_created:
            self.record_created("azure-resource-group", self.group)
        self.created = True
        azure_call(
            "Creating the launch resource group",
            lambda: resources.resource_groups.create_or_update(
                self.group, {"location": location, "tags": tags}
            ),
        )
        names = self.names
        ports = (80, 5986) if windows else (80, 22)
        ids = create_network(
            network,
            self.group,
            location,
            NetworkNames(names.vnet, names.subnet, names.public_ip, names.nsg, names.nic),
            NetworkPlan("192.168.0.0/16", "192.168.1.0/24", ports),
            tags,
        )
        create_vm(
            compute,
            self.group,
            VmSpec(
                name=names.compute,
                location=location,
                size=self.config.vm_size,
                nic_id=ids["nic"],
                admin_username=self.username,
                admin_password=self.password,
                windows=windows,
                image_reference={"id": self.artifact.id},
                tags=tags,
            ),
        )
        if windows:
            enable_winrm_https(compute, self.group, names.compute)
        ip = public_ip_address(network, self.group, names.public_ip)
        if windows:
            from ..communicators.winrm import WinRMCommunicator

            self.ui.say("Waiting for WinRM to become available...")
            WinRMCommunicator(
                host=ip,
                port=5986,
                username=self.username,
                password=self.password,
                insecure=True,
                transport="ntlm",
            ).wait_ready(self.config.connect_timeout)
        self.ui.say(f"VM {names.compute} is up at {ip}")
        return LaunchedVM(
            name=names.compute,
            host=ip,
            username=self.username,
            password=self.password,
            communicator="winrm" if windows else "ssh",
            data={"resource_group": self.group, "vm_name": names.compute},
        )

    def teardown(self) -> None:
        if self.created and self.clients:
            delete_group(self.clients["resource"], self.group, self.ui)
            self.created = False
