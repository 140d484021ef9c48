"""What Packer 1.6.6 refuses in every builder, checked even where no key table exists here.

A builder type this plugin does not implement (``virtualbox-iso``, ``amazon-ebs``...) gets
one "keys not checked" warning instead of a key-by-key check.  Some failures do not depend
on the builder, though, and real templates hit them often enough that passing them would
be a false pass:

* keys Packer's ``packer fix`` retired (``iso_checksum_type``, ``ssh_key_path``...) are an
  error in every builder that does not still decode them itself;
* the communicator settings every builder with a communicator embeds are typed alike, so an
  empty or malformed ``ssh_timeout`` fails everywhere; likewise ``boot_wait`` and
  ``shutdown_timeout`` of the local-hypervisor builders.

The tables were measured against ``packer validate`` of Packer 1.6.6, builder by builder.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from . import fields
from .jsonsource import JsonPath
from .types import type_error

Report = Callable[[JsonPath, str], None]

_VIRTUALBOX = frozenset({"virtualbox-iso", "virtualbox-ovf", "virtualbox-vm"})
_HYPERVISORS = _VIRTUALBOX | {
    "hyperv-iso",
    "hyperv-vmcx",
    "parallels-iso",
    "parallels-pvm",
    "vmware-iso",
    "vmware-vmx",
    "vsphere-clone",
    "vsphere-iso",
}
# Builders without a communicator: communicator keys are unknown there, not typed.
_NO_COMMUNICATOR = frozenset({"amazon-chroot", "azure-chroot", "file", "lxc", "lxd"})
# jdcloud fails its own decoding before any key is looked at; nothing to say about it.
_OPAQUE = frozenset({"jdcloud"})

# Keys `packer fix` renamed or removed (the same for every type); refused unless the builder
# still decodes them.
_RETIRED = fields.DEPRECATED_KEYS["*"]
_STILL_DECODED_BY: dict[str, Callable[[str], bool]] = {
    "ssh_wait_timeout": lambda builder: builder not in _NO_COMMUNICATOR,
    "ssh_host_port_min": _VIRTUALBOX.__contains__,
    "ssh_host_port_max": _VIRTUALBOX.__contains__,
    "ssh_skip_nat_mapping": _VIRTUALBOX.__contains__,
}
# Where Packer's fixer knows the key it says "Deprecated"; elsewhere the key is just unknown.
_NO_FIXER = frozenset(
    {
        "cloudstack",
        "digitalocean",
        "file",
        "hcloud",
        "lxc",
        "lxd",
        "ncloud",
        "oneandone",
        "oracle-classic",
        "oracle-oci",
        "profitbricks",
        "proxmox",
        "proxmox-clone",
        "proxmox-iso",
        "vmware-iso",
        "vmware-vmx",
    }
)
_TYPED_BY: dict[str, frozenset[str]] = {
    "boot_wait": _HYPERVISORS | {"proxmox", "proxmox-clone", "proxmox-iso", "vagrant"},
    "shutdown_timeout": _HYPERVISORS,
}


def check_unchecked_builder(
    builder: str, config: dict[str, Any], path: JsonPath, report: Report
) -> None:
    """Errors Packer gives for this builder whatever its own keys are."""
    if builder in _OPAQUE:
        return
    for key, value in config.items():
        name = key.lower()
        if name in _RETIRED and not _STILL_DECODED_BY.get(name, lambda _: False)(builder):
            if builder in _NO_FIXER:
                report((*path, key), f"unknown configuration key: '{key}'")
            else:
                report(
                    (*path, key),
                    f"Deprecated configuration key: '{key}'. Please call `packer fix` against "
                    "your template to update your template to be compatible with the current "
                    "version of Packer.",
                )
            continue
        kind = None
        if builder not in _NO_COMMUNICATOR:
            kind = fields.COMMUNICATOR_FIELDS.get(name)
        if kind is None and builder in _TYPED_BY.get(name, ()):
            kind = "duration"
        error = type_error(value, kind) if kind else None
        if error:
            report((*path, key), f"'{key}' {error}")
