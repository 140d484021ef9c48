"""The loopback Azure behaves like Azure for the real SDK, pywinrm and testinfra.

The stand-in itself is test code; these tests pin that it answers as the recorded ARM traffic in
shared/azure-traffic does and as a Windows host does over WinRM, so the azure-arm builder's tests
exercise real client code paths.
"""

from __future__ import annotations

import ast
import json
import os
import socket
import threading
import time
from pathlib import Path
from typing import Any

import pytest
import requests
import testinfra
import winrm
import yaml
from azure.core.exceptions import ClientAuthenticationError, HttpResponseError
from azure.identity import ClientSecretCredential
from azure.mgmt.compute import ComputeManagementClient
from azure.mgmt.compute import models as cm
from azure.mgmt.network import NetworkManagementClient
from azure.mgmt.network import models as nm
from azure.mgmt.resource.resources import ResourceManagementClient
from winrm.exceptions import WinRMOperationTimeoutError
from winrm.protocol import Protocol

from pytest_imagebuild.azure.winrm_listener import WINRM_HTTPS_RESET
from standin import Standin, start_standin


def _find_traffic() -> Path | None:
    """Real Azure traffic (the Azure SDK's own recordings) lives beside the project, not in it:
    $IMAGEBUILD_AZURE_TRAFFIC, else ../shared/azure-traffic beside the clone."""
    candidates = [
        os.environ.get("IMAGEBUILD_AZURE_TRAFFIC", ""),
        str(Path(__file__).resolve().parents[2] / "shared" / "azure-traffic"),
    ]
    return next((Path(c) for c in candidates if c and (Path(c) / "README.md").is_file()), None)


TRAFFIC = _find_traffic() or Path("azure-traffic-not-found")
needs_traffic = pytest.mark.skipif(
    _find_traffic() is None,
    reason="the recorded Azure traffic (shared/azure-traffic) is not on this machine; "
    "set IMAGEBUILD_AZURE_TRAFFIC to its folder",
)
LOCATION = "westeurope"
PASSWORD = "S3cure!Passw0rd-123"

WINRM_SETUP = r"""
$cert = New-SelfSignedCertificate -DnsName "$env:COMPUTERNAME" `
    -CertStoreLocation Cert:\LocalMachine\My
New-Item -Path WSMan:\localhost\Listener -Transport HTTPS -Address * `
    -CertificateThumbPrint $cert.Thumbprint -Force
New-NetFirewallRule -DisplayName 'Windows Remote Management (HTTPS-In)' -Direction Inbound `
    -Protocol TCP -LocalPort 5986 -Action Allow
Write-Output "listener ready on $env:COMPUTERNAME"
"""
# Packer's documented last provisioner for Windows on Azure (PRs #5385 and #7176).
SYSPREP = r"""
while ((Get-Service RdAgent).Status -ne 'Running') { Start-Sleep -s 5 }
while ((Get-Service WindowsAzureTelemetryService).Status -ne 'Running') { Start-Sleep -s 5 }
while ((Get-Service WindowsAzureGuestAgent).Status -ne 'Running') { Start-Sleep -s 5 }
& $env:SystemRoot\System32\Sysprep\Sysprep.exe /oobe /generalize /quiet /quit /mode:vm
while($true) {
    $imageState = Get-ItemProperty HKLM:\SOFTWARE\Microsoft\Windows\CurrentVersion\Setup\State |
        Select ImageState
    if($imageState.ImageState -ne 'IMAGE_STATE_GENERALIZE_RESEAL_TO_OOBE') {
        Write-Output $imageState.ImageState; Start-Sleep -s 10
    } else { break }
}
"""



@pytest.fixture(scope="module")
def clients(azure: Standin) -> dict[str, Any]:
    credential = ClientSecretCredential(**azure.credential_kwargs())
    kwargs = azure.client_kwargs()
    return {
        "credential": credential,
        "resource": ResourceManagementClient(credential, azure.subscription_id, **kwargs),
        "network": NetworkManagementClient(credential, azure.subscription_id, **kwargs),
        "compute": ComputeManagementClient(credential, azure.subscription_id, **kwargs),
    }


