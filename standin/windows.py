"""The state of one fake Windows guest: features, services, files, firewall, WinRM, sysprep.

This is what the PowerShell/cmd interpreters read and change, what an image captures, and what
decides whether the host answers on its WinRM and HTTP ports. Times are guest seconds, scaled by
`Settings.guest_time_scale`.
"""

from __future__ import annotations

import copy
import ntpath
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from standin.machine_lock import MachineLock
from standin.settings import Settings
from standin.tls import KeyPair, make_self_signed

SETUP_STATE_KEY = r"HKLM:\SOFTWARE\Microsoft\Windows\CurrentVersion\Setup\State"
AGENT_SERVICES = ("RdAgent", "WindowsAzureGuestAgent", "WindowsAzureTelemetryService")
AGENT_START_SECONDS = 15.0  # guest agents come up a little after boot (Packer PR #7176)

IIS_START_PAGE = """<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Strict//EN" \
"http://www.w3.org/TR/xhtml1/DTD/xhtml1-strict.dtd">
<html xmlns="http://www.w3.org/1999/xhtml">
<head>
<meta http-equiv="Content-Type" content="text/html; charset=iso-8859-1" />
<title>IIS Windows Server</title>
<style type="text/css">
<!--
body {
\tcolor:#000000;
\tbackground-color:#0072C6;
\tmargin:0;
}
-->
</style>
</head>
<body>
<div id="container">
<a href="http://go.microsoft.com/fwlink/?linkid=66138&amp;clcid=0x409"><img src="iisstart.png" \
alt="IIS" width="960" height="600" /></a>
</div>
</body>
</html>"""


@dataclass
class Service:
    name: str
    display_name: str
    start_type: str  # Automatic, Manual, Disabled
    status: str = "Stopped"
    starts_at: float | None = None  # monotonic time an Automatic service finishes starting

    def current_status(self, now: float) -> str:
        if self.starts_at is not None:
            if now >= self.starts_at:
                self.status, self.starts_at = "Running", None
            else:
                return "StartPending"
        return self.status


@dataclass(frozen=True)
class FeatureDef:
    display: str
    depth: int = 0
    installed_by_default: bool = False
    sub_features: tuple[str, ...] = ()
    services: tuple[tuple[str, str, str], ...] = ()  # (name, display, start type)
    restart_needed: bool = False
    firewall: tuple[tuple[str, int], ...] = ()


FEATURES: dict[str, FeatureDef] = {
    "Web-Server": FeatureDef(
        "Web Server (IIS)",
        sub_features=(
            "Web-WebServer",
            "Web-Common-Http",
            "Web-Default-Doc",
            "Web-Dir-Browsing",
            "Web-Http-Errors",
            "Web-Static-Content",
            "Web-Health",
            "Web-Http-Logging",
            "Web-Performance",
            "Web-Stat-Compression",
            "Web-Security",
            "Web-Filtering",
            "Web-Mgmt-Tools",
            "Web-Mgmt-Console",
        ),
        services=(
            ("W3SVC", "World Wide Web Publishing Service", "Automatic"),
            ("WAS", "Windows Process Activation Service", "Manual"),
        ),
        firewall=(("IIS-WebServerRole-HTTP-In-TCP", 80), ("IIS-WebServerRole-HTTPS-In-TCP", 443)),
    ),
    "Web-WebServer": FeatureDef("Web Server", 1),
    "Web-Common-Http": FeatureDef("Common HTTP Features", 2),
    "Web-Default-Doc": FeatureDef("Default Document", 3),
    "Web-Dir-Browsing": FeatureDef("Directory Browsing", 3),
    "Web-Http-Errors": FeatureDef("HTTP Errors", 3),
    "Web-Static-Content": FeatureDef("Static Content", 3),
    "Web-Health": FeatureDef("Health and Diagnostics", 2),
    "Web-Http-Logging": FeatureDef("HTTP Logging", 3),
    "Web-Performance": FeatureDef("Performance", 2),
    "Web-Stat-Compression": FeatureDef("Static Content Compression", 3),
    "Web-Security": FeatureDef("Security", 2),
    "Web-Filtering": FeatureDef("Request Filtering", 3),
    "Web-Mgmt-Tools": FeatureDef("Management Tools", 1),
    "Web-Mgmt-Console": FeatureDef("IIS Management Console", 2),
    "NET-Framework-45-Features": FeatureDef(".NET Framework 4.7 Features", 0, True),
    "NET-Framework-45-Core": FeatureDef(".NET Framework 4.7", 1, True),
    "FS-FileServer": FeatureDef("File Server", 1, True),
    "PowerShellRoot": FeatureDef("Windows PowerShell", 0, True),
    "PowerShell": FeatureDef("Windows PowerShell 5.1", 1, True),
    "Windows-Defender": FeatureDef("Windows Defender Antivirus", 0, True),
    "Telnet-Client": FeatureDef("Telnet Client"),
    "Containers": FeatureDef("Containers", restart_needed=True),
    "RSAT-AD-PowerShell": FeatureDef("Active Directory module for Windows PowerShell", 3),
}

