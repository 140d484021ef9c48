"""The plugin's command-line options and ini keys, read once into a Settings object."""

from __future__ import annotations

import glob
import os
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from .builders.azure_arm.endpoints import AzureEndpoints
from .errors import ImagebuildError
from .recording.modes import MODES, check_mode
from .template.variables import parse_cli_var


def add_options(parser: pytest.Parser) -> None:
    group = parser.getgroup("imagebuild", "machine-image templates (pytest-imagebuild)")
    group.addoption(
        "--image-template",
        action="append",
        default=[],
        metavar="PATH",
        help="Packer JSON template to validate and build; repeatable, globs allowed.",
    )
    group.addoption(
        "--image-var",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="set a template variable (like packer -var); beats every var file.",
    )
    group.addoption(
        "--image-var-file",
        action="append",
        default=[],
        metavar="FILE",
        help="JSON file of template variables (like packer -var-file); later files win.",
    )
    group.addoption(
        "--image-only",
        default="",
        metavar="NAMES",
        help="comma-separated build names to run, like packer -only.",
    )
    group.addoption(
        "--image-except",
        default="",
        metavar="NAMES",
        help="comma-separated build names to skip, like packer -except.",
    )
    group.addoption(
        "--on-error",
        default=None,
        choices=("cleanup", "abort"),
        help="cleanup (default): remove everything a failed build created; "
        "abort: keep it for debugging and print how to remove it.",
    )
    group.addoption(
        "--azure-arm-url",
        default=os.environ.get("IMAGEBUILD_AZURE_ARM_URL", ""),
        metavar="URL",
        help="Azure Resource Manager endpoint to use instead of the template's cloud "
        "(Azure Stack, custom clouds, a test stand-in); default $IMAGEBUILD_AZURE_ARM_URL.",
    )
    group.addoption(
        "--azure-authority",
        default=os.environ.get("AZURE_AUTHORITY_HOST", ""),
        metavar="URL",
        help="token authority to use with --azure-arm-url; default $AZURE_AUTHORITY_HOST.",
    )
    group.addoption(
        "--azure-ca-bundle",
        default=os.environ.get("IMAGEBUILD_AZURE_CA_BUNDLE", ""),
        metavar="FILE",
        help="CA certificates to trust for those endpoints; default $IMAGEBUILD_AZURE_CA_BUNDLE.",
    )
    group.addoption(
        "--record-mode",
        default=None,
        choices=MODES,
        help="how builds on cloud builders use cassettes (as in vcrpy): none replays only; "
        "once records a missing cassette; new_episodes adds new requests; all re-records "
        "everything; rewrite deletes and re-records. Default: none, or once when Azure "
        "credentials are set.",
    )
    group.addoption(
        "--block-network",
        action="store_true",
        default=False,
        help="refuse every network connection made while a cassette is in use (replays always do).",
    )
    parser.addini("record_mode", default="", help="default for --record-mode.")
    parser.addini(
        "image_cassette_dir",
        default="cassettes",
        help="where cassettes live, relative to the rootdir (default: cassettes).",
    )
    parser.addini(
        "image_templates",
        type="args",
        default=[],
        help="Packer JSON templates to collect when --image-template is not given.",
    )
    parser.addini("image_on_error", default="cleanup", help="default for --on-error.")


def _names(text: str) -> tuple[str, ...]:
    return tuple(name.strip() for name in text.split(",") if name.strip())


@dataclass(frozen=True)
class Settings:
    templates: tuple[Path, ...] = ()
    variables: dict[str, str] = field(default_factory=dict)
    var_files: tuple[Path, ...] = ()
    only: tuple[str, ...] = ()
    except_: tuple[str, ...] = ()
    on_error: str = "cleanup"
    azure_endpoints: AzureEndpoints = field(default_factory=AzureEndpoints)
    record_mode: str = ""
    block_network: bool = False
    cassette_dir: Path = Path("cassettes")

    @classmethod
    def from_config(cls, config: pytest.Config) -> Settings:
        option = config.option
        patterns = option.image_template or config.getini("image_templates")
        base = Path.cwd() if option.image_template else config.rootpath
        variables = {}
        for text in option.image_var:
            try:
                name, value = parse_cli_var(text)
            except ValueError as error:
                raise pytest.UsageError(str(error)) from None
            variables[name] = value
        return cls(
            templates=expand_templates(patterns, base),
            variables=variables,
            # abspath, not resolve(): /dev/fd/N from a shell's <(...) must keep naming the pipe
            var_files=tuple(Path(os.path.abspath(f)) for f in option.image_var_file),
            only=_names(option.image_only),
            except_=_names(option.image_except),
            on_error=option.on_error or config.getini("image_on_error") or "cleanup",
            azure_endpoints=AzureEndpoints(
                option.azure_arm_url, option.azure_authority, option.azure_ca_bundle
            ),
            record_mode=check_mode(option.record_mode or config.getini("record_mode") or ""),
            block_network=option.block_network,
            cassette_dir=config.rootpath / config.getini("image_cassette_dir"),
        )

    def selects(self, build_name: str) -> bool:
        if self.only and build_name not in self.only:
            return False
        return build_name not in self.except_


def display_path(path: Path) -> Path:
    """A path as users typed it: relative to the working directory when it lies below it."""
    try:
        return path.relative_to(Path.cwd())
    except ValueError:
        return path


def expand_templates(patterns: list[str], base: Path) -> tuple[Path, ...]:
    """Resolve paths and globs; a pattern matching nothing is a usage error, not silence."""
    found: list[Path] = []
    for pattern in patterns:
        full = str(base / pattern)
        matches = sorted(glob.glob(full, recursive=True)) if glob.has_magic(pattern) else [full]
        if not matches or not all(Path(m).is_file() for m in matches):
            raise ImagebuildError(f"--image-template {pattern}: no such template file")
        found += [Path(m).resolve() for m in matches if Path(m).resolve() not in found]
    return tuple(found)
