"""Resource groups (Microsoft.Resources), as in sdk-resource-15.0.0 test_resource_groups.

PUT answers 201 (200 if the group existed) with `provisioningState: Succeeded`; HEAD 204/404;
DELETE 202 with only a `Location: .../operationresults/<token>` that polls 202 until the group and
everything in it is gone, then 200. Listing supports `$filter=tagName eq 'x' and tagValue eq 'y'`.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from standin.arm import Request, Response, check_location
from standin.errors import ArmError, group_not_found
from standin.state import Group

if TYPE_CHECKING:
    from standin.arm import Arm

_NAME = re.compile(r"^[-\w._()]{1,90}$")
_TAG_FILTER = re.compile(
    r"tagname\s+eq\s+'([^']*)'(?:\s+and\s+tagvalue\s+eq\s+'([^']*)')?", re.IGNORECASE
)


class Groups:
    def __init__(self, arm: Arm) -> None:
        self.arm = arm
        self.store = arm.s.store

    def render(self, g: Group) -> dict[str, Any]:
        body: dict[str, Any] = {
            "id": self.store.group_id(g.name),
            "name": g.name,
            "type": "Microsoft.Resources/resourceGroups",
            "location": g.location,
        }
        if g.tags:
            body["tags"] = dict(g.tags)
        body["properties"] = {"provisioningState": g.state}
        return body

    def handle(self, req: Request, name: str) -> Response:
        g = self.store.group(name)
        if req.method == "HEAD":
            return Response(204 if g is not None else 404)
        if req.method == "GET":
            if g is None:
                raise group_not_found(name)
            return Response(200, self.render(g))
        if req.method in ("PUT", "PATCH"):
            return self.put(req, name, g)
        if req.method == "DELETE":
            return self.delete(req, name, g)
        raise ArmError(405, "MethodNotAllowed", f"The method '{req.method}' is not allowed.")

    def put(self, req: Request, name: str, g: Group | None) -> Response:
        body = req.json()
        if g is not None and g.state == "Deleting":
            raise ArmError(
                409,
                "ResourceGroupBeingDeleted",
                f"The resource group '{g.name}' is in deprovisioning state and cannot "
                "perform this operation.",
            )
        if req.method == "PATCH":
            if g is None:
                raise group_not_found(name)
            if "tags" in body:
                g.tags = dict(body["tags"] or {})
            return Response(200, self.render(g))
        if not _NAME.match(name) or name.endswith("."):
            raise ArmError(
                400,
                "InvalidResourceGroup",
                f"The provided resource group name '{name}' has these invalid "
                "characters: ''. The name can only be a letter, digit, '-', '.', '(', "
                "')' or '_'.",
            )
        location = check_location(body.get("location"), "group")
        if g is not None:
            if location != g.location:
                raise ArmError(
                    409,
                    "InvalidResourceGroupLocation",
                    f"Invalid resource group location '{location}'. The Resource "
                    f"group already exists in location '{g.location}'.",
                )
            g.tags = dict(body.get("tags") or {})
            return Response(200, self.render(g))
        g = Group(name, location, dict(body.get("tags") or {}))
        self.store.groups[name.lower()] = g
        return Response(201, self.render(g))

    def delete(self, req: Request, name: str, g: Group | None) -> Response:
        self.store.deleted_groups.append(name)
        if g is None:
            raise group_not_found(name)
        if g.state != "Deleting":
            g.state = "Deleting"
            self.arm.s.group_delete_ops[name.lower()] = self.arm.s.ops.start(
                "group_delete",
                "Microsoft.Resources",
                g.location,
                self.arm.s.settings.polls_for("group_delete"),
                self.arm.s.settings.delay_for("group_delete"),
                lambda: self.arm.s.remove_group(name),
                None,
                self.arm.s.faults.take_provisioning(req.method, req.path),
            )
        token = self.arm.delete_token(name, g.location)
        return Response(
            202,
            None,
            {
                "Location": f"{self.arm.base}/subscriptions/{self.arm.sub}/operationresults/{token}"
                f"?api-version={req.api_version}",
                "Retry-After": str(self.arm.s.settings.retry_after),
            },
        )

    def delete_status(self, req: Request, token: str) -> Response:
        op = next(
            (
                op
                for key, op in self.arm.s.group_delete_ops.items()
                if self.arm.delete_token(key, op.location).lower() == token.lower()
            ),
            None,
        )
        if op is None:
            op = next(
                (
                    op
                    for key, op in self.arm.s.group_delete_ops.items()
                    if key.upper() in _decode(token)
                ),
                None,
            )
        if op is None:
            raise ArmError(404, "NotFound", "The entity was not found.")
        self.arm.s.ops.poll(op)
        if not op.done:
            return Response(
                202,
                None,
                {
                    "Location": f"{self.arm.base}{req.path}?api-version={req.api_version}",
                    "Retry-After": str(self.arm.s.settings.retry_after),
                },
            )
        if op.status == "Failed":
            return Response(500, {"error": op.error})
        return Response(200)

    def list(self, req: Request) -> Response:
        groups = list(self.store.groups.values())
        wanted = self._tag_filter(req)
        if wanted is not None:
            groups = [g for g in groups if _tagged(g.tags, *wanted)]
        return Response(200, {"value": [self.render(g) for g in groups]})

    @staticmethod
    def _tag_filter(req: Request) -> tuple[str, str | None] | None:
        """`$filter=tagName eq 'x' [and tagValue eq 'y']`, as Resource Manager takes it on
        group and resource listings; any other filter is refused as Azure refuses it."""
        flt = req.query.get("$filter", "")
        if not flt:
            return None
        m = _TAG_FILTER.search(flt)
        if m is None:
            raise ArmError(
                400,
                "InvalidFilterInQueryString",
                f"Invalid $filter '{flt}' specified in the query string.",
            )
        return m.group(1).lower(), m.group(2)

    def resources(self, req: Request, name: str) -> Response:
        if self.store.group(name) is None:
            raise group_not_found(name)
        out = []
        wanted = self._tag_filter(req)
        for r in self.store.in_group(name):
            if wanted is not None and not _tagged(r.tags, *wanted):
                continue
            item: dict[str, Any] = {
                "id": r.id,
                "name": r.name,
                "type": r.rtype,
                "location": r.location,
            }
            if r.sku:
                item["sku"] = r.sku
            if r.tags:
                item["tags"] = r.tags
            out.append(item)
        return Response(200, {"value": out})


def _tagged(tags: dict[str, str], name: str, value: str | None) -> bool:
    return any(k.lower() == name and (value is None or v == value) for k, v in tags.items())


def _decode(token: str) -> str:
    import base64

    try:
        return base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode().upper()
    except (ValueError, UnicodeDecodeError):
        return ""
