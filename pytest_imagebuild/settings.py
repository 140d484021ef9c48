"""The plugin's command-line options and ini keys, read once into a Settings object."""

from __future__ import annotations

import glob
import os
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from .catalogue import catalogue
from .errors import ImagebuildError, printable
from .recording.modes import MODES, RECORDING_MODES, REWRITING_MODES, check_mode
from .reuse import settings as reuse_settings
from .template.hcl2.parse import is_configuration_folder
from .template.names import TEMPLATE_SUFFIXES, is_template_name
from .template.variables import parse_cli_var


def add_options(parser: pytest.Parser) -> None:
    group = parser.getgroup("imagebuild", "machine-image templates (pytest-imagebuild)")
    group.addoption(
        "--image-template",
        action="append",
        default=[],
        metavar="PATH",
        help="Packer template to validate and build: a JSON file, a .pkr.hcl file or a folder "
        "of them; repeatable, globs allowed.",
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
        help="file of template variables (like packer -var-file): JSON, or .pkrvars.hcl for "
        "HCL2; later files win.",
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
        "--image-on-error",
        default=None,
        choices=("cleanup", "abort"),
        help="cleanup (default): remove everything a failed build created; "
        "abort: keep it for debugging and print how to remove it.",
    )
    group.addoption(
        "--image-record-mode",
        default=None,
        choices=MODES,
        help="how builds on cloud builders use cassettes (as in vcrpy): none replays only; "
        "once records a missing cassette; new_episodes adds new requests; all re-records "
        "everything; rewrite deletes and re-records. Default: none, or once when Azure "
        "credentials are set.",
    )
    group.addoption(
        "--image-block-network",
        action="store_true",
        default=False,
        help="refuse every network connection made while a cassette is in use (replays always do).",
    )
    group.addoption(
        "--image-allowed-hosts",
        default=None,
        metavar="HOSTS",
        help="comma-separated hosts (host or host:port) still reachable while the network is "
        "blocked for a cassette, e.g. a local service your smoke tests need.",
    )
    parser.addini(
        "image_allowed_hosts",
        type="args",
        default=[],
        help="default for --image-allowed-hosts (whitespace-separated).",
    )
    parser.addini("image_record_mode", default="", help="default for --image-record-mode.")
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
    parser.addini("image_on_error", default="cleanup", help="default for --image-on-error.")
    reuse_settings.add_options(group, parser)
    for add_provider_options in catalogue().option_adders():
        add_provider_options(parser)


ON_ERROR_CHOICES = ("cleanup", "abort")


def _on_error(value: str) -> str:
    """--image-on-error or the image_on_error ini key; a typo is a usage error, not cleanup."""
    value = (value or "cleanup").strip()
    if value not in ON_ERROR_CHOICES:
        raise ImagebuildError(
            f"image_on_error = {value!r} is not one of {', '.join(ON_ERROR_CHOICES)} "
            "(--image-on-error / the image_on_error ini key)"
        )
    return value


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
    providers: dict[str, dict[str, str]] = field(default_factory=dict)  # provider -> settings
    record_mode: str = ""
    block_network: bool = False
    cassette_dir: Path = Path("cassettes")
    reuse: reuse_settings.ReuseSettings = field(default_factory=reuse_settings.ReuseSettings)
    rootdir: Path = Path(".")  # cassette folders mirror template paths relative to it
    allowed_hosts: tuple[str, ...] = ()

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
        settings = cls(
            templates=expand_templates(patterns, base),
            variables=variables,
            # abspath, not resolve(): /dev/fd/N from a shell's <(...) must keep naming the pipe
            var_files=tuple(Path(os.path.abspath(f)) for f in option.image_var_file),
            only=_names(option.image_only),
            except_=_names(option.image_except),
            on_error=_on_error(option.image_on_error or config.getini("image_on_error")),
            providers=catalogue().provider_settings(option),
            record_mode=check_mode(
                option.image_record_mode or config.getini("image_record_mode") or ""
            ),
            block_network=option.image_block_network,
            cassette_dir=config.rootpath / config.getini("image_cassette_dir"),
            reuse=reuse_settings.ReuseSettings.from_config(config),
            rootdir=config.rootpath,
            allowed_hosts=_names(option.image_allowed_hosts)
            if option.image_allowed_hosts is not None
            else tuple(config.getini("image_allowed_hosts")),
        )
        settings.refuse_recording_without_credentials()
        return settings

    def refuse_recording_without_credentials(self) -> None:
        """new_episodes, all and rewrite change cassettes that exist: without credentials
        every build would fail and leave them emptied or deleted, so refuse before any file
        is touched."""
        if self.record_mode in REWRITING_MODES and not catalogue().can_record(self.providers):
            raise ImagebuildError(
                f"--image-record-mode={self.record_mode} re-records cassettes, which needs "
                "credentials for a live build, and none are set; nothing was changed. Set "
                "ARM_CLIENT_ID, ARM_CLIENT_SECRET, ARM_TENANT_ID and ARM_SUBSCRIPTION_ID (or "
                "ARM_USE_AZURE_CLI_AUTH=true, ARM_USE_MSI=true, or --image-azure-arm-url), or "
                "drop --image-record-mode to replay the cassettes as they are."
            )

    def provider_settings(self, builder_type: str) -> dict[str, str]:
        """The run settings of the provider that implements this builder type."""
        provider = catalogue().provider_of(builder_type)
        return self.providers.get(provider.name, {}) if provider else {}

    def may_go_live(self) -> bool:
        """Whether cloud builds may use live credentials: the user asked to record or set
        credentials (see each provider's can_record)."""
        return self.record_mode in RECORDING_MODES or catalogue().can_record(self.providers)

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
        if not pattern.strip():
            raise ImagebuildError("--image-template '': the path is empty; name a template file")
        full = str(base / pattern)
        matches = sorted(glob.glob(full, recursive=True)) if glob.has_magic(pattern) else [full]
        if not matches or not all(
            Path(m).is_file() or is_configuration_folder(Path(m)) for m in matches
        ):
            reason = _not_a_template(matches)
            raise ImagebuildError(f"--image-template {printable(pattern)}: {reason}")
        for match in matches:
            if Path(match).is_file() and not is_template_name(Path(match).name):
                raise ImagebuildError(
                    f"--image-template {printable(pattern)}: {printable(match)} is not a template: "
                    f"its name must end in {', '.join(sorted(TEMPLATE_SUFFIXES, key=len))}"
                )
        found += [Path(m).resolve() for m in matches if Path(m).resolve() not in found]
    return tuple(found)


def _not_a_template(matches: list[str]) -> str:
    """Why what a --image-template pattern names cannot be a template, in a few words."""
    if not matches:
        return "no such template file (nothing matches it)"
    for match in matches:
        path = Path(match)
        if path.is_file() or is_configuration_folder(path):
            continue
        if path.is_dir():
            return f"{printable(match)} is a folder without .pkr.hcl or .pkr.json files"
        if path.is_symlink() and not path.exists():
            return f"{printable(match)} is a broken symbolic link (or a loop of them)"
        if path.exists():
            return f"{printable(match)} is not a regular file (a device, pipe or socket)"
        return f"no such template file: {printable(match)}"
    return "no such template file"
