"""The network face of a fake Windows VM: WinRM over HTTPS and IIS over HTTP on its public IP.

A port is served only when a real VM would answer on it: the VM runs and is not rebooting, the
service listens (WinRM with an HTTPS listener, W3SVC after IIS is installed) - otherwise the port
refuses connections. When the guest firewall or the NSG blocks the port, packets are dropped:
the port accepts and never answers, so clients time out as they would on Azure.
"""

from __future__ import annotations

import base64
import binascii
import email.utils
import ntpath
import socket
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization

from standin import native, wsman
from standin.httpserver import StoppableServer
from standin.log import RequestLog
from standin.ntlm import NtlmAcceptor, NtlmError, message_type
from standin.settings import Settings
from standin.windows import WindowsMachine

IIS_404 = (
    '<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Strict//EN" '
    '"http://www.w3.org/TR/xhtml1/DTD/xhtml1-strict.dtd">\r\n<html xmlns="http://www.w3.org/1999/'
    'xhtml">\r\n<head>\r\n<meta http-equiv="Content-Type" content="text/html; charset=iso-8859-1"/>'
    "\r\n<title>404 - File or directory not found.</title>\r\n</head>\r\n<body>\r\n<div "
    'id="header">'
    '<h1>Server Error</h1></div>\r\n<div id="content">\r\n <div class="content-container">'
    "<fieldset>\r\n  <h2>404 - File or directory not found.</h2>\r\n  <h3>The resource you are "
    "looking for might have been removed, had its name changed, or is temporarily unavailable."
    "</h3>\r\n </fieldset></div>\r\n</div>\r\n</body>\r\n</html>\r\n"
)
DEFAULT_DOCUMENTS = ("Default.htm", "Default.asp", "index.htm", "index.html", "iisstart.htm")


@dataclass
class RunningCommand:
    id: str
    cancel: threading.Event = field(default_factory=threading.Event)
    chunks: list[tuple[str, bytes]] = field(default_factory=list)
    sent: int = 0
    done: bool = False
    exit_code: int = 0
    cond: threading.Condition = field(default_factory=threading.Condition)

    def push(self, stream: str, data: bytes) -> None:
        if data:
            with self.cond:
                self.chunks.append((stream, data))
                self.cond.notify_all()

    def finish(self, code: int) -> None:
        with self.cond:
            self.done, self.exit_code = True, code
            self.cond.notify_all()


@dataclass
class Shell:
    id: str
    owner: str
    codepage: str
    commands: dict[str, RunningCommand] = field(default_factory=dict)


