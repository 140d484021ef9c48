"""Set up WinRM over HTTPS again on a VM launched from a generalized Windows image.

Sysprep /generalize can drop the HTTPS listener the build made (a VM from such an image on
Azure has none unless the image or an extension recreates it), or the image may still carry
one bound to a certificate issued to the build VM's name. The launcher therefore runs this
script through Run Command before it connects: it removes any HTTPS listener (which takes its
certificate binding with it), binds a new listener to a fresh self-signed certificate for this
VM's name and opens port 5986 once, so the same script works whether the listener survived
generalization or not.
"""

from __future__ import annotations

from typing import Any

from .compute import run_powershell

FIREWALL_RULE = "Windows Remote Management (HTTPS-In)"

WINRM_HTTPS_RESET = [
    "$ErrorActionPreference = 'Stop'",
    "foreach ($listener in (Get-ChildItem -Path WSMan:\\localhost\\Listener)) {",
    "    if ($listener.Keys -contains 'Transport=HTTPS') {",
    '        Remove-Item -Path "WSMan:\\localhost\\Listener\\$($listener.Name)" -Recurse -Force',
    '        Write-Output "Removed the WinRM HTTPS listener $($listener.Name)"',
    "    }",
    "}",
    "$cert = New-SelfSignedCertificate -DnsName $env:COMPUTERNAME "
    "-CertStoreLocation Cert:\\LocalMachine\\My",
    "New-Item -Path WSMan:\\localhost\\Listener -Transport HTTPS -Address * "
    "-CertificateThumbPrint $cert.Thumbprint -Force | Out-Null",
    f"if (-not (Get-NetFirewallRule -DisplayName '{FIREWALL_RULE}' "
    "-ErrorAction SilentlyContinue)) {",
    f"    New-NetFirewallRule -DisplayName '{FIREWALL_RULE}' "
    "-Direction Inbound -Protocol TCP -LocalPort 5986 -Action Allow | Out-Null",
    "}",
    'Write-Output "WinRM HTTPS listener ready on $env:COMPUTERNAME"',
]


def reset_winrm_https(compute: Any, group: str, vm_name: str) -> str:
    """Replace whatever HTTPS listener the VM has with a fresh one; the script's stdout."""
    return run_powershell(
        compute,
        group,
        vm_name,
        "Setting up the WinRM HTTPS listener on the launched VM",
        WINRM_HTTPS_RESET,
    )
