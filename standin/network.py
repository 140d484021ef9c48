"""Microsoft.Network: virtual networks and subnets, public IPs, NSGs and rules, NICs.

Bodies follow the recordings (sdk-network-2.7.0 / 19.0.0, sdk-compute-17.0.0): PUT answers 201
(200 on update) with `provisioningState: Updating` - a NIC already `Succeeded`, as recorded - and
an `Azure-AsyncOperation` whose status goes InProgress -> Succeeded. Azure's reference and in-use
rules are enforced with its error codes and texts (InvalidResourceReference, PublicIPAddressInUse,
InUseSubnetCannotBeDeleted, PublicIPAddressCannotBeDeleted, NicInUse,
InUseNetworkSecurityGroupCannotBeDeleted). A Static public IP gets a loopback address at once, a
Dynamic one only while its VM runs.
"""

from __future__ import annotations

import copy
import ipaddress
from typing import TYPE_CHECKING, Any, ClassVar

from . import refusals
from .arm import Request, Response, check_location
from .errors import ArmError, network_error, resource_not_found
from .state import PROVIDER_TYPES, Resource, new_etag, parse_id

if TYPE_CHECKING:
    from standin.arm import Arm

VNET = "Microsoft.Network/virtualNetworks"
PIP = "Microsoft.Network/publicIPAddresses"
NSG = "Microsoft.Network/networkSecurityGroups"
NIC = "Microsoft.Network/networkInterfaces"

DEFAULT_RULES = (
    (
        "AllowVnetInBound",
        "Allow inbound traffic from all VMs in VNET",
        "VirtualNetwork",
        "VirtualNetwork",
        "Allow",
        65000,
        "Inbound",
    ),
    (
        "AllowAzureLoadBalancerInBound",
        "Allow inbound traffic from azure load balancer",
        "AzureLoadBalancer",
        "*",
        "Allow",
        65001,
        "Inbound",
    ),
    ("DenyAllInBound", "Deny all inbound traffic", "*", "*", "Deny", 65500, "Inbound"),
    (
        "AllowVnetOutBound",
        "Allow outbound traffic from all VMs to all VMs in VNET",
        "VirtualNetwork",
        "VirtualNetwork",
        "Allow",
        65000,
        "Outbound",
    ),
    (
        "AllowInternetOutBound",
        "Allow outbound traffic from all VMs to Internet",
        "*",
        "Internet",
        "Allow",
        65001,
        "Outbound",
    ),
    ("DenyAllOutBound", "Deny all outbound traffic", "*", "*", "Deny", 65500, "Outbound"),
)


def _ref(value: Any) -> str | None:
    return value.get("id") if isinstance(value, dict) and value.get("id") else None


def _invalid_reference(target: str, referrer: str) -> ArmError:
    return network_error(
        400,
        "InvalidResourceReference",
        f"Resource {target} referenced by resource {referrer} was not found. Please make sure "
        "that the referenced resource exists, and that both resources are in the same region.",
    )