class FakeHost:
    """Serves one VM's ports on its loopback public IP, following the VM's state."""

    def __init__(
        self,
        ip: str,
        vm_name: str,
        machine: WindowsMachine,
        settings: Settings,
        log: RequestLog,
        winrm_fault: Callable[..., str | None],
        reachable: Callable[[int], str],
    ) -> None:
        self.ip = ip
        self.vm_name = vm_name
        self.machine = machine
        self.settings = settings
        self.log = log
        self.winrm_fault = winrm_fault
        self.reachable = reachable  # "down" (VM not running), "blocked" (by an NSG) or "ok"
        self.shells: dict[str, Shell] = {}
        self.lock = threading.RLock()
        self.stopping = threading.Event()
        self._servers_lock = threading.Lock()
        self._servers: dict[str, tuple[StoppableServer, str, Any]] = {}

    # -- endpoint lifecycle ------------------------------------------------------------------
    def desired(self) -> dict[str, tuple[str, Any, int]]:
        """Port name -> (mode, TLS key pair, port); mode is serve, hang or closed."""
        fault = self.winrm_fault()
        keypair = self.machine.https_keypair()

        def mode(port: int, listening: bool, extra_fault: str | None) -> str:
            path = self.reachable(port)  # "down", "blocked" (NSG) or "ok"
            if path == "down" or not self.machine.is_up() or extra_fault == "refuse":
                return "closed"
            if not listening:
                return "closed"
            if path == "blocked" or not self.machine.firewall_allows(port) or extra_fault == "hang":
                return "hang"
            return "serve"

        return {
            "winrm": (
                mode(5986, self.machine.serves_winrm(), fault),
                keypair,
                self.settings.winrm_port,
            ),
            "http": (mode(80, self.machine.serves_http(), None), None, self.settings.http_port),
        }

    def sync(self) -> None:
        """Open, close or re-key the ports to match the VM. Handler threads never take
        `_servers_lock`, and long polls end when their server closes, so stopping here is safe."""
        with self._servers_lock:
            if self.stopping.is_set():
                return
            for name, (mode, keypair, port) in self.desired().items():
                current = self._servers.get(name)
                key = (mode, str(keypair.cert_path) if keypair else None)
                if current is not None and current[1] == key:
                    continue
                if current is not None:
                    current[0].stop()
                    del self._servers[name]
                if mode == "closed":
                    hold(self.ip, (port,))
                    continue
                let_go(self.ip, (port,))
                handler = WinRMHandler if name == "winrm" else IISHandler
                ctx = keypair.server_context() if (keypair and name == "winrm") else None
                server = StoppableServer((self.ip, port), handler, ctx, context=self)
                server.hang = mode == "hang"
                if keypair is not None:
                    server.cert_hash = _cert_hash(keypair.cert_path.read_bytes())
                server.start()
                self._servers[name] = (server, key, None)

    def stop(self) -> None:
        with self._servers_lock:
            self.stopping.set()
            servers = [s for s, _, _ in self._servers.values()]
            self._servers.clear()
        with self.lock:
            for shell in self.shells.values():
                for cmd in shell.commands.values():
                    cmd.cancel.set()
        for server in servers:
            server.stop()

    # -- WinRM operations --------------------------------------------------------------------
    def handle_wsman(
        self, data: bytes, user: str, client_ip: str, abort: threading.Event
    ) -> tuple[int, bytes]:
        try:
            req = wsman.parse(data)
        except wsman.BadRequest:
            return 400, b""
        machine_name = self.ip
        verb = req.verb
        if verb == "Create" and req.resource_uri == wsman.CMD_URI:
            shell_id = str(uuid.uuid4()).upper()
            codepage = req.options.get("WINRS_CODEPAGE", "437")
            with self.lock:
                self.shells[shell_id] = Shell(shell_id, user, codepage)
            address = f"https://{self.ip}:{self.settings.winrm_port}/wsman"
            return 200, wsman.created(req, address, shell_id, user, client_ip)
        if req.resource_uri != wsman.CMD_URI:
            return 500, wsman.unsupported(req, machine_name, f"the resource {req.resource_uri}")
        shell = self.shells.get(req.shell_id or "")
        if shell is None:
            return 500, wsman.unknown_shell(req, machine_name)
        if verb == "Command":
            return 200, self._command(req, shell)
        if verb == "Receive":
            return self._receive(req, shell, machine_name, abort)
        if verb == "Signal":
            cid = req.body.get("CommandId", "") if req.body is not None else ""
            cmd = shell.commands.pop(cid, None)
            if cmd is None:
                return 500, wsman.unknown_command(req, machine_name)
            cmd.cancel.set()
            return 200, wsman.simple(req, "Signal")
        if verb == "Send":
            return 200, wsman.simple(req, "Send")
        if verb == "Delete":
            with self.lock:
                gone = self.shells.pop(shell.id, None)
            if gone is not None:
                for cmd in gone.commands.values():
                    cmd.cancel.set()
            return 200, wsman.simple(req, "Delete")
        return 500, wsman.unsupported(req, machine_name, f"the action {req.action}")

    def _command(self, req: wsman.Request, shell: Shell) -> bytes:
        body = req.body
        assert body is not None
        command = (body.findtext("rsp:Command", "", wsman.NS) or "").strip()
        args = [a.text or "" for a in body.findall("rsp:Arguments", wsman.NS)]
        cid = body.get("CommandId") or str(uuid.uuid4()).upper()
        cmd = RunningCommand(cid)
        shell.commands[cid] = cmd
        skip_cmd = req.options.get("WINRS_SKIP_CMD_SHELL", "FALSE").upper() == "TRUE"
        encoding = "utf-8" if shell.codepage == "65001" else "cp437"
        thread = threading.Thread(
            target=self._run,
            args=(cmd, shell.owner, command, args, skip_cmd, encoding),
            daemon=True,
            name=f"winrm-cmd-{cid[:8]}",
        )
        thread.start()
        return wsman.command_response(req, cid)

    def _run(
        self,
        cmd: RunningCommand,
        user: str,
        command: str,
        args: list[str],
        skip_cmd: bool,
        encoding: str,
    ) -> None:
        ctx = native.Context(
            self.machine,
            user,
            rf"C:\Users\{user}",
            channel="winrm",
            cancel=cmd.cancel,
            on_out=lambda t: cmd.push("stdout", t.encode(encoding, "replace")),
            on_err=lambda t: cmd.push("stderr", t.encode(encoding, "replace")),
        )
        try:
            if skip_cmd:
                prog = native.PROGRAMS.get(ntpath.basename(command).lower().removesuffix(".exe"))
                if prog is None:
                    ctx.error(native.NOT_RECOGNIZED.format(name=command))
                    rc = 1
                else:
                    rc = prog(ctx, [command, *args])
            else:
                rc = native.run_cmd_line(ctx, " ".join([command, *args]))
        except Exception as exc:  # an interpreter bug must show, not hang the client
            ctx.error(f"loopback stand-in internal error: {exc!r}\r\n")
            rc = 1
        cmd.finish(rc)

    def _receive(
        self, req: wsman.Request, shell: Shell, machine: str, abort: threading.Event
    ) -> tuple[int, bytes]:
        desired = req.body.find("rsp:DesiredStream", wsman.NS) if req.body is not None else None
        cid = desired.get("CommandId", "") if desired is not None else ""
        cmd = shell.commands.get(cid)
        if cmd is None:
            return 500, wsman.unknown_command(req, machine)
        wait = self.settings.guest_seconds(req.operation_timeout)
        if self.winrm_fault(count=True) == "operation_timeout":
            abort.wait(wait)
            return 500, wsman.timed_out(req, machine)
        deadline = time.monotonic() + wait
        with cmd.cond:
            while cmd.sent >= len(cmd.chunks) and not cmd.done:
                remaining = deadline - time.monotonic()
                if remaining <= 0 or self.stopping.is_set() or abort.is_set():
                    return 500, wsman.timed_out(req, machine)
                cmd.cond.wait(min(remaining, 0.2))
            new = cmd.chunks[cmd.sent :]
            cmd.sent = len(cmd.chunks)
            done = cmd.done and cmd.sent >= len(cmd.chunks)
        chunks = [(name, base64.b64encode(data).decode()) for name, data in new]
        return 200, wsman.receive_response(req, cid, chunks, done, cmd.exit_code)

    def accounts(self) -> dict[str, str]:
        return {self.machine.admin_user.lower(): self.machine.admin_password}