BASE_SERVICES: tuple[tuple[str, str, str], ...] = (
    ("Dhcp", "DHCP Client", "Automatic"),
    ("EventLog", "Windows Event Log", "Automatic"),
    ("LanmanServer", "Server", "Automatic"),
    ("MpsSvc", "Windows Defender Firewall", "Automatic"),
    ("RdAgent", "RdAgent", "Automatic"),
    ("TermService", "Remote Desktop Services", "Manual"),
    ("WindowsAzureGuestAgent", "Windows Azure Guest Agent", "Automatic"),
    ("WindowsAzureTelemetryService", "Windows Azure Telemetry Service", "Automatic"),
    ("WinRM", "Windows Remote Management (WS-Management)", "Automatic"),
    ("wuauserv", "Windows Update", "Manual"),
)

BASE_FIREWALL: tuple[tuple[str, int], ...] = (
    ("WINRM-HTTP-In-TCP", 5985),
    ("RemoteDesktop-UserMode-In-TCP", 3389),
)

OS_NAMES = {
    "2016": ("Windows Server 2016 Datacenter", "10.0.14393"),
    "2019": ("Windows Server 2019 Datacenter", "10.0.17763"),
    "2022": ("Windows Server 2022 Datacenter", "10.0.20348"),
    "2025": ("Windows Server 2025 Datacenter", "10.0.26100"),
}


@dataclass
class FirewallRule:
    name: str
    display_name: str
    port: int | None
    direction: str = "Inbound"
    action: str = "Allow"
    enabled: bool = True
    protocol: str = "TCP"


@dataclass
class Disk:
    """What an image keeps of a machine: everything on its OS disk."""

    os_name: str
    os_version: str
    features: dict[str, bool]
    services: dict[str, Service]
    files: dict[str, tuple[str, str]]
    dirs: dict[str, str]
    firewall: list[FirewallRule]
    listeners: dict[str, dict[str, str]]
    certificates: dict[str, dict[str, Any]]
    image_state: str
    sysprepped: bool


