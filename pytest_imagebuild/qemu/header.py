"""The report header's qemu line: which accelerator the qemu builds will get, so a slow TCG
run is explained before it starts rather than guessed at afterwards."""

from __future__ import annotations

from collections.abc import Iterable

from .accel import _verdict_file
from .machine import detect_accelerator


def accelerator_line(requested: Iterable[str]) -> str:
    """``requested`` holds each qemu builder's ``accelerator`` key ("" when not set)."""
    named = sorted({name.strip().lower() for name in requested if name.strip()})
    unset = any(not name.strip() for name in requested)
    parts = [f"{name} (template's accelerator)" for name in named]
    if unset:
        if detect_accelerator() != "kvm":
            parts.append("tcg (no usable /dev/kvm: software emulation, slow)")
        elif _verdict_file().exists():
            parts.append("tcg (KVM failed earlier since this host booted)")
        else:
            parts.append("kvm (/dev/kvm works; falls back to tcg if the guest fails)")
    return "imagebuild: qemu accelerator: " + ", ".join(parts)


def header_line(configs: Iterable[dict]) -> str:
    """The header line for the run's qemu builds, from their builder configs."""
    return accelerator_line([str(config.get("accelerator", "")) for config in configs])
