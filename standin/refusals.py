"""What Azure refuses in a request body or name, answered with Azure's code and message shape.

Resource names per type (length, characters), address spaces and subnet prefixes that are not
CIDR or lie outside their virtual network, enum values Network's JSON reader cannot convert
(security rule protocol/access/direction, public IP SKU), a VM without `hardwareProfile` or
with a VM size outside the naming scheme, and references across regions. Network answers the
way its front end does (`InvalidResourceName`, `InvalidAddressPrefixFormat`,
`InvalidCIDRNotation`, `NetcfgInvalidSubnet`, `InvalidRequestFormat` with an `InvalidJson`
detail, `InvalidResourceReference`); Compute with `InvalidParameter` and a `target`.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Any

from .errors import ArmError, invalid_parameter, network_error

# Network: 1-80 word characters, '.', '-', '_'; starts with a word character, ends with one or '_'.
_NETWORK_NAME = re.compile(r"^\w[\w.\-]{0,78}[\w]$|^\w$")
# Compute: the validation rule CRP quotes in its InvalidParameter message.
COMPUTE_NAME_RULE = r"^[^_\W][\w-._]{0,79}(?<![-.])$"
_COMPUTE_NAME = re.compile(r"^[^_\W][\w\-._]{0,79}(?<![-.])$")
_COMPUTE_MAX = {"Microsoft.Compute/virtualMachines": 64, "Microsoft.Compute/images": 80}
_GALLERY_NAME = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9_.]{0,78}[A-Za-z0-9])?$")
_VERSION_NAME = re.compile(r"^(0|[1-9]\d{0,9})\.(0|[1-9]\d{0,9})\.(0|[1-9]\d{0,9})$")
_VM_SIZE = re.compile(r"^(Standard|Basic)_[A-Z]+\d+[a-z]*(-\d+[a-z]*)?(_[A-Za-z0-9]+)*$")
# The A-series (Basic_A*, Standard_A0-A7) Azure retired on 2024-08-31; Av2 (Standard_A1_v2) lives.
RETIRED_SIZE = re.compile(r"^(Basic_A[0-4]|Standard_A[0-7])$", re.IGNORECASE)

ENUMS = {
    "protocol": (("Tcp", "Udp", "Icmp", "Esp", "Ah", "*"), "SecurityRuleProtocol"),
    "access": (("Allow", "Deny"), "SecurityRuleAccess"),
    "direction": (("Inbound", "Outbound"), "SecurityRuleDirection"),
}
PIP_SKUS = ("Basic", "Standard")
SERVICE_TAGS = {"*", "internet", "virtualnetwork", "azureloadbalancer", "any"}


def _short_type(rtype: str) -> str:
    return rtype.split("/", 1)[1]


def check_network_name(rid: str, name: str) -> None:
    if not _NETWORK_NAME.match(name):
        raise network_error(
            400,
            "InvalidResourceName",
            f"Resource name {name} is invalid. The name can be up to 80 characters long. It must "
            "begin with a word character, and it must end with a word character or with '_'. "
            "The name may contain word characters or '.', '-', '_'.",
        )


def check_compute_name(rtype: str, name: str) -> None:
    limit = _COMPUTE_MAX.get(rtype, 80)
    if not _COMPUTE_NAME.match(name) or len(name) > limit:
        raise invalid_parameter(
            f"The entity name '{name}' is invalid according to its validation rule: "
            f"{COMPUTE_NAME_RULE}"
            + (
                f" and the {_short_type(rtype)} name limit of {limit} characters."
                if len(name) > limit
                else "."
            ),
            "name",
        )


def check_gallery_name(name: str) -> None:
    if not _GALLERY_NAME.match(name):
        raise invalid_parameter(
            f"The gallery name '{name}' is invalid. The gallery name must contain only "
            "alphanumerics, underscores and periods, be at most 80 characters long and must "
            "not start or end with a period or an underscore.",
            "galleryName",
        )


def check_version_name(name: str) -> None:
    match = _VERSION_NAME.match(name)
    if match is None or any(int(part) > 2**31 - 1 for part in match.groups()):
        raise invalid_parameter(
            f"The gallery image version name '{name}' is invalid. It must follow the pattern "
            "Major.Minor.Patch, where each part is a non-negative 32-bit integer.",
            "galleryImageVersionName",
        )


def _bad_json(value: Any, type_name: str, path: str) -> ArmError:
    return ArmError(
        400,
        "InvalidRequestFormat",
        "Cannot parse the request.",
        details=[
            {
                "code": "InvalidJson",
                "message": f'Error converting value "{value}" to type '
                f"'Microsoft.WindowsAzure.Networking.Nrp.Frontend.Contract.Csm.Public."
                f"{type_name}'. Path '{path}'.",
            }
        ],
    )


def _prefix_error(prefix: Any, rid: str) -> ArmError:
    return network_error(
        400,
        "InvalidAddressPrefixFormat",
        f"Address prefix {prefix} of resource {rid} is not formatted correctly. It should "
        "follow CIDR notation, for example 10.0.0.0/24.",
    )


def _network(prefix: Any, rid: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    if not isinstance(prefix, str) or "/" not in prefix:
        raise _prefix_error(prefix, rid)
    try:
        net = ipaddress.ip_network(prefix, strict=False)
    except ValueError:
        raise _prefix_error(prefix, rid) from None
    if str(net) != prefix.strip():
        raise network_error(
            400,
            "InvalidCIDRNotation",
            f"The address prefix {prefix} in resource {rid} has an invalid CIDR notation. For "
            f"the given prefix length, the address prefix should be {net}.",
        )
    return net


def check_vnet(rid: str, props: dict[str, Any]) -> None:
    """Address space in CIDR; every subnet in CIDR, inside the space, not overlapping."""
    space = [
        _network(p, rid) for p in (props.get("addressSpace") or {}).get("addressPrefixes") or []
    ]
    if not space:
        raise network_error(
            400,
            "AddressSpaceMustHaveAtLeastOneAddressPrefix",
            f"Address space of the virtual network {rid} must have at least one address prefix.",
        )
    seen: list[tuple[str, Any]] = []
    for sub in props.get("subnets") or []:
        check_subnet(rid, sub.get("name") or "", sub.get("properties") or {}, space, seen)


def check_subnet(
    vnet_id: str,
    name: str,
    props: dict[str, Any],
    space: list[Any],
    seen: list[tuple[str, Any]] | None = None,
) -> None:
    sid = f"{vnet_id}/subnets/{name}"
    prefixes = props.get("addressPrefixes") or (
        [props["addressPrefix"]] if props.get("addressPrefix") else []
    )
    if not prefixes:
        raise network_error(
            400,
            "NetcfgInvalidSubnet",
            f"Subnet '{name}' is not valid in virtual network '{vnet_id.rsplit('/', 1)[1]}'.",
        )
    for prefix in prefixes:
        net = _network(prefix, sid)
        if not any(net.version == s.version and net.subnet_of(s) for s in space):  # type: ignore[arg-type]
            raise network_error(
                400,
                "NetcfgInvalidSubnet",
                f"Subnet '{name}' is not valid in virtual network '{vnet_id.rsplit('/', 1)[1]}'.",
            )
        for other, other_net in seen or []:
            if net.version == other_net.version and net.overlaps(other_net):
                raise network_error(
                    400,
                    "NetcfgSubnetRangesOverlap",
                    f"Subnet '{name}' is not valid because its IP address range overlaps with "
                    f"that of an existing subnet '{other}' in virtual network "
                    f"'{vnet_id.rsplit('/', 1)[1]}'.",
                )
        if seen is not None:
            seen.append((name, net))


def vnet_space(props: dict[str, Any], rid: str) -> list[Any]:
    return [
        _network(p, rid) for p in (props.get("addressSpace") or {}).get("addressPrefixes") or []
    ]


def check_rule(props: dict[str, Any], path: str, rid: str) -> None:
    for key, (allowed, type_name) in ENUMS.items():
        value = props.get(key)
        if value is None:
            raise network_error(
                400,
                "SecurityRuleParameterContainsUnsupportedValue",
                f"Security rule parameter {key[0].upper()}{key[1:]} for rule with Id {rid} "
                "cannot be null.",
            )
        if str(value).lower() not in {a.lower() for a in allowed}:
            raise _bad_json(value, type_name, f"{path}.{key}")
    for key in ("sourceAddressPrefix", "destinationAddressPrefix"):
        values = [props[key]] if props.get(key) else []
        values += props.get(f"{key}es") or []
        for value in values:
            if str(value).lower() in SERVICE_TAGS:
                continue
            try:
                ipaddress.ip_network(str(value), strict=False)
            except ValueError:
                raise network_error(
                    400,
                    "SecurityRuleInvalidAddressPrefix",
                    f"Security rule {rid} has invalid Address prefix. Value provided: {value}",
                ) from None


def check_pip_sku(body: dict[str, Any]) -> None:
    sku = body.get("sku")
    if sku and sku.get("name") and sku["name"].lower() not in {s.lower() for s in PIP_SKUS}:
        raise _bad_json(sku["name"], "PublicIpAddressSkuName", "sku.name")


def check_hardware(props: dict[str, Any], location: str) -> None:
    hardware = props.get("hardwareProfile")
    if not hardware:
        raise invalid_parameter(
            "Required parameter 'hardwareProfile' is missing (null).", "hardwareProfile"
        )
    size = hardware.get("vmSize") or ""
    if not size:
        raise invalid_parameter("Required parameter 'vmSize' is missing (null).", "vmSize")
    if not _VM_SIZE.match(size):
        raise invalid_parameter(
            f"The value {size} provided for the VM size is not valid. The valid sizes in the "
            f"current region '{location}' are listed by "
            "https://aka.ms/azure-vm-sizes-list.",
            "vmSize",
        )


def check_same_region(ref_id: str, ref_location: str, referrer: str, location: str) -> None:
    if ref_location.lower() != location.lower():
        raise network_error(
            400,
            "InvalidResourceReference",
            f"Resource {ref_id} referenced by resource {referrer} was not found. Please make "
            "sure that the referenced resource exists, and that both resources are in the same "
            "region.",
        )


def subnet_networks(props: dict[str, Any]) -> list[Any]:
    """The prefixes an existing (already accepted) subnet covers."""
    prefixes = props.get("addressPrefixes") or (
        [props["addressPrefix"]] if props.get("addressPrefix") else []
    )
    return [ipaddress.ip_network(p, strict=False) for p in prefixes]
