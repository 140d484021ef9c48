"""In-memory Azure: resource groups, resources and the loopback addresses handed out as IPs.

One `Store` per stand-in, guarded by one re-entrant lock: handlers, operation completions and
guest timers all change it, and Azure's rules (references, in-use checks) need a consistent
view across several resources at once.
"""

from __future__ import annotations

import copy
import secrets
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

PROVIDER_TYPES = {
    "microsoft.network/virtualnetworks": "Microsoft.Network/virtualNetworks",
    "microsoft.network/publicipaddresses": "Microsoft.Network/publicIPAddresses",
    "microsoft.network/networksecuritygroups": "Microsoft.Network/networkSecurityGroups",
    "microsoft.network/networkinterfaces": "Microsoft.Network/networkInterfaces",
    "microsoft.compute/virtualmachines": "Microsoft.Compute/virtualMachines",
    "microsoft.compute/images": "Microsoft.Compute/images",
    "microsoft.compute/disks": "Microsoft.Compute/disks",
    "microsoft.compute/galleries": "Microsoft.Compute/galleries",
}


def new_etag() -> str:
    return f'W/"{uuid.uuid4()}"'


@dataclass
class Group:
    name: str
    location: str
    tags: dict[str, str]
    state: str = "Succeeded"


@dataclass
class Resource:
    id: str
    rtype: str
    group: str
    name: str
    location: str
    tags: dict[str, str]
    properties: dict[str, Any]
    provisioning_state: str = "Succeeded"
    sku: dict[str, Any] | None = None
    etag: str = field(default_factory=new_etag)
    guid: str = field(default_factory=lambda: str(uuid.uuid4()))
    runtime: Any = None  # VM power state and guest, for virtual machines
    show_tags: bool = False  # compute echoes `"tags": {}` when the request carried tags


class Store:
    def __init__(self, subscription_id: str) -> None:
        self.subscription_id = subscription_id
        self.lock = threading.RLock()
        self.groups: dict[str, Group] = {}
        self.resources: dict[str, Resource] = {}
        self.deleted_groups: list[str] = []
        self.deleted_resources: list[str] = []

    def group_id(self, name: str) -> str:
        return f"/subscriptions/{self.subscription_id}/resourceGroups/{name}"

    def rid(self, group: str, rtype: str, name: str) -> str:
        return f"{self.group_id(group)}/providers/{rtype}/{name}"

    def group(self, name: str) -> Group | None:
        return self.groups.get(name.lower())

    def get(self, rid: str) -> Resource | None:
        return self.resources.get(rid.lower().rstrip("/"))

    def put(self, res: Resource) -> None:
        self.resources[res.id.lower()] = res

    def remove(self, rid: str) -> Resource | None:
        res = self.resources.pop(rid.lower(), None)
        if res is not None:
            self.deleted_resources.append(res.id)
        return res

    def in_group(self, group: str) -> list[Resource]:
        return [r for r in self.resources.values() if r.group.lower() == group.lower()]

    def of_type(self, rtype: str, group: str | None = None) -> list[Resource]:
        return [
            r
            for r in self.resources.values()
            if r.rtype.lower() == rtype.lower()
            and (group is None or r.group.lower() == group.lower())
        ]

    def all(self) -> Iterator[Resource]:
        return iter(list(self.resources.values()))


def parse_id(rid: str) -> dict[str, str]:
    """Split an ARM id into subscription, group, provider type, name and child parts."""
    parts = [p for p in rid.split("/") if p]
    out: dict[str, str] = {}
    low = [p.lower() for p in parts]
    if "subscriptions" in low:
        out["subscription"] = parts[low.index("subscriptions") + 1]
    if "resourcegroups" in low and low.index("resourcegroups") + 1 < len(parts):
        out["group"] = parts[low.index("resourcegroups") + 1]
    if "providers" in low:
        i = low.index("providers")
        rest = parts[i + 1 :]
        if len(rest) >= 3:
            out["type"] = f"{rest[0]}/{rest[1]}"
            out["name"] = rest[2]
        if len(rest) >= 5:
            out["child_type"] = rest[3]
            out["child_name"] = rest[4]
    return out


class IpPool:
    """Hands out 127.0.0.N (N from 2) as public IPs, skipping ones in use on this machine.

    All of 127/8 is loopback on Linux, so a fake host can listen on the address a client reads
    from the public IP resource. `probe(ip)` says whether the host ports are free there, which
    keeps two stand-ins (or other processes) from handing out the same address.
    """

    def __init__(
        self, probe: Callable[[str], bool], on_release: Callable[[str], None] = lambda ip: None
    ) -> None:
        self._probe = probe  # may reserve the address when it says it is free
        self._on_release = on_release
        self._used: set[str] = set()
        self._lock = threading.Lock()

    def allocate(self) -> str:
        with self._lock:
            for n in range(2, 255):
                ip = f"127.0.0.{n}"
                if ip not in self._used and self._probe(ip):
                    self._used.add(ip)
                    return ip
        raise RuntimeError("no free loopback address for a public IP")

    def release(self, ip: str | None) -> None:
        if ip:
            with self._lock:
                self._used.discard(ip)
            self._on_release(ip)

    def release_all(self) -> None:
        with self._lock:
            used, self._used = set(self._used), set()
        for ip in used:
            self._on_release(ip)


def short_token(n: int = 10) -> str:
    return secrets.token_hex(n // 2 + 1)[:n]


def snapshot(value: Any) -> Any:
    return copy.deepcopy(value)
