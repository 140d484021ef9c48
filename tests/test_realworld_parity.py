"""Classes of disagreement with `packer validate` (1.6.6) found on real-world templates.

Each test is a minimal template of its own reproducing one class; the corpus (rw-*) checks
the same classes against the real Packer.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pytest_imagebuild.template import check, check_all


def write(tmp_path: Path, data: dict, name: str = "template.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(data, indent=2), encoding="utf-8")
    return path


def messages(path: Path, warnings: bool = False) -> list[str]:
    problems = check_all(path) if warnings else check(path)
    return [str(problem) for problem in problems if warnings or not problem.warning]


NULL_SSH = {
    "type": "null",
    "ssh_host": "192.0.2.10",
    "ssh_username": "admin",
    "ssh_password": "secret",
}


@pytest.mark.parametrize("value", ["", "{{user `undeclared`}}"])
def test_an_empty_timeout_fails_as_go_refuses_it(tmp_path: Path, value: str):
    # An undeclared {{user}} renders as "" and Go's time.ParseDuration("") is an error.
    path = write(tmp_path, {"builders": [{**NULL_SSH, "ssh_timeout": value}]})
    found = messages(path)
    assert any("builders[0].ssh_timeout" in m and 'invalid duration ""' in m for m in found), found


def test_an_empty_provisioner_pause_before_fails(tmp_path: Path):
    path = write(
        tmp_path,
        {
            "builders": [{"type": "null", "communicator": "none"}],
            "provisioners": [{"type": "shell-local", "inline": ["true"], "timeout": ""}],
        },
    )
    found = messages(path)
    assert any("provisioners[0].timeout" in m and 'invalid duration ""' in m for m in found), found


def test_push_settings_are_ignored_with_a_warning(tmp_path: Path):
    data = {"push": {"name": "org/image"}, "builders": [{"type": "null", "communicator": "none"}]}
    path = write(tmp_path, data)
    assert check(path) == []
    assert any("push" in m and "ignored" in m for m in messages(path, warnings=True))


def test_push_must_be_an_object(tmp_path: Path):
    data = {"push": ["org/image"], "builders": [{"type": "null", "communicator": "none"}]}
    assert any("'Push' expected a map" in m for m in messages(write(tmp_path, data)))


AZURE = {
    "type": "azure-arm",
    "os_type": "Linux",
    "image_publisher": "Canonical",
    "image_offer": "UbuntuServer",
    "image_sku": "18.04-LTS",
    "location": "eastus",
    "vm_size": "Standard_DS2_v2",
}


def test_azure_managed_image_with_a_storage_account_is_refused(tmp_path: Path):
    builder = {
        **AZURE,
        "managed_image_name": "web",
        "managed_image_resource_group_name": "rg-images",
        "resource_group_name": "rg-vhds",
    }
    found = messages(write(tmp_path, {"builders": [builder]}))
    assert any("Specify either a VHD (storage_account and resource_group_name)" in m for m in found)


def test_azure_vhd_output_names_each_missing_setting(tmp_path: Path):
    builder = {**AZURE, "capture_container_name": "images", "capture_name_prefix": "web"}
    found = messages(write(tmp_path, {"builders": [builder]}))
    assert any("A storage_account must be specified" in m for m in found), found
    assert any("A resource_group_name must be specified" in m for m in found), found


@pytest.mark.parametrize(
    ("builder", "key", "wording"),
    [
        ("virtualbox-iso", "iso_checksum_type", "Deprecated configuration key: 'iso_checksum"),
        ("amazon-ebs", "ssh_key_path", "Deprecated configuration key: 'ssh_key_path'"),
        ("vmware-iso", "iso_checksum_url", "unknown configuration key: 'iso_checksum_url'"),
        ("amazon-chroot", "ssh_wait_timeout", "Deprecated configuration key: 'ssh_wait_timeout'"),
    ],
)
def test_retired_keys_fail_in_builders_we_do_not_implement(
    tmp_path: Path, builder: str, key: str, wording: str
):
    path = write(tmp_path, {"builders": [{"type": builder, key: "x"}]})
    found = messages(path)
    assert any(f"builders[0].{key}" in m and wording in m for m in found), found


@pytest.mark.parametrize(
    ("builder", "key", "value"),
    [
        ("virtualbox-iso", "ssh_host_port_min", 2222),  # still a virtualbox setting
        ("amazon-ebs", "ssh_wait_timeout", "10m"),  # still decoded by every communicator
        ("file", "ssh_timeout", ""),  # no communicator: not ours to type
        ("amazon-ebs", "boot_wait", ""),  # not a setting of amazon-ebs at all
    ],
)
def test_keys_still_decoded_are_left_to_packer(tmp_path: Path, builder: str, key: str, value):
    path = write(tmp_path, {"builders": [{"type": builder, key: value}]})
    assert messages(path) == []


@pytest.mark.parametrize(
    ("builder", "key"),
    [
        ("amazon-ebs", "ssh_timeout"),
        ("docker", "winrm_timeout"),
        ("virtualbox-iso", "boot_wait"),
        ("vmware-vmx", "shutdown_timeout"),
    ],
)
def test_empty_timeouts_fail_in_builders_we_do_not_implement(
    tmp_path: Path, builder: str, key: str
):
    path = write(tmp_path, {"builders": [{"type": builder, key: "{{user `unset`}}"}]})
    found = messages(path)
    assert any(f"builders[0].{key}" in m and 'invalid duration ""' in m for m in found), found


def test_a_malformed_port_fails_in_builders_we_do_not_implement(tmp_path: Path):
    path = write(tmp_path, {"builders": [{"type": "googlecompute", "ssh_port": "twenty-two"}]})
    assert any("builders[0].ssh_port" in m for m in messages(path))


def test_hcl2_empty_timeout_fails(tmp_path: Path):
    (tmp_path / "build.pkr.hcl").write_text(
        'source "null" "x" {\n'
        '  ssh_host     = "192.0.2.10"\n'
        '  ssh_username = "admin"\n'
        '  ssh_password = "secret"\n'
        '  ssh_timeout  = ""\n'
        "}\n"
        'build {\n  sources = ["source.null.x"]\n}\n',
        encoding="utf-8",
    )
    found = [str(p) for p in check(tmp_path / "build.pkr.hcl")]
    assert any("ssh_timeout" in m and 'invalid duration ""' in m for m in found), found


AZURE_MANAGED = {**AZURE, "managed_image_name": "web", "managed_image_resource_group_name": "rg"}


@pytest.mark.parametrize(
    ("settings", "refused"),
    [
        ({"ssh_password": "packer"}, True),  # communicator unset: held to the WinRM rule
        ({"communicator": "none", "ssh_password": "packer"}, True),
        ({"communicator": "ssh", "ssh_password": "packer"}, False),
        ({"communicator": "winrm", "winrm_password": "short"}, True),
        ({"communicator": "winrm", "winrm_password": "Passw0rd!"}, False),
        ({"ssh_password": "abcdefg h1"}, False),  # a space is a special character
        ({"ssh_password": "abcdefgh1\t"}, True),  # a tab is not
        ({"ssh_password": "{{user `unset`}}"}, False),  # empty: Packer generates one
        ({}, False),
    ],
)
def test_azure_admin_password_rule(tmp_path: Path, settings: dict, refused: bool):
    path = write(tmp_path, {"builders": [{**AZURE_MANAGED, **settings}]})
    found = [m for m in messages(path) if "must be between 8-123 characters" in m]
    assert bool(found) is refused, messages(path)
    for secret in ("packer", "short"):
        assert all(f"'{secret}'" not in m and f'"{secret}"' not in m for m in found)
