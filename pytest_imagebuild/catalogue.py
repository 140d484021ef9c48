"""One catalogue of what the plugin can do, filled by the providers themselves.

A provider (``azure``, ``qemu``, ``null`` here; a third party's package elsewhere) describes
itself with one :class:`Provider`: its builder types, the launcher for its artifacts, its
journal cleaners, its template keys and validation rules, its pytest options, and whether its
builds are recorded in cassettes. Classes are named as ``"module:attribute"`` strings and
imported on first use, so a run that never builds on Azure never imports the Azure SDK.

Providers come from three places, in this order: the built-in ones listed below, the entry
point group ``pytest_imagebuild.providers`` (a package's ``pyproject.toml`` names a
``Provider`` object there), and the ``pytest_imagebuild_providers`` hook (a ``conftest.py``
returns a list of them). Adding a builder type is its package plus one such line.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from typing import Any

from .errors import ImagebuildError

ENTRY_POINT_GROUP = "pytest_imagebuild.providers"
BUILTIN_PROVIDERS = (
    "pytest_imagebuild.azure:PROVIDER",
    "pytest_imagebuild.qemu:PROVIDER",
    "pytest_imagebuild.null:PROVIDER",
)
# The generic provisioners and post-processors: they work through any communicator.
CORE_PROVISIONERS = {
    "shell": "pytest_imagebuild.provisioners.shell:provision",
    "file": "pytest_imagebuild.provisioners.file:provision",
    "shell-local": "pytest_imagebuild.provisioners.shell_local:provision",
    "breakpoint": "pytest_imagebuild.provisioners.shell_local:breakpoint_provision",
    "powershell": "pytest_imagebuild.provisioners.powershell:provision",
    "windows-restart": "pytest_imagebuild.provisioners.windows_restart:provision",
    "windows-shell": "pytest_imagebuild.provisioners.windows_shell:provision",
}
CORE_POST_PROCESSORS = {
    "manifest": "pytest_imagebuild.postprocessors.manifest:post_process",
    "checksum": "pytest_imagebuild.postprocessors.checksum:post_process",
    "shell-local": "pytest_imagebuild.postprocessors.shell_local:post_process",
}


class NotAvailable(ImagebuildError):
    """A type the template may name (Packer knows it) that no provider here implements."""


@dataclass(frozen=True)
class BuilderType:
    """One builder type: how to build, check and launch it. Targets are "module:attribute"."""

    builder: str
    launcher: str = ""
    artifact_id: str = ""  # Packer's BuilderId, carried by the artifacts the builder makes
    fields: str = ""  # a FieldTypes dict of the builder's own keys
    nested_fields: str = ""  # top-level key -> FieldTypes of a nested struct
    deprecated_keys: str = ""  # a frozenset of keys Packer calls deprecated for this builder
    rules: str = ""  # rule(config, path, report, build_name) for what Prepare rejects
    run_settings: str = ""  # settings(config, options, recorded) -> provider settings of a run
    journal_data: str = ""  # data(config, settings) -> what the janitor needs, never secrets
    recorded: bool = False  # its HTTP goes to cassettes (cloud builders)
    header: str = ""  # header(configs) -> a report-header line about the run's builds of it
    # Part of every build key: bump it when the builder makes a different image from the same
    # template, so images built before are not reused (pytest_imagebuild.buildkey).
    semantics_version: str = "1"
    reuse: str = ""  # a class finding, keeping and removing images by build key (--image-reuse)
    # Keys Packer honours that a build here refuses, and keys it ignores (tuples of names);
    # validate warns of both, and the README's catalogue lists them.
    unsupported_keys: str = ""
    ignored_keys: str = ""


@dataclass(frozen=True)
class Provider:
    """What one provider package contributes."""

    name: str
    builders: Mapping[str, BuilderType] = field(default_factory=dict)
    provisioners: Mapping[str, str] = field(default_factory=dict)
    post_processors: Mapping[str, str] = field(default_factory=dict)
    cleaners: Mapping[str, str] = field(default_factory=dict)  # journal kind -> Cleaner class
    add_options: str = ""  # add_options(parser): the provider's own pytest options
    settings: str = ""  # settings(option) -> its run settings from those options (plain strings)
    can_record: str = ""  # can_record(settings) -> whether credentials for live calls are set
    commands: str = ""  # add_commands(subparsers): its own `python -m pytest_imagebuild` commands
    janitor_options: str = ""  # add(parser): its options of the janitor command
    removal_hints: Mapping[str, str] = field(default_factory=dict)  # journal kind -> command


def load(target: str) -> Any:
    """The attribute a "module:attribute" string names."""
    module, _, name = target.partition(":")
    return getattr(importlib.import_module(module), name)


@dataclass
class Catalogue:
    """Every provider's contributions, merged; a later provider cannot shadow a name."""

    providers: list[Provider] = field(default_factory=list)
    builders: dict[str, BuilderType] = field(default_factory=dict)
    provisioners: dict[str, str] = field(default_factory=lambda: dict(CORE_PROVISIONERS))
    post_processors: dict[str, str] = field(default_factory=lambda: dict(CORE_POST_PROCESSORS))
    cleaners: dict[str, str] = field(default_factory=dict)
    removal_hints: dict[str, str] = field(
        default_factory=lambda: {"process": "kill {name}", "path": "rm -rf {name}"}
    )

    def add(self, provider: Provider) -> None:
        if any(p.name == provider.name for p in self.providers):
            return
        tables: list[tuple[dict[str, Any], Mapping[str, Any], str]] = [
            (self.builders, provider.builders, "builder"),
            (self.provisioners, provider.provisioners, "provisioner"),
            (self.post_processors, provider.post_processors, "post-processor"),
            (self.cleaners, provider.cleaners, "cleaner"),
        ]
        for table, new, kind in tables:
            clash = sorted(set(table) & set(new))
            if clash:
                raise ImagebuildError(
                    f"provider {provider.name!r} registers the {kind} type {clash[0]!r}, "
                    "which another provider already registered"
                )
        for table, new, _ in tables:
            table.update(new)
        self.removal_hints.update(provider.removal_hints)
        self.providers.append(provider)

    # -- builders -------------------------------------------------------------------------
    def builder_type(self, type_name: str) -> BuilderType | None:
        return self.builders.get(type_name)

    def builder_class(self, type_name: str) -> Any:
        entry = self.builders.get(type_name)
        if entry is None or not entry.builder:
            implemented = ", ".join(sorted(k for k, v in self.builders.items() if v.builder))
            raise NotAvailable(
                f"builder type {type_name!r} is not available in pytest-imagebuild "
                f"(implemented builder types: {implemented}); pytest-imagebuild did not check "
                "its keys either, so only `packer validate` can say whether they are right."
            )
        return load(entry.builder)

    def recorded(self, type_name: str) -> bool:
        entry = self.builders.get(type_name)
        return bool(entry and entry.recorded)

    def builder_table(self, type_name: str, table: str, default: Any) -> Any:
        """A builder's fields, nested fields or deprecated keys (``default`` if it has none)."""
        entry = self.builders.get(type_name)
        target = getattr(entry, table, "") if entry else ""
        return load(target) if target else default

    def builder_rule(self, type_name: str) -> Callable[..., None] | None:
        entry = self.builders.get(type_name)
        return load(entry.rules) if entry and entry.rules else None

    def launcher_class(self, artifact_id: str) -> Any:
        for entry in self.builders.values():
            if entry.artifact_id == artifact_id and entry.launcher:
                return load(entry.launcher)
        raise ImagebuildError(f"no launcher can start a VM from a {artifact_id} artifact")

    # -- stages, cleaners, options --------------------------------------------------------
    def provisioner(self, type_name: str) -> Any:
        return self._stage(self.provisioners, type_name, "provisioner")

    def post_processor(self, type_name: str) -> Any:
        return self._stage(self.post_processors, type_name, "post-processor")

    @staticmethod
    def _stage(table: Mapping[str, str], type_name: str, kind: str) -> Any:
        target = table.get(type_name)
        if target is None:
            raise NotAvailable(
                f"{kind} type {type_name!r} is not available in pytest-imagebuild "
                f"(available: {', '.join(sorted(table))})"
            )
        return load(target)

    def cleaner_class(self, kind: str) -> Any | None:
        target = self.cleaners.get(kind)
        return load(target) if target else None

    def removal_hint(self, kind: str, name: str) -> str:
        return self.removal_hints.get(kind, "{kind} {name}").format(kind=kind, name=name)

    def provider_of(self, type_name: str) -> Provider | None:
        return next((p for p in self.providers if type_name in p.builders), None)

    def option_adders(self) -> Iterable[Callable[[Any], None]]:
        return [load(p.add_options) for p in self.providers if p.add_options]

    def command_adders(self) -> Iterable[Callable[[Any], None]]:
        return [load(p.commands) for p in self.providers if p.commands]

    def janitor_option_adders(self) -> Iterable[Callable[[Any], None]]:
        return [load(p.janitor_options) for p in self.providers if p.janitor_options]

    def provider_settings(self, option: Any) -> dict[str, dict[str, str]]:
        """Each provider's run settings, read from the parsed command line."""
        return {p.name: dict(load(p.settings)(option)) for p in self.providers if p.settings}

    def can_record(self, settings: Mapping[str, Mapping[str, str]]) -> bool:
        """Whether any recorded provider has credentials (or an endpoint) for live calls."""
        return any(
            load(p.can_record)(settings.get(p.name, {})) for p in self.providers if p.can_record
        )


def _discover() -> Catalogue:
    catalogue = Catalogue()
    for target in BUILTIN_PROVIDERS:
        catalogue.add(load(target))
    for point in entry_points(group=ENTRY_POINT_GROUP):
        try:
            provider = point.load()
        except Exception as error:  # a broken third-party package must not stop pytest
            raise ImagebuildError(
                f"the pytest-imagebuild provider {point.name!r} ({point.value}) failed to load: "
                f"{type(error).__name__}: {error}"
            ) from None
        catalogue.add(provider)
    return catalogue


_CATALOGUE: Catalogue | None = None


def catalogue() -> Catalogue:
    """The session's catalogue: built-in providers, then entry points, then hook results."""
    global _CATALOGUE
    if _CATALOGUE is None:
        _CATALOGUE = _discover()
    return _CATALOGUE


def add_providers(providers: Iterable[Provider]) -> None:
    """Providers a ``pytest_imagebuild_providers`` hook returned (a conftest's own builders)."""
    for provider in providers:
        catalogue().add(provider)


def reset() -> None:
    """Forget hook-added providers: a conftest's builders belong to its session only."""
    global _CATALOGUE
    _CATALOGUE = None