def _cert_hash(pem: bytes) -> bytes:
    cert = x509.load_pem_x509_certificate(pem)
    algo = cert.signature_hash_algorithm
    if algo is None or algo.name in ("md5", "sha1"):
        algo = hashes.SHA256()
    digest = hashes.Hash(algo)
    digest.update(cert.public_bytes(serialization.Encoding.DER))
    return digest.finalize()


class _HostHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: StoppableServer

    def log_message(self, format: str, *args: Any) -> None:
        pass

    @property
    def host(self) -> FakeHost:
        return self.server.context  # type: ignore[no-any-return]

    def hang(self) -> bool:
        """Drop the request like a firewall would: never answer, close when released."""
        if getattr(self.server, "hang", False):
            self.server.hang_release.wait()
            self.close_connection = True
            return True
        return False

    def body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def send(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
        self.send_response_only(status)
        self.send_header("Server", "Microsoft-HTTPAPI/2.0")
        self.send_header("Date", email.utils.formatdate(usegmt=True))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)


class WinRMHandler(_HostHandler):
    ntlm: NtlmAcceptor | None = None
    user: str | None = None

    def do_POST(self) -> None:
        if self.hang():
            return
        data = self.body()
        status = 401
        try:
            status = self._post(data)
        finally:
            self.host.log.record("winrm", self.host.ip, "POST", self.path, "", status)

    def _post(self, data: bytes) -> int:
        if self.path.lower() != "/wsman":
            self.send(404, b"")
            return 404
        auth = self.headers.get("Authorization", "")
        scheme, _, token = auth.partition(" ")
        if scheme.lower() == "basic":
            self.user = self._basic(token)
        elif scheme.lower() in ("negotiate", "ntlm"):
            if not self._ntlm(scheme, token):
                return 401
        elif auth:
            self.user = None
        if self.user is None:
            self._challenge()
            return 401
        status, body = self.host.handle_wsman(
            data, self.user, self.client_address[0], self.server.closing
        )
        self.send(status, body, {"Content-Type": "application/soap+xml;charset=UTF-8"})
        return status

    def _challenge(self, token: str | None = None) -> None:
        self.send_response_only(401)
        self.send_header("Server", "Microsoft-HTTPAPI/2.0")
        self.send_header("Date", email.utils.formatdate(usegmt=True))
        self.send_header("WWW-Authenticate", f"Negotiate {token}" if token else "Negotiate")
        if token is None:
            self.send_header("WWW-Authenticate", 'Basic realm="WSMAN"')
        self.send_header("Content-Length", "0")
        self.end_headers()

    def _basic(self, token: str) -> str | None:
        try:
            user, _, password = base64.b64decode(token).decode("utf-8").partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return None
        user = user.split("\\")[-1]
        expected = self.host.accounts().get(user.lower())
        return user if expected is not None and expected == password else None

    def _ntlm(self, scheme: str, token: str) -> bool:
        try:
            raw = base64.b64decode(token)
        except binascii.Error:
            raw = b""
        kind = message_type(raw)
        if kind == 1:
            self.ntlm = NtlmAcceptor(
                self.host.machine.computer_name, getattr(self.server, "cert_hash", None)
            )
            self.user = None
            self._challenge(base64.b64encode(self.ntlm.challenge(raw)).decode())
            return False
        if kind == 3 and self.ntlm is not None:
            try:
                self.user = self.ntlm.authenticate(raw, self.host.accounts())
                return True
            except NtlmError:
                self.user, self.ntlm = None, None
        self._challenge()
        return False


