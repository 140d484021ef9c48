"""Virtual machines and images: create, run a script through Run Command, capture, delete."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..errors import BuildError
from .calls import azure_call

# Marketplace Windows images listen for WinRM on HTTP only. Packer puts a Key Vault
# certificate on the VM; Run Command makes a self-signed one in the guest instead, which
# needs no Key Vault and leaves nothing outside the resource group.
WINRM_HTTPS_SETUP = [
    "$ErrorActionPreference = 'Stop'",
    "$cert = New-SelfSignedCertificate -DnsName $env:COMPUTERNAME "
    "-CertStoreLocation Cert:\\LocalMachine\\My",
    "New-Item -Path WSMan:\\localhost\\Listener -Transport HTTPS -Address * "
    "-CertificateThumbPrint $cert.Thumbprint -Force | Out-Null",
    "New-NetFirewallRule -DisplayName 'Windows Remote Management (HTTPS-In)' "
    "-Direction Inbound -Protocol TCP -LocalPort 5986 -Action Allow | Out-Null",
    'Write-Output "WinRM HTTPS listener ready on $env:COMPUTERNAME"',
]


@dataclass(frozen=True)
class VmSpec:
    name: str
    location: str
    size: str
    nic_id: str
    admin_username: str
    admin_password: str
    windows: bool
    image_reference: dict[str, str]
    os_disk_name: str = ""
    os_disk_size_gb: int = 0
    ssh_public_key: str = ""
    tags: dict[str, str] | None = None
    custom_data: str = ""  # base64, as ARM takes it
    os_disk_caching: str = "ReadWrite"
    os_disk_storage_type: str = "Standard_LRS"


def _os_profile(spec: VmSpec) -> Any:
    from azure.mgmt.compute import models as cm

    profile = cm.OSProfile(
        computer_name=spec.name[:15],
        admin_username=spec.admin_username,
        admin_password=spec.admin_password or None,
        custom_data=spec.custom_data or None,
    )
    if spec.windows:
        profile.windows_configuration = cm.WindowsConfiguration(
            provision_vm_agent=True, enable_automatic_updates=False
        )
    elif spec.ssh_public_key:
        profile.linux_configuration = cm.LinuxConfiguration(
            disable_password_authentication=not spec.admin_password,
            ssh=cm.SshConfiguration(
                public_keys=[
                    cm.SshPublicKey(
                        path=f"/home/{spec.admin_username}/.ssh/authorized_keys",
                        key_data=spec.ssh_public_key,
                    )
                ]
            ),
        )
    return profile


def vm_model(spec: VmSpec) -> Any:
    from azure.mgmt.compute import models as cm

    os_disk = cm.OSDisk(
        create_option="FromImage",
        caching=spec.os_disk_caching,
        name=spec.os_disk_name or None,
        disk_size_gb=spec.os_disk_size_gb or None,
        managed_disk=cm.ManagedDiskParameters(storage_account_type=spec.os_disk_storage_type),
    )
    return cm.VirtualMachine(
        location=spec.location,
        tags=spec.tags or {},
        hardware_profile=cm.HardwareProfile(vm_size=spec.size),
        storage_profile=cm.StorageProfile(
            image_reference=cm.ImageReference(**spec.image_reference), os_disk=os_disk
        ),
        os_profile=_os_profile(spec),
        network_profile=cm.NetworkProfile(
            network_interfaces=[cm.NetworkInterfaceReference(id=spec.nic_id)]
        ),
    )


def create_vm(compute: Any, group: str, spec: VmSpec) -> Any:
    return azure_call(
        f"Creating virtual machine '{spec.name}'",
        lambda: compute.virtual_machines.begin_create_or_update(
            group, spec.name, vm_model(spec)
        ).result(),
    )


def run_powershell(compute: Any, group: str, vm_name: str, what: str, script: list[str]) -> str:
    """Run a PowerShell script through the VM agent (Run Command); its stdout, or BuildError."""
    from azure.mgmt.compute.models import RunCommandInput

    result = azure_call(
        what,
        lambda: compute.virtual_machines.begin_run_command(
            group, vm_name, RunCommandInput(command_id="RunPowerShellScript", script=script)
        ).result(),
    )
    stdout = stderr = ""
    for status in result.value or []:
        if "StdErr" in (status.code or ""):
            stderr = status.message or ""
        elif "StdOut" in (status.code or ""):
            stdout = status.message or ""
    if stderr.strip():
        raise BuildError(f"{what} failed: {' '.join(stderr.split())}")
    return stdout


def enable_winrm_https(compute: Any, group: str, vm_name: str) -> str:
    return run_powershell(
        compute, group, vm_name, "Configuring the WinRM HTTPS listener", WINRM_HTTPS_SETUP
    )


def capture_image(
    compute: Any,
    group: str,
    name: str,
    location: str,
    vm_id: str,
    tags: dict[str, str],
    zone_resilient: bool = False,
) -> Any:
    from azure.mgmt.compute import models as cm

    image = cm.Image(location=location, tags=tags, source_virtual_machine=cm.SubResource(id=vm_id))
    if zone_resilient:  # managed_image_zone_resilient
        image.storage_profile = cm.ImageStorageProfile(zone_resilient=True)
    return azure_call(
        f"Capturing managed image '{name}'",
        lambda: compute.images.begin_create_or_update(group, name, image).result(),
    )