def make_network(
    clients: dict[str, Any], group: str, nics: tuple[str, ...] = ("ni",)
) -> dict[str, Any]:
    """Group, vnet/subnet, an NSG opening 5986 and 80, and per NIC a Static public IP."""
    rc, nc = clients["resource"], clients["network"]
    rc.resource_groups.create_or_update(group, {"location": LOCATION, "tags": {"imagebuild": "t"}})
    vnet = nc.virtual_networks.begin_create_or_update(
        group,
        "vn",
        nm.VirtualNetwork(
            location=LOCATION,
            address_space=nm.AddressSpace(address_prefixes=["10.0.0.0/16"]),
            subnets=[nm.Subnet(name="sn", address_prefix="10.0.0.0/24")],
        ),
    ).result()
    rules = [
        nm.SecurityRule(
            name=f"allow-{port}",
            protocol="Tcp",
            source_port_range="*",
            destination_port_range=str(port),
            source_address_prefix="*",
            destination_address_prefix="*",
            access="Allow",
            priority=100 + i,
            direction="Inbound",
        )
        for i, port in enumerate((5986, 80))
    ]
    nsg = nc.network_security_groups.begin_create_or_update(
        group, "sg", nm.NetworkSecurityGroup(location=LOCATION, security_rules=rules)
    ).result()
    out: dict[str, Any] = {"vnet": vnet, "nsg": nsg}
    for nic_name in nics:
        pip = nc.public_ip_addresses.begin_create_or_update(
            group,
            f"{nic_name}-ip",
            nm.PublicIPAddress(location=LOCATION, public_ip_allocation_method="Static"),
        ).result()
        out[nic_name] = nc.network_interfaces.begin_create_or_update(
            group,
            nic_name,
            nm.NetworkInterface(
                location=LOCATION,
                network_security_group=nm.NetworkSecurityGroup(id=nsg.id),
                ip_configurations=[
                    nm.NetworkInterfaceIPConfiguration(
                        name="ipconfig",
                        subnet=nm.Subnet(id=vnet.subnets[0].id),
                        public_ip_address=nm.PublicIPAddress(id=pip.id),
                    )
                ],
            ),
        ).result()
        out[f"{nic_name}-ip"] = pip
    return out


def vm_model(
    nic_id: str, image: cm.ImageReference, computer: str, user: str, password: str = PASSWORD
) -> cm.VirtualMachine:
    return cm.VirtualMachine(
        location=LOCATION,
        hardware_profile=cm.HardwareProfile(vm_size="Standard_D2s_v3"),
        storage_profile=cm.StorageProfile(
            image_reference=image,
            os_disk=cm.OSDisk(
                create_option="FromImage",
                managed_disk=cm.ManagedDiskParameters(storage_account_type="Standard_LRS"),
            ),
        ),
        os_profile=cm.OSProfile(
            computer_name=computer, admin_username=user, admin_password=password
        ),
        network_profile=cm.NetworkProfile(
            network_interfaces=[cm.NetworkInterfaceReference(id=nic_id)]
        ),
    )


MARKETPLACE = cm.ImageReference(
    publisher="MicrosoftWindowsServer",
    offer="WindowsServer",
    sku="2022-datacenter-azure-edition",
    version="latest",
)


# -- identity and resource groups ---------------------------------------------------------------
def test_token_endpoint_issues_tokens_and_rejects_a_wrong_secret(azure: Standin) -> None:
    token = ClientSecretCredential(**azure.credential_kwargs()).get_token(
        "https://management.azure.com/.default"
    )
    assert token.token and token.expires_on > time.time()
    bad = {**azure.credential_kwargs(), "client_secret": "not-the-secret"}
    with pytest.raises(ClientAuthenticationError, match="AADSTS7000215"):
        ClientSecretCredential(**bad).get_token("https://management.azure.com/.default")
    assert azure.log.find(path_contains="/oauth2/v2.0/token", status=401)
    assert all(azure.client_secret not in f"{e.path}?{e.query}" for e in azure.log.entries())


def test_arm_requires_a_valid_bearer_token(azure: Standin) -> None:
    url = (
        f"{azure.arm_url}subscriptions/{azure.subscription_id}/resourcegroups"
        "?api-version=2021-04-01"
    )
    resp = requests.get(
        url, headers={"Authorization": "Bearer forged"}, verify=azure.ca_bundle, timeout=10
    )
    assert resp.status_code == 401
    assert resp.json()["error"]["code"] == "InvalidAuthenticationToken"
    assert resp.headers["WWW-Authenticate"].startswith("Bearer authorization_uri=")
    for header in (
        "x-ms-request-id",
        "x-ms-correlation-request-id",
        "x-ms-ratelimit-remaining-subscription-reads",
    ):
        assert header in resp.headers


