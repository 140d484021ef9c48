"""The null builder's settings: where the existing machine answers and how to log in.

Only the communicator settings apply (Packer's null builder has no others); defaults are
Packer 1.6.6's: SSH on port 22 with a 5m timeout, WinRM on 5985 (5986 with TLS) with 30m.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import BuildError
from ..template.durations import parse_duration
from ..template.types import as_bool

# Communicator settings that would change where or how we connect, but that we do not
# implement: connecting without them would reach the wrong machine or fail obscurely.
UNSUPPORTED = (
    "ssh_agent_auth",
    "ssh_bastion_host",
    "ssh_proxy_host",
    "ssh_certificate_file",
    "ssh_local_tunnels",
    "ssh_remote_tunnels",
)


@dataclass(frozen=True)
class NullConfig:
    build_name: str
    communicator: str = "ssh"
    host: str = ""
    port: int = 22
    username: str = ""
    password: str = field(default="", repr=False)
    private_key_file: Path | None = None
    timeout: float = 300.0
    use_ssl: bool = False
    insecure: bool = False
    use_ntlm: bool = False

    @property
    def label(self) -> str:
        return "WinRM" if self.communicator == "winrm" else "SSH"

    @classmethod
    def from_plan(cls, build_name: str, config: dict[str, Any]) -> NullConfig:
        """Settings from a validated, rendered builder config."""
        kind = str(config.get("communicator") or "ssh")
        if kind not in ("ssh", "winrm", "none"):
            raise BuildError(f"null builder {build_name}: communicator {kind!r} is not supported")
        used = [key for key in UNSUPPORTED if config.get(key) not in (None, "", False, [])]
        if kind == "ssh" and used:
            raise BuildError(
                f"null builder {build_name}: {', '.join(used)} is not supported by "
                "pytest-imagebuild; connect to the host directly"
            )
        try:
            if kind == "winrm":
                use_ssl = as_bool(config.get("winrm_use_ssl", False))
                return cls(
                    build_name,
                    kind,
                    host=str(config.get("winrm_host") or ""),
                    port=int(config.get("winrm_port") or (5986 if use_ssl else 5985)),
                    username=str(config.get("winrm_username") or ""),
                    password=str(config.get("winrm_password") or ""),
                    timeout=_seconds(config.get("winrm_timeout"), "30m"),
                    use_ssl=use_ssl,
                    insecure=as_bool(config.get("winrm_insecure", False)),
                    use_ntlm=as_bool(config.get("winrm_use_ntlm", False)),
                )
            key = str(config.get("ssh_private_key_file") or "")
            return cls(
                build_name,
                kind,
                host=str(config.get("ssh_host") or ""),
                port=int(config.get("ssh_port") or 22),
                username=str(config.get("ssh_username") or ""),
                password=str(config.get("ssh_password") or ""),
                private_key_file=Path(key).expanduser() if key else None,
                timeout=_seconds(config.get("ssh_timeout") or config.get("ssh_wait_timeout"), "5m"),
            )
        except ValueError as error:
            raise BuildError(f"null builder {build_name}: bad configuration: {error}") from None


def _seconds(value: Any, default: str) -> float:
    return parse_duration(value if isinstance(value, (int, float)) else str(value or default))

# The null builder's own keys: none; it takes only the communicator's (Packer squashes
# the communicator config into its own).
FIELDS: dict[str, str] = {}
