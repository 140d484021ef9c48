"""``python -m pytest_imagebuild``: chores outside a test run (base images, the janitor).

Errors a user can fix print as one paragraph and exit 2; only bugs show a traceback.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from .errors import ImagebuildError

Handler = Callable[[argparse.Namespace], int]


def _base_image(args: argparse.Namespace) -> int:
    from .builders.qemu.base_image import ensure_base_image

    path = ensure_base_image(args.distro, args.out)
    print(path)
    return 0


def _janitor(args: argparse.Namespace) -> int:
    from .cleanup.command import JanitorRequest, azure_from_env, run_janitor

    request = JanitorRequest(args.yes, args.older_than, args.state_dir, azure_from_env(args.cloud))
    if not args.verbose:  # the janitor reports Azure failures itself, once, secrets masked
        logging.getLogger("azure").setLevel(logging.CRITICAL)
    return run_janitor(request)


def _add_janitor(commands: argparse._SubParsersAction) -> None:
    janitor = commands.add_parser(
        "janitor",
        help="list (and with --yes delete) what earlier runs left behind",
        description="Find what earlier pytest-imagebuild runs created and never removed: QEMU "
        "processes and files named in their journals, and Azure resource groups from those "
        "journals or tagged imagebuild-run/imagebuild-launch, whose run is over (or older than "
        "--older-than). Azure credentials come from ARM_* or AZURE_* environment variables.",
    )
    janitor.add_argument("--yes", action="store_true", help="delete what is listed")
    janitor.add_argument(
        "--older-than",
        default="",
        metavar="DURATION",
        help="also take runs still going but older than this, e.g. 2h; spares runs whose age "
        "cannot be told",
    )
    janitor.add_argument(
        "--state-dir",
        default="",
        metavar="DIR",
        help="where journals are kept (default $IMAGEBUILD_STATE_DIR or "
        "~/.local/state/pytest-imagebuild)",
    )
    janitor.add_argument(
        "--cloud",
        default="Public",
        help="Azure cloud to search for tagged groups (Public, China, USGovernment); "
        "$IMAGEBUILD_AZURE_ARM_URL overrides its endpoint",
    )
    janitor.set_defaults(handler=_janitor)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m pytest_imagebuild",
        description="Chores for pytest-imagebuild outside a test run.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log every command run")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    base = commands.add_parser(
        "base-image",
        help="build (or reuse from the cache) a bootable cloud-style qcow2 with debootstrap",
        description="Build a bootable qcow2 (extlinux, DHCP, sshd, cloud-init) as root, "
        "cached under $PYTEST_IMAGEBUILD_CACHE/base-images; optionally copy it to OUT.",
    )
    base.add_argument("distro", help="which system, e.g. debian-12")
    base.add_argument("out", nargs="?", type=Path, help="where to copy the image (.qcow2)")
    base.set_defaults(handler=_base_image)
    _add_janitor(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(asctime)s %(message)s",
        stream=sys.stderr,
    )
    handler: Handler = args.handler
    try:
        return handler(args)
    except ImagebuildError as error:
        print(f"pytest-imagebuild: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("pytest-imagebuild: interrupted", file=sys.stderr)
        return 130