def test_resource_group_lifecycle(azure: Standin, clients: dict[str, Any]) -> None:
    rc = clients["resource"]
    group = rc.resource_groups.create_or_update(
        "rg-life", {"location": "West Europe", "tags": {"imagebuild-run": "42"}}
    )
    assert (group.location, group.properties.provisioning_state) == (LOCATION, "Succeeded")
    rc.resource_groups.create_or_update("rg-life", {"location": LOCATION})
    puts = azure.log.find(method="PUT", path_contains="/resourcegroups/rg-life")
    assert [e.status for e in puts] == [201, 200]
    assert rc.resource_groups.check_existence("rg-life") is True
    assert rc.resource_groups.check_existence("rg-missing") is False
    rc.resource_groups.create_or_update(
        "rg-life", {"location": LOCATION, "tags": {"imagebuild-run": "42"}}
    )
    found = rc.resource_groups.list(filter="tagName eq 'imagebuild-run' and tagValue eq '42'")
    assert [g.name for g in found] == ["rg-life"]
    with pytest.raises(HttpResponseError) as missing:
        rc.resource_groups.get("rg-missing")
    assert missing.value.error.code == "ResourceGroupNotFound"
    rc.resource_groups.begin_delete("rg-life").result()
    assert not azure.state.group_exists("rg-life")
    assert "rg-life" in azure.state.deleted_groups


def test_network_references_are_checked_like_azure(clients: dict[str, Any]) -> None:
    nc = clients["network"]
    net = make_network(clients, "rg-refs")
    ghost = net["vnet"].subnets[0].id.replace("/subnets/sn", "/subnets/ghost")
    with pytest.raises(HttpResponseError) as bad_ref:
        nc.network_interfaces.begin_create_or_update(
            "rg-refs",
            "ni-bad",
            nm.NetworkInterface(
                location=LOCATION,
                ip_configurations=[
                    nm.NetworkInterfaceIPConfiguration(name="c", subnet=nm.Subnet(id=ghost))
                ],
            ),
        ).result()
    assert bad_ref.value.status_code == 400
    assert bad_ref.value.error.code == "InvalidResourceReference"
    with pytest.raises(HttpResponseError) as in_use:
        nc.virtual_networks.begin_delete("rg-refs", "vn").result()
    assert in_use.value.error.code == "InUseSubnetCannotBeDeleted"
    nc.network_interfaces.begin_delete("rg-refs", "ni").result()
    nc.virtual_networks.begin_delete("rg-refs", "vn").result()
    with pytest.raises(HttpResponseError) as gone:
        nc.virtual_networks.get("rg-refs", "vn")
    assert gone.value.error.code == "ResourceNotFound"


