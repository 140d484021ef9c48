"""The stand-in itself: one HTTPS server for AAD and ARM, plus a fake host per running VM.

Everything a test needs hangs off a `Standin`: the URLs and credentials to give the SDK, `faults`
to switch failures on, `log` of requests, and `state` to assert on. Two stand-ins share nothing
but the machine's loopback addresses, which each takes only where the ports are free.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import uuid
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from standin import linux_vms
from standin.aad import Directory
from standin.arm import Arm, Request, Response
from standin.faults import Faults
from standin.httpserver import StoppableServer
from standin.log import RequestLog
from standin.lro import Operation, Operations
from standin.settings import Settings
from standin.state import IpPool, Resource, Store
from standin.tls import make_loopback_pki
from standin.winrm_host import FakeHost, hold, let_go


class Standin:
    def __init__(self, **options: Any) -> None:
        self.settings = Settings(**options)
        self._tmp = Path(tempfile.mkdtemp(prefix="azure-standin-"))
        self.certdir = self._tmp / "hosts"
        self.certdir.mkdir()
        bundle, server_pair = make_loopback_pki(self._tmp)
        self.ca_bundle = str(bundle)
        self.platform_id = str(uuid.uuid4())
        self.store = Store(self.settings.subscription_id)
        self.log = RequestLog()
        self.faults = Faults(self.settings.subscription_id, on_change=self.sync_hosts)
        self.ops = Operations(self.store.lock, self._unpolled_grace)
        self.group_delete_ops: dict[str, Operation] = {}
        self.admin_passwords: list[str] = []  # every VM password seen, for leak checks
        self.hosts: dict[str, FakeHost] = {}
        ports = (self.settings.winrm_port, self.settings.http_port)
        self.ip_pool = IpPool(lambda ip: hold(ip, ports), lambda ip: let_go(ip, ports))
        self._server = StoppableServer(
            ("127.0.0.1", 0), _ArmHandler, server_pair.server_context(), context=self
        )
        self.authority = f"https://127.0.0.1:{self._server.port}"
        self.arm_url = f"{self.authority}/"
        self.directory = Directory(self.settings, self.authority)
        self.arm = Arm(self)
        self.state = StateView(self)
        self._stopped = False
        self._server.start()

    # -- what tests use ----------------------------------------------------------------------
    @property
    def tenant_id(self) -> str:
        return self.settings.tenant_id

    @property
    def subscription_id(self) -> str:
        return self.settings.subscription_id

    @property
    def client_id(self) -> str:
        return self.settings.client_id

    @property
    def client_secret(self) -> str:
        return self.settings.client_secret

    def client_kwargs(self) -> dict[str, Any]:
        """Keyword arguments every azure-mgmt client needs to talk to this stand-in.

        In fast mode operations answer `Retry-After: 0`, which azure-core reads as "no hint"
        and replaces by the client's polling_interval (30 s by default), so fast clients also
        get `polling_interval=0`."""
        kwargs: dict[str, Any] = {
            "base_url": self.arm_url,
            "connection_verify": self.ca_bundle,
            "credential_scopes": ["https://management.azure.com/.default"],
        }
        if self.settings.retry_after == 0:
            kwargs["polling_interval"] = 0
        return kwargs

    def credential_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for azure-identity's ClientSecretCredential."""
        return {
            "tenant_id": self.tenant_id,
            "client_id": self.client_id,
            "client_secret": self.client_secret,
            "authority": self.authority,
            "disable_instance_discovery": True,
            "connection_verify": self.ca_bundle,
        }

    def stop(self) -> None:
        if self._stopped:
            return
        self._stopped = True
        self._server.stop()
        self.ops.stop()
        with self.store.lock:
            hosts = list(self.hosts.values())
            self.hosts.clear()
        for host in hosts:
            host.stop()
        for vm in self.store.of_type("Microsoft.Compute/virtualMachines"):
            linux_vms.destroy(vm)
        self.ip_pool.release_all()
        shutil.rmtree(self._tmp, ignore_errors=True)

    def __enter__(self) -> Standin:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- internals ------------------------------------------------------------------------------
    def _unpolled_grace(self, op: Operation) -> float:
        return max(1.0, op.polls_needed * max(self.settings.retry_after, 0.5) + 1.0)

    def remove_group(self, name: str) -> None:
        for res in list(self.store.in_group(name)):
            self.store.remove(res.id)
            linux_vms.destroy(res)
            if res.rtype == "Microsoft.Network/publicIPAddresses":
                self.ip_pool.release(res.properties.get("ipAddress"))
        self.store.groups.pop(name.lower(), None)
        self.sync_hosts()

    def sync_hosts(self) -> None:
        """Make every VM's fake host match its state: IP, power, listener, firewall, NSG."""
        if self._stopped:
            return
        with self.store.lock:
            wanted: dict[str, tuple[Resource, str]] = {}
            for vm in self.store.of_type("Microsoft.Compute/virtualMachines"):
                ip = self._public_ip(vm)
                if ip and vm.runtime.machine is not None:
                    wanted[vm.id.lower()] = (vm, ip)
            for key in list(self.hosts):
                host = self.hosts[key]
                if (
                    key not in wanted
                    or wanted[key][1] != host.ip
                    or wanted[key][0].runtime.machine is not host.machine
                ):
                    self.hosts.pop(key).stop()
            for key, (vm, ip) in wanted.items():
                host = self.hosts.get(key)
                if host is None:
                    host = FakeHost(
                        ip,
                        vm.name,
                        vm.runtime.machine,
                        self.settings,
                        self.log,
                        self._winrm_fault(ip, vm.name),
                        self._reachable(vm),
                    )
                    self.hosts[key] = host
                host.sync()

    def _winrm_fault(self, ip: str, name: str) -> Any:
        return lambda count=False: self.faults.winrm_mode(ip, name, count)

    def _primary_config(self, vm: Resource) -> tuple[Resource, dict[str, Any]] | None:
        refs = vm.properties.get("networkProfile", {}).get("networkInterfaces", [])
        for ref in refs:
            nic = self.store.get(ref.get("id") or "")
            if nic is not None:
                configs = nic.properties.get("ipConfigurations", [])
                cfg = next((c for c in configs if c["properties"].get("primary")), None)
                return (nic, cfg or configs[0]) if configs else None
        return None

    def _public_ip(self, vm: Resource) -> str | None:
        found = self._primary_config(vm)
        if found is None:
            return None
        pip_ref = (found[1]["properties"].get("publicIPAddress") or {}).get("id")
        pip = self.store.get(pip_ref or "")
        if pip is None or pip.provisioning_state == "Deleting":
            return None
        props = pip.properties
        running = vm.runtime.power in ("running", "starting", "restarting", "updating")
        if props.get("publicIPAllocationMethod") == "Dynamic":
            if running and not props.get("ipAddress"):
                props["ipAddress"] = self.ip_pool.allocate()
            elif vm.runtime.power == "deallocated" and props.get("ipAddress"):
                self.ip_pool.release(props.pop("ipAddress"))
        return props.get("ipAddress")

    def _reachable(self, vm: Resource) -> Any:
        def check(port: int) -> str:
            with self.store.lock:
                if self.store.get(vm.id) is not vm or vm.runtime.power != "running":
                    return "down"
                found = self._primary_config(vm)
                if found is None:
                    return "down"
                nic, cfg = found
                nsgs = [(nic.properties.get("networkSecurityGroup") or {}).get("id")]
                subnet = (
                    self.arm.network.subnet((cfg["properties"].get("subnet") or {}).get("id") or "")
                    or {}
                )
                nsgs.append(
                    (subnet.get("properties", {}).get("networkSecurityGroup") or {}).get("id")
                )
                pip = self.store.get(
                    (cfg["properties"].get("publicIPAddress") or {}).get("id") or ""
                )
                standard = pip is not None and (pip.sku or {}).get("name", "").lower() == "standard"
                if standard and not any(nsgs):
                    return "blocked"  # Standard public IPs are closed unless an NSG opens them
                ok = all(self.arm.network.nsg_allows(n, port) for n in nsgs)
                return "ok" if ok else "blocked"

        return check


