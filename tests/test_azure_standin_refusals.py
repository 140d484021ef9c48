"""The loopback Azure refuses what Azure refuses, with Azure's status, code and message shape.

Names, CIDRs, enum values, missing properties, api-versions, cross-region references and the
subscription-level refusals tests inject; each through the real SDK clients where the SDK can
send the request, raw HTTPS where it cannot (a wrong api-version).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests
from azure.core.exceptions import HttpResponseError
from azure.identity import ClientSecretCredential
from azure.mgmt.compute import ComputeManagementClient
from azure.mgmt.compute import models as cm
from azure.mgmt.network import NetworkManagementClient
from azure.mgmt.network import models as nm
from azure.mgmt.resource.resources import ResourceManagementClient

from standin import Standin, start_standin
from standin.subscription_faults import (
    authorization_failed,
    missing_registration,
    quota_exceeded,
    sku_not_available,
)

LOCATION = "westeurope"
PASSWORD = "S3cure!Passw0rd-123"
GROUP = "rg-refusals"


@pytest.fixture(scope="module")
def azure() -> Iterator[Standin]:
    with start_standin(fast=True) as standin:
        yield standin


@pytest.fixture(scope="module")
def clients(azure: Standin) -> dict[str, Any]:
    credential = ClientSecretCredential(**azure.credential_kwargs())
    kwargs = {**azure.client_kwargs(), "retry_total": 0}
    out = {
        "resource": ResourceManagementClient(credential, azure.subscription_id, **kwargs),
        "network": NetworkManagementClient(credential, azure.subscription_id, **kwargs),
        "compute": ComputeManagementClient(credential, azure.subscription_id, **kwargs),
        "credential": credential,
    }
    out["resource"].resource_groups.create_or_update(GROUP, {"location": LOCATION})
    out["resource"].resource_groups.create_or_update("rg-east", {"location": "eastus"})
    return out


@pytest.fixture(scope="module")
def network(clients: dict[str, Any]) -> dict[str, Any]:
    """A vnet 10.1.0.0/16 with subnet sn, and a NIC on it, in westeurope."""
    nc = clients["network"]
    vnet = nc.virtual_networks.begin_create_or_update(
        GROUP, "vn", vnet_model("10.1.0.0/16", "10.1.0.0/24")
    ).result()
    nic = nc.network_interfaces.begin_create_or_update(
        GROUP, "ni", nic_model(vnet.subnets[0].id)
    ).result()
    return {"vnet": vnet, "nic": nic}


def vnet_model(space: str, *prefixes: str, location: str = LOCATION) -> nm.VirtualNetwork:
    return nm.VirtualNetwork(
        location=location,
        address_space=nm.AddressSpace(address_prefixes=[space]),
        subnets=[nm.Subnet(name=f"sn{i or ''}", address_prefix=p) for i, p in enumerate(prefixes)],
    )


def nic_model(subnet_id: str, location: str = LOCATION) -> nm.NetworkInterface:
    return nm.NetworkInterface(
        location=location,
        ip_configurations=[
            nm.NetworkInterfaceIPConfiguration(name="ipconfig", subnet=nm.Subnet(id=subnet_id))
        ],
    )


def rule(**changes: Any) -> nm.SecurityRule:
    values = {
        "name": "r",
        "protocol": "Tcp",
        "source_port_range": "*",
        "destination_port_range": "22",
        "source_address_prefix": "*",
        "destination_address_prefix": "*",
        "access": "Allow",
        "priority": 100,
        "direction": "Inbound",
        **changes,
    }
    return nm.SecurityRule(**values)


def vm_model(nic_id: str, size: str | None = "Standard_D2s_v3", **changes: Any) -> Any:
    vm = cm.VirtualMachine(
        location=changes.pop("location", LOCATION),
        hardware_profile=cm.HardwareProfile(vm_size=size) if size else None,
        storage_profile=cm.StorageProfile(
            image_reference=cm.ImageReference(
                publisher="MicrosoftWindowsServer",
                offer="WindowsServer",
                sku="2019-Datacenter",
                version="latest",
            ),
            os_disk=cm.OSDisk(create_option="FromImage"),
        ),
        os_profile=cm.OSProfile(
            computer_name=changes.pop("computer_name", "vm"),
            admin_username="packer",
            admin_password=PASSWORD,
        ),
        network_profile=cm.NetworkProfile(
            network_interfaces=[cm.NetworkInterfaceReference(id=nic_id)]
        ),
    )
    return vm


def refused(action: Callable[[], Any]) -> HttpResponseError:
    with pytest.raises(HttpResponseError) as info:
        result = action()
        if hasattr(result, "result"):
            result.result()
    return info.value


# -- names ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["-vn", "vn.", "v" * 81, "vn!"])
def test_network_names_azure_refuses(clients: dict[str, Any], name: str) -> None:
    error = refused(
        lambda: clients["network"].virtual_networks.begin_create_or_update(
            GROUP, name, vnet_model("10.9.0.0/16", "10.9.0.0/24")
        )
    )
    assert (error.status_code, error.error.code) == (400, "InvalidResourceName")
    assert f"Resource name {name} is invalid" in error.error.message


@pytest.mark.parametrize("name", ["_vm", "vm-", "v" * 65])
def test_vm_names_azure_refuses(
    clients: dict[str, Any], network: dict[str, Any], name: str
) -> None:
    error = refused(
        lambda: clients["compute"].virtual_machines.begin_create_or_update(
            GROUP, name, vm_model(network["nic"].id)
        )
    )
    assert (error.status_code, error.error.code, error.error.target) == (
        400,
        "InvalidParameter",
        "name",
    )
    assert f"The entity name '{name}' is invalid" in error.error.message


def test_a_windows_computer_name_over_15_characters(
    clients: dict[str, Any], network: dict[str, Any]
) -> None:
    error = refused(
        lambda: clients["compute"].virtual_machines.begin_create_or_update(
            GROUP, "vm", vm_model(network["nic"].id, computer_name="c" * 16)
        )
    )
    assert (error.status_code, error.error.code, error.error.target) == (
        400,
        "InvalidParameter",
        "computerName",
    )
    assert "cannot be more than 15 characters long" in error.error.message


# -- address spaces and subnets -------------------------------------------------------------------
@pytest.mark.parametrize(
    ("space", "prefix", "code"),
    [
        ("10.2.0.0/33", "10.2.0.0/24", "InvalidAddressPrefixFormat"),
        ("10.2.0.0", "10.2.0.0/24", "InvalidAddressPrefixFormat"),
        ("10.2.0.0/16", "10.2.0.0/240", "InvalidAddressPrefixFormat"),
        ("10.2.0.0/16", "10.2.0.1/24", "InvalidCIDRNotation"),
        ("10.2.0.0/16", "10.3.0.0/24", "NetcfgInvalidSubnet"),
    ],
)
def test_address_prefixes_azure_refuses(
    clients: dict[str, Any], space: str, prefix: str, code: str
) -> None:
    error = refused(
        lambda: clients["network"].virtual_networks.begin_create_or_update(
            GROUP, "vn-bad", vnet_model(space, prefix)
        )
    )
    assert (error.status_code, error.error.code) == (400, code)


def test_overlapping_subnets_and_a_subnet_added_outside_the_vnet(
    clients: dict[str, Any], network: dict[str, Any]
) -> None:
    nc = clients["network"]
    overlap = refused(
        lambda: nc.virtual_networks.begin_create_or_update(
            GROUP, "vn-overlap", vnet_model("10.4.0.0/16", "10.4.0.0/24", "10.4.0.128/25")
        )
    )
    assert overlap.error.code == "NetcfgSubnetRangesOverlap"
    outside = refused(
        lambda: nc.subnets.begin_create_or_update(
            GROUP, "vn", "sn-out", nm.Subnet(address_prefix="192.168.0.0/24")
        )
    )
    assert (outside.status_code, outside.error.code) == (400, "NetcfgInvalidSubnet")
    assert "Subnet 'sn-out' is not valid in virtual network 'vn'" in outside.error.message
    inside = nc.subnets.begin_create_or_update(
        GROUP, "vn", "sn-in", nm.Subnet(address_prefix="10.1.1.0/24")
    ).result()
    assert inside.address_prefix == "10.1.1.0/24"


# -- enum values and missing properties -----------------------------------------------------------
@pytest.mark.parametrize(
    ("change", "value"),
    [("protocol", "Tcpx"), ("access", "Permit"), ("direction", "Sideways")],
)
def test_security_rule_enums_azure_refuses(
    clients: dict[str, Any], change: str, value: str
) -> None:
    error = refused(
        lambda: clients["network"].network_security_groups.begin_create_or_update(
            GROUP,
            "sg",
            nm.NetworkSecurityGroup(location=LOCATION, security_rules=[rule(**{change: value})]),
        )
    )
    assert (error.status_code, error.error.code) == (400, "InvalidRequestFormat")
    (detail,) = error.error.details
    assert detail.code == "InvalidJson"
    assert f'Error converting value "{value}"' in detail.message
    assert f"properties.securityRules[0].properties.{change}" in detail.message


def test_a_security_rule_source_that_is_no_address(clients: dict[str, Any]) -> None:
    error = refused(
        lambda: clients["network"].network_security_groups.begin_create_or_update(
            GROUP,
            "sg",
            nm.NetworkSecurityGroup(
                location=LOCATION, security_rules=[rule(source_address_prefix="10.0.0.300")]
            ),
        )
    )
    assert error.error.code == "SecurityRuleInvalidAddressPrefix"
    assert "10.0.0.300" in error.error.message


def test_a_public_ip_sku_azure_does_not_have(clients: dict[str, Any]) -> None:
    error = refused(
        lambda: clients["network"].public_ip_addresses.begin_create_or_update(
            GROUP,
            "ip",
            nm.PublicIPAddress(location=LOCATION, sku=nm.PublicIPAddressSku(name="Premium")),
        )
    )
    assert (error.status_code, error.error.code) == (400, "InvalidRequestFormat")
    assert "PublicIpAddressSkuName" in error.error.details[0].message


def test_a_vm_without_hardware_profile_or_with_a_size_that_is_no_size(
    clients: dict[str, Any], network: dict[str, Any]
) -> None:
    vms = clients["compute"].virtual_machines
    missing = refused(
        lambda: vms.begin_create_or_update(GROUP, "vm", vm_model(network["nic"].id, None))
    )
    assert (missing.status_code, missing.error.code, missing.error.target) == (
        400,
        "InvalidParameter",
        "hardwareProfile",
    )
    assert "Required parameter 'hardwareProfile' is missing" in missing.error.message
    bogus = refused(
        lambda: vms.begin_create_or_update(GROUP, "vm", vm_model(network["nic"].id, "Huge"))
    )
    assert (bogus.error.code, bogus.error.target) == ("InvalidParameter", "vmSize")


def test_a_retired_a_series_size_is_not_available(
    azure: Standin, clients: dict[str, Any], network: dict[str, Any]
) -> None:
    error = refused(
        lambda: clients["compute"].virtual_machines.begin_create_or_update(
            GROUP, "vm", vm_model(network["nic"].id, "Standard_A1")
        )
    )
    assert (error.status_code, error.error.code) == (409, "SkuNotAvailable")
    assert f"location '{LOCATION}'" in error.error.message
    assert "/virtualMachines/vm'" in error.error.message


# -- references across regions --------------------------------------------------------------------
def test_references_across_regions(clients: dict[str, Any], network: dict[str, Any]) -> None:
    nc, vms = clients["network"], clients["compute"].virtual_machines
    across = refused(
        lambda: nc.network_interfaces.begin_create_or_update(
            GROUP, "ni-east", nic_model(network["vnet"].subnets[0].id, location="eastus")
        )
    )
    assert (across.status_code, across.error.code) == (400, "InvalidResourceReference")
    assert "both resources are in the same region" in across.error.message
    east = nc.virtual_networks.begin_create_or_update(
        "rg-east", "vn", vnet_model("10.5.0.0/16", "10.5.0.0/24", location="eastus")
    ).result()
    nic = nc.network_interfaces.begin_create_or_update(
        "rg-east", "ni", nic_model(east.subnets[0].id, location="eastus")
    ).result()
    error = refused(lambda: vms.begin_create_or_update(GROUP, "vm", vm_model(nic.id)))
    assert (error.status_code, error.error.code) == (400, "InvalidResourceReference")
    assert nic.id in error.error.message


# -- api-versions ---------------------------------------------------------------------------------
def _raw(azure: Standin, clients: dict[str, Any], path: str, version: str) -> requests.Response:
    token = clients["credential"].get_token("https://management.azure.com/.default").token
    return requests.get(
        f"{azure.arm_url}subscriptions/{azure.subscription_id}{path}?api-version={version}",
        headers={"Authorization": f"Bearer {token}"},
        verify=azure.ca_bundle,
        timeout=10,
    )


@pytest.mark.parametrize(
    ("path", "version", "code"),
    [
        (
            f"/resourceGroups/{GROUP}/providers/Microsoft.Network/virtualNetworks/vn",
            "2099-01-01",
            "NoRegisteredProviderFound",
        ),
        (
            f"/resourceGroups/{GROUP}/providers/Microsoft.Compute/virtualMachines/vm",
            "2026-03-01",
            "NoRegisteredProviderFound",
        ),
        (
            f"/resourceGroups/{GROUP}/providers/Microsoft.Compute/virtualMachinez/vm",
            "2024-07-01",
            "InvalidResourceType",
        ),
        (f"/resourceGroups/{GROUP}", "2099-01-01", "InvalidApiVersionParameter"),
        (f"/resourceGroups/{GROUP}", "latest", "InvalidApiVersionParameter"),
    ],
)
def test_api_versions_azure_does_not_have(
    azure: Standin,
    clients: dict[str, Any],
    network: dict[str, Any],
    path: str,
    version: str,
    code: str,
) -> None:
    resp = _raw(azure, clients, path, version)
    assert resp.status_code == 400
    error = resp.json()["error"]
    assert error["code"] == code
    if code == "NoRegisteredProviderFound":
        assert f"for location '{LOCATION}' and API version '{version}'" in error["message"]
        assert "The supported api-versions are '" in error["message"]


# -- subscription-level refusals ------------------------------------------------------------------
@pytest.mark.parametrize(
    ("make", "status", "code", "words"),
    [
        (
            lambda a: authorization_failed(a.client_id),
            403,
            "AuthorizationFailed",
            "does not have authorization to perform action "
            "'Microsoft.Network/virtualNetworks/write'",
        ),
        (
            lambda a: quota_exceeded(LOCATION),
            409,
            "OperationNotAllowed",
            "exceeding approved Total Regional Cores quota",
        ),
        (
            lambda a: sku_not_available(LOCATION),
            409,
            "SkuNotAvailable",
            "is currently not available in location",
        ),
        (
            lambda a: missing_registration("Microsoft.Network"),
            409,
            "MissingSubscriptionRegistration",
            "not registered to use namespace 'Microsoft.Network'",
        ),
    ],
)
def test_subscription_refusals_can_be_injected(
    azure: Standin, clients: dict[str, Any], make: Any, status: int, code: str, words: str
) -> None:
    rule = azure.faults.add_refusal(
        make(azure), method="PUT", path_contains="/virtualNetworks/vn-refused"
    )
    try:
        error = refused(
            lambda: clients["network"].virtual_networks.begin_create_or_update(
                GROUP, "vn-refused", vnet_model("10.6.0.0/16", "10.6.0.0/24")
            )
        )
    finally:
        azure.faults.remove(rule)
    assert (error.status_code, error.error.code) == (status, code)
    assert words in error.error.message
    assert rule.hits == 1