# -- the Windows image pipeline, end to end ------------------------------------------------------
def test_windows_image_pipeline(azure: Standin, clients: dict[str, Any]) -> None:
    cc, group = clients["compute"], "pkr-rg"
    net = make_network(clients, group, nics=("ni", "ni2"))
    with pytest.raises(HttpResponseError) as weak:
        cc.virtual_machines.begin_create_or_update(
            group, "weak", vm_model(net["ni"].id, MARKETPLACE, "weak", "packer", "password")
        )
    assert weak.value.error.code == "InvalidParameter"
    vm = cc.virtual_machines.begin_create_or_update(
        group, "pkrvm", vm_model(net["ni"].id, MARKETPLACE, "pkrvm", "packer")
    ).result()
    assert vm.provisioning_state == "Succeeded"
    view = cc.virtual_machines.get(group, "pkrvm", expand="instanceView").instance_view
    assert [s.code for s in view.statuses] == ["ProvisioningState/succeeded", "PowerState/running"]
    ip = net["ni-ip"].ip_address
    assert ip.startswith("127.0.0.") and ip != "127.0.0.1"
    with pytest.raises(requests.ConnectionError):  # no HTTPS listener on a fresh image
        requests.get(f"https://{ip}:5986/wsman", verify=False, timeout=2)

    result = cc.virtual_machines.begin_run_command(
        group,
        "pkrvm",
        cm.RunCommandInput(command_id="RunPowerShellScript", script=WINRM_SETUP.splitlines()),
    ).result()
    assert [v.code for v in result.value] == [
        "ComponentStatus/StdOut/succeeded",
        "ComponentStatus/StdErr/succeeded",
    ]
    assert "listener ready on PKRVM" in result.value[0].message

    session = winrm.Session(
        f"https://{ip}:5986/wsman",
        auth=("packer", PASSWORD),
        transport="ntlm",
        server_cert_validation="ignore",
    )
    iis = session.run_ps(
        "Install-WindowsFeature -Name Web-Server -IncludeManagementTools\n"
        "Set-Content -Path C:\\inetpub\\wwwroot\\index.html -Value 'built by imagebuild'"
    )
    assert iis.status_code == 0, iis.std_err
    assert b"Success Restart Needed Exit Code      Feature Result" in iis.std_out
    typo = session.run_ps("Get-ServiceTypo W3SVC")
    assert typo.status_code == 1
    assert b"The term 'Get-ServiceTypo' is not recognized as the name of a cmdlet" in typo.std_err
    assert requests.get(f"http://{ip}/", timeout=5).text == "built by imagebuild\r\n"
    rejected = winrm.Session(
        f"https://{ip}:5986/wsman",
        auth=("packer", "Wrong!Passw0rd"),
        transport="ntlm",
        server_cert_validation="ignore",
    )
    with pytest.raises(winrm.exceptions.InvalidCredentialsError):
        rejected.run_cmd("hostname")
    sysprep = session.run_ps(SYSPREP)
    assert sysprep.status_code == 0 and b"IMAGE_STATE_UNDEPLOYABLE" in sysprep.std_out

    with pytest.raises(HttpResponseError) as running:
        cc.virtual_machines.generalize(group, "pkrvm")
    assert (running.value.status_code, running.value.error.code) == (409, "OperationNotAllowed")
    cc.virtual_machines.begin_deallocate(group, "pkrvm").result()
    with pytest.raises(requests.ConnectionError):
        requests.get(f"http://{ip}/", timeout=2)
    cc.virtual_machines.generalize(group, "pkrvm")
    image = cc.images.begin_create_or_update(
        group, "img", cm.Image(location=LOCATION, source_virtual_machine=cm.SubResource(id=vm.id))
    ).result()
    assert image.storage_profile.os_disk.os_state == "Generalized"

    smoke = cc.virtual_machines.begin_create_or_update(
        group,
        "smoke",
        vm_model(net["ni2"].id, cm.ImageReference(id=image.id), "smoke", "smoker", PASSWORD + "2"),
    ).result()
    assert smoke.provisioning_state == "Succeeded"
    ip2 = net["ni2-ip"].ip_address
    with pytest.raises(requests.ConnectionError):  # generalization dropped the HTTPS listener
        requests.get(f"https://{ip2}:5986/wsman", verify=False, timeout=2)
    reset = cc.virtual_machines.begin_run_command(
        group,
        "smoke",
        cm.RunCommandInput(command_id="RunPowerShellScript", script=WINRM_HTTPS_RESET),
    ).result()
    assert "listener ready on SMOKE" in reset.value[0].message, reset.value[1].message
    host = testinfra.get_host(f"winrm://smoker:{PASSWORD}2@{ip2}:5986?no_verify_ssl=true")
    assert host.run("hostname").stdout.strip() == "smoke"
    status = host.run('powershell -NoProfile -Command "(Get-Service W3SVC).Status"')
    assert (status.rc, status.stdout.strip()) == (0, "Running")
    assert requests.get(f"http://{ip2}/", timeout=5).status_code == 200

    with pytest.raises(HttpResponseError) as attached:
        cc.disks.begin_delete(group, smoke.storage_profile.os_disk.name).result()
    assert attached.value.error.code == "OperationNotAllowed"
    clients["resource"].resource_groups.begin_delete(group).result()
    assert azure.state.resources(group) == [] and not azure.state.group_exists(group)
    with pytest.raises(requests.ConnectionError):
        requests.get(f"http://{ip2}/", timeout=2)


