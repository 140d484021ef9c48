"""The network a temporary VM needs: VNet and subnet, static public IP, NSG, NIC.

Built from SDK model objects: the SDK serialises models to Azure's REST shape, whereas a
plain dict would be sent as-is.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from .calls import azure_call


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
    # Packer's allowed_inbound_ip_addresses: who may reach the ports; empty means anyone.
    allowed_sources: Sequence[str] = ()


def _rules(ports: Sequence[int], sources: Sequence[str] = ()) -> list[Any]:
    from azure.mgmt.network.models import SecurityRule

    return [
        SecurityRule(
            name=f"AllowTcp{port}Inbound",
            protocol="Tcp",
            source_port_range="*",
            destination_port_range=str(port),
            source_address_prefix=None if sources else "*",
            source_address_prefixes=list(sources) or None,
            destination_address_prefix="*",
            access="Allow",
            priority=100 + index,
            direction="Inbound",
        )
        for index, port in enumerate(ports)
    ]


def create_network(
    network: Any,
    group: str,
    location: str,
    names: NetworkNames,
    plan: NetworkPlan,
    tags: dict[str, str],
) -> dict[str, str]:
    """Create the network resources; returns their ids by role."""
    from azure.mgmt.network import models as nm

    vnet = azure_call(
        f"Creating virtual network '{names.vnet}'",
        lambda: network.virtual_networks.begin_create_or_update(
            group,
            names.vnet,
            nm.VirtualNetwork(
                location=location,
                tags=tags,
                address_space=nm.AddressSpace(address_prefixes=[plan.address_space]),
                subnets=[nm.Subnet(name=names.subnet, address_prefix=plan.subnet_prefix)],
            ),
        ).result(),
    )
    ip = azure_call(
        f"Creating public IP address '{names.public_ip}'",
        lambda: network.public_ip_addresses.begin_create_or_update(
            group,
            names.public_ip,
            nm.PublicIPAddress(
                location=location,
                tags=tags,
                sku=nm.PublicIPAddressSku(name="Standard"),
                public_ip_allocation_method="Static",
            ),
        ).result(),
    )
    nsg = azure_call(
        f"Creating network security group '{names.nsg}'",
        lambda: network.network_security_groups.begin_create_or_update(
            group,
            names.nsg,
            nm.NetworkSecurityGroup(
                location=location,
                tags=tags,
                security_rules=_rules(plan.inbound_ports, plan.allowed_sources),
            ),
        ).result(),
    )
    nic = azure_call(
        f"Creating network interface '{names.nic}'",
        lambda: network.network_interfaces.begin_create_or_update(
            group,
            names.nic,
            nm.NetworkInterface(
                location=location,
                tags=tags,
                network_security_group=nm.NetworkSecurityGroup(id=nsg.id),
                ip_configurations=[
                    nm.NetworkInterfaceIPConfiguration(
                        name="ipconfig",
                        subnet=nm.Subnet(id=vnet.subnets[0].id),
                        public_ip_address=nm.PublicIPAddress(id=ip.id),
                    )
                ],
            ),
        ).result(),
    )
    return {"vnet": vnet.id, "public_ip": ip.id, "nsg": nsg.id, "nic": nic.id}


def public_ip_address(network: Any, group: str, name: str) -> str:
    from ..errors import BuildError

    ip = azure_call(
        "Getting the public IP address", lambda: network.public_ip_addresses.get(group, name)
    )
    if not ip.ip_address:
        raise BuildError(f"public IP {name} has no address yet")
    return ip.ip_address


def delete_network(network: Any, group: str, names: NetworkNames) -> None:
    """Delete, NIC first, what create_network made in a group the build does not own."""
    from .calls import delete_quietly

    for operations, name in (
        (network.network_interfaces, names.nic),
        (network.public_ip_addresses, names.public_ip),
        (network.network_security_groups, names.nsg),
        (network.virtual_networks, names.vnet),
    ):
        azure_call(
            f"Deleting '{name}'",
            lambda ops=operations, n=name: delete_quietly(
                lambda: ops.begin_delete(group, n).result()
            ),
        )