@dataclass
class WindowsMachine:
    settings: Settings
    certdir: Path
    computer_name: str
    admin_user: str
    admin_password: str = field(repr=False)
    os_name: str = "Windows Server 2019 Datacenter"
    os_version: str = "10.0.17763"
    features: dict[str, bool] = field(default_factory=dict)
    services: dict[str, Service] = field(default_factory=dict)
    files: dict[str, tuple[str, str]] = field(default_factory=dict)  # key -> (path, text)
    dirs: dict[str, str] = field(default_factory=dict)  # key -> path
    firewall: list[FirewallRule] = field(default_factory=list)
    listeners: dict[str, dict[str, str]] = field(default_factory=dict)
    certificates: dict[str, dict[str, Any]] = field(default_factory=dict)
    image_state: str = "IMAGE_STATE_COMPLETE"
    sysprep_done_at: float | None = None
    sysprepped: bool = False
    down_until: float = 0.0  # rebooting: unreachable until then
    pending_shutdown: threading.Timer | None = field(default=None, repr=False)
    on_change: Callable[[], None] | None = field(default=None, repr=False)
    on_guest_shutdown: Callable[[], None] | None = field(default=None, repr=False)
    lock: MachineLock = field(default_factory=MachineLock, repr=False)

    # -- construction ----------------------------------------------------------------------
    @classmethod
    def marketplace(
        cls,
        settings: Settings,
        certdir: Path,
        sku: str,
        computer_name: str,
        admin_user: str,
        admin_password: str,
    ) -> WindowsMachine:
        os_name, os_version = next((v for k, v in OS_NAMES.items() if k in sku), OS_NAMES["2019"])
        m = cls(settings, certdir, computer_name, admin_user, admin_password, os_name, os_version)
        m.features = {k: d.installed_by_default for k, d in FEATURES.items()}
        m.services = {n.lower(): Service(n, d, t) for n, d, t in BASE_SERVICES}
        m.firewall = [FirewallRule(n, n, p) for n, p in BASE_FIREWALL]
        m.listeners = {"HTTP": {"Address": "*", "Port": "5985", "Hostname": ""}}
        for d in (
            r"C:\Windows",
            r"C:\Windows\System32",
            r"C:\Windows\System32\Sysprep",
            r"C:\Windows\Temp",
            r"C:\Users",
            r"C:\Program Files",
            r"C:\ProgramData",
        ):
            m.mkdir(d)
        m.write_file(r"C:\Windows\System32\Sysprep\Sysprep.exe", "MZ")
        m.write_file(r"C:\Windows\System32\drivers\etc\hosts", "# Copyright (c) Microsoft\r\n")
        m.mkdir(rf"C:\Users\{admin_user}")
        return m

    @classmethod
    def from_disk(
        cls,
        settings: Settings,
        certdir: Path,
        disk: Disk,
        computer_name: str,
        admin_user: str,
        admin_password: str,
    ) -> WindowsMachine:
        d = copy.deepcopy(disk)
        m = cls(
            settings,
            certdir,
            computer_name,
            admin_user,
            admin_password,
            d.os_name,
            d.os_version,
            d.features,
            d.services,
            d.files,
            d.dirs,
            d.firewall,
            d.listeners,
            d.certificates,
        )
        # A sysprepped disk goes through specialize and OOBE on first boot, which leaves no
        # WinRM HTTPS listener unless something (an unattend, an extension) makes one again.
        if d.sysprepped:
            m.listeners.pop("HTTPS", None)
        m.image_state = "IMAGE_STATE_COMPLETE"
        m.mkdir(rf"C:\Users\{admin_user}")
        return m

    def disk(self) -> Disk:
        with self.lock:
            return copy.deepcopy(
                Disk(
                    self.os_name,
                    self.os_version,
                    self.features,
                    self.services,
                    self.files,
                    self.dirs,
                    self.firewall,
                    self.listeners,
                    self.certificates,
                    self.current_image_state(),
                    self.sysprepped,
                )
            )

    # -- power -----------------------------------------------------------------------------
    def boot(self) -> None:
        now = time.monotonic()
        with self.lock:
            for svc in self.services.values():
                svc.starts_at = None
                if svc.start_type == "Automatic":
                    if svc.name in AGENT_SERVICES:
                        svc.status = "Stopped"
                        svc.starts_at = now + self.settings.guest_seconds(AGENT_START_SECONDS)
                    else:
                        svc.status = "Running"
                else:
                    svc.status = "Stopped"
        self.changed()

    def reboot(self) -> None:
        with self.lock:
            self.down_until = time.monotonic() + self.settings.guest_seconds(
                self.settings.reboot_seconds
            )
        self.boot()
        timer = threading.Timer(
            self.settings.guest_seconds(self.settings.reboot_seconds) + 0.01, self.changed
        )
        timer.daemon = True
        timer.start()

    def is_up(self) -> bool:
        return time.monotonic() >= self.down_until

    def changed(self) -> None:
        if self.on_change is not None:
            self.lock.notify(self.on_change)  # after this thread lets the machine go

    # -- services --------------------------------------------------------------------------
    def service(self, name: str) -> Service | None:
        with self.lock:
            svc = self.services.get(name.lower())
            if svc is None:
                svc = next(
                    (s for s in self.services.values() if s.display_name.lower() == name.lower()),
                    None,
                )
            return svc

    def service_status(self, name: str) -> str | None:
        svc = self.service(name)
        return None if svc is None else svc.current_status(time.monotonic())

    def set_service_status(self, svc: Service, status: str) -> None:
        with self.lock:
            svc.status, svc.starts_at = status, None
        self.changed()

    # -- features --------------------------------------------------------------------------
    def install_feature(self, name: str) -> list[str]:
        """Install a feature and its sub-features; return display names newly installed."""
        key = self.feature_key(name)
        if key is None:
            raise KeyError(name)
        fdef = FEATURES[key]
        added: list[str] = []
        with self.lock:
            for k in (key, *fdef.sub_features):
                if not self.features.get(k):
                    self.features[k] = True
                    added.append(FEATURES[k].display)
            for sname, display, start in fdef.services:
                if sname.lower() not in self.services:
                    running = "Running" if start == "Automatic" else "Stopped"
                    self.services[sname.lower()] = Service(sname, display, start, running)
            for rule, port in fdef.firewall:
                if not any(r.name == rule for r in self.firewall):
                    self.firewall.append(FirewallRule(rule, rule, port))
            if key == "Web-Server":
                self.write_file(r"C:\inetpub\wwwroot\iisstart.htm", IIS_START_PAGE)
                self.write_file(r"C:\inetpub\wwwroot\iisstart.png", "PNG")
        self.changed()
        return added

    @staticmethod
    def feature_key(name: str) -> str | None:
        return next((k for k in FEATURES if k.lower() == name.lower()), None)

    # -- files -----------------------------------------------------------------------------
    @staticmethod
    def norm(path: str) -> str:
        p = path.replace("/", "\\")
        if p.lower().startswith("filesystem::"):
            p = p[len("filesystem::") :]
        p = ntpath.normpath(p)
        return p.lower()

    def is_dir(self, path: str) -> bool:
        with self.lock:
            return self.norm(path) in self.dirs

    def read_file(self, path: str) -> str | None:
        with self.lock:
            entry = self.files.get(self.norm(path))
            return None if entry is None else entry[1]

    def mkdir(self, path: str) -> None:
        with self.lock:
            p = ntpath.normpath(path.replace("/", "\\"))
            while p and self.norm(p) not in self.dirs and not p.endswith(":") and p != "\\":
                self.dirs[self.norm(p)] = p
                parent = ntpath.dirname(p)
                if parent == p:
                    break
                p = parent

    def write_file(self, path: str, text: str, append: bool = False) -> None:
        with self.lock:
            p = ntpath.normpath(path.replace("/", "\\"))
            self.mkdir(ntpath.dirname(p))
            old = self.files.get(self.norm(p), (p, ""))[1] if append else ""
            self.files[self.norm(p)] = (p, old + text)
        self.changed()

    def parent_exists(self, path: str) -> bool:
        parent = ntpath.dirname(ntpath.normpath(path.replace("/", "\\")))
        return parent.endswith(":\\") or parent.endswith(":") or self.is_dir(parent)

    def remove(self, path: str) -> bool:
        key = self.norm(path)
        with self.lock:
            if key in self.files:
                del self.files[key]
                return True
            if key in self.dirs:
                for k in [k for k in self.files if k.startswith(key + "\\")]:
                    del self.files[k]
                for k in [k for k in self.dirs if k == key or k.startswith(key + "\\")]:
                    del self.dirs[k]
                return True
        return False

    # -- registry, sysprep -------------------------------------------------------------------
    def current_image_state(self) -> str:
        with self.lock:
            if self.sysprep_done_at is not None and time.monotonic() >= self.sysprep_done_at:
                self.image_state = "IMAGE_STATE_GENERALIZE_RESEAL_TO_OOBE"
                self.sysprep_done_at = None
                self.sysprepped = True
            return self.image_state

    def start_sysprep(self) -> bool:
        """Sysprep /generalize: undeployable at once, sealed for OOBE when it finishes."""
        with self.lock:
            if self.current_image_state() != "IMAGE_STATE_COMPLETE":
                return False
            self.image_state = "IMAGE_STATE_UNDEPLOYABLE"
            self.sysprep_done_at = time.monotonic() + self.settings.guest_seconds(
                self.settings.sysprep_seconds
            )
        return True

    # -- firewall, WinRM -------------------------------------------------------------------
    def firewall_allows(self, port: int) -> bool:
        with self.lock:
            allowed = [
                r
                for r in self.firewall
                if r.enabled and r.direction == "Inbound" and r.port == port
            ]
            return bool(allowed) and all(r.action == "Allow" for r in allowed)

    def add_firewall_rule(self, rule: FirewallRule) -> None:
        with self.lock:
            self.firewall.append(rule)
        self.changed()

    def new_certificate(self, dns_name: str) -> str:
        pair, thumb = make_self_signed(self.certdir, f"{self.computer_name}-{dns_name}", dns_name)
        with self.lock:
            self.certificates[thumb] = {
                "Subject": f"CN={dns_name}",
                "DnsName": dns_name,
                "cert": str(pair.cert_path),
                "key": str(pair.key_path),
            }
        return thumb

    def add_https_listener(self, thumbprint: str, hostname: str = "") -> str | None:
        """Configure the HTTPS listener; return an error text if it can't be."""
        with self.lock:
            if "HTTPS" in self.listeners:
                return "exists"
            if thumbprint.upper() not in self.certificates:
                return "nocert"
            self.listeners["HTTPS"] = {
                "Address": "*",
                "Port": "5986",
                "Hostname": hostname,
                "CertificateThumbprint": thumbprint.upper(),
            }
        self.changed()
        return None

    def remove_listener(self, transport: str) -> bool:
        """Delete the listener for HTTP or HTTPS; False if there is none."""
        with self.lock:
            if self.listeners.pop(transport.upper(), None) is None:
                return False
        self.changed()
        return True

    def https_keypair(self) -> KeyPair | None:
        with self.lock:
            listener = self.listeners.get("HTTPS")
            if not listener:
                return None
            cert = self.certificates.get(listener["CertificateThumbprint"])
            return None if cert is None else KeyPair(Path(cert["cert"]), Path(cert["key"]))

    def serves_winrm(self) -> bool:
        status = self.service_status("WinRM")
        return self.is_up() and status == "Running" and self.https_keypair() is not None

    def serves_http(self) -> bool:
        return self.is_up() and self.service_status("W3SVC") == "Running"

    def env(self) -> dict[str, str]:
        return {
            "SystemRoot": r"C:\Windows",
            "windir": r"C:\Windows",
            "SystemDrive": "C:",
            "COMPUTERNAME": self.computer_name.upper(),
            "USERNAME": self.admin_user,
            "USERPROFILE": rf"C:\Users\{self.admin_user}",
            "TEMP": r"C:\Windows\Temp",
            "TMP": r"C:\Windows\Temp",
            "ProgramFiles": r"C:\Program Files",
            "ProgramData": r"C:\ProgramData",
            "PUBLIC": r"C:\Users\Public",
            "OS": "Windows_NT",
            "PROCESSOR_ARCHITECTURE": "AMD64",
        }