def test_image_from_a_vm_never_sysprepped_fails_provisioning(clients: dict[str, Any]) -> None:
    cc, group = clients["compute"], "rg-nosysprep"
    net = make_network(clients, group, nics=("ni", "ni2"))
    vm = cc.virtual_machines.begin_create_or_update(
        group, "src", vm_model(net["ni"].id, MARKETPLACE, "src", "packer")
    ).result()
    with pytest.raises(HttpResponseError) as not_generalized:
        cc.images.begin_create_or_update(
            group,
            "img",
            cm.Image(location=LOCATION, source_virtual_machine=cm.SubResource(id=vm.id)),
        ).result()
    assert not_generalized.value.error.code == "OperationNotAllowed"
    cc.virtual_machines.begin_power_off(group, "src").result()
    cc.virtual_machines.generalize(group, "src")
    image = cc.images.begin_create_or_update(
        group, "img", cm.Image(location=LOCATION, source_virtual_machine=cm.SubResource(id=vm.id))
    ).result()
    with pytest.raises(HttpResponseError) as failed:
        cc.virtual_machines.begin_create_or_update(
            group,
            "from-img",
            vm_model(net["ni2"].id, cm.ImageReference(id=image.id), "fromimg", "packer"),
        ).result()
    assert failed.value.error.code == "OSProvisioningTimedOut"
    assert cc.virtual_machines.get(group, "from-img").provisioning_state == "Failed"


# -- fault injection ------------------------------------------------------------------------------
def test_throttling_is_retried_by_azure_core(azure: Standin, clients: dict[str, Any]) -> None:
    rule = azure.faults.add(
        method="PUT",
        path_contains="/resourcegroups/rg-throttled",
        status=429,
        times=1,
        retry_after=1,
    )
    started = time.monotonic()
    clients["resource"].resource_groups.create_or_update("rg-throttled", {"location": LOCATION})
    assert time.monotonic() - started >= 1.0  # azure-core honoured Retry-After
    statuses = [e.status for e in azure.log.find(method="PUT", path_contains="rg-throttled")]
    assert statuses == [429, 201] and rule.hits == 1


def test_failed_provisioning_surfaces_with_azures_error(
    azure: Standin, clients: dict[str, Any]
) -> None:
    clients["resource"].resource_groups.create_or_update("rg-fail", {"location": LOCATION})
    azure.faults.fail_provisioning(
        "/virtualNetworks/doomed", code="InternalServerError", message="An error occurred."
    )
    with pytest.raises(HttpResponseError) as failed:
        clients["network"].virtual_networks.begin_create_or_update(
            "rg-fail",
            "doomed",
            nm.VirtualNetwork(
                location=LOCATION, address_space=nm.AddressSpace(address_prefixes=["10.1.0.0/16"])
            ),
        ).result()
    assert failed.value.error.code == "InternalServerError"
    assert failed.value.error.message == "An error occurred."


def test_winrm_faults(azure: Standin, clients: dict[str, Any]) -> None:
    cc, group = clients["compute"], "rg-winrm"
    net = make_network(clients, group)
    cc.virtual_machines.begin_create_or_update(
        group, "vm", vm_model(net["ni"].id, MARKETPLACE, "vm", "packer")
    ).result()
    cc.virtual_machines.begin_run_command(
        group,
        "vm",
        cm.RunCommandInput(command_id="RunPowerShellScript", script=WINRM_SETUP.splitlines()),
    ).result()
    ip = net["ni-ip"].ip_address
    endpoint = f"https://{ip}:5986/wsman"
    rule = azure.faults.winrm_timeout(host="vm", mode="operation_timeout")
    proto = Protocol(
        endpoint,
        transport="basic",
        username="packer",
        password=PASSWORD,
        server_cert_validation="ignore",
        operation_timeout_sec=2,
        read_timeout_sec=4,
    )
    shell = proto.open_shell()
    command = proto.run_command(shell, "hostname")
    with pytest.raises(WinRMOperationTimeoutError):
        proto.get_command_output_raw(shell, command)
    azure.faults.remove(rule)
    assert proto.get_command_output(shell, command)[0] == b"vm\r\n"
    proto.close_shell(shell)
    azure.faults.winrm_timeout(host=ip, mode="refuse")
    with socket.socket() as s, pytest.raises(ConnectionRefusedError):
        s.connect((ip, 5986))
    azure.faults.clear()
    with socket.create_connection((ip, 5986), timeout=2):
        pass


