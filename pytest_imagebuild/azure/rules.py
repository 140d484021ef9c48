"""What the azure-arm builder's Prepare rejects in Packer 1.6.6, checked without calling Azure.

Messages keep Packer's wording (so they can be searched for) and add what it leaves out:
which keys are involved, which values are allowed.
"""

from __future__ import annotations

import ipaddress
import os
import re
import stat
from collections.abc import Callable
from typing import Any

from .. import rfc3339
from ..errors import Caveat
from ..template.communicator_rules import CommunicatorNeeds, check_communicator
from ..template.hints import did_you_mean
from ..template.jsonsource import JsonPath
from ..template.types import as_bool, is_set, string_list
from ..template.unsupported import UnsupportedTable, table_keys, unsupported_in, warn
from .config import CUSTOM_DATA_LIMIT
from .password_rule import check_admin_password

Report = Callable[[JsonPath, str], None]

_MANAGED_IMAGE_NAME = re.compile(r"^[^_\W][\w\-._)]{0,79}$")
_RESOURCE_GROUP_NAME = re.compile(r"^[^_\W][\w\-._()]{0,89}$")
_CAPTURE_CONTAINER_NAME = re.compile(r"^[a-z0-9][a-z0-9\-]{2,62}$")
_CAPTURE_NAME_PREFIX = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_\-.]{0,23}$")
# Packer's friendly names and go-autorest's environment names, matched case-insensitively.
CLOUD_ENVIRONMENTS = (
    "Public",
    "China",
    "German",
    "Germany",
    "USGovernment",
    "AzurePublicCloud",
    "AzureChinaCloud",
    "AzureGermanCloud",
    "AzureUSGovernmentCloud",
)
STORAGE_ACCOUNT_TYPES = ("Standard_LRS", "Premium_LRS")
GALLERY_STORAGE_ACCOUNT_TYPES = ("Standard_LRS", "Standard_ZRS")
DISK_CACHING_TYPES = ("None", "ReadOnly", "ReadWrite")
MAX_TAGS = 15
PLAN_KEYS = ("plan_name", "plan_product", "plan_publisher")


def _nested(config: dict[str, Any], key: str) -> dict[str, Any]:
    value = config.get(key)
    return value if isinstance(value, dict) else {}


def _key_file(name: str) -> str | None:
    path = os.path.expanduser(name)
    if os.path.isfile(path):
        return None
    return f"Error on reading SSH private key: open {path}: no such file or directory"


def _check_cloud(config: dict[str, Any], path: JsonPath, report: Report) -> None:
    name = str(config.get("cloud_environment_name") or "Public")
    if name.lower() not in {known.lower() for known in CLOUD_ENVIRONMENTS}:
        report(
            (*path, "cloud_environment_name"),
            f"There is no cloud environment matching the name '{name}'! "
            f"(use one of: {', '.join(CLOUD_ENVIRONMENTS)})"
            + did_you_mean(name, CLOUD_ENVIRONMENTS),
        )


def _check_auth(config: dict[str, Any], path: JsonPath, report: Report) -> None:
    """One of the credential sets Packer accepts; Azure itself is not asked."""
    if as_bool(config.get("use_azure_cli_auth", False)):
        return
    given = {
        key
        for key in (
            "subscription_id",
            "client_id",
            "client_secret",
            "client_cert_path",
            "client_jwt",
            "tenant_id",
        )
        if is_set(config, key)
    }
    client = given & {"client_secret", "client_cert_path", "client_jwt"}
    if not given:
        return  # the Managed Identity of the machine running the build
    if "subscription_id" in given and not given & {"client_id", *client}:
        return  # interactive (device) login
    if {"subscription_id", "client_id"} <= given and len(client) == 1:
        cert = config.get("client_cert_path")
        if "client_cert_path" in client and not os.path.isfile(str(cert)):
            report(
                (*path, "client_cert_path"),
                f"client_cert_path is not an accessible file: stat {cert}: "
                "no such file or directory",
            )
        if "client_jwt" in client and str(config["client_jwt"]).count(".") != 2:
            report(
                (*path, "client_jwt"),
                "client_jwt is not a JWT: token contains an invalid number of segments",
            )
        return
    where = (*path, "client_id") if "client_id" in given else path
    report(
        where,
        "No valid set of authentication values specified: set subscription_id, client_id and "
        "one of client_secret, client_cert_path or client_jwt (service principal), only "
        "subscription_id (interactive login), or none of them (Managed Identity); "
        f"this builder sets {', '.join(sorted(given))}",
    )