class Network:
    TYPES: ClassVar[frozenset[str]] = frozenset(
        k for k in PROVIDER_TYPES if k.startswith("microsoft.network/")
    )

    def __init__(self, arm: Arm) -> None:
        self.arm = arm
        self.store = arm.s.store

    # -- dispatch ------------------------------------------------------------------------------
    def handle(self, req: Request, group: str, rtype: str, name: str, rest: list[str]) -> Response:
        rtype = PROVIDER_TYPES[rtype.lower()]
        rid = self.store.rid(group, rtype, name)
        res = self.store.get(rid)
        if rest:
            return self.child(req, group, rtype, name, res, rest)
        if req.method == "GET":
            if res is None:
                raise resource_not_found(rtype, name, group)
            return Response(200, self.render(res), {"ETag": res.etag})
        if req.method == "PUT":
            return self.put(req, group, rtype, name, res)
        if req.method == "DELETE":
            if res is None:
                return Response(204)
            self.check_delete(res)
            return self.delete(req, res)
        raise ArmError(405, "MethodNotAllowed", f"The method '{req.method}' is not allowed.")

    def list(self, req: Request, group: str | None, rtype: str) -> Response:
        rtype = PROVIDER_TYPES[rtype.lower()]
        return Response(200, {"value": [self.render(r) for r in self.store.of_type(rtype, group)]})

    # -- create / update --------------------------------------------------------------------------
    def put(
        self, req: Request, group: str, rtype: str, name: str, res: Resource | None
    ) -> Response:
        body = req.json()
        location = check_location(body.get("location") or (res.location if res else None), rtype)
        props = copy.deepcopy(body.get("properties") or {})
        rid = self.store.rid(group, rtype, name)
        refusals.check_network_name(rid, name)
        if rtype == VNET:
            refusals.check_vnet(rid, props)
            self.prepare_vnet(rid, props, res)
        elif rtype == PIP:
            refusals.check_pip_sku(body)
            self.prepare_pip(props, body, res)
        elif rtype == NSG:
            self.prepare_nsg(rid, props)
        elif rtype == NIC:
            self.prepare_nic(rid, props)
            self.check_nic_regions(rid, props, location)
        created = res is None
        if created:
            res = Resource(
                rid,
                rtype,
                self.store.group(group).name,
                name,
                location,  # type: ignore[union-attr]
                dict(body.get("tags") or {}),
                props,
            )
        else:
            res.properties.update(props)
            res.tags = dict(body.get("tags") or res.tags)
            res.etag = new_etag()
        if rtype == PIP:
            res.sku = body.get("sku") or res.sku or {"name": "Basic", "tier": "Regional"}
        res.provisioning_state = "Succeeded" if rtype == NIC else "Updating"
        self.store.put(res)
        self.arm.s.sync_hosts()
        op = self.arm.start(
            "network", "Microsoft.Network", location, lambda: self.complete(res), req
        )
        return Response(
            201 if created else 200,
            self.render(res),
            self.arm.lro_headers(op, req, location=False, notification=True),
        )

    def complete(self, res: Resource) -> None:
        if self.store.get(res.id) is not res:
            return
        res.provisioning_state = "Succeeded"
        res.etag = new_etag()
        for sub in res.properties.get("subnets", []) if res.rtype == VNET else []:
            sub["_state"] = "Succeeded"
        static = res.properties.get("publicIPAllocationMethod") == "Static"
        if res.rtype == PIP and static and not res.properties.get("ipAddress"):
            res.properties["ipAddress"] = self.arm.s.ip_pool.allocate()
        self.arm.s.sync_hosts()

    def prepare_vnet(self, rid: str, props: dict[str, Any], res: Resource | None) -> None:
        subnets = []
        for sub in props.get("subnets") or []:
            sprops = copy.deepcopy(sub.get("properties") or {})
            nsg = _ref(sprops.get("networkSecurityGroup"))
            if nsg and self.store.get(nsg) is None:
                raise _invalid_reference(nsg, rid)
            subnets.append(
                {
                    "name": sub["name"],
                    "properties": sprops,
                    "_state": "Updating",
                    "etag": new_etag(),
                }
            )
        kept = {s["name"].lower() for s in subnets}
        if res is not None:
            for old in res.properties.get("subnets", []):
                if old["name"].lower() not in kept:
                    self.check_subnet_unused(f"{rid}/subnets/{old['name']}", old["name"])
        props["subnets"] = subnets

    def prepare_pip(
        self, props: dict[str, Any], body: dict[str, Any], res: Resource | None
    ) -> None:
        sku = (body.get("sku") or {}).get("name", "Basic")
        default = "Static" if sku.lower() == "standard" else "Dynamic"
        method = props.get("publicIPAllocationMethod") or default
        if sku.lower() == "standard" and method != "Static":
            raise network_error(
                400,
                "StandardSkuPublicIPAddressesMustBeStatic",
                "Standard sku publicIp /subscriptions/... must be static.",
            )
        props["publicIPAllocationMethod"] = method
        props.setdefault("publicIPAddressVersion", "IPv4")
        props.setdefault("idleTimeoutInMinutes", 4)
        if res is not None and res.properties.get("ipAddress"):
            props["ipAddress"] = res.properties["ipAddress"]

    def prepare_nsg(self, rid: str, props: dict[str, Any]) -> None:
        for i, rule in enumerate(props.get("securityRules") or []):
            refusals.check_rule(
                rule.get("properties") or {},
                f"properties.securityRules[{i}].properties",
                f"{rid}/securityRules/{rule.get('name')}",
            )
            self.check_rule(rule.get("properties") or {})

    def check_nic_regions(self, rid: str, props: dict[str, Any], location: str) -> None:
        """Azure finds a NIC's subnet, NSG and public IP only in the NIC's own region."""
        refs = [_ref(props.get("networkSecurityGroup"))]
        for cfg in props.get("ipConfigurations") or []:
            cprops = cfg.get("properties") or {}
            subnet = _ref(cprops.get("subnet"))
            refs += [subnet.rsplit("/subnets/", 1)[0] if subnet else None]
            refs += [_ref(cprops.get("publicIPAddress"))]
        for ref in refs:
            target = self.store.get(ref) if ref else None
            if target is not None:
                refusals.check_same_region(ref, target.location, rid, location)  # type: ignore[arg-type]

    def check_rule(self, props: dict[str, Any]) -> None:
        priority = props.get("priority")
        if not isinstance(priority, int) or not 100 <= priority <= 4096:
            raise network_error(
                400,
                "SecurityRuleInvalidPriority",
                f"Security rule has invalid Priority. Value provided: {priority} "
                "Allowed range 100-4096.",
            )

    def prepare_nic(self, rid: str, props: dict[str, Any]) -> None:
        configs = props.get("ipConfigurations") or []
        if not configs:
            raise network_error(
                400,
                "NetworkInterfaceMustHaveAtLeastOneIpConfiguration",
                f"Network interface {rid} must have one or more IP configurations.",
            )
        nsg = _ref(props.get("networkSecurityGroup"))
        if nsg and self.store.get(nsg) is None:
            raise _invalid_reference(nsg, rid)
        for i, cfg in enumerate(configs):
            cprops = cfg.setdefault("properties", {})
            subnet = _ref(cprops.get("subnet"))
            if not subnet or self.subnet(subnet) is None:
                raise _invalid_reference(subnet or "(no subnet)", rid)
            pip = _ref(cprops.get("publicIPAddress"))
            if pip:
                if self.store.get(pip) is None:
                    raise _invalid_reference(pip, rid)
                owner = self.pip_owner(pip)
                if owner and not owner.lower().startswith(rid.lower() + "/"):
                    raise network_error(
                        400,
                        "PublicIPAddressInUse",
                        f"Resource {rid}/ipConfigurations/{cfg['name']} is referencing public IP "
                        f"address {pip} that is already allocated to resource {owner}.",
                    )
            cprops.setdefault("privateIPAllocationMethod", "Dynamic")
            cprops.setdefault("primary", i == 0)
            cprops.setdefault("privateIPAddress", self.private_ip(subnet, rid))

    # -- child resources (subnets, security rules) -----------------------------------------------
    def child(
        self,
        req: Request,
        group: str,
        rtype: str,
        name: str,
        parent: Resource | None,
        rest: list[str],
    ) -> Response:
        kinds = {VNET: "subnets", NSG: "securityRules"}
        if rtype not in kinds or rest[0].lower() != kinds[rtype].lower():
            raise ArmError(404, "NotFound", f"The requested resource '{req.path}' was not found.")
        if parent is None:
            raise resource_not_found(rtype, name, group)
        key = "subnets" if rtype == VNET else "securityRules"
        items: list[dict[str, Any]] = parent.properties.setdefault(key, [])
        if len(rest) == 1:
            if req.method != "GET":
                raise ArmError(405, "MethodNotAllowed", "The method is not allowed.")
            return Response(200, {"value": [self.render_child(parent, key, c) for c in items]})
        cname = rest[1]
        found = next((c for c in items if c["name"].lower() == cname.lower()), None)
        if req.method == "GET":
            if found is None:
                raise ArmError(
                    404, "NotFound", f"Resource {parent.id}/{key}/{cname} not found.", details=[]
                )
            return Response(200, self.render_child(parent, key, found))
        if req.method == "PUT":
            props = copy.deepcopy(req.json().get("properties") or {})
            if key == "securityRules":
                refusals.check_rule(props, "properties", f"{parent.id}/securityRules/{cname}")
                self.check_rule(props)
            else:
                refusals.check_network_name(f"{parent.id}/subnets/{cname}", cname)
                others = [
                    (c["name"], n)
                    for c in items
                    if c["name"].lower() != cname.lower()
                    for n in refusals.subnet_networks(c.get("properties") or {})
                ]
                refusals.check_subnet(
                    parent.id,
                    cname,
                    props,
                    refusals.vnet_space(parent.properties, parent.id),
                    others,
                )
                nsg = _ref(props.get("networkSecurityGroup"))
                if nsg and self.store.get(nsg) is None:
                    raise _invalid_reference(nsg, f"{parent.id}/subnets/{cname}")
            status = 200 if found else 201
            if found is None:
                found = {"name": cname}
                items.append(found)
            found.update({"properties": props, "_state": "Updating", "etag": new_etag()})
            op = self.arm.start(
                "network",
                "Microsoft.Network",
                parent.location,
                lambda: found.update(_state="Succeeded"),
                req,
            )
            return Response(
                status,
                self.render_child(parent, key, found),
                self.arm.lro_headers(op, req, location=False),
            )
        if req.method == "DELETE":
            if found is None:
                return Response(204)
            if key == "subnets":
                self.check_subnet_unused(f"{parent.id}/subnets/{found['name']}", found["name"])
            found["_state"] = "Deleting"
            op = self.arm.start(
                "network_delete",
                "Microsoft.Network",
                parent.location,
                lambda: items.remove(found) if found in items else None,
                req,
            )
            return Response(202, None, self.arm.lro_headers(op, req, location=True))
        raise ArmError(405, "MethodNotAllowed", "The method is not allowed.")

    # -- delete -----------------------------------------------------------------------------------
    def check_delete(self, res: Resource) -> None:
        if res.rtype == VNET:
            for sub in res.properties.get("subnets", []):
                self.check_subnet_unused(f"{res.id}/subnets/{sub['name']}", sub["name"])
        elif res.rtype == PIP:
            owner = self.pip_owner(res.id)
            if owner:
                raise network_error(
                    400,
                    "PublicIPAddressCannotBeDeleted",
                    f"Public IP address {res.id} can not be deleted since it is still allocated "
                    f"to resource {owner}. In order to delete the public IP, disassociate/detach "
                    "the Public IP address from the resource.  To learn how to do this, see "
                    "aka.ms/deletepublicip.",
                )
        elif res.rtype == NIC:
            vm = self.nic_vm(res.id)
            if vm:
                raise network_error(
                    400,
                    "NicInUse",
                    f"Network Interface {res.id} is used by existing resource {vm}. In order to "
                    "delete the network interface, it must be dissociated from the resource. To "
                    "learn more, see aka.ms/deletenic.",
                )
        elif res.rtype == NSG:
            users = self.nsg_users(res.id)
            if users:
                raise network_error(
                    400,
                    "InUseNetworkSecurityGroupCannotBeDeleted",
                    f"Network security group {res.id} cannot be deleted because it is in use by "
                    f"the following resources: {', '.join(users)}. In order to delete the Network "
                    "security group, remove the association with the resource(s). To learn how to "
                    "do this, see aka.ms/deletensg.",
                )

    def delete(self, req: Request, res: Resource) -> Response:
        res.provisioning_state = "Deleting"

        def complete() -> None:
            if self.store.get(res.id) is res:
                self.store.remove(res.id)
                if res.rtype == PIP:
                    self.arm.s.ip_pool.release(res.properties.get("ipAddress"))

        op = self.arm.start("network_delete", "Microsoft.Network", res.location, complete, req)
        return Response(202, None, self.arm.lro_headers(op, req, location=True))

    def check_subnet_unused(self, subnet_id: str, name: str) -> None:
        users = self.subnet_users(subnet_id)
        if users:
            raise network_error(
                400,
                "InUseSubnetCannotBeDeleted",
                f"Subnet {name} is in use by {users[0]} and cannot be deleted. In order to delete "
                "the subnet, delete all the resources within the subnet. See aka.ms/deletesubnet.",
            )

    # -- lookups and back references --------------------------------------------------------------
    def nic_configs(self) -> list[tuple[Resource, dict[str, Any]]]:
        return [
            (nic, cfg)
            for nic in self.store.of_type(NIC)
            for cfg in nic.properties.get("ipConfigurations", [])
        ]

    def subnet(self, subnet_id: str) -> dict[str, Any] | None:
        parts = parse_id(subnet_id)
        if parts.get("child_type", "").lower() != "subnets":
            return None
        vnet = self.store.get(subnet_id.rsplit("/subnets/", 1)[0])
        if vnet is None:
            return None
        return next(
            (
                s
                for s in vnet.properties.get("subnets", [])
                if s["name"].lower() == parts["child_name"].lower()
            ),
            None,
        )

    def subnet_users(self, subnet_id: str) -> list[str]:
        return [
            f"{nic.id}/ipConfigurations/{cfg['name']}"
            for nic, cfg in self.nic_configs()
            if (_ref(cfg["properties"].get("subnet")) or "").lower() == subnet_id.lower()
        ]

    def pip_owner(self, pip_id: str) -> str | None:
        return next(
            (
                f"{nic.id}/ipConfigurations/{cfg['name']}"
                for nic, cfg in self.nic_configs()
                if (_ref(cfg["properties"].get("publicIPAddress")) or "").lower() == pip_id.lower()
            ),
            None,
        )

    def nic_vm(self, nic_id: str) -> str | None:
        for vm in self.store.of_type("Microsoft.Compute/virtualMachines"):
            for ref in vm.properties.get("networkProfile", {}).get("networkInterfaces", []):
                if (ref.get("id") or "").lower() == nic_id.lower():
                    return vm.id
        return None

    def nsg_users(self, nsg_id: str) -> list[str]:
        users = [
            nic.id
            for nic in self.store.of_type(NIC)
            if (_ref(nic.properties.get("networkSecurityGroup")) or "").lower() == nsg_id.lower()
        ]
        for vnet in self.store.of_type(VNET):
            users += [
                f"{vnet.id}/subnets/{s['name']}"
                for s in vnet.properties.get("subnets", [])
                if (_ref(s["properties"].get("networkSecurityGroup")) or "").lower()
                == nsg_id.lower()
            ]
        return users

    def private_ip(self, subnet_id: str, nic_id: str) -> str:
        sub = self.subnet(subnet_id) or {}
        prefix = sub.get("properties", {}).get("addressPrefix") or "10.0.0.0/24"
        used = {
            cfg["properties"].get("privateIPAddress")
            for nic, cfg in self.nic_configs()
            if nic.id.lower() != nic_id.lower()
        }
        for host in list(ipaddress.ip_network(prefix, strict=False).hosts())[3:]:
            if str(host) not in used:
                return str(host)
        raise network_error(400, "SubnetIsFull", f"Subnet {subnet_id} is full.")

    def nsg_allows(self, nsg_id: str | None, port: int) -> bool:
        """Whether inbound TCP from the Internet (the test client) to `port` passes an NSG."""
        if not nsg_id:
            return True
        nsg = self.store.get(nsg_id)
        if nsg is None:
            return True
        rules = [r.get("properties", {}) for r in nsg.properties.get("securityRules", [])]
        rules += [
            {
                "priority": p,
                "direction": d,
                "access": a,
                "sourceAddressPrefix": s,
                "destinationPortRange": "*",
                "protocol": "*",
            }
            for _, _, s, _, a, p, d in DEFAULT_RULES
        ]
        for rule in sorted(rules, key=lambda r: r.get("priority", 65535)):
            if (rule.get("direction") or "").lower() != "inbound":
                continue
            if (rule.get("protocol") or "*").lower() not in ("tcp", "*"):
                continue
            sources = rule.get("sourceAddressPrefixes") or [rule.get("sourceAddressPrefix") or "*"]
            if not any(_source_matches(s) for s in sources):
                continue
            ports = rule.get("destinationPortRanges") or [rule.get("destinationPortRange") or "*"]
            if any(_port_matches(str(p), port) for p in ports):
                return (rule.get("access") or "").lower() == "allow"
        return False

    # -- rendering --------------------------------------------------------------------------------
    def render(self, res: Resource) -> dict[str, Any]:
        body: dict[str, Any] = {"name": res.name, "id": res.id, "etag": res.etag}
        if res.rtype != NIC:
            body["type"] = res.rtype
        body["location"] = res.location
        if res.tags:
            body["tags"] = dict(res.tags)
        props: dict[str, Any] = {
            "provisioningState": res.provisioning_state,
            "resourceGuid": res.guid,
        }
        p = res.properties
        if res.rtype == VNET:
            props["addressSpace"] = p.get("addressSpace", {"addressPrefixes": []})
            props["subnets"] = [self.render_child(res, "subnets", s) for s in p.get("subnets", [])]
            props["virtualNetworkPeerings"] = []
            props["enableDdosProtection"] = False
            props["enableVmProtection"] = False
        elif res.rtype == PIP:
            props.update({k: v for k, v in p.items() if k != "ipAddress"})
            if p.get("ipAddress"):
                props["ipAddress"] = p["ipAddress"]
            props.setdefault("ipTags", [])
            owner = self.pip_owner(res.id)
            if owner:
                props["ipConfiguration"] = {"id": owner}
            body["sku"] = res.sku
        elif res.rtype == NSG:
            props["securityRules"] = [
                self.render_child(res, "securityRules", r) for r in p.get("securityRules", [])
            ]
            props["defaultSecurityRules"] = [self.default_rule(res, r) for r in DEFAULT_RULES]
            nics = [{"id": u} for u in self.nsg_users(res.id) if "/subnets/" not in u]
            subs = [{"id": u} for u in self.nsg_users(res.id) if "/subnets/" in u]
            if nics:
                props["networkInterfaces"] = nics
            if subs:
                props["subnets"] = subs
        elif res.rtype == NIC:
            props.update(self.render_nic(res))
            body["type"] = res.rtype
        body["properties"] = props
        return body

    def render_nic(self, res: Resource) -> dict[str, Any]:
        p = res.properties
        configs = []
        for cfg in p.get("ipConfigurations", []):
            cprops = {
                "provisioningState": "Succeeded",
                **{k: v for k, v in cfg["properties"].items() if k != "primary"},
            }
            cprops["primary"] = cfg["properties"].get("primary", False)
            cprops["privateIPAddressVersion"] = "IPv4"
            configs.append(
                {
                    "name": cfg["name"],
                    "id": f"{res.id}/ipConfigurations/{cfg['name']}",
                    "etag": res.etag,
                    "type": "Microsoft.Network/networkInterfaces/ipConfigurations",
                    "properties": cprops,
                }
            )
        out: dict[str, Any] = {
            "ipConfigurations": configs,
            "dnsSettings": {
                "dnsServers": [],
                "appliedDnsServers": [],
                "internalDomainNameSuffix": f"{res.guid[:26].replace('-', '')}"
                ".bx.internal.cloudapp.net",
            },
            "enableAcceleratedNetworking": bool(p.get("enableAcceleratedNetworking", False)),
            "enableIPForwarding": bool(p.get("enableIPForwarding", False)),
            "hostedWorkloads": [],
            "tapConfigurations": [],
            "nicType": "Standard",
        }
        if p.get("networkSecurityGroup"):
            out["networkSecurityGroup"] = {"id": _ref(p["networkSecurityGroup"])}
        vm = self.nic_vm(res.id)
        if vm:
            out["virtualMachine"] = {"id": vm}
            out["primary"] = True
            out["macAddress"] = "00-0D-3A-" + "-".join(
                res.guid.replace("-", "")[i : i + 2].upper() for i in (0, 2, 4)
            )
        return out

    def render_child(self, parent: Resource, key: str, item: dict[str, Any]) -> dict[str, Any]:
        props = {"provisioningState": item.get("_state", "Succeeded"), **item["properties"]}
        cid = f"{parent.id}/{key}/{item['name']}"
        if key == "subnets":
            users = self.subnet_users(cid)
            if users:
                props["ipConfigurations"] = [{"id": u} for u in users]
            props.setdefault("delegations", [])
            props.setdefault("privateEndpointNetworkPolicies", "Disabled")
            props.setdefault("privateLinkServiceNetworkPolicies", "Enabled")
            rtype = "Microsoft.Network/virtualNetworks/subnets"
        else:
            for k in (
                "sourcePortRanges",
                "destinationPortRanges",
                "sourceAddressPrefixes",
                "destinationAddressPrefixes",
            ):
                props.setdefault(k, [])
            rtype = "Microsoft.Network/networkSecurityGroups/securityRules"
        return {
            "name": item["name"],
            "id": cid,
            "etag": item.get("etag", parent.etag),
            "type": rtype,
            "properties": props,
        }

    def default_rule(self, nsg: Resource, rule: tuple[Any, ...]) -> dict[str, Any]:
        name, desc, src, dst, access, priority, direction = rule
        return {
            "name": name,
            "id": f"{nsg.id}/defaultSecurityRules/{name}",
            "etag": nsg.etag,
            "type": "Microsoft.Network/networkSecurityGroups/defaultSecurityRules",
            "properties": {
                "provisioningState": nsg.provisioning_state,
                "description": desc,
                "protocol": "*",
                "sourcePortRange": "*",
                "destinationPortRange": "*",
                "sourceAddressPrefix": src,
                "destinationAddressPrefix": dst,
                "access": access,
                "priority": priority,
                "direction": direction,
                "sourcePortRanges": [],
                "destinationPortRanges": [],
                "sourceAddressPrefixes": [],
                "destinationAddressPrefixes": [],
            },
        }


def _port_matches(spec: str, port: int) -> bool:
    if spec == "*":
        return True
    if "-" in spec:
        lo, hi = spec.split("-", 1)
        return int(lo) <= port <= int(hi)
    return spec.isdigit() and int(spec) == port


def _source_matches(prefix: str) -> bool:
    """The tests' client reaches public IPs from 127.0.0.1, which stands for the Internet."""
    if prefix in ("*", "Internet", "0.0.0.0/0", "Any"):
        return True
    try:
        return ipaddress.ip_address("127.0.0.1") in ipaddress.ip_network(prefix, strict=False)
    except ValueError:
        return False
