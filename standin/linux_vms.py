"""Where the stand-in's compute model meets the QEMU guests of its Linux VMs.

Compute calls these at the moments Azure would touch a Linux VM's guest: provisioning
(create and boot), power changes (deallocate shuts it down, start boots it), capture (the disk
is copied into the image) and deletion.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import ArmError
from .winrm_host import let_go

if TYPE_CHECKING:
    from .linux_guest import LinuxGuest
    from .standin import Standin
    from .state import Resource

VM = "Microsoft.Compute/virtualMachines"


def _public_keys(profile: dict[str, Any]) -> list[tuple[str, str]]:
    linux = profile.get("linuxConfiguration") or {}
    return [
        (str(key.get("path") or ""), str(key.get("keyData") or ""))
        for key in (linux.get("ssh") or {}).get("publicKeys") or []
        if key.get("keyData")
    ]


def create_guest(standin: Standin, res: Resource, image: Resource | None) -> LinuxGuest:
    """A guest for a new Linux VM: the marketplace image (Debian with waagent) or the disk of
    the managed image or gallery version it was made from, seeded from its osProfile."""
    from .linux_guest import LinuxGuest, agent_image, seed_content

    if image is None:
        source = agent_image()
    elif isinstance(image.runtime, Path):
        source = image.runtime
    else:
        raise ArmError(
            501,
            "StandinNotModelled",
            f"The loopback Azure stand-in has no Linux disk for the image '{image.id}'.",
        )
    rt = res.runtime
    profile = res.properties.get("osProfile") or {}
    seed = seed_content(
        rt.computer_name,
        rt.admin_user,
        _public_keys(profile),
        rt.admin_password or "",
        str(profile.get("customData") or ""),
    )
    workdir = standin._tmp / "linux-vms" / f"{res.name}-{uuid.uuid4().hex[:8]}"
    return LinuxGuest(workdir, source, seed, name=f"standin-{res.name}")


def boot(standin: Standin, res: Resource) -> None:
    """Boot the guest with ports 22 and 80 on the VM's public (loopback) IP."""
    ip = standin._public_ip(res)
    if not ip:
        return  # no public IP: nothing could reach it; it boots when it gets one
    let_go(ip, (standin.settings.http_port,))  # the guest's port 80 listens there now
    res.runtime.guest.boot(ip)


def follow_power(standin: Standin, res: Resource) -> None:
    power = res.runtime.power
    if power in ("stopped", "deallocated"):
        res.runtime.guest.shut_down()
    elif power == "running":
        boot(standin, res)


def capture(standin: Standin, guest: LinuxGuest) -> Path:
    return guest.capture(standin._tmp / "linux-images" / f"{uuid.uuid4().hex}.qcow2")


def destroy(res: Resource) -> None:
    """Kill a deleted VM's guest and remove its disk (images keep their own copies)."""
    guest = getattr(res.runtime, "guest", None) if res.rtype == VM else None
    if guest is not None:
        res.runtime.guest = None
        guest.destroy()
