"""How a test points pytest-imagebuild at a stand-in: the environment a real run would have.

The example templates read ARM_* variables; the plugin reads the endpoint overrides
(IMAGEBUILD_AZURE_ARM_URL, AZURE_AUTHORITY_HOST, IMAGEBUILD_AZURE_CA_BUNDLE) and, for a
stand-in that answers at once, a short polling interval and few retries.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from standin.standin import Standin


def plugin_environment(standin: Standin, retries: int = 1) -> dict[str, str]:
    """Variables for a pytest run (subprocess or os.environ) that builds against `standin`."""
    env = {
        "ARM_CLIENT_ID": standin.client_id,
        "ARM_CLIENT_SECRET": standin.client_secret,
        "ARM_TENANT_ID": standin.tenant_id,
        "ARM_SUBSCRIPTION_ID": standin.subscription_id,
        "IMAGEBUILD_AZURE_ARM_URL": standin.arm_url,
        "AZURE_AUTHORITY_HOST": standin.authority,
        "IMAGEBUILD_AZURE_CA_BUNDLE": standin.ca_bundle,
        "IMAGEBUILD_AZURE_RETRY_TOTAL": str(retries),
    }
    if standin.settings.retry_after == 0:
        env["IMAGEBUILD_AZURE_POLLING_INTERVAL"] = "0"
    return env


def secrets_of(standin: Standin) -> dict[str, str]:
    """Values that must never appear in a run's output."""
    return {
        "client secret": standin.client_secret,
        "client id": standin.client_id,
        "tenant id": standin.tenant_id,
        "subscription id": standin.subscription_id,
    }


def create_image_group(standin: Standin, name: str, location: str = "eastus2") -> Any:
    """The managed image resource group must exist before a build, as in Packer."""
    from azure.identity import ClientSecretCredential
    from azure.mgmt.resource.resources import ResourceManagementClient

    client = ResourceManagementClient(
        ClientSecretCredential(**standin.credential_kwargs()),
        standin.subscription_id,
        **standin.client_kwargs(),
    )
    return client.resource_groups.create_or_update(name, {"location": location})


def run_pytest(
    standin: Standin,
    args: list[str],
    cwd: Any,
    env: dict[str, str] | None = None,
    timeout: float = 180,
) -> tuple[int, str]:
    """Run pytest in a subprocess pointed at `standin`; (exit code, stdout and stderr)."""
    import os
    import subprocess
    import sys

    command = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *args]
    full_env = {**os.environ, **plugin_environment(standin), **(env or {})}
    done = subprocess.run(
        command,
        cwd=cwd,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    return done.returncode, done.stdout + done.stderr


def make_windows_vm(
    standin: Standin, group: str, password: str, sku: str = "2019-Datacenter"
) -> str:
    """A marketplace Windows VM with WinRM over HTTPS, made with the plugin's own Azure code;
    returns its public IP. The admin user is `packer`."""
    from azure.mgmt.compute import ComputeManagementClient
    from azure.mgmt.network import NetworkManagementClient
    from azure.mgmt.resource.resources import ResourceManagementClient

    from pytest_imagebuild.azure.cloud import connect
    from pytest_imagebuild.azure.compute import VmSpec, create_vm, enable_winrm_https
    from pytest_imagebuild.azure.config import AzureArmConfig
    from pytest_imagebuild.azure.endpoints import AzureEndpoints
    from pytest_imagebuild.azure.groups import create_group
    from pytest_imagebuild.azure.network import (
        NetworkNames,
        NetworkPlan,
        create_network,
        public_ip_address,
    )
    from pytest_imagebuild.ui import BuildUI

    config = AzureArmConfig.from_plan(
        {
            "client_id": standin.client_id,
            "client_secret": standin.client_secret,
            "tenant_id": standin.tenant_id,
            "subscription_id": standin.subscription_id,
            "os_type": "Windows",
        }
    )
    endpoints = AzureEndpoints(standin.arm_url, standin.authority, standin.ca_bundle, 0, 2)
    session = connect(config, endpoints, BuildUI("setup", stream=_Quiet()))
    resources, network, compute = (
        session.client(cls)
        for cls in (ResourceManagementClient, NetworkManagementClient, ComputeManagementClient)
    )
    location = "westeurope"
    create_group(resources, group, location, {})
    names = NetworkNames(f"{group}-vn", "sn", f"{group}-ip", f"{group}-sg", f"{group}-ni")
    ids = create_network(network, group, location, names, NetworkPlan(inbound_ports=(5986,)), {})
    image = {"publisher": "MicrosoftWindowsServer", "offer": "WindowsServer", "sku": sku}
    spec = VmSpec("vm", location, "Standard_D2s_v3", ids["nic"], "packer", password, True, image)
    create_vm(compute, group, spec)
    enable_winrm_https(compute, group, "vm")
    return public_ip_address(network, group, names.public_ip)


class _Quiet:
    def write(self, text: str) -> int:
        return len(text)

    def flush(self) -> None:
        pass


@contextmanager
def windows_communicator(standin: Standin, group: str, password: str) -> Iterator[Any]:
    """A Windows VM from `make_windows_vm` and a ready WinRM communicator to it."""
    from pytest_imagebuild.communicators.winrm import WinRMCommunicator

    ip = make_windows_vm(standin, group, password)
    comm = WinRMCommunicator(
        host=ip, port=5986, username="packer", password=password, insecure=True
    )
    comm.wait_ready(30)
    try:
        yield comm
    finally:
        comm.close()
