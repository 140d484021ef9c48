"""A VM from the managed image, in a resource group of its own that teardown deletes.

This is the seed pipeline's second half: vnet 192.168.0.0/16 with subnet 192.168.1.0/24,
a static public IP, an NSG letting TCP 80 in (and WinRM or SSH), a NIC, and a VM with an
admin password made for this run. A Windows VM gets its WinRM HTTPS listener set up again
through Run Command before the launcher connects: generalization may have dropped the build's.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..cleanup import signals
from ..clock import clock_of
from ..communicators.keys import generate_key_pair
from ..communicators.ssh import SSHCommunicator
from ..errors import BuildError, ImagebuildError
from ..launch import LaunchedVM
from ..multistep import Artifact, RunOptions
from ..recording.communicator import recorded
from ..secrets import mask, protect
from ..template.model import BuildPlan
from ..ui import BuildUI
from .cloud import connect
from .compute import VmSpec, create_vm
from .config import AzureArmConfig
from .groups import create_group, delete_group
from .names import TempNames, random_password
from .network import (
    NetworkNames,
    NetworkPlan,
    create_network,
    public_ip_address,
)
from .options import endpoints
from .winrm_listener import reset_winrm_https

LAUNCH_TAG = "imagebuild-launch"
WINRM_HTTPS_PORT = 5986


class AzureLauncher:
    def __init__(
        self, plan: BuildPlan, artifact: Artifact, ui: BuildUI, workdir: Path, run: RunOptions
    ):
        self.artifact = artifact
        self.ui = ui
        self.workdir = workdir
        self.config = AzureArmConfig.from_plan(plan.config)
        self.endpoints = endpoints(run.provider)
        self.clock = clock_of(run)
        self.live_chain = run.live_credentials
        seed = run.seed
        self.names = TempNames.create(seed, f"launch/{artifact.build_name}")
        self.password = random_password(seed, f"launch-admin/{artifact.build_name}")
        self.username = "imagebuild"
        self.group = f"imagebuild-launch-{self.names.suffix}"
        self.run_id = run.run_id
        self.note_created = run.note_created  # nothing on replay: no group really exists
        self.resources: Any = None
        self.created = False
        protect(ui, self.password)

    def launch(self) -> LaunchedVM:
        try:
            return self._launch()
        except ImagebuildError as error:
            raise BuildError(mask(str(error), self.ui.secrets)) from None

    def _launch(self) -> LaunchedVM:
        from azure.mgmt.compute import ComputeManagementClient
        from azure.mgmt.network import NetworkManagementClient
        from azure.mgmt.resource.resources import ResourceManagementClient

        session = connect(self.config, self.endpoints, self.ui, self.clock, self.live_chain)
        self.resources = session.client(ResourceManagementClient)
        network = session.client(NetworkManagementClient)
        compute = session.client(ComputeManagementClient)
        location = self.artifact.data["location"]
        windows = self.config.is_windows
        tags = {LAUNCH_TAG: self.run_id}
        self.ui.say(f"Launching a VM from {self.image_label} in resource group '{self.group}' ...")
        if self.note_created:
            self.note_created("azure-resource-group", self.group)
        self.created = True
        create_group(self.resources, self.group, location, tags)
        names = self.names
        ports = (80, WINRM_HTTPS_PORT) if windows else (80, 22)
        ids = create_network(
            network,
            self.group,
            location,
            NetworkNames(names.vnet, names.subnet, names.public_ip, names.nsg, names.nic),
            NetworkPlan(
                "192.168.0.0/16",
                "192.168.1.0/24",
                ports,
                self.config.allowed_inbound_ip_addresses,
            ),
            tags,
        )
        key = None if windows else generate_key_pair(self.workdir, "azure_launch_key")
        self.ui.say(f"Creating virtual machine '{names.compute}' from the image ...")
        create_vm(
            compute,
            self.group,
            VmSpec(
                name=names.compute,
                location=location,
                size=self.config.vm_size,
                nic_id=ids["nic"],
                admin_username=self.username,
                admin_password=self.password if windows else "",
                windows=windows,
                ssh_public_key=key.public_key if key else "",
                image_reference={"id": self.image_id},
                tags=tags,
            ),
        )
        ip = public_ip_address(network, self.group, names.public_ip)
        self.ui.message(f" -> IP Address : '{ip}'")
        if windows:
            self.ui.say("Setting up the WinRM HTTPS listener through Run Command ...")
            reset_winrm_https(compute, self.group, names.compute)
            self._wait_for_winrm(ip)
        elif key is not None:
            self._wait_for_ssh(ip, key.private_key_file)
        self.ui.say(f"VM {names.compute} is up at {ip}")
        return LaunchedVM(
            name=names.compute,
            host=ip,
            username=self.username,
            password=self.password if windows else "",
            key_file=key.private_key_file if key else None,
            communicator="winrm" if windows else "ssh",
            data={"resource_group": self.group, "vm_name": names.compute, "location": location},
        )

    @property
    def image_id(self) -> str:
        """The gallery image version when the build published one, else the managed image."""
        return self.artifact.data.get("shared_image_gallery_image_version_id") or self.artifact.id

    @property
    def image_label(self) -> str:
        version_id = self.artifact.data.get("shared_image_gallery_image_version_id") or ""
        if version_id:
            parts = version_id.split("/")
            return f"gallery image version '{parts[-5]}/{parts[-3]}:{parts[-1]}'"
        return f"image '{self.artifact.data['managed_image_name']}'"

    def _wait_for_winrm(self, ip: str) -> None:
        from ..communicators.winrm import WinRMCommunicator

        self.ui.say("Waiting for WinRM to become available...")
        communicator = WinRMCommunicator(
            host=ip,
            port=WINRM_HTTPS_PORT,
            username=self.username,
            password=self.password,
            insecure=True,
            transport="ntlm",
            clock=self.clock,
        )
        communicator.wait_ready(self.config.connect_timeout)
        communicator.close()
        self.ui.say("Connected to WinRM!")

    def _wait_for_ssh(self, ip: str, key_file: Path) -> None:
        """Linux VMs: log in with the launch's own key pair (Azure puts it in authorized_keys)."""
        self.ui.say("Waiting for SSH to become available...")
        communicator = recorded(
            SSHCommunicator(ip, 22, self.username, private_key_file=key_file, poll_interval=2.0)
        )
        communicator.wait_ready(self.config.connect_timeout)
        communicator.close()
        self.ui.say("Connected to SSH!")

    def teardown(self) -> None:
        """Delete the launch group and wait for it; runs whether the tests passed or not."""
        if not (self.created and self.resources is not None):
            return
        self.created = False
        try:
            with signals.cleaning_up():
                delete_group(self.resources, self.group, self.ui)
        except ImagebuildError as error:
            raise BuildError(mask(str(error), self.ui.secrets)) from None