def _check_outputs(config: dict[str, Any], path: JsonPath, report: Report) -> None:
    """A VHD (capture_*) or a managed image, never both, never neither."""
    vhd = is_set(config, "capture_container_name") or is_set(config, "capture_name_prefix")
    managed = is_set(config, "managed_image_name") or is_set(
        config, "managed_image_resource_group_name"
    )
    if not (is_set(config, "capture_container_name") or is_set(config, "managed_image_name")):
        report(path, "A capture_container_name or managed_image_name must be specified")
    if not (
        is_set(config, "capture_name_prefix") or is_set(config, "managed_image_resource_group_name")
    ):
        report(path, "A capture_name_prefix or managed_image_resource_group_name must be specified")
    if vhd and managed:
        report(
            path,
            "Either a VHD or a managed image can be built, but not both. Please specify either "
            "capture_container_name and capture_name_prefix or "
            "managed_image_resource_group_name and managed_image_name.",
        )
    container = str(config.get("capture_container_name") or "")
    if container:
        if (
            not _CAPTURE_CONTAINER_NAME.match(container)
            or container.endswith("-")
            or "--" in container
        ):
            report(
                (*path, "capture_container_name"),
                "A capture_container_name must be 3 to 63 lower-case letters, digits and "
                "single hyphens, not ending with a hyphen",
            )
        prefix = str(config.get("capture_name_prefix") or "")
        if not prefix:
            report(path, "A capture_name_prefix must be specified")
        elif not _CAPTURE_NAME_PREFIX.match(prefix) or prefix.endswith(("-", ".")):
            report(
                (*path, "capture_name_prefix"),
                "A capture_name_prefix must satisfy the regular expression "
                f'"{_CAPTURE_NAME_PREFIX.pattern}" and not end with a hyphen or period.',
            )
    # Packer: exactly one of (storage_account or resource_group_name) and (managed_image_*);
    # without a managed image both VHD settings are required, each reported on its own.
    vhd_output = is_set(config, "storage_account") or is_set(config, "resource_group_name")
    if vhd_output == managed:
        report(
            path,
            "Specify either a VHD (storage_account and resource_group_name) or Managed Image "
            "(managed_image_resource_group_name and managed_image_name) output",
        )
    if not managed:
        for key in ("storage_account", "resource_group_name"):
            if not is_set(config, key):
                report(path, f"A {key} must be specified")


