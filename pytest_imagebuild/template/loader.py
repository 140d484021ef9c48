"""Reading a template file into a Template, collecting every structural problem at once."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ..bounded_read import InputFileError, read_text_bounded
from ..errors import Caveat, Problem, TemplateError
from .durations import parse_duration
from .functions import PACKER_COMPAT_VERSION, RunContext
from .hints import did_you_mean
from .jsonsource import JsonPath, SourceMap, json_kind, parse_json
from .model import BuilderSpec, PostProcessorSpec, ProvisionerSpec, Template
from .types import describe
from .variables import resolve_variables

ROOT_KEYS = (
    "description",
    "min_packer_version",
    "variables",
    "sensitive-variables",
    "builders",
    "provisioners",
    "post-processors",
    "error-cleanup-provisioner",
)
PROVISIONER_COMMON = (
    "type",
    "only",
    "except",
    "pause_before",
    "max_retries",
    "timeout",
    "override",
)
POST_PROCESSOR_COMMON = ("type", "name", "only", "except", "keep_input_artifact")


# hashicorp/go-version's grammar, which Packer uses to read min_packer_version.
_VERSION = re.compile(
    r"^v?(?P<segments>[0-9]+(?:\.[0-9]+)*?)"
    r"(?:-[0-9]+[0-9A-Za-z\-~]*(?:\.[0-9A-Za-z\-~]+)*"
    r"|-?[A-Za-z\-~]+[0-9A-Za-z\-~]*(?:\.[0-9A-Za-z\-~]+)*)?"
    r"(?:\+[0-9A-Za-z\-~]+(?:\.[0-9A-Za-z\-~]+)*)?$"
)


class _Reader:
    """Walks the parsed JSON, turning shapes into specs and wrong shapes into Problems."""

    def __init__(self, data: dict[str, Any], source: SourceMap):
        self.data = data
        self.source = source
        self.problems: list[Problem] = []

    def problem(self, path: JsonPath, message: str) -> None:
        self.problems.append(self.source.problem(path, message))

    def root_keys(self) -> None:
        for key, value in self.data.items():
            if key.startswith("_"):
                if not isinstance(value, str):
                    self.problem(
                        (key,),
                        f"a root level comment must be a string, got {json_kind(value)} "
                        f'(Packer: Failed to cast root level comment value in comment "{key}" '
                        "to string)",
                    )
            elif key == "push":
                self.push(value)
            elif key not in ROOT_KEYS:
                self.problem(
                    (key,),
                    f"unknown root level key in template: '{key}'" + did_you_mean(key, ROOT_KEYS),
                )

    def push(self, value: Any) -> None:
        """Atlas `push` settings: Packer 1.6.6 still decodes them as an object and ignores them."""
        if value is None or isinstance(value, dict):
            self.problem(
                ("push",),
                Caveat("'push' (the retired Atlas push settings) is ignored, as Packer ignores it"),
            )
        else:
            self.problem(
                ("push",),
                f"'push' must be an object, got {json_kind(value)} (Packer: 'Push' expected a map)",
            )

    def duplicate_keys(self) -> None:
        for path, first_line in self.source.duplicates:
            self.problem(
                path,
                f"template has duplicate field: {path[-1]} (already set on line {first_line}; "
                "only one value can be used)",
            )

    def min_packer_version(self) -> str:
        value = self.data.get("min_packer_version")
        if value is None:
            return ""
        path: JsonPath = ("min_packer_version",)
        if not isinstance(value, str):
            self.problem(path, f"'min_packer_version' must be a string, got {json_kind(value)}")
            return ""
        match = _VERSION.match(value)
        if value and not match:
            self.problem(path, f"min_version is invalid: Malformed version: {value}")
        elif match and _newer(match["segments"], PACKER_COMPAT_VERSION):
            self.problem(
                path,
                f"This template requires Packer version {value} or higher; "
                f"pytest-imagebuild implements Packer {PACKER_COMPAT_VERSION}'s format",
            )
        return value

    def sensitive_variables(self, known: Sequence[str]) -> list[str]:
        """Names whose values are masked; a name that is no variable would mask nothing."""
        path: JsonPath = ("sensitive-variables",)
        value = self.data.get("sensitive-variables")
        if value is None:
            return []
        if not isinstance(value, list):
            self.problem(
                path,
                f"'sensitive-variables' must be a list of variable names, got {json_kind(value)}"
                + (f' (write ["{value}"])' if isinstance(value, str) else ""),
            )
            return []
        names = []
        for index, name in enumerate(value):
            if not isinstance(name, str):
                self.problem((*path, index), f"expected a variable name, got {json_kind(name)}")
            elif name not in known:
                self.problem(
                    (*path, index),
                    f"'{name}' is not a declared variable{did_you_mean(name, known)}, so no "
                    "value would be masked (Packer ignores it silently)",
                )
            else:
                names.append(name)
        return names

    def string(self, path: JsonPath, value: Any, default: str = "") -> str:
        if value is None:
            return default
        if isinstance(value, (dict, list)):
            self.problem(path, f"expected a string, got {json_kind(value)}")
            return default
        return str(value)

    def names(self, path: JsonPath, value: Any, weak: bool = False) -> list[str]:
        """Build names for only/except; provisioners (weak) also take a single name."""
        if value is None:
            return []
        if weak and isinstance(value, str):
            return [value]
        if isinstance(value, list) and all(isinstance(item, str) for item in value):
            return list(value)
        self.problem(path, f"expected a list of build names, got {json_kind(value)}")
        return []

    def only_or_except(self, path: JsonPath, only: list[str], except_: list[str]) -> None:
        if only and except_:
            self.problem((*path, "except"), "only one of 'only' or 'except' may be specified")

    def duration(self, path: JsonPath, value: Any) -> float | None:
        # "" is not absent: Go's time.ParseDuration refuses it, and so does Packer.
        if value is None:
            return None
        try:
            return parse_duration(value if isinstance(value, (int, float)) else str(value))
        except ValueError as error:
            self.problem(path, f"error decoding '{path[-1]}': {error}")
            return None

    def section_list(self, key: str) -> list[tuple[JsonPath, dict[str, Any]]]:
        value = self.data.get(key)
        if value is None:
            return []
        if not isinstance(value, list):
            self.problem((key,), f"'{key}' must be a list of objects, got {json_kind(value)}")
            return []
        out = []
        for index, item in enumerate(value):
            if isinstance(item, dict):
                out.append(((key, index), item))
            else:
                self.problem((key, index), f"expected an object, got {json_kind(item)}")
        return out

    def builders(self) -> list[BuilderSpec]:
        if not self.data.get("builders"):
            self.problem(
                ("builders",) if "builders" in self.data else (),
                "at least one builder must be defined",
            )
        entries = self.section_list("builders")
        builders: list[BuilderSpec] = []
        seen: set[str] = set()
        for path, raw in entries:
            kind = self.string((*path, "type"), raw.get("type"))
            if not kind:
                self.problem(path, f"builder {path[1] + 1}: missing 'type'")
                continue
            name = self.string((*path, "name"), raw.get("name"), kind)
            if name in seen:
                self.problem((*path, "name"), f"builder with name '{name}' already exists")
                continue
            seen.add(name)
            config = {k: v for k, v in raw.items() if k not in ("type", "name")}
            builders.append(BuilderSpec(name, kind, config, path))
        return builders

    def provisioner(self, path: JsonPath, raw: dict[str, Any]) -> ProvisionerSpec | None:
        kind = self.string((*path, "type"), raw.get("type"))
        if not kind:
            self.problem(path, "provisioner is missing 'type'")
            return None
        retries = raw.get("max_retries", 0)
        try:
            retries = int(retries or 0)
        except (TypeError, ValueError):
            self.problem((*path, "max_retries"), f"expected an integer, got {retries!r}")
            retries = 0
        override = raw.get("override") or {}
        if not isinstance(override, dict) or not all(
            isinstance(v, dict) for v in override.values()
        ):
            self.problem((*path, "override"), "'override' must map build names to objects")
            override = {}
        only = self.names((*path, "only"), raw.get("only"), weak=True)
        except_ = self.names((*path, "except"), raw.get("except"), weak=True)
        self.only_or_except(path, only, except_)
        return ProvisionerSpec(
            type=kind,
            config={k: v for k, v in raw.items() if k not in PROVISIONER_COMMON},
            path=path,
            only=only,
            except_=except_,
            pause_before=self.duration((*path, "pause_before"), raw.get("pause_before")) or 0.0,
            max_retries=retries,
            timeout=self.duration((*path, "timeout"), raw.get("timeout")),
            override=override,
        )

    def provisioners(self) -> list[ProvisionerSpec]:
        specs = [self.provisioner(path, raw) for path, raw in self.section_list("provisioners")]
        return [spec for spec in specs if spec]

    def error_cleanup(self) -> ProvisionerSpec | None:
        raw = self.data.get("error-cleanup-provisioner")
        if raw is None:
            return None
        if not isinstance(raw, dict):
            self.problem(("error-cleanup-provisioner",), "expected an object")
            return None
        return self.provisioner(("error-cleanup-provisioner",), raw)

    def post_processor(self, path: JsonPath, raw: Any) -> PostProcessorSpec | None:
        if isinstance(raw, str):
            return PostProcessorSpec(type=raw, config={}, path=path)
        if not isinstance(raw, dict):
            self.problem(
                path, f"a post-processor must be a string or an object, got {json_kind(raw)}"
            )
            return None
        kind = self.string((*path, "type"), raw.get("type"))
        if not kind:
            self.problem(path, "post-processor is missing 'type'")
            return None
        keep = raw.get("keep_input_artifact")
        if keep is not None and not isinstance(keep, bool):
            self.problem(
                (*path, "keep_input_artifact"),
                f"'keep_input_artifact' expected a boolean (true or false), got {describe(keep)}",
            )
            keep = None
        name = raw.get("name")
        if name is not None and not isinstance(name, str):
            self.problem((*path, "name"), f"'name' expected a string, got {describe(name)}")
            name = None
        only = self.names((*path, "only"), raw.get("only"))
        except_ = self.names((*path, "except"), raw.get("except"))
        self.only_or_except(path, only, except_)
        return PostProcessorSpec(
            type=kind,
            config={k: v for k, v in raw.items() if k not in POST_PROCESSOR_COMMON},
            path=path,
            name=name or "",
            only=only,
            except_=except_,
            keep_input_artifact=keep,
        )

    def post_processors(self) -> list[list[PostProcessorSpec]]:
        value = self.data.get("post-processors")
        if value is None:
            return []
        if not isinstance(value, list):
            self.problem(
                ("post-processors",),
                f"'post-processors' must be a list of post-processors and chains, got "
                f"{json_kind(value)}" + (f' (write ["{value}"])' if isinstance(value, str) else ""),
            )
            return []
        chains: list[list[PostProcessorSpec]] = []
        for index, entry in enumerate(value):
            path: JsonPath = ("post-processors", index)
            members = list(enumerate(entry)) if isinstance(entry, list) else [(None, entry)]
            chain = []
            for position, member in members:
                member_path = path if position is None else (*path, position)
                if isinstance(member, list):
                    self.problem(member_path, "post-processor chains cannot be nested")
                    continue
                spec = self.post_processor(member_path, member)
                if spec:
                    chain.append(spec)
            if chain:
                chains.append(chain)
        return chains

    def check_build_names(self, template: Template) -> None:
        names = template.build_names
        specs: list[ProvisionerSpec | PostProcessorSpec] = list(template.provisioners)
        specs += [spec for chain in template.post_processors for spec in chain]
        for spec in specs:
            label = "provisioner" if isinstance(spec, ProvisionerSpec) else "post-processor"
            for key, listed in (("only", spec.only), ("except", spec.except_)):
                for name in listed:
                    if name not in names:
                        self.problem(
                            (*spec.path, key),
                            f"{label} '{key}' specified builder '{name}' not found"
                            + did_you_mean(name, names),
                        )
            for name in getattr(spec, "override", {}):
                if name not in names:
                    self.problem(
                        (*spec.path, "override", name),
                        f"override specified builder '{name}' not found"
                        + did_you_mean(name, names),
                    )


def _newer(required: str, ours: str) -> bool:
    """Whether version segments "1.7" ask for more than ours; missing segments count as 0."""
    wanted = [int(part) for part in required.split(".")]
    have = [int(part) for part in ours.split(".")]
    length = max(len(wanted), len(have))
    return wanted + [0] * (length - len(wanted)) > have + [0] * (length - len(have))


def read_template(
    path: str | Path,
    variables: Mapping[str, str] | None = None,
    var_files: Sequence[str | Path] = (),
    run: RunContext | None = None,
    environ: Mapping[str, str] | None = None,
) -> tuple[Template | None, list[Problem]]:
    """Parse and resolve a template; return it with every problem found (structure, variables)."""
    path = Path(path)
    from .hcl2 import is_hcl2_path, read_hcl2_template

    if is_hcl2_path(path):  # a .pkr.hcl file or a folder of them
        return read_hcl2_template(path, variables, var_files, run, environ)
    label = str(path)
    try:
        text = read_text_bounded(path)
    except InputFileError as error:
        return None, [Problem(label, None, "", f"cannot read template: {error.reason}")]
    except UnicodeDecodeError as error:
        return None, [Problem(label, None, "", f"template is not UTF-8 text: {error.reason}")]
    try:
        data, source = parse_json(text, label)
    except TemplateError as error:
        return None, error.problems
    if not isinstance(data, dict):
        message = f"a template must be a JSON object, got {json_kind(data)}"
        return None, [source.problem((), message)]
    reader = _Reader(data, source)
    reader.duplicate_keys()
    reader.root_keys()
    run = run or RunContext.create()
    min_version = reader.min_packer_version()
    declared = data.get("variables") or {}
    if not isinstance(declared, dict):
        reader.problem(("variables",), f"'variables' must be an object, got {json_kind(declared)}")
        declared = {}
    resolved, variable_problems = resolve_variables(
        declared,
        (),
        source,
        run,
        path.parent,
        variables,
        [Path(f) for f in var_files],
        environ,
    )
    resolved.sensitive = frozenset(reader.sensitive_variables([*declared, *resolved.values]))
    template = Template(
        path=path,
        source=source,
        run=run,
        variables=resolved,
        description=reader.string(("description",), data.get("description")),
        min_packer_version=min_version,
        builders=reader.builders(),
        provisioners=reader.provisioners(),
        post_processors=reader.post_processors(),
        error_cleanup_provisioner=reader.error_cleanup(),
    )
    reader.check_build_names(template)
    return template, reader.problems + variable_problems