# -- recorded traffic -----------------------------------------------------------------------------
def _cassette(name: str) -> list[dict[str, Any]]:
    return yaml.safe_load((TRAFFIC / name).read_text())["interactions"]


def _request_body(raw: Any) -> str | None:
    """Unwrap the doubled `b'b\'{...}\''` strings some cassettes store (see README quirks)."""
    while True:
        if isinstance(raw, bytes):
            raw = raw.decode()
        if isinstance(raw, str) and raw.startswith(("b'", 'b"')):
            raw = ast.literal_eval(raw)
            continue
        return raw


def _body_of(response: dict[str, Any]) -> Any:
    text = response["body"]["string"] if isinstance(response["body"], dict) else response["body"]
    if isinstance(text, bytes):
        text = text.decode()
    return json.loads(text) if text and text.strip().startswith(("{", "[")) else None


REPLAYED = (
    ("sdk-resource-15.0.0__test_mgmt_resource.test_resource_groups.yaml", None),
    (
        "sdk-network-2.7.0__test_mgmt_network.test_public_ip_addresses.yaml",
        "test_mgmt_network_test_public_ip_addresses773e115f",
    ),
    (
        "sdk-network-2.7.0__test_mgmt_network.test_network_security_groups__TRIMMED.yaml",
        "test_mgmt_network_test_network_security_groupsc575136b",
    ),
    ("sdk-network-19.0.0__test_cli_mgmt_network_interface.test_network.yaml", "rgname"),
    ("sdk-compute-17.0.0__test_mgmt_compute_vm.test_compute_vm.yaml", "rgname2"),
)
NOT_MODELLED = (
    "/extensions",
    "/runcommands/",
    "/exporttemplate",
    "/operations/",
    "/operationresults/",
    "/diskoperations/",
)


@needs_traffic
@pytest.mark.parametrize(("cassette", "group"), REPLAYED)
def test_recorded_requests_get_recorded_answers(
    azure: Standin, clients: dict[str, Any], cassette: str, group: str | None
) -> None:
    """Replay each recorded request (polls excepted) and compare status, LRO headers, body keys."""
    token = clients["credential"].get_token("https://management.azure.com/.default").token
    if group:
        clients["resource"].resource_groups.create_or_update(group, {"location": "westus"})
    base = azure.arm_url.rstrip("/")
    sub = azure.subscription_id
    compared = 0
    for item in _cassette(cassette):
        req, rec = item["request"], item["response"]
        uri = (
            req["uri"]
            .replace("https://management.azure.com", base)
            .replace("00000000-0000-0000-0000-000000000000", sub)
        )
        if group == "rgname2":
            uri = uri.replace("/rgname/", "/rgname2/")
        if any(part in uri.lower() for part in NOT_MODELLED):
            continue
        body = _request_body(req["body"])
        if body and group == "rgname2":
            body = body.replace("/rgname/", "/rgname2/")
        if body:
            body = body.replace("00000000-0000-0000-0000-000000000000", sub).replace(
                '"eastus"', '"westus"'
            )
        resp = requests.request(
            req["method"],
            uri,
            data=body,
            verify=azure.ca_bundle,
            timeout=10,
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        )
        expected = rec["status"]["code"]
        where = f"{cassette}: {req['method']} {uri}"
        assert resp.status_code == expected, f"{where}: {resp.status_code} {resp.text[:300]}"
        rec_headers = {k.lower() for k in rec["headers"]}
        for header in ("azure-asyncoperation", "location"):
            assert (header in rec_headers) == (header in {k.lower() for k in resp.headers}), (
                f"{where}: {header}"
            )
        recorded, ours = _body_of(rec), resp.json() if resp.content else None
        if isinstance(recorded, dict) and "value" not in recorded:
            # "extensions"/"resources" list VM extensions, which the recorded VM had and ours lack
            extra = set(recorded) - set(ours) - {"extensions", "resources"}
            assert not extra, f"{where}: {extra}"
            if isinstance(recorded.get("properties"), dict):
                missing = set(recorded["properties"]) - set(ours["properties"])
                assert not missing - {"hostedWorkloads", "instanceView", "resources"}, (
                    f"{where}: properties {missing}"
                )
        _wait(resp, token, azure)
        compared += 1
    assert compared >= 4