class IISHandler(_HostHandler):
    def do_GET(self) -> None:
        if self.hang():
            return
        status = self._serve()
        self.host.log.record("http", self.host.ip, self.command, self.path, "", status)

    do_HEAD = do_GET

    def _serve(self) -> int:
        path = self.path.split("?", 1)[0]
        root = r"C:\inetpub\wwwroot"
        target = ntpath.normpath(ntpath.join(root, path.lstrip("/").replace("/", "\\")))
        machine = self.host.machine
        text = None
        if machine.is_dir(target) or target.lower() == root.lower():
            for doc in DEFAULT_DOCUMENTS:
                text = machine.read_file(ntpath.join(target, doc))
                if text is not None:
                    target = ntpath.join(target, doc)
                    break
        else:
            text = machine.read_file(target)
        headers = {"X-Powered-By": "ASP.NET"}
        if text is None:
            self._send_iis(404, IIS_404.encode(), {"Content-Type": "text/html", **headers})
            return 404
        ctype = "image/png" if target.lower().endswith(".png") else "text/html"
        headers.update(
            {
                "Content-Type": ctype,
                "Accept-Ranges": "bytes",
                "ETag": f'"{abs(hash(text)) % (1 << 40):x}:0"',
                "Last-Modified": email.utils.formatdate(usegmt=True),
            }
        )
        self._send_iis(200, text.encode("utf-8"), headers)
        return 200

    def _send_iis(self, status: int, body: bytes, headers: dict[str, str]) -> None:
        self.send_response_only(status)
        self.send_header("Server", "Microsoft-IIS/10.0")
        self.send_header("Date", email.utils.formatdate(usegmt=True))
        for k, v in headers.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)


def port_free(ip: str, ports: tuple[int, ...]) -> bool:
    """Whether nothing listens on `ip` at these ports (so a new VM may take the address)."""
    for port in ports:
        with socket.socket() as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                s.bind((ip, port))
            except OSError:
                return False
    return True


# Azure never hands one public IP to two VMs. Between allocating an address and a VM serving
# on it, and while a port is closed, a bound but not listening socket keeps the address ours:
# connections to it are refused, as to a closed port, and no other stand-in (in this process
# or another) can take it.
_HELD: dict[tuple[str, int], socket.socket] = {}
_HELD_LOCK = threading.Lock()


def hold(ip: str, ports: tuple[int, ...]) -> bool:
    """Reserve every port at `ip`, or none of them; False when one is taken, including by a
    hold of this process (another stand-in's address is not free)."""
    taken: list[tuple[str, int]] = []
    with _HELD_LOCK:
        for port in ports:
            sock = socket.socket()  # no SO_REUSEADDR: that would let others bind beside it
            try:
                if (ip, port) in _HELD:
                    raise OSError(f"{ip}:{port} is held already")
                sock.bind((ip, port))
            except OSError:
                sock.close()
                for key in taken:
                    _HELD.pop(key).close()
                return False
            _HELD[(ip, port)] = sock
            taken.append((ip, port))
    return True


def let_go(ip: str, ports: tuple[int, ...]) -> None:
    with _HELD_LOCK:
        for port in ports:
            sock = _HELD.pop((ip, port), None)
            if sock is not None:
                sock.close()
