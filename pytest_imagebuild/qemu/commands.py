"""The qemu provider's own command: ``python -m pytest_imagebuild base-image``."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any


def _base_image(args: argparse.Namespace) -> int:
    from .base_image import ensure_base_image

    path = ensure_base_image(args.distro, args.out)
    print(path)
    return 0


def add_commands(commands: Any) -> None:
    base = commands.add_parser(
        "base-image",
        help="build (or reuse from the cache) a bootable cloud-style qcow2 with debootstrap",
        description="Build a bootable qcow2 (extlinux, DHCP, sshd, cloud-init) as root, "
        "cached under $PYTEST_IMAGEBUILD_CACHE/base-images; optionally copy it to OUT.",
    )
    base.add_argument("distro", help="which system, e.g. debian-12")
    base.add_argument("out", nargs="?", type=Path, help="where to copy the image (.qcow2)")
    base.set_defaults(handler=_base_image)
