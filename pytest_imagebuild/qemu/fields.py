"""The qemu builder's configuration keys and their types, as Packer 1.6.6 decodes them.

Read off the installed Packer 1.6.6 binary the same way as the generic tables in
``template/fields.py`` (which explains the type vocabulary); data only.
"""

from __future__ import annotations

from ..template.fields import FieldTypes

# Keys of the builder itself ("type", "name" and the communicator's keys excluded).
FIELDS: FieldTypes = {
    "accelerator": "str",
    "boot_command": "[str]",
    "boot_key_interval": "duration",
    "boot_keygroup_interval": "duration",
    "boot_wait": "duration",
    "cd_files": "[str]",
    "cd_label": "str",
    "cdrom_interface": "str",
    "cpus": "int",
    "disable_vnc": "bool",
    "disk_additional_size": "[str]",  # []string on qemu ([]int32 on azure-arm)
    "disk_cache": "str",
    "disk_compression": "bool",
    "disk_detect_zeroes": "str",
    "disk_discard": "str",
    "disk_image": "bool",
    "disk_interface": "str",
    "disk_size": "str",
    "display": "str",
    "floppy_dirs": "[str]",
    "floppy_files": "[str]",
    "floppy_label": "str",
    "format": "str",
    "headless": "bool",
    "host_port_max": "int",
    "host_port_min": "int",
    "http_bind_address": "str",
    "http_directory": "str",
    "http_interface": "str",
    "http_port_max": "int",
    "http_port_min": "int",
    "iso_checksum": "str",
    "iso_skip_cache": "bool",
    "iso_target_extension": "str",
    "iso_target_path": "str",
    "iso_url": "str",
    "iso_urls": "[str]",
    "machine_type": "str",
    "memory": "int",
    "net_bridge": "str",
    "net_device": "str",
    "output_directory": "str",
    "qemu_binary": "str",
    "qemu_img_args": "{}",  # struct {convert, create, resize: [str]}, see NESTED_FIELDS
    "qemuargs": "[[str]]",
    "qmp_enable": "bool",
    "qmp_socket_path": "str",
    "run_once": "bool",
    "shutdown_command": "str",
    "shutdown_timeout": "duration",
    "skip_compaction": "bool",
    "skip_nat_mapping": "bool",
    "skip_resize_disk": "bool",
    "ssh_host_port_max": "int",  # deprecated alias of host_port_max, still a real field
    "ssh_host_port_min": "int",  # deprecated alias of host_port_min, still a real field
    "use_backing_file": "bool",
    "use_default_display": "bool",
    "vm_name": "str",
    "vnc_bind_address": "str",
    "vnc_port_max": "int",
    "vnc_port_min": "int",
    "vnc_use_password": "bool",
}

# Keys of nested structs, by top-level key.
NESTED_FIELDS: dict[str, FieldTypes] = {
    "qemu_img_args": {"convert": "[str]", "create": "[str]", "resize": "[str]"},
}
