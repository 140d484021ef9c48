"""Azure Resource Manager's front door: authentication, api-version, routing, headers, LRO URLs.

Every response carries what ARM adds (request/correlation/routing ids, remaining-request
counters, no-cache headers); provider responses add their own (`x-ms-ratelimit-remaining-resource`
on compute, `x-ms-arm-service-request-id` on network). Long-running operations answer as the
recordings show: Microsoft.Network with `Azure-AsyncOperation` (and `Location` operationResults on
DELETE), Microsoft.Compute with `Azure-AsyncOperation` plus `Location ...?monitor=true` on POST and
DELETE, resource group DELETE with a `Location` operationresults URL only.
"""

from __future__ import annotations

import base64
import datetime as dt
import email.utils
import itertools
import json
import threading
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from . import api_versions
from .errors import ArmError, group_not_found
from .lro import Operation

if TYPE_CHECKING:
    from standin.standin import Standin

REGIONS = (
    "eastus",
    "eastus2",
    "westus",
    "westus2",
    "westus3",
    "centralus",
    "northcentralus",
    "southcentralus",
    "westcentralus",
    "northeurope",
    "westeurope",
    "uksouth",
    "ukwest",
    "francecentral",
    "germanywestcentral",
    "swedencentral",
    "switzerlandnorth",
    "norwayeast",
    "eastasia",
    "southeastasia",
    "japaneast",
    "japanwest",
    "australiaeast",
    "centralindia",
    "koreacentral",
    "canadacentral",
    "brazilsouth",
    "southafricanorth",
    "uaenorth",
)


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    raw: bytes

    @property
    def api_version(self) -> str:
        return self.query.get("api-version", "")

    def json(self) -> dict[str, Any]:
        if not self.raw:
            return {}
        try:
            value = json.loads(self.raw)
        except ValueError as exc:
            raise ArmError(
                400,
                "InvalidRequestContent",
                f"The request content was invalid and could not be deserialized: '{exc}'.",
            ) from exc
        if not isinstance(value, dict):
            raise ArmError(
                400,
                "InvalidRequestContent",
                "The request content was invalid and could not be deserialized.",
            )
        return value


@dataclass
class Response:
    status: int
    body: Any = None  # dict/list -> JSON; None -> empty
    headers: dict[str, str] = field(default_factory=dict)


def normalize_location(value: str) -> str:
    return value.replace(" ", "").lower()


def check_location(value: Any, what: str = "resource") -> str:
    if not value or not isinstance(value, str):
        raise ArmError(
            400, "LocationRequired", "The location property is required for this definition."
        )
    loc = normalize_location(value)
    if loc not in REGIONS:
        if what == "group":
            raise ArmError(
                400,
                "LocationNotAvailableForResourceGroup",
                f"The provided location '{loc}' is not available for resource group. "
                f"List of available regions is '{','.join(REGIONS)}'.",
            )
        raise ArmError(
            400,
            "LocationNotAvailableForResourceType",
            f"The provided location '{loc}' is not available for resource type "
            f"'{what}'. List of available regions for the resource type is "
            f"'{','.join(REGIONS)}'.",
        )
    return loc


class Counters:
    """x-ms-ratelimit-remaining-subscription-* as ARM counts them down."""

    def __init__(self) -> None:
        self._reads = itertools.count()
        self._writes = itertools.count()
        self._deletes = itertools.count()
        self._lock = threading.Lock()

    def headers(self, method: str) -> dict[str, str]:
        with self._lock:
            if method in ("GET", "HEAD"):
                return {
                    "x-ms-ratelimit-remaining-subscription-reads": str(
                        max(1, 11999 - next(self._reads))
                    )
                }
            if method == "DELETE":
                return {
                    "x-ms-ratelimit-remaining-subscription-deletes": str(
                        max(1, 14999 - next(self._deletes))
                    )
                }
            return {
                "x-ms-ratelimit-remaining-subscription-writes": str(
                    max(1, 1199 - next(self._writes))
                )
            }