def _check_source(config: dict[str, Any], path: JsonPath, report: Report) -> None:
    """Exactly one image to start from: VHD, marketplace, managed image or gallery image."""
    gallery = _nested(config, "shared_image_gallery")
    sources = {
        "image_url": is_set(config, "image_url"),
        "image_publisher, image_offer, image_sku": any(
            is_set(config, key) for key in ("image_publisher", "image_offer", "image_sku")
        ),
        "custom_managed_image_name, custom_managed_image_resource_group_name": is_set(
            config, "custom_managed_image_name"
        )
        or is_set(config, "custom_managed_image_resource_group_name"),
        "shared_image_gallery": is_set(gallery, "gallery_name"),
    }
    chosen = [keys for keys, used in sources.items() if used]
    if len(chosen) > 1:
        report(
            path,
            "Specify either a VHD (image_url), Image Reference (image_publisher, image_offer, "
            "image_sku), a Managed Image (custom_managed_image_name, "
            "custom_managed_image_resource_group_name), or a Shared Gallery Image "
            f"(shared_image_gallery), not several: this builder sets {'; '.join(chosen)}",
        )
    if is_set(config, "image_url") and is_set(config, "managed_image_resource_group_name"):
        report(
            (*path, "image_url"),
            "A managed image must be created from a managed image, it cannot be created from "
            "a VHD.",
        )
    if is_set(gallery, "gallery_name"):
        for key in ("subscription", "resource_group", "image_name"):
            if not is_set(gallery, key):
                report(
                    (*path, "shared_image_gallery"),
                    f"A shared_image_gallery.{key} must be specified",
                )
        for key, instead in (
            ("capture_container_name", "managed_image_resource_group_name"),
            ("capture_name_prefix", "managed_image_name"),
        ):
            if is_set(config, key):
                report(
                    (*path, key),
                    f"VHD Target [{key}] is not supported when using Shared Image Gallery as "
                    f"source. Use {instead} instead.",
                )
    elif not is_set(config, "image_url") and not is_set(config, "custom_managed_image_name"):
        for key in ("image_publisher", "image_offer", "image_sku"):
            if not is_set(config, key):
                report(path, f"An {key} must be specified")
    elif not is_set(config, "image_url") and not is_set(config, "image_publisher"):
        for key in (
            "custom_managed_image_resource_group_name",
            "custom_managed_image_name",
            "managed_image_resource_group_name",
            "managed_image_name",
        ):
            if not is_set(config, key):
                report(path, f"A {key} must be specified")
    elif any(
        is_set(config, key)
        for key in ("image_publisher", "image_offer", "image_sku", "image_version")
    ) and is_set(config, "image_url"):
        report(
            (*path, "image_url"),
            "An image_url must not be specified if image_publisher, image_offer, image_sku, "
            "or image_version is specified",
        )


def _check_names(config: dict[str, Any], path: JsonPath, report: Report) -> None:
    if is_set(config, "location") == is_set(config, "build_resource_group_name"):
        report(
            (*path, "location") if is_set(config, "location") else path,
            "Specify either a location to create the resource group in or an existing "
            "build_resource_group_name, but not both.",
        )
    if is_set(config, "temp_resource_group_name") and is_set(config, "build_resource_group_name"):
        report(
            (*path, "temp_resource_group_name"),
            "The settings temp_resource_group_name and build_resource_group_name cannot both "
            "be defined.  Please define one or neither.",
        )
    for key in (
        "temp_resource_group_name",
        "build_resource_group_name",
        "managed_image_resource_group_name",
    ):
        name = str(config.get(key) or "")
        if name and (not _RESOURCE_GROUP_NAME.match(name) or name.endswith(("-", "."))):
            report(
                (*path, key),
                f"The setting {key} must match the regular expression "
                f"\"{_RESOURCE_GROUP_NAME.pattern}\", and not end with a '-' or '.'.",
            )
    name = str(config.get("managed_image_name") or "")
    if name and (not _MANAGED_IMAGE_NAME.match(name) or name.endswith(("-", "."))):
        report(
            (*path, "managed_image_name"),
            "The setting managed_image_name must match the regular expression "
            "\"^[^_\\\\W][\\\\w-._)]{0,79}$\", and not end with a '-' or '.'.",
        )


def _check_gallery_destination(config: dict[str, Any], path: JsonPath, report: Report) -> None:
    destination = _nested(config, "shared_image_gallery_destination")
    if not (
        is_set(config, "managed_image_name")
        and is_set(config, "managed_image_resource_group_name")
        and is_set(destination, "gallery_name")
    ):
        return
    where = (*path, "shared_image_gallery_destination")
    for key, article in (("resource_group", "A"), ("image_name", "An"), ("image_version", "An")):
        if not is_set(destination, key):
            report(where, f"{article} {key} must be specified for shared_image_gallery_destination")
    storage = str(destination.get("storage_account_type") or "")
    if storage and storage not in GALLERY_STORAGE_ACCOUNT_TYPES:
        report(
            (*where, "storage_account_type"),
            f'The storage_account_type "{storage}" is invalid (use one of: '
            f'{", ".join(GALLERY_STORAGE_ACCOUNT_TYPES)})'
            + did_you_mean(storage, GALLERY_STORAGE_ACCOUNT_TYPES),
        )
    if not string_list(destination.get("replication_regions")):
        report(
            where,
            "A list of replication_regions must be specified for shared_image_gallery_destination "
            '(for example "replication_regions": ["westeurope"])',
        )


