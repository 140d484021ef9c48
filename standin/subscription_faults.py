"""Subscription-level refusals a test can switch on: what an under-privileged, under-quota or
half-registered subscription gets from Azure.

    standin.faults.add_refusal(quota_exceeded(), method="PUT", path_contains="/virtualMachines/")

Each answer has Azure's status, code and message shape: 403 `AuthorizationFailed` naming the
client, the action and the scope; 409 `OperationNotAllowed` with the regional-cores quota text;
409 `SkuNotAvailable` naming the VM and location; 409 `MissingSubscriptionRegistration` with
the namespace as `target` of its one detail.
"""

from __future__ import annotations

from collections.abc import Callable

from .errors import ArmError
from .state import parse_id

Refusal = Callable[[str, str, str], ArmError]  # (method, path, subscription id) -> error


def _action(method: str, path: str) -> str:
    parts = parse_id(path)
    rtype = parts.get("type") or "Microsoft.Resources/subscriptions/resourceGroups"
    verb = {"GET": "read", "HEAD": "read", "DELETE": "delete"}.get(method.upper(), "write")
    if method.upper() == "POST":
        verb = f"{path.rstrip('/').rsplit('/', 1)[1]}/action"
    return f"{rtype}/{verb}"


def authorization_failed(client_id: str) -> Refusal:
    def build(method: str, path: str, sub: str) -> ArmError:
        return ArmError(
            403,
            "AuthorizationFailed",
            f"The client '{client_id}' with object id '{client_id}' does not have authorization "
            f"to perform action '{_action(method, path)}' over scope '{path}' or the scope is "
            "invalid. If access was recently granted, please refresh your credentials.",
        )

    return build


def quota_exceeded(location: str = "eastus2", family: str = "Total Regional Cores") -> Refusal:
    def build(method: str, path: str, sub: str) -> ArmError:
        return ArmError(
            409,
            "OperationNotAllowed",
            f"Operation could not be completed as it results in exceeding approved {family} "
            f"quota. Additional details - Deployment Model: Resource Manager, Location: "
            f"{location}, Current Limit: 4, Current Usage: 4, Additional Required: 2, "
            "(Minimum) New Limit Required: 6. Submit a request for Quota increase at "
            "https://aka.ms/ProdportalCRP/#blade/Microsoft_Azure_Capacity/UsageAndQuota.ReactView"
            " by specifying parameters listed in the 'Details' section for deployment to succeed.",
        )

    return build


def sku_not_available_error(resource_id: str, location: str, sub: str) -> ArmError:
    return ArmError(
        409,
        "SkuNotAvailable",
        f"The requested size for resource '{resource_id}' is currently not available in "
        f"location '{location}' zones '' for subscription '{sub}'. Please try another size or "
        "deploy to a different location or zones. See https://aka.ms/azureskunotavailable for "
        "details.",
    )


def sku_not_available(location: str = "eastus2") -> Refusal:
    def build(method: str, path: str, sub: str) -> ArmError:
        return sku_not_available_error(path, location, sub)

    return build


def missing_registration(namespace: str = "Microsoft.Compute") -> Refusal:
    def build(method: str, path: str, sub: str) -> ArmError:
        message = (
            f"The subscription is not registered to use namespace '{namespace}'. See "
            "https://aka.ms/rps-not-found for how to register subscriptions."
        )
        return ArmError(
            409,
            "MissingSubscriptionRegistration",
            message,
            details=[
                {"code": "MissingSubscriptionRegistration", "target": namespace, "message": message}
            ],
        )

    return build
