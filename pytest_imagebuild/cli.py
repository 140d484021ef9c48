"""``python -m pytest_imagebuild``: chores outside a test run (base images, the janitor).

Errors a user can fix print as one paragraph and exit 2; only bugs show a traceback.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable, Sequence

from . import __version__
from .catalogue import catalogue
from .errors import ImagebuildError

Handler = Callable[[argparse.Namespace], int]


def _janitor(args: argparse.Namespace) -> int:
    from .cleanup.command import JanitorRequest, run_janitor

    settings = catalogue().provider_settings(args)
    request = JanitorRequest(args.yes, args.older_than, args.state_dir, settings)
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
    for add_options in catalogue().janitor_option_adders():
        add_options(janitor)
    janitor.set_defaults(handler=_janitor)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m pytest_imagebuild",
        description="Chores for pytest-imagebuild outside a test run.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log every command run")
    parser.add_argument(
        "--version", action="version", version=f"pytest-imagebuild {__version__}"
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for add_commands in catalogue().command_adders():
        add_commands(commands)
    _add_janitor(commands)
    from .reuse.commands import add_commands as add_reuse_commands

    add_reuse_commands(commands)
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