def _is_ip_or_cidr(text: str) -> bool:
    try:
        if "/" in text:
            ipaddress.ip_network(text, strict=False)
        else:
            ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def _check_network(config: dict[str, Any], path: JsonPath, report: Report) -> None:
    for key in ("virtual_network_resource_group_name", "virtual_network_subnet_name"):
        if is_set(config, key) and not is_set(config, "virtual_network_name"):
            report((*path, key), f"If {key} is specified, so must virtual_network_name")
    addresses = string_list(config.get("allowed_inbound_ip_addresses"))
    if addresses and is_set(config, "virtual_network_name"):
        report(
            (*path, "allowed_inbound_ip_addresses"),
            "If virtual_network_name is specified, allowed_inbound_ip_addresses cannot be "
            "specified",
        )
        return
    for index, address in enumerate(addresses):
        if not _is_ip_or_cidr(address.strip()):
            report(
                (*path, "allowed_inbound_ip_addresses", index),
                "The setting allowed_inbound_ip_addresses must only contain valid IP addresses "
                f"or CIDR blocks: '{address}' is neither",
            )


def _check_plan_and_tags(config: dict[str, Any], path: JsonPath, report: Report) -> None:
    plan = _nested(config, "plan_info")
    tags = {str(k): str(v or "") for k, v in _nested(config, "azure_tags").items()}
    for entry in config.get("azure_tag") or []:
        if isinstance(entry, dict):
            tags[str(entry.get("name") or "")] = str(entry.get("value") or "")
    if any(is_set(plan, key) for key in (*PLAN_KEYS, "plan_promotion_code")):
        missing = [key for key in PLAN_KEYS if not is_set(plan, key)]
        if missing:
            report(
                (*path, "plan_info"),
                "if either plan_name, plan_product, plan_publisher, or plan_promotion_code are "
                "defined then plan_name, plan_product, and plan_publisher must be defined "
                f"(missing: {', '.join(missing)})",
            )
        else:  # Packer records the plan as four more tags
            tags.update(
                dict.fromkeys(("PlanInfo", "PlanProduct", "PlanPublisher", "PlanPromotionCode"), "")
            )
    where = (*path, "azure_tags" if "azure_tags" in config else "azure_tag")
    if len(tags) > MAX_TAGS:
        report(where, f"a max of {MAX_TAGS} tags are supported, but {len(tags)} were provided")
    for name, value in tags.items():
        if len(name) > 512:
            report(where, f"the tag name {name!r} exceeds ({len(name)}) the 512 character limit")
        if len(value) > 256:
            report(
                where, f"the tag value of {name!r} exceeds ({len(value)}) the 256 character limit"
            )


def _check_choices(config: dict[str, Any], path: JsonPath, report: Report) -> None:
    os_type = str(config.get("os_type") or "")
    if not os_type:
        report(path, "An os_type must be specified")
    elif os_type.lower() not in ("linux", "windows"):
        report((*path, "os_type"), f'The os_type "{os_type}" is invalid (use Linux or Windows)')
    for key, allowed in (
        ("managed_image_storage_account_type", STORAGE_ACCOUNT_TYPES),
        ("disk_caching_type", DISK_CACHING_TYPES),
    ):
        value = str(config.get(key) or "")
        if value and value not in allowed:
            report(
                (*path, key),
                f'The {key} "{value}" is invalid (use one of: {", ".join(allowed)})'
                + did_you_mean(value, allowed),
            )


# Packer 1.6.6's azure-arm default; the A-series was retired by Azure on 2024-08-31.
RETIRED_DEFAULT_VM_SIZE = "Standard_A1"


def _check_vm_size_default(config: dict[str, Any], path: JsonPath, report: Report) -> None:
    """A warning, not an error: Packer accepts it, but today's Azure refuses the size."""
    if config.get("vm_size") in (None, ""):
        report(
            path,
            Caveat(
                f"sets no vm_size, so it gets Packer's default {RETIRED_DEFAULT_VM_SIZE}, an "
                "A-series size Azure retired on 2024-08-31; a build will be refused with "
                "SkuNotAvailable. Set vm_size (for example Standard_D2s_v3)."
            ),
        )