class StateView:
    """Read-only answers for tests: which groups exist, what was deleted, how VMs are."""

    def __init__(self, standin: Standin) -> None:
        self._s = standin

    def groups(self) -> dict[str, dict[str, str]]:
        with self._s.store.lock:
            return {g.name: dict(g.tags) for g in self._s.store.groups.values()}

    def group_exists(self, name: str) -> bool:
        with self._s.store.lock:
            return self._s.store.group(name) is not None

    @property
    def deleted_groups(self) -> list[str]:
        """Names of groups that received a DELETE, in order (whether or not they existed)."""
        with self._s.store.lock:
            return list(self._s.store.deleted_groups)

    @property
    def secrets_issued(self) -> list[str]:
        """Access tokens handed out and admin passwords received: none may leak into logs."""
        with self._s.store.lock:
            passwords = list(self._s.admin_passwords)
        return self._s.directory.token_values() + passwords

    @property
    def deleted_resources(self) -> list[str]:
        with self._s.store.lock:
            return list(self._s.store.deleted_resources)

    def resources(self, group: str | None = None) -> list[str]:
        with self._s.store.lock:
            items = self._s.store.in_group(group) if group else list(self._s.store.all())
            return sorted(r.id for r in items)

    def _vm(self, group: str, name: str) -> Resource:
        res = self._s.store.get(self._s.store.rid(group, "Microsoft.Compute/virtualMachines", name))
        if res is None:
            raise KeyError(f"no VM {group}/{name}")
        return res

    def power_state(self, group: str, vm: str) -> str:
        with self._s.store.lock:
            return str(self._vm(group, vm).runtime.power)

    def machine(self, group: str, vm: str) -> Any:
        """The fake guest (features, services, files) of a Windows VM."""
        with self._s.store.lock:
            return self._vm(group, vm).runtime.machine

    def public_ip(self, group: str, vm: str) -> str | None:
        with self._s.store.lock:
            return self._s._public_ip(self._vm(group, vm))


