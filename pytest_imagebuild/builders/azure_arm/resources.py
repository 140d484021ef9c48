"""Azure resources shared by the builder and the launcher: network, VM, WinRM, groups."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from azure.core.exceptions import HttpResponseError, ResourceNotFoundError

from ...errors import BuildError
from ...ui import BuildUI

WINRM_HTTPS_SETUP = [
    "$ErrorActionPreference = 'Stop'",
    "$cert = New-SelfSignedCertificate -DnsName $env:COMPUTERNAME "
    "-CertStoreLocation Cert:\\LocalMachine\\My",
    "New-Item -Path WSMan:\\localhost\\Listener -Transport HTTPS -Address * "
    "-CertificateThumbPrint $cert.Thumbprint -Force",
    "New-NetFirewallRule -DisplayName 'WinRM HTTPS' -Direction Inbound -Protocol TCP "
    "-LocalPort 5986 -Action Allow",
]


def azure_call(what: str, action: Callable[[], Any]) -> Any:
    """Run an SDK call; Azure's own error (code and message) becomes the build error."""
    try:
        return action()
    except HttpResponseError as error:
        code = getattr(error.error, "code", None) or error.status_code
        message = getattr(error.error, "message", None) or error.message
        raise BuildError(f"{what} failed: ({code}) {message}") from None


@dataclass(frozen=True)
class NetworkNames:
    vnet: str
    subnet: str
    public_ip: str
    nsg: str
    nic: str


@dataclass(frozen=True)
class NetworkPlan:
    address_space: str = "10.0.0.0/16"
    subnet_prefix: str = "10.0.0.0/24"
    inbound_ports: Sequence[int] = (22,)


def create_network(
    network: Any,
    group: str,
    location: str,
    names: NetworkNames,
    plan: NetworkPlan,
    tags: dict[str, str],
) -> dict[str, str]:
    """VNet with one subnet, static public IP, NSG allowing the inbound ports, and a NIC."""
    vnet = azure_call(
        "Creating the virtual network",
        lambda: network.virtual_networks.begin_create_or_update(
            group,
            names.vnet,
            {
                "location": location,
                "tags": tags,
                "address_space": {"address_prefixes": [plan.address_space]},
                "subnets": [{"name": names.subnet, "address_prefix": plan.subnet_prefix}],
            },
        ).result(),
    )
    ip = azure_call(
        "Creating the public IP address",
        lambda: network.public_ip_addresses.begin_create_or_update(
            group,
            names.public_ip,
            {
                "location": location,
                "tags": tags,
                "public_ip_allocation_method": "Static",
            },
        ).result(),
    )
    rules = [
        {
            "name": f"AllowTcp{port}Inbound",
            "protocol": "Tcp",
            "source_port_range": "*",
            "destination_port_range": str(port),
            "source_address_prefix": "*",
            "destination_address_prefix": "*",
            "access": "Allow",
            "priority": 100 + index,
            "direction": "Inbound",
        }
        for index, port in enumerate(plan.inbound_ports)
    ]
    nsg = azure_call(
        "Creating the network security group",
        lambda: network.network_security_groups.begin_create_or_update(
            group,
            names.nsg,
            {
                "location": location,
                "tags": tags,
                "security_rules": rules,
            },
        ).result(),
    )
    nic = azure_call(
        "Creating the network interface",
        lambda: network.network_interfaces.begin_create_or_update(
            group,
            names.nic,
            {
                "location": location,
                "tags": tags,
                "network_security_group": {"id": nsg.id},
                "ip_configurations": [
                    {
                        "name": "ipconfig",
                        "subnet": {"id": vnet.subnets[0].id},
                        "public_ip_address": {"id": ip.id},
                    }
                ],
            },
        ).result(),
    )
    return {"vnet": vnet.id, "public_ip": ip.id, "nsg": nsg.id, "nic": nic.id}


@dataclass(frozen=True)
class VmSpec:
    name: str
    location: str
    size: str
    nic_id: str
    admin_username: str
    admin_password: str
    windows: bool
    image_reference: dict[str, str]
    os_disk_name: str = ""
    os_disk_size_gb: int = 0
    ssh_public_key: str = ""
    tags: dict[str, str] | None = None


def create_vm(compute: Any, group: str, spec: VmSpec) -> Any:
    os_disk: dict[str, Any] = {
        "create_option": "FromImage",
        "caching": "ReadWrite",
        "managed_disk": {"storage_account_type": "Standard_LRS"},
    }
    if spec.os_disk_name:
        os_disk["name"] = spec.os_disk_name
    if spec.os_disk_size_gb:
        os_disk["disk_size_gb"] = spec.os_disk_size_gb
    os_profile: dict[str, Any] = {
        "computer_name": spec.name[:15],
        "admin_username": spec.admin_username,
        "admin_password": spec.admin_password,
    }
    if spec.windows:
        os_profile["windows_configuration"] = {
            "provision_vm_agent": True,
            "enable_automatic_updates": False,
        }
    elif spec.ssh_public_key:
        os_profile["linux_configuration"] = {
            "disable_password_authentication": False,
            "ssh": {
                "public_keys": [
                    {
                        "path": f"/home/{spec.admin_username}/.ssh/authorized_keys",
                        "key_data": spec.ssh_public_key,
                    }
                ]
            },
        }
    body = {
        "location": spec.location,
        "tags": spec.tags or {},
        "hardware_profile": {"vm_size": spec.size},
        "storage_profile": {"image_reference": spec.image_reference, "os_disk": os_disk},
        "os_profile": os_profile,
        "network_profile": {"network_interfaces": [{"id": spec.nic_id}]},
    }
    return azure_call(
        "Creating the virtual machine",
        lambda: compute.virtual_machines.begin_create_or_update(group, spec.name, body).result(),
    )


def enable_winrm_https(compute: Any, group: str, vm_name: str) -> None:
    """Marketplace Windows images listen on HTTP only; add an HTTPS listener via Run Command."""
    result = azure_call(
        "Configuring the WinRM HTTPS listener",
        lambda: compute.virtual_machines.begin_run_command(
            group,
            vm_name,
            {
                "command_id": "RunPowerShellScript",
                "script": WINRM_HTTPS_SETUP,
            },
        ).result(),
    )
    errors = [
        status.message
        for status in (result.value or [])
        if "StdErr" in (status.code or "") and status.message
    ]
    if errors:
        raise BuildError("Configuring the WinRM HTTPS listener failed: " + errors[0])


def public_ip_address(network: Any, group: str, name: str) -> str:
    ip = azure_call(
        "Getting the public IP address", lambda: network.public_ip_addresses.get(group, name)
    )
    if not ip.ip_address:
        raise BuildError(f"public IP {name} has no address yet")
    return ip.ip_address


def delete_group(resources: Any, group: str, ui: BuildUI) -> None:
    """Delete a resource group and wait until Azure reports it gone."""
    ui.say(f"Cleanup requested, deleting resource group '{group}' ...")
    try:
        poller = resources.resource_groups.begin_delete(group)
    except ResourceNotFoundError:
        ui.message("Resource group was already gone.")
        return
    azure_call(f"Deleting resource group {group}", poller.result)
    ui.say("Resource group has been deleted.")


def delete_quietly(action: Callable[[], Any]) -> None:
    with contextlib.suppress(ResourceNotFoundError):
        action()
