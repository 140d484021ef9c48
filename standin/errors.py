"""ARM error responses with the bodies Azure really sends.

Shapes follow real recorded ARM traffic (``../shared/azure-traffic``, beside the repository):
`{"error": {"code", "message"}}`,
with `target` on compute validation errors and an empty `details` list on network errors.
"""

from __future__ import annotations

from typing import Any

AKA_NOT_FOUND = "For more details please go to https://aka.ms/ARMResourceNotFoundFix"


class ArmError(Exception):
    """Raised by handlers; rendered as an ARM error response."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        target: str | None = None,
        details: list[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.target = target
        self.details = details
        self.headers = headers or {}

    def error(self) -> dict[str, Any]:
        err: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.target is not None:
            err["target"] = self.target
        if self.details is not None:
            err["details"] = self.details
        return err

    def body(self) -> dict[str, Any]:
        return {"error": self.error()}


def group_not_found(name: str) -> ArmError:
    return ArmError(
        404,
        "ResourceGroupNotFound",
        f"Resource group '{name}' could not be found.",
        headers={"x-ms-failure-cause": "gateway"},
    )


def resource_not_found(rtype: str, name: str, group: str) -> ArmError:
    return ArmError(
        404,
        "ResourceNotFound",
        f"The Resource '{rtype}/{name}' under resource group '{group}' was not found. "
        + AKA_NOT_FOUND,
        headers={"x-ms-failure-cause": "gateway"},
    )


def network_error(status: int, code: str, message: str) -> ArmError:
    return ArmError(status, code, message, details=[])


def invalid_parameter(message: str, target: str) -> ArmError:
    return ArmError(400, "InvalidParameter", message, target=target)


def not_allowed(message: str) -> ArmError:
    return ArmError(409, "OperationNotAllowed", message)
