"""Config-key tables for the Packer 1.6.6 plugins this package validates.

Packer decodes every builder, provisioner and post-processor config with
mapstructure (``ErrorUnused`` plus weakly typed input), so a misspelt key fails
``packer validate`` with ``unknown configuration key: '"ssh_prot"'`` and a value
of the wrong shape fails with ``'ssh_port' expected type 'int', got unconvertible
type ...``.  These tables let our validation reject unknown keys (with a "did you
mean" hint, which Packer itself does not give) and check value types the same way,
without running Packer.  Data only: no code.

Type vocabulary: "str", "bool", "int", "float", "duration" (Go time.Duration,
written like "3m"), "[str]", "[int]", "{str}" (map of string to string), "{}" (object,
nested struct or map), "[{}]", "[[str]]", "any".  Go list-of-int fields
(``valid_exit_codes``, azure ``disk_additional_size``) are "[int]"; []byte fields are "any".

How the tables were made: every key and type was read off the installed
``/usr/bin/packer`` 1.6.6 (Debian build), not just the sources.  All struct-tag
and identifier strings in the binary were put into one config with null values
and ``packer validate`` said which ones were unknown; then every accepted key was
given an object value and the decoder's ``expected type 'X'`` message gave its Go
type.  The stored copies of builder/qemu/config.hcl2spec.go and
builder/azure/arm/config.hcl2spec.go (not pinned to v1.6.6) agree with the
result, apart from the notes below.

Behaviour of Packer 1.6.6 worth knowing (all observed):

* Weak typing: "true"/"1"/"" and numbers decode into bools, numbers into
  strings, numeric strings into ints, a float into an int (truncated), and a
  bare number into a duration (as nanoseconds).  A single scalar where a list is
  expected becomes a one-element list (even for [[str]] ``qemuargs``), except that
  a string is split at commas (``"checksum_types": "md5,sha1"`` is two types; see
  types.string_list); a list where a string is expected is an error.  Durations
  must have a unit (``time: missing unit in duration "30"``).
* Keys match case-insensitively (``SSH_USERNAME`` works), and an exported Go
  field with no mapstructure tag matches by its field name, hence azure-arm
  ``username``/``password`` and compress ``algorithm``/``archive``.  The
  communicator's untagged ``WinRMTransportDecorator`` (a Go func) also matches
  ``winrmtransportdecorator``, but no JSON value decodes into it, so it is left out.
* Any key starting with ``packer_`` that is not a real field is silently ignored.
  The real ones are in PACKER_COMMON_FIELDS.
* Unknown keys inside nested structs are reported with a path, e.g.
  ``unknown configuration key: '"shared_image_gallery.zz"'`` or
  ``'"azure_tag[0].zz"'``; see NESTED_FIELDS.
* Keys in DEPRECATED_KEYS that are not real fields of the plugin give
  ``Deprecated configuration key: 'ssh_wait_timeout'. Please call `packer fix`
  against your template ...`` instead of "unknown".  Both kinds of error are
  reported together, sorted by key.  The shell-local provisioner and
  post-processor do not check for deprecated keys; they call them unknown (with
  the prefix ``Error decoding config:``).
* Differences from the sources: builder/azure/arm/config.hcl2spec.go lists
  neither ``username`` nor ``password``, and ``exlude_from_latest`` (a typo kept
  for ``packer fix``) is in DEPRECATED_KEYS instead.  The global
  helper/config/deprecated_options.go list at HEAD is longer than what 1.6.6
  enforces; only the keys in DEPRECATED_KEYS are rejected.
"""

FieldTypes = dict[str, str]

# Keys common to PackerConfig.  Builders, provisioners and post-processors all
# decode them and check their types (``'packer_debug' expected type 'bool'``),
# but Packer's own values win (a shell-local provisioner with
# "packer_build_name": "zzz" still saw PACKER_BUILD_NAME=null).
PACKER_COMMON_FIELDS: FieldTypes = {
    "packer_build_name": "str",
    "packer_builder_type": "str",
    "packer_core_version": "str",
    "packer_debug": "bool",
    "packer_force": "bool",
    "packer_on_error": "str",
    "packer_sensitive_variables": "[str]",
    "packer_template_path": "str",
    "packer_user_variables": "{str}",
}

