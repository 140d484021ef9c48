"""Fault injection, set from tests: throttling, transient errors, failed provisioning, dead WinRM.

Bodies are Azure's: ARM's 429 carries `Retry-After` and, on Microsoft.Compute, the CRP throttling
body (`OperationNotAllowed` with a `TooManyRequests` detail) from Microsoft's throttling guide;
elsewhere ARM's own `TooManyRequests`. 500 is ARM's `InternalServerError` text.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from typing import Any

from standin.errors import ArmError
from standin.lro import iso_now

_DEFAULTS: dict[int, tuple[str, str]] = {
    409: ("Conflict", "The request failed due to conflict with a concurrent request."),
    500: (
        "InternalServerError",
        "Encountered internal server error. Diagnostic information: timestamp '{ts}', "
        "subscription id '{sub}', tracking id '{tid}', request correlation id '{tid}'.",
    ),
    502: ("BadGateway", "The gateway did not receive a response from the resource provider."),
    503: ("ServiceUnavailable", "The service is currently unavailable. Please retry later."),
    504: ("GatewayTimeout", "The gateway did not receive a response within the specified time."),
}


@dataclass
class FaultRule:
    """One switch. `times=None` means forever; `hits` counts how often it fired."""

    kind: str  # "http", "provisioning", "winrm"
    method: str | None = None
    path_contains: str | None = None
    status: int = 429
    times: int | None = 1
    retry_after: int | None = None
    code: str | None = None
    message: str | None = None
    mode: str = "refuse"  # for winrm: "refuse", "operation_timeout", "hang"
    host: str | None = None  # for winrm: an IP or VM name; None = every host
    hits: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def exhausted(self) -> bool:
        return self.times is not None and self.hits >= self.times

    def matches(self, method: str, path: str) -> bool:
        return (
            not self.exhausted
            and (self.method is None or self.method.upper() == method.upper())
            and (self.path_contains is None or self.path_contains.lower() in path.lower())
        )


class Faults:
    def __init__(self, subscription_id: str, on_change: Any = None) -> None:
        self._rules: list[FaultRule] = []
        self._lock = threading.Lock()
        self._sub = subscription_id
        self._on_change = on_change  # lets fake hosts react to WinRM switches at once

    # -- what tests call -------------------------------------------------------------------
    def add(
        self,
        method: str | None = None,
        path_contains: str | None = None,
        status: int = 429,
        times: int | None = 1,
        retry_after: int | None = None,
        code: str | None = None,
        message: str | None = None,
    ) -> FaultRule:
        """Answer matching ARM requests with `status` (429, 409, 500, 503, ...) `times` times."""
        if status == 429 and retry_after is None:
            retry_after = 1
        rule = FaultRule("http", method, path_contains, status, times, retry_after, code, message)
        return self._append(rule)

    def add_refusal(
        self,
        build: Any,
        method: str | None = None,
        path_contains: str | None = None,
        times: int | None = 1,
    ) -> FaultRule:
        """Answer matching requests with a subscription-level refusal (see subscription_faults:
        AuthorizationFailed, quota OperationNotAllowed, SkuNotAvailable, registration)."""
        rule = FaultRule("http", method, path_contains, 0, times, extra={"build": build})
        return self._append(rule)

    def fail_provisioning(
        self,
        path_contains: str,
        code: str | None = None,
        message: str | None = None,
        method: str = "PUT",
        times: int | None = 1,
    ) -> FaultRule:
        """Let the operation started by a matching request end in `status: Failed`."""
        rule = FaultRule("provisioning", method, path_contains, 200, times, None, code, message)
        return self._append(rule)

    def winrm_timeout(
        self, host: str | None = None, mode: str = "refuse", times: int | None = None
    ) -> FaultRule:
        """Make WinRM unreachable: `refuse` closes the port, `hang` accepts and never answers,
        `operation_timeout` answers every Receive with the OperationTimeout fault forever."""
        if mode not in ("refuse", "hang", "operation_timeout"):
            raise ValueError(f"unknown WinRM fault mode {mode!r}")
        rule = FaultRule("winrm", None, None, 0, times, None, None, None, mode, host)
        return self._append(rule)

    def remove(self, rule: FaultRule) -> None:
        with self._lock:
            if rule in self._rules:
                self._rules.remove(rule)
        self._changed()

    def clear(self) -> None:
        with self._lock:
            self._rules.clear()
        self._changed()

    @property
    def rules(self) -> list[FaultRule]:
        with self._lock:
            return list(self._rules)

    # -- what the stand-in calls -------------------------------------------------------------
    def take_http(self, method: str, path: str) -> ArmError | None:
        with self._lock:
            for rule in self._rules:
                if rule.kind == "http" and rule.matches(method, path):
                    rule.hits += 1
                    if "build" in rule.extra:
                        return rule.extra["build"](method, path, self._sub)
                    return self._http_error(rule, path)
        return None

    def take_provisioning(self, method: str, path: str) -> ArmError | None:
        with self._lock:
            for rule in self._rules:
                if rule.kind == "provisioning" and rule.matches(method, path):
                    rule.hits += 1
                    return ArmError(
                        200,
                        rule.code or _provisioning_code(path),
                        rule.message or _provisioning_message(path),
                    )
        return None

    def winrm_mode(self, ip: str, vm_name: str, count: bool = False) -> str | None:
        """The WinRM fault in force for a host; `count` spends one of its `times` (one
        Receive answered with OperationTimeout counts as one)."""
        with self._lock:
            for rule in self._rules:
                if (
                    rule.kind == "winrm"
                    and not rule.exhausted
                    and (rule.host is None or rule.host.lower() in (ip, vm_name.lower()))
                ):
                    if count:
                        rule.hits += 1
                    return rule.mode
        return None

    def count_winrm_hit(self, ip: str, vm_name: str) -> None:
        with self._lock:
            for rule in self._rules:
                if (
                    rule.kind == "winrm"
                    and not rule.exhausted
                    and (rule.host is None or rule.host.lower() in (ip, vm_name.lower()))
                ):
                    rule.hits += 1
                    return

    # -- internals -------------------------------------------------------------------------
    def _append(self, rule: FaultRule) -> FaultRule:
        with self._lock:
            self._rules.append(rule)
        self._changed()
        return rule

    def _changed(self) -> None:
        if self._on_change is not None:
            self._on_change()

    def _http_error(self, rule: FaultRule, path: str) -> ArmError:
        headers: dict[str, str] = {}
        if rule.retry_after is not None:
            headers["Retry-After"] = str(rule.retry_after)
        if rule.status == 429:
            return _throttled(rule, path, headers, self._sub)
        code, message = _DEFAULTS.get(rule.status, ("Conflict", "The request failed."))
        message = message.format(ts=iso_now(), sub=self._sub, tid=_tracking_id())
        return ArmError(rule.status, rule.code or code, rule.message or message, headers=headers)


def _tracking_id() -> str:
    import uuid

    return str(uuid.uuid4())


def _throttled(rule: FaultRule, path: str, headers: dict[str, str], sub: str) -> ArmError:
    if "/microsoft.compute/" in path.lower() and rule.code is None:
        group = "PutVM3Min" if "/virtualmachines/" in path.lower() else "HighCostGet3Min"
        detail = json.dumps(
            {
                "operationGroup": group,
                "startTime": iso_now(),
                "endTime": iso_now(),
                "allowedRequestCount": 240,
                "measuredRequestCount": 279,
            },
            separators=(",", ":"),
        )
        headers["x-ms-ratelimit-remaining-resource"] = f"Microsoft.Compute/{group};0"
        return ArmError(
            429,
            "OperationNotAllowed",
            rule.message
            or "The server rejected the request because too many requests have "
            "been received for this subscription.",
            details=[{"code": "TooManyRequests", "target": group, "message": detail}],
            headers=headers,
        )
    return ArmError(
        429,
        rule.code or "TooManyRequests",
        rule.message
        or "The request is being throttled as the limit has been reached for "
        "operation type - Write. For more information, see - https://aka.ms/armthrottling",
        headers=headers,
    )


def _provisioning_code(path: str) -> str:
    p = path.lower()
    if "/virtualmachines/" in p:
        return "OSProvisioningTimedOut"
    if "/microsoft.network/" in p:
        return "InternalServerError"
    return "InternalOperationError"


def _provisioning_message(path: str) -> str:
    p = path.lower()
    if "/virtualmachines/" in p:
        name = path.rstrip("/").split("/")[-1].split("?")[0]
        return (
            f"OS Provisioning for VM '{name}' did not finish in the allotted time. The VM may "
            "still finish provisioning successfully. Please check provisioning state later. "
            "Also, make sure the image has been properly prepared (generalized).\r\n"
            " * Instructions for Windows: https://azure.microsoft.com/documentation/articles/"
            "virtual-machines-windows-upload-image/ \r\n"
            " * Instructions for Linux: https://azure.microsoft.com/documentation/articles/"
            "virtual-machines-linux-capture-image/"
        )
    if "/microsoft.network/" in p:
        return "An error occurred."
    return "Internal error occurred while processing the request."