class _ArmHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: StoppableServer

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _serve(self) -> None:
        standin: Standin = self.server.context  # type: ignore[assignment]
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        parts = urlsplit(self.path)
        path = unquote(parts.path)
        query = dict(parse_qsl(parts.query, keep_blank_values=True))
        first = path.strip("/").split("/", 1)[0].lower()
        if first != "subscriptions":
            handled = standin.directory.handle(self.command, path, raw)
            status, body = (
                handled
                if handled is not None
                else (404, {"error": "invalid_request", "error_description": "Not found."})
            )
            # Logged before the reply so a client never sees a response the log lacks.
            standin.log.record("aad", "127.0.0.1", self.command, path, "", status)
            self._send(
                Response(
                    status, body, {"Cache-Control": "no-store, no-cache", "Pragma": "no-cache"}
                )
            )
            return
        headers = {k.lower(): v for k, v in self.headers.items()}
        resp = standin.arm.handle(Request(self.command, path, query, headers, raw))
        shown = "&".join(f"{k}={v}" for k, v in query.items())
        standin.log.record("arm", "127.0.0.1", self.command, path, shown, resp.status)
        self._send(resp)

    def _send(self, resp: Response) -> None:
        body = b"" if resp.body is None else json.dumps(resp.body).encode("utf-8")
        self.send_response_only(resp.status)
        for k, v in resp.headers.items():
            self.send_header(k, v)
        if resp.body is not None:
            self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    do_GET = do_PUT = do_POST = do_DELETE = do_PATCH = do_HEAD = _serve


def start_standin(**options: Any) -> Standin:
    """Start a loopback Azure; use as a context manager or call `.stop()`."""
    return Standin(**options)
