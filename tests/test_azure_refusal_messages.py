"""Azure's refusals become one paragraph that says what to fix.

Each refusal the loopback Azure gives (as Azure gives it) goes through the builder's
`azure_call`; a few go through a whole `pytest --image-template` build, where the paragraph is
what the user reads and every temporary group must still be deleted.
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from azure.identity import ClientSecretCredential
from azure.mgmt.network import NetworkManagementClient
from azure.mgmt.network import models as nm
from azure.mgmt.resource.resources import ResourceManagementClient

from pytest_imagebuild.azure.calls import azure_call
from pytest_imagebuild.errors import BuildError
from standin import Standin, start_standin
from standin.subscription_faults import (
    authorization_failed,
    missing_registration,
    quota_exceeded,
    sku_not_available,
)
from tests.test_azure_faults import (
    Scenario,
    assert_all_deleted,
    assert_no_secrets,
    assert_one_paragraph,
    failure_paragraph,
    play,
)

GROUP = "rg-messages"


@pytest.fixture(scope="module")
def azure() -> Iterator[Standin]:
    with start_standin(fast=True) as standin:
        yield standin


@pytest.fixture(scope="module")
def network(azure: Standin) -> Any:
    credential = ClientSecretCredential(**azure.credential_kwargs())
    kwargs = {**azure.client_kwargs(), "retry_total": 0}
    ResourceManagementClient(
        credential, azure.subscription_id, **kwargs
    ).resource_groups.create_or_update(GROUP, {"location": "westeurope"})
    return NetworkManagementClient(credential, azure.subscription_id, **kwargs)


def vnet(space: str, prefix: str) -> nm.VirtualNetwork:
    return nm.VirtualNetwork(
        location="westeurope",
        address_space=nm.AddressSpace(address_prefixes=[space]),
        subnets=[nm.Subnet(name="sn", address_prefix=prefix)],
    )


@pytest.mark.parametrize(
    ("make", "words"),
    [
        (
            lambda a: authorization_failed(a.client_id),
            ("(AuthorizationFailed)", "[HTTP 403]", "give it Contributor"),
        ),
        (
            lambda a: quota_exceeded("westeurope"),
            ("(OperationNotAllowed)", "quota", "request a quota increase", "smaller vm_size"),
        ),
        (
            lambda a: sku_not_available("westeurope"),
            ("(SkuNotAvailable)", "[HTTP 409]", "pick another vm_size or location"),
        ),
        (
            lambda a: missing_registration("Microsoft.Network"),
            (
                "(MissingSubscriptionRegistration)",
                "az provider register --namespace Microsoft.Network",
            ),
        ),
    ],
)
def test_subscription_refusals_say_what_to_fix(
    azure: Standin, network: Any, make: Any, words: tuple[str, ...]
) -> None:
    rule = azure.faults.add_refusal(make(azure), method="PUT", path_contains="/vn-msg")
    try:
        with pytest.raises(BuildError) as info:
            azure_call(
                "Creating virtual network 'vn-msg'",
                lambda: network.virtual_networks.begin_create_or_update(
                    GROUP, "vn-msg", vnet("10.0.0.0/16", "10.0.0.0/24")
                ).result(),
            )
    finally:
        azure.faults.remove(rule)
    text = str(info.value)
    assert_one_paragraph(text, "Creating virtual network 'vn-msg' failed", *words)
    # the 409 hint about concurrent operations would send the user the wrong way
    assert "Another operation" not in text


@pytest.mark.parametrize(
    ("space", "prefix", "words"),
    [
        ("10.0.0.0/16", "10.1.0.0/24", ("(NetcfgInvalidSubnet)", "inside its virtual network")),
        ("10.0.0.0/16", "10.0.0.1/24", ("(InvalidCIDRNotation)", "10.0.0.0/24")),
        ("10.0.0.0/33", "10.0.0.0/24", ("(InvalidAddressPrefixFormat)", "CIDR blocks")),
    ],
)
def test_network_refusals_say_what_to_fix(
    network: Any, space: str, prefix: str, words: tuple[str, ...]
) -> None:
    with pytest.raises(BuildError) as info:
        azure_call(
            "Creating virtual network 'vn-bad'",
            lambda: network.virtual_networks.begin_create_or_update(
                GROUP, "vn-bad", vnet(space, prefix)
            ).result(),
        )
    assert_one_paragraph(str(info.value), "[HTTP 400]", *words)


BUILDS = {
    "quota": (
        Scenario(
            lambda a: a.faults.add_refusal(
                quota_exceeded("eastus2"), method="PUT", path_contains="/virtualMachines/pkrvm"
            )
        ),
        ("Creating virtual machine 'pkrvm", "(OperationNotAllowed)", "quota increase"),
    ),
    "forbidden-network": (
        Scenario(
            lambda a: a.faults.add_refusal(
                authorization_failed(a.client_id), method="PUT", path_contains="/virtualNetworks/"
            )
        ),
        ("Creating virtual network", "(AuthorizationFailed)", "[HTTP 403]", "Contributor"),
    ),
    "retired-size": (
        Scenario(builder={"vm_size": "Standard_A1"}),
        ("Creating virtual machine 'pkrvm", "(SkuNotAvailable)", "pick another vm_size"),
    ),
}


@pytest.fixture(scope="module")
def builds(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    with ThreadPoolExecutor(3) as pool:
        futures = {
            name: pool.submit(play, name, scenario, tmp_path_factory.mktemp(name))
            for name, (scenario, _) in BUILDS.items()
        }
        return {name: future.result() for name, future in futures.items()}


@pytest.mark.parametrize("case", sorted(BUILDS))
def test_a_refused_build_says_what_to_fix_and_deletes_its_group(
    builds: dict[str, Any], case: str
) -> None:
    outcome = builds[case]
    assert outcome.code == 1, outcome.output[-3000:]
    paragraph = failure_paragraph(outcome.output)
    assert_one_paragraph(paragraph, *BUILDS[case][1])
    assert_all_deleted(outcome.azure)
    assert_no_secrets(outcome.azure, outcome.output)