# communicator.Config (SSH, SSH bastion, SSH proxy and WinRM keys) as accepted by
# every builder with a communicator (checked against null, qemu and azure-arm).
# ssh_host_port_min/max and ssh_skip_nat_mapping are not included: they are
# deprecated keys except where a builder defines them itself (qemu does, for the
# first two).
COMMUNICATOR_FIELDS: FieldTypes = {
    "communicator": "str",
    "pause_before_connecting": "duration",
    "ssh_agent_auth": "bool",
    "ssh_bastion_agent_auth": "bool",
    "ssh_bastion_certificate_file": "str",
    "ssh_bastion_host": "str",
    "ssh_bastion_interactive": "bool",
    "ssh_bastion_password": "str",
    "ssh_bastion_port": "int",
    "ssh_bastion_private_key_file": "str",
    "ssh_bastion_username": "str",
    "ssh_certificate_file": "str",
    "ssh_ciphers": "[str]",
    "ssh_clear_authorized_keys": "bool",
    "ssh_disable_agent_forwarding": "bool",
    "ssh_file_transfer_method": "str",
    "ssh_handshake_attempts": "int",
    "ssh_host": "str",
    "ssh_keep_alive_interval": "duration",
    "ssh_key_exchange_algorithms": "[str]",
    "ssh_keypair_name": "str",
    "ssh_local_tunnels": "[str]",
    "ssh_password": "str",
    "ssh_port": "int",
    "ssh_private_key": "any",  # Go []byte (undocumented); a plain string fails
    "ssh_private_key_file": "str",
    "ssh_proxy_host": "str",
    "ssh_proxy_password": "str",
    "ssh_proxy_port": "int",
    "ssh_proxy_username": "str",
    "ssh_pty": "bool",
    "ssh_public_key": "any",  # Go []byte, undocumented: as ssh_private_key
    "ssh_read_write_timeout": "duration",
    "ssh_remote_tunnels": "[str]",
    "ssh_timeout": "duration",
    "ssh_username": "str",
    "ssh_wait_timeout": "duration",  # deprecated alias of ssh_timeout, still a real field in 1.6.6
    "temporary_key_pair_bits": "int",
    "temporary_key_pair_name": "str",
    "temporary_key_pair_type": "str",
    "winrm_host": "str",
    "winrm_insecure": "bool",
    "winrm_no_proxy": "bool",
    "winrm_password": "str",
    "winrm_port": "int",
    "winrm_timeout": "duration",
    "winrm_use_ntlm": "bool",
    "winrm_use_ssl": "bool",
    "winrm_username": "str",
}

# Builder-specific keys.  "type", "name" and COMMUNICATOR_FIELDS are excluded.
BUILDER_FIELDS: dict[str, FieldTypes] = {
    "azure-arm": {
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
    },
    "qemu": {
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
    },
}

# Provisioner keys, excluding the ones every provisioner accepts (type, only,
# except, pause_before, max_retries, timeout, override).  Those are decoded by
# the template parser, not the plugin: pause_before/timeout are durations,
# max_retries is a *string* (converted later: "`max_retries` must be a valid
# integer"), only/except are lists that also take a single string, and override
# is an object.
PROVISIONER_FIELDS: dict[str, FieldTypes] = {
    "breakpoint": {
        "disable": "bool",
        "note": "str",
    },
    "file": {
        "destination": "str",
        "direction": "str",
        "generated": "bool",
        "source": "str",
        "sources": "[str]",
    },
    "powershell": {
        "binary": "bool",
        "debug_mode": "int",
        "elevated_env_var_format": "str",
        "elevated_execute_command": "str",
        "elevated_password": "str",
        "elevated_user": "str",
        "env_var_format": "str",
        "environment_vars": "[str]",
        "execute_command": "str",
        "execution_policy": "str",  # lower-case enum name, e.g. "bypass"
        "inline": "[str]",
        "remote_env_var_path": "str",
        "remote_path": "str",
        "script": "str",
        "scripts": "[str]",
        "skip_clean": "bool",
        "start_retry_timeout": "duration",
        "valid_exit_codes": "[int]",  # Go []int
    },
    "shell": {
        "binary": "bool",
        "env_var_format": "str",
        "environment_vars": "[str]",
        "execute_command": "str",
        "expect_disconnect": "bool",
        "inline": "[str]",
        "inline_shebang": "str",
        "pause_after": "duration",
        "remote_file": "str",
        "remote_folder": "str",
        "remote_path": "str",
        "script": "str",
        "scripts": "[str]",
        "skip_clean": "bool",
        "start_retry_timeout": "duration",
        "use_env_var_file": "bool",
        "valid_exit_codes": "[int]",  # Go []int
    },
    "shell-local": {
        "command": "str",
        "env_var_format": "str",
        "environment_vars": "[str]",
        "execute_command": "[str]",  # []string here, unlike the remote shell provisioner
        "inline": "[str]",
        "inline_shebang": "str",
        "only_on": "[str]",
        "script": "str",
        "scripts": "[str]",
        "tempfile_extension": "str",
        "use_linux_pathing": "bool",
        "valid_exit_codes": "[int]",  # Go []int
    },
    "windows-restart": {
        "check_registry": "bool",
        "registry_keys": "[str]",
        "restart_check_command": "str",
        "restart_command": "str",
        "restart_timeout": "duration",
    },
    "windows-shell": {
        "binary": "bool",
        "env_var_format": "str",
        "environment_vars": "[str]",
        "execute_command": "str",
        "inline": "[str]",
        "remote_path": "str",
        "script": "str",
        "scripts": "[str]",
        "start_retry_timeout": "duration",
        "valid_exit_codes": "[int]",  # Go []int
    },
}

