"""Microsoft.Compute galleries (Azure Compute Gallery): galleries, image definitions, versions.

Modelled on sdk-compute-23.0.0 test_compute_galleries: each PUT answers 201 `Creating` with an
`Azure-AsyncOperation` on `.../capsOperations/{id}`; a version's operation stays InProgress
for many polls while it replicates, and `$expand=ReplicationStatus` shows per-region progress.
Azure's rules: a definition needs osType, osState and an identifier; a version's source image
must match its definition (OS type, generalized state, Hyper-V generation), its target regions
must include the source's region, and a VM can start from a version only in a region it was
replicated to.
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

from . import refusals
from .arm import REGIONS, Request, Response, check_location, normalize_location
from .errors import ArmError, invalid_parameter, resource_not_found
from .state import Resource

if TYPE_CHECKING:
    from .compute import Compute

GALLERY = "Microsoft.Compute/galleries"
DEFINITION = "Microsoft.Compute/galleries/images"
VERSION = "Microsoft.Compute/galleries/images/versions"
IMAGE = "Microsoft.Compute/images"


class Galleries:
    def __init__(self, compute: Compute) -> None:
        self.compute = compute
        self.arm = compute.arm
        self.store = compute.store

    # -- dispatch ------------------------------------------------------------------------------
    def handle(self, req: Request, group: str, name: str, rest: list[str]) -> Response:
        gallery_id = self.store.rid(group, GALLERY, name)
        if len(rest) not in (0, 2, 4) or (rest and rest[0].lower() != "images"):
            raise self.compute.no_route(req)
        if len(rest) == 4 and rest[2].lower() != "versions":
            raise self.compute.no_route(req)
        rid = gallery_id + "".join(
            f"/{'images' if i == 0 else 'versions'}/{rest[j]}"
            for i, j in enumerate((1, 3))
            if j < len(rest)
        )
        rtype = (GALLERY, DEFINITION, VERSION)[len(rest) // 2]
        res = self.store.get(rid)
        if req.method == "GET":
            if res is None:
                raise resource_not_found(rtype, "/".join([name, *rest[1::2]]), group)
            expand = req.query.get("$expand", "").lower() == "replicationstatus"
            return Response(200, self.render(res, expand))
        if req.method == "PUT":
            parent = rid.rsplit("/", 2)[0] if rest else None
            if parent is not None and self.store.get(parent) is None:
                raise ArmError(
                    404,
                    "ParentResourceNotFound",
                    f"Can not perform requested operation on nested resource. Parent resource "
                    f"'{parent.rsplit('/', 1)[1]}' not found.",
                )
            return self.put(req, group, rtype, rid, rest[-1] if rest else name, res)
        if req.method == "DELETE":
            if res is None:
                return Response(204)
            children = [
                r for r in self.store.all() if r.id.lower().startswith(res.id.lower() + "/")
            ]
            if children:
                raise ArmError(
                    409,
                    "CannotDeleteResource",
                    "Can not delete resource before nested resources are deleted.",
                )
            res.provisioning_state = "Deleting"
            op = self.arm.start(
                "gallery", "Microsoft.Compute", res.location, lambda: self.store.remove(res.id), req
            )
            return Response(202, None, self.arm.lro_headers(op, req, location=True))
        raise ArmError(405, "MethodNotAllowed", f"The method '{req.method}' is not allowed.")

    # -- create --------------------------------------------------------------------------------
    def put(
        self, req: Request, group: str, rtype: str, rid: str, name: str, old: Resource | None
    ) -> Response:
        body = req.json()
        location = check_location(body.get("location"), rtype)
        props = copy.deepcopy(body.get("properties") or {})
        runtime: Any = None
        kind = "gallery"
        if rtype == GALLERY:
            refusals.check_gallery_name(name)
            props["identifier"] = {"uniqueName": f"{self.arm.sub}-{name.upper()}"}
        elif rtype == DEFINITION:
            refusals.check_gallery_name(name)
            self.check_definition(props)
        else:
            refusals.check_version_name(name)
            if old is not None:
                raise ArmError(
                    409,
                    "Conflict",
                    f"Gallery image version '{name}' already exists; versions cannot be "
                    "replaced, only updated with PATCH.",
                )
            runtime = self.check_version(props, rid.rsplit("/versions/", 1)[0], location)
            kind = "gallery_version"
        res = Resource(
            rid,
            rtype,
            self.store.group(group).name,  # type: ignore[union-attr]
            name,
            location,
            dict(body.get("tags") or {}),
            props,
            "Creating",
            runtime=runtime,
            show_tags="tags" in body,
        )
        self.store.put(res)
        if rtype == VERSION:
            res.properties["_replication"] = {r: "InProgress" for r in self.target_regions(props)}

        def complete() -> None:
            res.provisioning_state = "Succeeded"
            for region in res.properties.get("_replication", {}):
                res.properties["_replication"][region] = "Completed"

        op = self.arm.start(kind, "Microsoft.Compute", location, complete, req)
        return Response(
            201 if old is None else 200,
            self.render(res),
            self.arm.lro_headers(op, req, location=False),
        )

    def check_definition(self, props: dict[str, Any]) -> None:
        for key, allowed in (
            ("osType", ("Windows", "Linux")),
            ("osState", ("Generalized", "Specialized")),
        ):
            value = props.get(key)
            if not value:
                raise invalid_parameter(f"Required parameter '{key}' is missing (null).", key)
            if value not in allowed:
                raise invalid_parameter(
                    f"The value '{value}' of parameter '{key}' is not allowed. Allowed values "
                    f"are '{', '.join(allowed)}'.",
                    key,
                )
        ident = props.get("identifier") or {}
        for key in ("publisher", "offer", "sku"):
            if not ident.get(key):
                raise invalid_parameter(
                    f"Required parameter 'identifier.{key}' is missing (null).", f"identifier.{key}"
                )
        props.setdefault("hyperVGeneration", "V1")
        props.setdefault("architecture", "x64")

    def target_regions(self, props: dict[str, Any]) -> list[str]:
        regions = (props.get("publishingProfile") or {}).get("targetRegions") or []
        return [normalize_location(r.get("name") or "") for r in regions]

    def check_version(self, props: dict[str, Any], definition_id: str, location: str) -> Any:
        definition = self.store.get(definition_id)
        assert definition is not None
        storage = props.get("storageProfile") or {}
        source_id = (storage.get("source") or {}).get("id") or (
            ((props.get("publishingProfile") or {}).get("source") or {}).get("managedImage") or {}
        ).get("id")
        if not source_id:
            raise invalid_parameter(
                "Required parameter 'storageProfile.source.id' is missing (null).",
                "storageProfile.source.id",
            )
        image = self.store.get(source_id)
        if image is None or image.rtype != IMAGE:
            raise ArmError(
                404,
                "NotFound",
                f"The source image {source_id} was not found.",
                target="storageProfile.source.id",
            )
        osdisk = image.properties["storageProfile"]["osDisk"]
        dprops = definition.properties
        for what, have, want in (
            ("OS type", osdisk.get("osType"), dprops.get("osType")),
            ("OS state", osdisk.get("osState"), dprops.get("osState")),
            (
                "Hyper-V generation",
                image.properties.get("hyperVGeneration", "V1"),
                dprops.get("hyperVGeneration", "V1"),
            ),
        ):
            if (have or "").lower() != (want or "").lower():
                raise invalid_parameter(
                    f"The {what} '{have}' of the source image {source_id} does not match the "
                    f"{what} '{want}' of gallery image {definition.name}.",
                    "storageProfile.source.id",
                )
        regions = self.target_regions(props)
        for region in regions:
            if region not in REGIONS:
                raise invalid_parameter(
                    f"The region '{region}' is not a valid target region.",
                    "publishingProfile.targetRegions",
                )
        if regions and normalize_location(image.location) not in regions:
            raise invalid_parameter(
                f"The target regions must include the source image's region '{image.location}'.",
                "publishingProfile.targetRegions",
            )
        if not regions:
            props.setdefault("publishingProfile", {})["targetRegions"] = [
                {"name": location, "regionalReplicaCount": 1}
            ]
        profile = props.setdefault("publishingProfile", {})
        profile.setdefault("replicaCount", 1)
        profile.setdefault("excludeFromLatest", False)
        profile.setdefault("storageAccountType", "Standard_LRS")
        props["storageProfile"] = {
            "source": {"id": source_id},
            "osDiskImage": {"hostCaching": "ReadWrite", "source": {"id": source_id}},
        }
        props["_os_type"] = osdisk.get("osType")
        return image.runtime

    # -- VMs from versions -------------------------------------------------------------------------
    def resolve(self, ref_id: str, location: str) -> tuple[str, Resource]:
        """The OS type and version a VM imageReference names (a definition means its latest)."""
        res = self.store.get(ref_id)
        if res is not None and res.rtype == DEFINITION:
            versions = [
                r
                for r in self.store.all()
                if r.rtype == VERSION
                and r.id.lower().startswith(res.id.lower() + "/versions/")
                and r.provisioning_state == "Succeeded"
                and not r.properties.get("publishingProfile", {}).get("excludeFromLatest")
            ]
            res = max(
                versions, key=lambda r: tuple(int(p) for p in r.name.split(".")), default=None
            )
        if res is None or res.rtype != VERSION or res.provisioning_state != "Succeeded":
            raise ArmError(
                404,
                "GalleryImageNotFound",
                f"The gallery image {ref_id} is not available in {location} region. Please "
                "contact image owner to replicate to this region, or change your requested "
                "region.",
                target="imageReference",
            )
        if normalize_location(location) not in res.properties.get("_replication", {}):
            raise ArmError(
                404,
                "GalleryImageNotFound",
                f"The gallery image {res.id} is not available in {location} region. Please "
                "contact image owner to replicate to this region, or change your requested "
                "region.",
                target="imageReference",
            )
        return res.properties["_os_type"], res

    # -- rendering ---------------------------------------------------------------------------------
    def render(self, res: Resource, expand: bool = False) -> dict[str, Any]:
        props = {k: copy.deepcopy(v) for k, v in res.properties.items() if not k.startswith("_")}
        if res.rtype == VERSION and expand:
            replication = res.properties.get("_replication", {})
            states = set(replication.values())
            props["replicationStatus"] = {
                "aggregatedState": "Completed" if states == {"Completed"} else "InProgress",
                "summary": [
                    {
                        "region": region,
                        "state": state,
                        "progress": 100 if state == "Completed" else 0,
                    }
                    for region, state in replication.items()
                ],
            }
        props["provisioningState"] = res.provisioning_state
        body: dict[str, Any] = {
            "name": res.name,
            "id": res.id,
            "type": res.rtype,
            "location": res.location,
        }
        if res.tags or res.show_tags:
            body["tags"] = dict(res.tags)
        body["properties"] = props
        return body