class Arm:
    def __init__(self, standin: Standin) -> None:
        from standin import compute, network, resources

        self.s = standin
        self.counters = Counters()
        self.groups = resources.Groups(self)
        self.network = network.Network(self)
        self.compute = compute.Compute(self)

    # -- URLs ----------------------------------------------------------------------------------
    @property
    def base(self) -> str:
        return self.s.arm_url.rstrip("/")

    @property
    def sub(self) -> str:
        return self.s.settings.subscription_id

    def async_url(self, op: Operation, api_version: str, monitor: bool = False) -> str:
        prefix = f"{self.base}/subscriptions/{self.sub}/providers/{op.provider}/locations/"
        if op.provider == "Microsoft.Network":
            kind = "operationResults" if monitor else "operations"
            return f"{prefix}{op.location}/{kind}/{op.id}?api-version={api_version}"
        if op.disk:
            mon = "monitor=true&" if monitor else ""
            return f"{prefix}{op.location}/DiskOperations/{op.id}?{mon}api-version={api_version}"
        mon = "&monitor=true" if monitor else ""
        if op.kind.startswith("gallery"):
            caps = "monitor=true&" if monitor else ""
            return f"{prefix}{op.location}/capsOperations/{op.id}?{caps}api-version={api_version}"
        return (
            f"{prefix}{op.location}/operations/{op.id}?p={self.s.platform_id}{mon}"
            f"&api-version={api_version}"
        )

    def lro_headers(
        self, op: Operation, req: Request, location: bool, notification: bool = False
    ) -> dict[str, str]:
        headers = {"Azure-AsyncOperation": self.async_url(op, req.api_version)}
        if location:
            headers["Location"] = self.async_url(op, req.api_version, monitor=True)
        if notification:
            headers["Azure-AsyncNotification"] = "Enabled"
        headers["Retry-After"] = str(self.s.settings.retry_after)
        return headers

    def start(
        self,
        kind: str,
        provider: str,
        location: str,
        complete: Any,
        req: Request,
        ready: Any = None,
        disk: bool = False,
    ) -> Operation:
        fail = self.s.faults.take_provisioning(req.method, req.path)
        return self.s.ops.start(
            kind,
            provider,
            location,
            self.s.settings.polls_for(kind),
            self.s.settings.delay_for(kind),
            complete,
            ready,
            fail,
            disk,
        )

    # -- entry ---------------------------------------------------------------------------------
    def handle(self, req: Request) -> Response:
        try:
            self.authenticate(req)
            if not req.api_version:
                raise ArmError(
                    400,
                    "MissingApiVersionParameter",
                    "The api-version query parameter (?api-version=) is required for all requests.",
                )
            api_versions.check_format(req.api_version)
            fault = self.s.faults.take_http(req.method, req.path)
            if fault is not None:
                raise fault
            with self.s.store.lock:
                resp = self.route(req)
        except ArmError as err:
            resp = Response(err.status, err.body(), dict(err.headers))
        return self.finish(req, resp)

    def authenticate(self, req: Request) -> None:
        auth = req.headers.get("authorization", "")
        challenge = (
            f'Bearer authorization_uri="{self.s.authority}/{self.s.settings.tenant_id}", '
            'error="invalid_token", error_description="{d}"'
        )
        if not auth:
            msg = "Authentication failed. The 'Authorization' header is missing."
            raise ArmError(
                401,
                "AuthenticationFailed",
                msg,
                headers={
                    "WWW-Authenticate": challenge.format(
                        d="The authentication failed because of missing 'Authorization' header."
                    )
                },
            )
        scheme, _, token = auth.partition(" ")
        if scheme.lower() != "bearer":
            raise ArmError(
                401,
                "AuthenticationFailedInvalidHeader",
                "Authentication failed. The 'Authorization' header is provided in an "
                "invalid format.",
                headers={"WWW-Authenticate": challenge.format(d="The access token is invalid.")},
            )
        problem = self.s.directory.check(token.strip())
        if problem is not None:
            code, msg = problem
            raise ArmError(401, code, msg, headers={"WWW-Authenticate": challenge.format(d=msg)})

    def finish(self, req: Request, resp: Response) -> Response:
        request_id = str(uuid.uuid4())
        correlation = req.headers.get("x-ms-correlation-request-id") or request_id
        now = dt.datetime.now(dt.timezone.utc)
        headers = {
            "Cache-Control": "no-cache",
            "Pragma": "no-cache",
            "Expires": "-1",
            "x-ms-request-id": request_id,
            "x-ms-correlation-request-id": correlation,
            "x-ms-routing-request-id": f"WESTEUROPE:{now:%Y%m%dT%H%M%SZ}:{correlation}",
            "Strict-Transport-Security": "max-age=31536000; includeSubDomains",
            "X-Content-Type-Options": "nosniff",
            "X-Cache": "CONFIG_NOCACHE",
            "Date": email.utils.formatdate(usegmt=True),
        }
        if "x-ms-client-request-id" in req.headers:
            headers["x-ms-client-request-id"] = req.headers["x-ms-client-request-id"]
        headers.update(self.counters.headers(req.method))
        if resp.status == 404 and "x-ms-failure-cause" not in resp.headers:
            headers["x-ms-failure-cause"] = "gateway"
        headers.update(resp.headers)
        resp.headers = headers
        return resp

    # -- routing ---------------------------------------------------------------------------------
    def route(self, req: Request) -> Response:
        parts = [p for p in req.path.split("/") if p]
        low = [p.lower() for p in parts]
        if len(parts) < 2 or low[0] != "subscriptions":
            raise ArmError(404, "NotFound", f"The requested resource '{req.path}' was not found.")
        if parts[1].lower() != self.sub.lower():
            raise ArmError(
                404, "SubscriptionNotFound", f"The subscription '{parts[1]}' could not be found."
            )
        rest, lrest = parts[2:], low[2:]
        if not rest:
            return Response(
                200,
                {
                    "id": f"/subscriptions/{self.sub}",
                    "subscriptionId": self.sub,
                    "tenantId": self.s.settings.tenant_id,
                    "displayName": "Loopback stand-in",
                    "state": "Enabled",
                },
            )
        if lrest[0] == "operationresults" and len(rest) == 2:
            api_versions.check_resources(req.api_version)
            return self.groups.delete_status(req, rest[1])
        if lrest[0] == "providers" and len(rest) >= 3:
            ns = rest[1]
            where = rest[3] if len(rest) >= 4 and lrest[2] == "locations" else "global"
            self.check_api_version(req, ns, rest[2], where)
            if len(rest) == 6 and lrest[2] == "locations":
                return self.operation_status(req, ns, rest[3], lrest[4], rest[5])
            if len(rest) == 3:
                return self.provider(ns, rest[2], req).list(req, None, f"{ns}/{rest[2]}")
        if lrest[0] == "resourcegroups":
            if len(rest) == 1:
                return self.groups.list(req)
            group = rest[1]
            if len(rest) <= 3:
                api_versions.check_resources(req.api_version)
            if len(rest) == 2:
                return self.groups.handle(req, group)
            if len(rest) == 3 and lrest[2] == "resources":
                return self.groups.resources(req, group)
            if lrest[2] == "providers" and len(rest) >= 5:
                ns, rtype = rest[3], rest[4]
                known = self.s.store.group(group)
                self.check_api_version(req, ns, rtype, known.location if known else "global")
                provider = self.provider(ns, rtype, req)
                if self.s.store.group(group) is None:
                    raise group_not_found(group)
                if len(rest) == 5:
                    return provider.list(req, group, f"{ns}/{rtype}")
                return provider.handle(req, group, f"{ns}/{rtype}", rest[5], rest[6:])
        raise ArmError(404, "NotFound", f"The requested resource '{req.path}' was not found.")

    def check_api_version(self, req: Request, ns: str, rtype: str, location: str) -> None:
        api_versions.check_provider(
            req.api_version, ns, rtype, normalize_location(location), ", ".join(REGIONS)
        )

    def provider(self, ns: str, rtype: str, req: Request) -> Any:
        key = f"{ns}/{rtype}".lower()
        for p in (self.network, self.compute):
            if key in p.TYPES:
                return p
        known = {
            "microsoft.network",
            "microsoft.compute",
            "microsoft.resources",
            "microsoft.storage",
            "microsoft.keyvault",
            "microsoft.authorization",
            "microsoft.managedidentity",
            "microsoft.insights",
        }
        if ns.lower() not in known:
            raise ArmError(
                400, "InvalidResourceNamespace", f"The resource namespace '{ns}' is invalid."
            )
        raise ArmError(
            501, "StandinNotModelled", f"The loopback Azure stand-in does not model '{ns}/{rtype}'."
        )

    def operation_status(
        self, req: Request, ns: str, location: str, kind: str, op_id: str
    ) -> Response:
        op = self.s.ops.get(op_id)
        if op is None or op.provider.lower() != ns.lower():
            raise ArmError(404, "NotFound", "The entity was not found in this Azure location.")
        self.s.ops.poll(op)
        retry = {"Retry-After": str(self.s.settings.retry_after)}
        monitor = req.query.get("monitor") == "true" or kind == "operationresults"
        if op.provider == "Microsoft.Network":
            if monitor:
                if not op.done:
                    return Response(
                        202,
                        None,
                        {**retry, "Location": self.async_url(op, req.api_version, monitor=True)},
                    )
                if op.status == "Failed":
                    return Response(400, {"error": op.error})
                return Response(204) if op.kind == "network_delete" else Response(200, None)
            body: dict[str, Any] = {"status": op.status}
            if op.error:
                body["error"] = {**op.error, "details": op.error.get("details", [])}
            return Response(200, body, retry if not op.done else {})
        if monitor:
            if not op.done:
                return Response(
                    202,
                    None,
                    {**retry, "Location": self.async_url(op, req.api_version, monitor=True)},
                )
            if op.status == "Failed":
                return Response(200, {"error": op.error})
            return Response(200, op.output if op.kind == "run_command" else None)
        body = {"startTime": op.start_time}
        if op.end_time:
            body["endTime"] = op.end_time
        body["status"] = op.status
        if op.kind == "run_command" and op.status == "Succeeded":
            body["properties"] = {"output": op.output}
        if op.error:
            body["error"] = op.error
        body["name"] = op.id
        headers = {
            "x-ms-ratelimit-remaining-resource": "Microsoft.Compute/GetOperation3Min;14999,"
            "Microsoft.Compute/GetOperation30Min;29999"
        }
        if not op.done:
            headers.update(retry)
        return Response(200, body, headers)

    def delete_token(self, group: str, location: str) -> str:
        job = {
            "jobId": f"RESOURCEGROUPDELETIONJOB-{group.upper()}-{location.upper()}",
            "jobLocation": location,
        }
        return base64.urlsafe_b64encode(json.dumps(job).encode()).decode().rstrip("=")