# Post-processor keys, excluding type, name, only, except, keep_input_artifact.
# Unlike plugin configs, those template-level keys are decoded strictly:
# "keep_input_artifact": "true" or 1 is an error, and so are "name": 5 and
# "only": "x" (provisioners accept a single string for only/except).
POST_PROCESSOR_FIELDS: dict[str, FieldTypes] = {
    "checksum": {
        "checksum_types": "[str]",
        "output": "str",
    },
    "compress": {
        "algorithm": "str",  # untagged Go field Algorithm, matched by name; overwritten at run time
        "archive": "str",  # untagged Go field Archive, matched by name; overwritten at run time
        "compression_level": "int",
        "format": "str",
        "output": "str",
    },
    "manifest": {
        "custom_data": "{str}",  # Go map[string]string
        "output": "str",
        "strip_path": "bool",
        "strip_time": "bool",
    },
    "shell-local": {
        "command": "str",
        "env_var_format": "str",
        "environment_vars": "[str]",
        "execute_command": "[str]",  # []string here, unlike the remote shell provisioner
        "inline": "[str]",
        "inline_shebang": "str",
        "only_on": "[str]",
        "script": "str",
        "scripts": "[str]",
        "tempfile_extension": "str",
        "use_linux_pathing": "bool",
        "valid_exit_codes": "[int]",  # Go []int
    },
}

# Keys of nested structs, by plugin type and then by top-level key (for
# azure_tag, by list element).
NESTED_FIELDS: dict[str, dict[str, FieldTypes]] = {
    "azure-arm": {
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
    },
    "qemu": {
        "qemu_img_args": {"convert": "[str]", "create": "[str]", "resize": "[str]"},
    },
}

# Keys 1.6.6 reports as "Deprecated configuration key" when they are not real
# fields of the plugin.  The "*" entry applies to every plugin type except
# shell-local; the other entries apply only to the plugin type named.
DEPRECATED_KEYS: dict[str, frozenset[str]] = {
    "*": frozenset(
        {
            "iso_checksum_type",
            "iso_checksum_url",
            "iso_md5",
            "ssh_disable_agent",
            "ssh_host_port_max",
            "ssh_host_port_min",
            "ssh_key_path",
            "ssh_skip_nat_mapping",
            "ssh_wait_timeout",
        }
    ),
    "azure-arm": frozenset({"clean_image_name", "exlude_from_latest"}),
    "manifest": frozenset({"filename"}),
}

# Plugin type names the installed 1.6.6 binary knows.  An unknown name gives
# "error initializing builder 'x': Unknown builder x" (likewise for provisioners
# and post-processors).  The Debian build here does not include some plugins that
# upstream 1.6.6 ships: the hyperone, linode, osc-bsu, osc-bsusurrogate,
# osc-bsuvolume, osc-chroot, ucloud-uhost and yandex builders, and the
# ucloud-import, yandex-export and yandex-import post-processors.  They are left
# out so that our validation gives the same result as the installed binary.
KNOWN_BUILDER_TYPES: frozenset[str] = frozenset(
    {
        "alicloud-ecs",
        "amazon-chroot",
        "amazon-ebs",
        "amazon-ebssurrogate",
        "amazon-ebsvolume",
        "amazon-instance",
        "azure-arm",
        "azure-chroot",
        "azure-dtl",
        "cloudstack",
        "digitalocean",
        "docker",
        "file",
        "googlecompute",
        "hcloud",
        "hyperv-iso",
        "hyperv-vmcx",
        "jdcloud",
        "lxc",
        "lxd",
        "ncloud",
        "null",
        "oneandone",
        "openstack",
        "oracle-classic",
        "oracle-oci",
        "parallels-iso",
        "parallels-pvm",
        "profitbricks",
        "proxmox",
        "proxmox-clone",
        "proxmox-iso",
        "qemu",
        "scaleway",
        "tencentcloud-cvm",
        "triton",
        "vagrant",
        "virtualbox-iso",
        "virtualbox-ovf",
        "virtualbox-vm",
        "vmware-iso",
        "vmware-vmx",
        "vsphere-clone",
        "vsphere-iso",
    }
)

KNOWN_PROVISIONER_TYPES: frozenset[str] = frozenset(
    {
        "ansible",
        "ansible-local",
        "azure-dtlartifact",
        "breakpoint",
        "chef-client",
        "chef-solo",
        "converge",
        "file",
        "inspec",
        "powershell",
        "puppet-masterless",
        "puppet-server",
        "salt-masterless",
        "shell",
        "shell-local",
        "sleep",
        "windows-restart",
        "windows-shell",
    }
)

KNOWN_POST_PROCESSOR_TYPES: frozenset[str] = frozenset(
    {
        "alicloud-import",
        "amazon-import",
        "artifice",
        "checksum",
        "compress",
        "digitalocean-import",
        "docker-import",
        "docker-push",
        "docker-save",
        "docker-tag",
        "exoscale-import",
        "googlecompute-export",
        "googlecompute-import",
        "manifest",
        "shell-local",
        "vagrant",
        "vagrant-cloud",
        "vsphere",
        "vsphere-template",
    }
)
