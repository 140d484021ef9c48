"""The reuse options: --image-reuse, --image-force, --image-keep and the image cache's ini keys."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import ImagebuildError

KEEP_CHOICES = ("never", "on-failure", "always")
DEFAULT_CACHE_SIZE = "20G"
_UNITS = {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}


def add_options(group: Any, parser: Any) -> None:
    group.addoption(
        "--image-reuse",
        action="store_true",
        default=None,
        help="reuse an image (and a kept VM) whose build key matches instead of building; "
        "built images are kept in the image cache (qemu) or tagged imagebuild-key (Azure).",
    )
    group.addoption(
        "--image-force",
        action="store_true",
        default=False,
        help="like packer build -force: replace an existing artifact of the same name.",
    )
    group.addoption(
        "--image-keep",
        default=None,
        choices=KEEP_CHOICES,
        help="keep the smoke-test VM after the tests: never (default), on-failure, always; "
        "prints how to log in. `python -m pytest_imagebuild list`/`destroy` manage kept VMs.",
    )
    parser.addini("image_reuse", type="bool", default=False, help="default for --image-reuse.")
    parser.addini("image_keep", default="never", help="default for --image-keep.")
    parser.addini(
        "image_cache_dir",
        default="",
        help="where reusable images are kept (default $PYTEST_IMAGEBUILD_CACHE/images or "
        "~/.cache/pytest-imagebuild/images).",
    )
    parser.addini(
        "image_cache_size",
        default=DEFAULT_CACHE_SIZE,
        help="size limit of the image cache, e.g. 20G; least recently used images go first.",
    )


def default_cache_root() -> Path:
    """$PYTEST_IMAGEBUILD_CACHE, else $XDG_CACHE_HOME/pytest-imagebuild, else ~/.cache/..."""
    root = os.environ.get("PYTEST_IMAGEBUILD_CACHE")
    if root:
        return Path(root)
    xdg = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(xdg) / "pytest-imagebuild"


def parse_size(text: str, what: str = "image_cache_size") -> int:
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([KMGT]?)I?B?\s*", text.upper())
    if not match:
        raise ImagebuildError(f"{what} = {text!r}: not a size such as 20G, 500M or 1073741824")
    return int(float(match.group(1)) * _UNITS[match.group(2)])


def ini_bool(config: Any, name: str) -> bool:
    """A bool ini key; a value pytest cannot read as one is a usage error naming the key."""
    try:
        return bool(config.getini(name))
    except ValueError:
        raw = config.inicfg.get(name, "") if hasattr(config, "inicfg") else ""
        shown = f" = {raw!r}" if isinstance(raw, str) and raw else ""
        raise ImagebuildError(
            f"{name}{shown} is not a boolean: use true or false (1/0, yes/no, on/off)"
        ) from None


@dataclass(frozen=True)
class ReuseSettings:
    reuse: bool = False
    force: bool = False
    keep: str = "never"
    cache_dir: Path = field(default_factory=lambda: default_cache_root() / "images")
    cache_size: int = parse_size(DEFAULT_CACHE_SIZE)

    @classmethod
    def from_config(cls, config: Any) -> ReuseSettings:
        option = config.option
        reuse = option.image_reuse if option.image_reuse is not None else ini_bool(
            config, "image_reuse"
        )
        keep = option.image_keep or config.getini("image_keep") or "never"
        if keep not in KEEP_CHOICES:
            raise ImagebuildError(f"image_keep = {keep!r}: not one of {', '.join(KEEP_CHOICES)}")
        cache_dir = config.getini("image_cache_dir")
        default_dir = default_cache_root() / "images"
        return cls(
            reuse=bool(reuse),
            force=bool(option.image_force),
            keep=keep,
            cache_dir=(config.rootpath / cache_dir) if cache_dir else default_dir,
            cache_size=parse_size(config.getini("image_cache_size") or DEFAULT_CACHE_SIZE),
        )

    @property
    def keys_builds(self) -> bool:
        """Whether builds carry their key (tagged on Azure): needed to find them again."""
        return self.reuse or self.keep != "never"