# Options Packer honours that this builder cannot: a build stops before it creates anything,
# rather than build something other than the template says. (keys, what they ask for)
UNSUPPORTED: UnsupportedTable = (
    (
        ("capture_container_name", "capture_name_prefix", "resource_group_name", "storage_account"),
        "a VHD in a storage account as output",
    ),
    (("image_url",), "a VHD as the source image"),
    (
        ("custom_managed_image_name", "custom_managed_image_resource_group_name"),
        "a managed image as the source image",
    ),
    (("plan_info",), "a marketplace plan"),
    (
        (
            "virtual_network_name",
            "virtual_network_resource_group_name",
            "virtual_network_subnet_name",
            "private_virtual_network_with_public_ip",
        ),
        "an existing virtual network",
    ),
    (("disk_additional_size",), "data disks"),
    (
        ("managed_image_os_disk_snapshot_name", "managed_image_data_disk_snapshot_prefix"),
        "disk snapshots",
    ),
    (("user_assigned_managed_identities",), "managed identities on the build VM"),
    (("boot_diag_storage_account",), "boot diagnostics"),
    (("client_cert_path", "client_jwt"), "signing in with a certificate or a JWT"),
)
STOPS = "before it creates anything"
# Options that change nothing in the image, which this builder does without.
IGNORED = (
    "async_resourcegroup_delete",
    "polling_duration_timeout",
    "shared_image_gallery_timeout",
    "build_key_vault_name",
    "build_key_vault_sku",
    "custom_resource_build_prefix",
    "object_id",
)


UNSUPPORTED_KEYS = table_keys(UNSUPPORTED)


def unsupported(config: dict[str, Any]) -> list[str]:
    """What the template asks of the azure-arm builder that pytest-imagebuild cannot do."""
    return unsupported_in(config, UNSUPPORTED)


def _custom_data_problem(name: str) -> str | None:
    try:
        info = os.stat(name)
    except OSError as error:
        return f"open {name}: {(error.strerror or str(error)).lower()}"
    if not stat.S_ISREG(info.st_mode):
        return f"custom_data_file {name} is not a regular file"
    if info.st_size > CUSTOM_DATA_LIMIT:
        return (
            f"custom_data_file {name} holds {info.st_size} bytes; Azure accepts at most "
            f"{CUSTOM_DATA_LIMIT} bytes of custom data"
        )
    return None


def _check_custom_data_and_version(config: dict[str, Any], path: JsonPath, report: Report) -> None:
    """Packer reads custom_data_file when it prepares the build; Azure wants the version's
    end-of-life date as an RFC 3339 time."""
    custom = config.get("custom_data_file")
    if is_set(config, "custom_data_file"):
        problem = _custom_data_problem(str(custom))
        if problem:
            report((*path, "custom_data_file"), problem)
    end = config.get("shared_gallery_image_version_end_of_life_date")
    if is_set(config, "shared_gallery_image_version_end_of_life_date"):
        try:
            rfc3339.parse(str(end))
        except ValueError:
            report(  # Packer 1.6.6 accepts it; Azure refuses the version when published
                (*path, "shared_gallery_image_version_end_of_life_date"),
                Caveat(
                    f'"{end}" is not an RFC 3339 time (such as 2030-12-31T00:00:00Z): Packer '
                    "accepts it, Azure refuses the gallery image version, and a build here "
                    "stops before it creates anything."
                ),
            )


def azure_arm(config: dict[str, Any], path: JsonPath, report: Report, build_name: str) -> None:
    warn(config, path, report, "azure-arm", unsupported(config), IGNORED, STOPS)
    _check_custom_data_and_version(config, path, report)
    _check_vm_size_default(config, path, report)
    _check_cloud(config, path, report)
    _check_auth(config, path, report)
    check_admin_password(config, path, report)
    check_communicator(config, path, report, CommunicatorNeeds(username=False, key_file=_key_file))
    _check_outputs(config, path, report)
    _check_source(config, path, report)
    _check_names(config, path, report)
    _check_gallery_destination(config, path, report)
    _check_network(config, path, report)
    _check_plan_and_tags(config, path, report)
    _check_choices(config, path, report)
