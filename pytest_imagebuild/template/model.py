"""The parsed template: builders, provisioners and post-processors, and one plan per build."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..secrets import SENSITIVE_FIELDS
from .functions import RunContext
from .jsonsource import JsonPath, SourceMap
from .variables import Variables


@dataclass
class BuilderSpec:
    name: str
    type: str
    config: dict[str, Any]
    path: JsonPath


@dataclass
class ProvisionerSpec:
    type: str
    config: dict[str, Any]
    path: JsonPath
    only: list[str] = field(default_factory=list)
    except_: list[str] = field(default_factory=list)
    pause_before: float = 0.0
    max_retries: int = 0
    timeout: float | None = None
    override: dict[str, dict[str, Any]] = field(default_factory=dict)

    def applies_to(self, build_name: str) -> bool:
        if self.only and build_name not in self.only:
            return False
        return build_name not in self.except_

    def config_for(self, build_name: str) -> dict[str, Any]:
        merged = copy.deepcopy(self.config)
        merged.update(copy.deepcopy(self.override.get(build_name, {})))
        return merged

    def source_path(self, build_name: str, path: JsonPath) -> JsonPath:
        """Where a path into config_for(build_name) was written: the override or the provisioner."""
        depth = len(self.path)
        if (
            len(path) > depth
            and path[:depth] == self.path
            and path[depth] in self.override.get(build_name, {})
        ):
            return (*self.path, "override", build_name, *path[depth:])
        return path


@dataclass
class PostProcessorSpec:
    type: str
    config: dict[str, Any]
    path: JsonPath
    name: str = ""
    only: list[str] = field(default_factory=list)
    except_: list[str] = field(default_factory=list)
    keep_input_artifact: bool | None = None

    @property
    def display_name(self) -> str:
        return self.name or self.type

    def applies_to(self, build_name: str) -> bool:
        if self.only and build_name not in self.only:
            return False
        return build_name not in self.except_


@dataclass
class Template:
    path: Path
    source: SourceMap
    run: RunContext
    variables: Variables
    description: str = ""
    min_packer_version: str = ""
    builders: list[BuilderSpec] = field(default_factory=list)
    provisioners: list[ProvisionerSpec] = field(default_factory=list)
    post_processors: list[list[PostProcessorSpec]] = field(default_factory=list)
    error_cleanup_provisioner: ProvisionerSpec | None = None

    @property
    def directory(self) -> Path:
        return self.path.parent

    @property
    def build_names(self) -> list[str]:
        return [builder.name for builder in self.builders]

    def builder(self, name: str) -> BuilderSpec:
        for builder in self.builders:
            if builder.name == name:
                return builder
        raise KeyError(name)


@dataclass
class Stage:
    """A provisioner or post-processor as it runs in one build: spec plus rendered config."""

    spec: ProvisionerSpec | PostProcessorSpec
    config: dict[str, Any]
    # A value that could not be rendered stays as written; its rules are then not checked.
    render_failed: bool = False

    @property
    def type(self) -> str:
        return self.spec.type


@dataclass
class BuildPlan:
    """Everything one build needs, rendered with its build_name and build_type."""

    template: Template
    name: str
    type: str
    config: dict[str, Any]
    provisioners: list[Stage]
    post_processors: list[list[Stage]]
    path: JsonPath
    error_cleanup: Stage | None = None
    render_failed: bool = False

    def secrets(self) -> set[str]:
        """Values to mask in every log line: sensitive variables and well-known secret fields."""
        values = self.template.variables.secret_values()
        for section in [self.config, *(stage.config for stage in self.provisioners)]:
            values |= {
                str(section[key]) for key in SENSITIVE_FIELDS & section.keys() if section[key]
            }
        return values
