"""Timing and identity settings of one stand-in.

Real Azure takes minutes per long-running operation and a real Windows guest sleeps for real; a
test suite cannot. Every delay is therefore a setting: ARM operations finish after a number of
polls (and optionally seconds), and guest-side time (Start-Sleep, sysprep, reboots, WinRM's
OperationTimeout) runs `guest_time_scale` times faster than the wall clock.
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass, field

# Operation kinds whose duration can be tuned with `polls` / `delays`.
LRO_KINDS = (
    "network",
    "network_delete",
    "vm_create",
    "vm_action",
    "vm_delete",
    "run_command",
    "image_create",
    "image_delete",
    "disk_delete",
    "group_delete",
    "gallery",
    "gallery_version",
)


@dataclass
class Settings:
    fast: bool = False
    retry_after: int = 1
    default_polls: int = 2
    polls: dict[str, int] = field(default_factory=dict)
    delays: dict[str, float] = field(default_factory=dict)
    guest_time_scale: float = 1.0
    sysprep_seconds: float = 20.0
    reboot_seconds: float = 30.0
    winrm_port: int = 5986
    http_port: int = 80
    tenant_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    subscription_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    client_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    client_secret: str = field(default_factory=lambda: secrets.token_urlsafe(30))
    token_lifetime: int = 3599

    def __post_init__(self) -> None:
        if self.fast:
            self.retry_after = 0
            self.default_polls = 1
            self.guest_time_scale = min(self.guest_time_scale, 0.02)

    def polls_for(self, kind: str) -> int:
        return max(0, self.polls.get(kind, self.default_polls))

    def delay_for(self, kind: str) -> float:
        return max(0.0, self.delays.get(kind, 0.0))

    def guest_seconds(self, seconds: float) -> float:
        """Wall-clock seconds that `seconds` of guest time take."""
        return max(0.0, seconds * self.guest_time_scale)