def _wait(resp: requests.Response, token: str, azure: Standin) -> None:
    """Poll our own Azure-AsyncOperation / Location until done, as the recorded client did."""
    url = resp.headers.get("Azure-AsyncOperation") or (
        resp.headers.get("Location") if resp.status_code == 202 else None
    )
    for _ in range(50):
        if not url:
            return
        poll = requests.get(
            url, headers={"Authorization": f"Bearer {token}"}, verify=azure.ca_bundle, timeout=10
        )
        if poll.status_code != 202 and (
            not poll.content or poll.json().get("status") not in ("InProgress",)
        ):
            return
        time.sleep(0.05)


@needs_traffic
def test_recorded_capture_flow_of_the_cli(azure: Standin, clients: dict[str, Any]) -> None:
    """The CLI's deallocate -> generalize -> image sequence, on a VM the SDK creates first."""
    group = "cli_test_generalize_vm000001"
    net = make_network(clients, group)
    clients["compute"].virtual_machines.begin_create_or_update(
        group, "vm-generalize", vm_model(net["ni"].id, MARKETPLACE, "vm-gen", "packer")
    ).result()
    items = [
        i
        for i in _cassette("cli-vm__test_vm_capture_zone_resilient_image__EXCERPT.yaml")
        if "/operations/" not in i["request"]["uri"]
    ]
    token = clients["credential"].get_token("https://management.azure.com/.default").token
    for item in items:
        req, rec = item["request"], item["response"]
        uri = (
            req["uri"]
            .replace("https://management.azure.com", azure.arm_url.rstrip("/"))
            .replace("00000000-0000-0000-0000-000000000000", azure.subscription_id)
        )
        body = _request_body(req["body"])
        if body:
            body = body.replace("00000000-0000-0000-0000-000000000000", azure.subscription_id)
            body = body.replace('"francecentral"', f'"{LOCATION}"')
        resp = requests.request(
            req["method"],
            uri,
            data=body,
            verify=azure.ca_bundle,
            timeout=10,
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        )
        assert resp.status_code == rec["status"]["code"], resp.text
        for header in ("azure-asyncoperation", "location"):
            assert (header in {k.lower() for k in rec["headers"]}) == (
                header in {k.lower() for k in resp.headers}
            )
        recorded = _body_of(rec)
        if recorded:
            ours = resp.json()
            assert set(recorded) <= set(ours)
            assert set(recorded["properties"]["storageProfile"]["osDisk"]) <= set(
                ours["properties"]["storageProfile"]["osDisk"]
            )
        _wait(resp, token, azure)
    image = clients["compute"].images.get(group, "myImage2")
    assert image.storage_profile.os_disk.os_state == "Generalized"


# -- lifecycle -----------------------------------------------------------------------------------
def test_two_standins_share_nothing_and_stop_cleanly() -> None:
    before = threading.active_count()
    with start_standin(fast=True) as one, start_standin(fast=True) as two:
        assert one.arm_url != two.arm_url and one.tenant_id != two.tenant_id
        token = (
            ClientSecretCredential(**one.credential_kwargs())
            .get_token("https://management.azure.com/.default")
            .token
        )
        url = f"{two.arm_url}subscriptions/{two.subscription_id}?api-version=2021-04-01"
        resp = requests.get(
            url, headers={"Authorization": f"Bearer {token}"}, verify=two.ca_bundle, timeout=10
        )
        assert resp.status_code == 401  # one's token means nothing to two
        port = int(one.arm_url.rsplit(":", 1)[1].rstrip("/"))
        bundle = Path(one.ca_bundle)
    with socket.socket() as s, pytest.raises(ConnectionRefusedError):
        s.connect(("127.0.0.1", port))
    assert not bundle.exists()
    deadline = time.monotonic() + 5
    while threading.active_count() > before and time.monotonic() < deadline:
        time.sleep(0.05)
    assert threading.active_count() <= before


def test_two_stand_ins_in_one_process_hand_out_different_public_ips() -> None:
    with start_standin(fast=True) as first, start_standin(fast=True) as second:
        one, two = first.ip_pool.allocate(), second.ip_pool.allocate()
        try:
            assert one != two
        finally:
            first.ip_pool.release(one)
            second.ip_pool.release(two)
