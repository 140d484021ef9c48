"""What to fix when Azure refuses a request: one sentence per error code a build can meet.

Azure's own message says what it refused; these say what the template's author (or the
subscription's owner) can change so the next build gets further.
"""

from __future__ import annotations

import re

_QUOTA = re.compile(r"quota", re.IGNORECASE)

ADVICE = {
    "AuthorizationFailed": "The service principal (client_id) has no role that allows this on "
    "that scope: give it Contributor on the subscription, or on the resource groups the build "
    "uses (build_resource_group_name, managed_image_resource_group_name, the gallery's group), "
    "then sign in again so the new role is in the token.",
    "SkuNotAvailable": "That vm_size is not offered to this subscription in this location: pick "
    "another vm_size or location (`az vm list-skus --location <location> --output table` lists "
    "what is offered).",
    "MissingSubscriptionRegistration": "The subscription has not registered the resource "
    "provider the build needs: register it once with `az provider register --namespace "
    "<namespace>` (Microsoft.Compute, Microsoft.Network), then build again.",
    "NoRegisteredProviderFound": "This Azure endpoint does not know the api-version the "
    "installed azure-mgmt-* packages send (a sovereign cloud or Azure Stack lags behind): "
    "install azure-mgmt-* releases whose api-versions the endpoint lists.",
    "InvalidApiVersionParameter": "This Azure endpoint does not know the api-version the "
    "installed azure-mgmt-* packages send: install releases whose api-versions it supports.",
    "InvalidResourceType": "This Azure endpoint does not offer that resource type; check "
    "cloud_environment_name and the endpoint the build talks to.",
    "InvalidResourceName": "Rename it: Azure names are 1-80 letters, digits, '.', '-' and '_', "
    "starting with a letter or digit and not ending with '.' or '-'.",
    "InvalidResourceReference": "Everything a VM uses (network interface, virtual network, "
    "network security group, public IP) must exist and be in the VM's location; check "
    "location and the virtual_network_* settings.",
    "InvalidAddressPrefixFormat": "Address prefixes must be CIDR blocks such as 10.0.0.0/24.",
    "InvalidCIDRNotation": "Write the prefix with its network address (10.0.0.0/24, not "
    "10.0.0.1/24).",
    "NetcfgInvalidSubnet": "The subnet's prefix must lie inside its virtual network's address "
    "space.",
    "NetcfgSubnetRangesOverlap": "Subnets of one virtual network must not overlap.",
    "SecurityRuleInvalidAddressPrefix": "allowed_inbound_ip_addresses must hold IP addresses "
    "or CIDR blocks.",
    "PlatformImageNotFound": "Check image_publisher, image_offer, image_sku and image_version "
    "(`az vm image list --publisher <publisher> --all` lists them).",
    "GalleryImageNotFound": "Check shared_image_gallery (subscription, resource_group, "
    "gallery_name, image_name, image_version) and that the version is replicated to location.",
}


def advice(code: str, message: str, target: str | None = None) -> str | None:
    """The sentence for `code`, or None when the status' generic hint is all there is."""
    if code == "OperationNotAllowed" and _QUOTA.search(message or ""):
        return (
            "The subscription's vCPU quota in that region is used up: choose a smaller vm_size "
            "or another location, delete VMs you no longer need, or request a quota increase "
            "(Azure portal, Subscriptions > Usage + quotas)."
        )
    if code == "InvalidParameter":
        where = f" '{target}'" if target else ""
        if target in ("vmSize", "hardwareProfile"):
            return "Set vm_size to a size Azure offers, such as Standard_D2s_v3."
        if target == "computerName":
            return (
                "A Windows computer name is at most 15 characters, not all digits, without "
                "special characters: shorten temp_compute_name."
            )
        return (
            f"Azure rejected the value of{where} in the request; fix the template setting "
            "it comes from."
        )
    if code == "MissingSubscriptionRegistration":
        found = re.search(r"namespace '([^']+)'", message or "")
        namespace = found.group(1) if found else "<namespace>"
        return ADVICE[code].replace("<namespace>", namespace, 1)
    return ADVICE.get(code)
