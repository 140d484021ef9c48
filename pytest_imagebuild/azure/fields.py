"""The azure-arm builder's configuration keys and their types, as Packer 1.6.6 decodes them.

Read off the installed Packer 1.6.6 binary the same way as the generic tables in
``template/fields.py`` (which explains the type vocabulary); data only.
"""

from __future__ import annotations

from ..template.fields import FieldTypes

# Keys of the builder itself ("type", "name" and the communicator's keys excluded).
FIELDS: FieldTypes = {
    "allowed_inbound_ip_addresses": "[str]",
    "async_resourcegroup_delete": "bool",
    "azure_tag": "[{}]",  # list of {name, value}
    "azure_tags": "{str}",  # Go map[string]*string
    "boot_diag_storage_account": "str",
    "build_key_vault_name": "str",
    "build_key_vault_sku": "str",
    "build_resource_group_name": "str",
    "capture_container_name": "str",
    "capture_name_prefix": "str",
    "client_cert_path": "str",
    "client_id": "str",
    "client_jwt": "str",
    "client_secret": "str",
    "cloud_environment_name": "str",
    "custom_data_file": "str",
    "custom_managed_image_name": "str",
    "custom_managed_image_resource_group_name": "str",
    "custom_resource_build_prefix": "str",
    "disk_additional_size": "[int]",  # Go []int32
    "disk_caching_type": "str",
    "image_offer": "str",
    "image_publisher": "str",
    "image_sku": "str",
    "image_url": "str",
    "image_version": "str",
    "location": "str",
    "managed_image_data_disk_snapshot_prefix": "str",
    "managed_image_name": "str",
    "managed_image_os_disk_snapshot_name": "str",
    "managed_image_resource_group_name": "str",
    "managed_image_storage_account_type": "str",
    "managed_image_zone_resilient": "bool",
    "object_id": "str",
    "os_disk_size_gb": "int",
    "os_type": "str",
    "password": "str",  # untagged Go field Password, matched by name; overwritten at run time
    "plan_info": "{}",  # struct, see NESTED_FIELDS
    "polling_duration_timeout": "duration",
    "private_virtual_network_with_public_ip": "bool",
    "resource_group_name": "str",
    "shared_gallery_image_version_end_of_life_date": "str",
    "shared_gallery_image_version_exclude_from_latest": "bool",
    "shared_image_gallery": "{}",  # struct, see NESTED_FIELDS
    "shared_image_gallery_destination": "{}",  # struct, see NESTED_FIELDS
    "shared_image_gallery_replica_count": "int",
    "shared_image_gallery_timeout": "duration",
    "storage_account": "str",
    "subscription_id": "str",
    "temp_compute_name": "str",
    "temp_resource_group_name": "str",
    "tenant_id": "str",
    "use_azure_cli_auth": "bool",
    "user_assigned_managed_identities": "[str]",
    "username": "str",  # untagged Go field UserName, matched by name; overwritten at run time
    "virtual_network_name": "str",
    "virtual_network_resource_group_name": "str",
    "virtual_network_subnet_name": "str",
    "vm_size": "str",
}

# Keys of nested structs, by top-level key.
NESTED_FIELDS: dict[str, FieldTypes] = {
    "azure_tag": {"name": "str", "value": "str"},
    "plan_info": {
        "plan_name": "str",
        "plan_product": "str",
        "plan_promotion_code": "str",
        "plan_publisher": "str",
    },
    "shared_image_gallery": {
        "gallery_name": "str",
        "image_name": "str",
        "image_version": "str",
        "resource_group": "str",
        "subscription": "str",
    },
    "shared_image_gallery_destination": {
        "gallery_name": "str",
        "image_name": "str",
        "image_version": "str",
        "replication_regions": "[str]",
        "resource_group": "str",
        # Not in 1.6.6: packer-plugin-azure added it (Standard_LRS or Standard_ZRS).
        "storage_account_type": "str",
        "subscription": "str",
    },
}

# Keys Packer 1.6.6 calls deprecated for this builder (besides the common ones).
DEPRECATED_KEYS = frozenset({"clean_image_name", "exlude_from_latest"})
