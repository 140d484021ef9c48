"""The azure-arm options this builder reads, named and defaulted as Packer names them."""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from typing import Any

from ..bounded_read import InputFileError, read_bounded
from ..errors import BuildError
from ..template.durations import parse_duration
from ..template.types import as_bool, string_list

CUSTOM_DATA_LIMIT = 65535  # bytes: Azure refuses longer customData


def _text(config: dict[str, Any], key: str, default: str = "") -> str:
    value = config.get(key)
    return default if value in (None, "") else str(value)


@dataclass
class AzureArmConfig:
    client_id: str
    client_secret: str
    tenant_id: str
    subscription_id: str
    use_azure_cli_auth: bool
    cloud_environment_name: str
    managed_image_name: str
    managed_image_resource_group_name: str
    os_type: str
    image_publisher: str
    image_offer: str
    image_sku: str
    image_version: str
    location: str
    build_resource_group_name: str
    temp_resource_group_name: str
    temp_compute_name: str
    vm_size: str
    os_disk_size_gb: int
    communicator: str
    username: str
    password: str
    ssh_private_key_file: str
    winrm_use_ssl: bool
    winrm_insecure: bool
    winrm_use_ntlm: bool
    winrm_port: int
    connect_timeout: float
    azure_tags: dict[str, str] = field(default_factory=dict)
    allowed_inbound_ip_addresses: tuple[str, ...] = ()
    shared_image_gallery_destination: dict[str, Any] = field(default_factory=dict)
    shared_image_gallery: dict[str, Any] = field(default_factory=dict)
    custom_data_file: str = ""
    disk_caching_type: str = "ReadWrite"
    managed_image_storage_account_type: str = "Standard_LRS"
    managed_image_zone_resilient: bool = False
    shared_image_gallery_replica_count: int = 0
    shared_gallery_image_version_end_of_life_date: str = ""
    shared_gallery_image_version_exclude_from_latest: bool = False

    @property
    def is_windows(self) -> bool:
        return self.os_type.lower() == "windows"

    @classmethod
    def from_plan(cls, config: dict[str, Any]) -> AzureArmConfig:
        os_type = _text(config, "os_type")
        windows = os_type.lower() == "windows"
        communicator = _text(config, "communicator", "winrm" if windows else "ssh")
        winrm = communicator == "winrm"
        use_ssl = as_bool(config.get("winrm_use_ssl", True)) if winrm else False
        timeout_key = "winrm_timeout" if winrm else "ssh_timeout"
        timeout = config.get(timeout_key)
        return cls(
            client_id=_text(config, "client_id"),
            client_secret=_text(config, "client_secret"),
            tenant_id=_text(config, "tenant_id"),
            subscription_id=_text(config, "subscription_id"),
            use_azure_cli_auth=as_bool(config.get("use_azure_cli_auth", False)),
            cloud_environment_name=_text(config, "cloud_environment_name", "Public"),
            managed_image_name=_text(config, "managed_image_name"),
            managed_image_resource_group_name=_text(config, "managed_image_resource_group_name"),
            os_type=os_type,
            image_publisher=_text(config, "image_publisher"),
            image_offer=_text(config, "image_offer"),
            image_sku=_text(config, "image_sku"),
            image_version=_text(config, "image_version", "latest"),
            location=_text(config, "location"),
            build_resource_group_name=_text(config, "build_resource_group_name"),
            temp_resource_group_name=_text(config, "temp_resource_group_name"),
            temp_compute_name=_text(config, "temp_compute_name"),
            vm_size=_text(config, "vm_size", "Standard_A1"),
            os_disk_size_gb=int(config.get("os_disk_size_gb") or 0),
            communicator=communicator,
            username=_text(config, "winrm_username" if winrm else "ssh_username", "packer"),
            password=_text(config, "winrm_password" if winrm else "ssh_password"),
            ssh_private_key_file=_text(config, "ssh_private_key_file"),
            winrm_use_ssl=use_ssl,
            winrm_insecure=as_bool(config.get("winrm_insecure", False)),
            winrm_use_ntlm=as_bool(config.get("winrm_use_ntlm", False)),
            winrm_port=int(config.get("winrm_port") or (5986 if use_ssl else 5985)),
            connect_timeout=parse_duration(timeout)
            if timeout not in (None, "")
            else (30 * 60.0 if winrm else 20 * 60.0),
            azure_tags=_tags(config),
            shared_image_gallery_destination=dict(
                config.get("shared_image_gallery_destination") or {}
            ),
            shared_image_gallery=dict(config.get("shared_image_gallery") or {}),
            allowed_inbound_ip_addresses=tuple(
                a.strip() for a in string_list(config.get("allowed_inbound_ip_addresses")) if a
            ),
            custom_data_file=_text(config, "custom_data_file"),
            disk_caching_type=_text(config, "disk_caching_type", "ReadWrite"),
            managed_image_storage_account_type=_text(
                config, "managed_image_storage_account_type", "Standard_LRS"
            ),
            managed_image_zone_resilient=as_bool(
                config.get("managed_image_zone_resilient", False)
            ),
            shared_image_gallery_replica_count=int(
                config.get("shared_image_gallery_replica_count") or 0
            ),
            shared_gallery_image_version_end_of_life_date=_text(
                config, "shared_gallery_image_version_end_of_life_date"
            ),
            shared_gallery_image_version_exclude_from_latest=as_bool(
                config.get("shared_gallery_image_version_exclude_from_latest", False)
            ),
        )

    def custom_data(self) -> str:
        """custom_data_file's bytes, base64-encoded as ARM wants them; Packer reads it whole."""
        if not self.custom_data_file:
            return ""
        try:
            data = read_bounded(self.custom_data_file, limit=CUSTOM_DATA_LIMIT)
        except InputFileError as error:
            raise BuildError(f"custom_data_file: cannot read {error}.") from None
        return base64.b64encode(data).decode("ascii")


def _tags(config: dict[str, Any]) -> dict[str, str]:
    """azure_tags (a map), then HCL2's repeatable azure_tag {name, value} blocks."""
    tags = {str(k): str(v) for k, v in (config.get("azure_tags") or {}).items()}
    for entry in config.get("azure_tag") or []:
        if isinstance(entry, dict) and entry.get("name"):
            tags[str(entry["name"])] = str(entry.get("value") or "")
    return tags
