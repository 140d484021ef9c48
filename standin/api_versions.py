"""Which api-versions each resource type accepts, and ARM's answers to the ones it does not.

ARM routes a request by namespace, type and api-version. A malformed api-version, or one a
type of ARM's own (resource groups, operation results) does not know, is answered with
`InvalidApiVersionParameter` and the supported list; a well-formed one a resource provider has
not registered gets `NoRegisteredProviderFound` naming the location, the type and the supported
versions; a type the namespace does not have gets `InvalidResourceType`.

The tables hold the versions seen in the recorded Azure traffic, those the installed
azure-mgmt-* releases send (compute 39: 2026-04-01 / disks 2026-03-02 / galleries 2026-03-03;
network 33: 2026-03-01, and 2018-10-01 for scale-set NICs; resource 26: 2025-04-01) and a
selection of other published versions. A version outside the table is treated as unknown.
"""

from __future__ import annotations

import re

from .errors import ArmError

DATE_SHAPED = re.compile(r"^\d{4}-\d{2}-\d{2}(-preview|-beta|-alpha)?$")

_COMPUTE = (
    "2018-10-01",
    "2019-03-01",
    "2019-07-01",
    "2019-12-01",
    "2020-06-01",
    "2020-12-01",
    "2021-03-01",
    "2021-07-01",
    "2021-11-01",
    "2022-03-01",
    "2022-08-01",
    "2022-11-01",
    "2023-03-01",
    "2023-07-01",
    "2023-09-01",
    "2024-03-01",
    "2024-07-01",
    "2024-11-01",
    "2025-04-01",
    "2026-04-01",
)
_DISKS = (
    "2018-09-30",
    "2019-03-01",
    "2019-07-01",
    "2020-05-01",
    "2020-06-30",
    "2020-09-30",
    "2020-12-01",
    "2021-04-01",
    "2021-08-01",
    "2021-12-01",
    "2022-03-02",
    "2022-07-02",
    "2023-01-02",
    "2023-04-02",
    "2023-10-02",
    "2024-03-02",
    "2025-01-02",
    "2026-03-02",
)
_GALLERIES = (
    "2018-06-01",
    "2019-03-01",
    "2019-07-01",
    "2019-12-01",
    "2020-09-30",
    "2021-07-01",
    "2021-10-01",
    "2022-01-03",
    "2022-03-03",
    "2022-08-03",
    "2023-07-03",
    "2024-03-03",
    "2025-03-03",
    "2026-03-03",
)
_NETWORK = (
    "2018-10-01",
    "2018-12-01",
    "2019-02-01",
    "2019-06-01",
    "2019-11-01",
    "2020-06-01",
    "2020-11-01",
    "2021-02-01",
    "2021-05-01",
    "2021-08-01",
    "2022-01-01",
    "2022-05-01",
    "2022-07-01",
    "2022-09-01",
    "2022-11-01",
    "2023-02-01",
    "2023-04-01",
    "2023-05-01",
    "2023-06-01",
    "2023-09-01",
    "2023-11-01",
    "2024-01-01",
    "2024-03-01",
    "2024-05-01",
    "2024-07-01",
    "2024-10-01",
    "2025-01-01",
    "2025-03-01",
    "2026-03-01",
)
RESOURCE_GROUPS = (
    "2019-05-01",
    "2019-10-01",
    "2020-06-01",
    "2020-10-01",
    "2021-01-01",
    "2021-04-01",
    "2022-09-01",
    "2023-07-01",
    "2024-03-01",
    "2024-07-01",
    "2024-11-01",
    "2025-03-01",
    "2025-04-01",
)

# namespace/type (lower case) -> supported api-versions. Child types inherit their parent's.
SUPPORTED: dict[str, tuple[str, ...]] = {
    "microsoft.compute/virtualmachines": _COMPUTE,
    "microsoft.compute/images": _COMPUTE,
    "microsoft.compute/availabilitysets": _COMPUTE,
    "microsoft.compute/virtualmachinescalesets": _COMPUTE,
    "microsoft.compute/sshpublickeys": _COMPUTE,
    "microsoft.compute/locations": tuple(sorted({*_COMPUTE, *_DISKS, *_GALLERIES})),
    "microsoft.compute/disks": _DISKS,
    "microsoft.compute/snapshots": _DISKS,
    "microsoft.compute/diskaccesses": _DISKS,
    "microsoft.compute/galleries": _GALLERIES,
    "microsoft.network/virtualnetworks": _NETWORK,
    "microsoft.network/publicipaddresses": _NETWORK,
    "microsoft.network/networksecuritygroups": _NETWORK,
    "microsoft.network/networkinterfaces": _NETWORK,
    "microsoft.network/loadbalancers": _NETWORK,
    "microsoft.network/routetables": _NETWORK,
    "microsoft.network/locations": _NETWORK,
}
NAMESPACES = {"microsoft.compute", "microsoft.network"}


def _listed(versions: tuple[str, ...]) -> str:
    return ", ".join(sorted(versions, reverse=True))


def check_format(version: str) -> None:
    if not DATE_SHAPED.match(version):
        raise ArmError(
            400,
            "InvalidApiVersionParameter",
            f"The api-version '{version}' is invalid. The supported versions are "
            f"'{','.join(sorted(RESOURCE_GROUPS, reverse=True))}'.",
        )


def check_resources(version: str) -> None:
    """Resource groups and group-deletion results are ARM's own: InvalidApiVersionParameter."""
    check_format(version)
    if version not in RESOURCE_GROUPS:
        raise ArmError(
            400,
            "InvalidApiVersionParameter",
            f"The api-version '{version}' is invalid. The supported versions are "
            f"'{','.join(sorted(RESOURCE_GROUPS, reverse=True))}'.",
        )


def check_provider(version: str, namespace: str, rtype: str, location: str, regions: str) -> None:
    """A provider type: unknown types and unregistered versions, as ARM answers them."""
    check_format(version)
    key = f"{namespace}/{rtype}".lower()
    if namespace.lower() not in NAMESPACES:
        return
    if key not in SUPPORTED:
        raise ArmError(
            400,
            "InvalidResourceType",
            f"The resource type '{rtype}' could not be found in the namespace "
            f"'{namespace}' for api version '{version}'.",
        )
    supported = SUPPORTED[key]
    if version not in supported:
        raise ArmError(
            400,
            "NoRegisteredProviderFound",
            f"No registered resource provider found for location '{location}' and API version "
            f"'{version}' for type '{rtype}'. The supported api-versions are "
            f"'{_listed(supported)}'. The supported locations are '{regions}'.",
        )
