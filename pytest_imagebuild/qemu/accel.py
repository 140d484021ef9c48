"""Which accelerator a VM gets: the template's choice, else KVM when it really works, else TCG.

``/dev/kvm`` answering its ioctl is not enough: under nested virtualisation a KVM guest can die
with "KVM internal error" seconds into boot. The first such failure is remembered for the
host's current boot (keyed by ``/proc/sys/kernel/random/boot_id``), so later builds and
launches in this and other sessions go straight to TCG instead of paying for the probe again.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from ..errors import BuildError
from .machine import QemuMachine, detect_accelerator

ACCELERATORS = ("kvm", "tcg", "none", "hax", "hvf", "whpx", "xen")
# How long an automatically chosen KVM guest may stay silent on its console before TCG is tried.
KVM_SILENCE = 45.0


@dataclass(frozen=True)
class Accelerator:
    name: str
    auto: bool  # chosen by us, so a failure may fall back to TCG

    @property
    def qemu_name(self) -> str:
        """``none`` in a template means plain emulation, which QEMU calls tcg."""
        return "tcg" if self.name == "none" else self.name


def _verdict_file() -> Path:
    root = os.environ.get("PYTEST_IMAGEBUILD_CACHE")
    if not root:
        xdg = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
        root = str(Path(xdg) / "pytest-imagebuild")
    try:
        boot = Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    except OSError:
        boot = "unknown"
    return Path(root) / f"kvm-broken-{boot}"


def choose(requested: str) -> Accelerator:
    """The template's ``accelerator``, or the best one this host can really run."""
    requested = requested.strip().lower()
    if requested:
        if requested not in ACCELERATORS:
            raise BuildError(f"accelerator {requested!r} is not one of {', '.join(ACCELERATORS)}.")
        return Accelerator(requested, auto=False)
    if detect_accelerator() == "kvm" and not _verdict_file().exists():
        return Accelerator("kvm", auto=True)
    return Accelerator("tcg", auto=True)


def remember_kvm_broken(reason: str) -> None:
    """Record that KVM failed on this host boot, so the next VM starts with TCG."""
    path = _verdict_file()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(reason + "\n")
    except OSError:
        pass


def boot_failure(machine: QemuMachine, chosen: Accelerator, silent_for: float) -> str | None:
    """Why waiting for this guest is pointless: QEMU died, KVM failed, or KVM stayed silent.

    ``silent_for`` is how long the guest has been booting; only an automatically chosen KVM
    is given up on for silence, since the user may know better than our heuristic.
    """
    reason = machine.failure()
    if reason or not (chosen.auto and machine.accelerator == "kvm"):
        return reason
    if silent_for > KVM_SILENCE and not machine.serial_tail(1):
        return f"the KVM guest printed nothing on its console in {KVM_SILENCE:g}s"
    return None


def falls_back(machine: QemuMachine, chosen: Accelerator) -> bool:
    """Whether a failed wait for this guest should be retried under TCG."""
    return chosen.auto and machine.accelerator == "kvm"
