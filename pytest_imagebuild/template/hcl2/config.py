"""An HCL2 configuration (one `.pkr.hcl` file or a folder of them) read into a Template.

The result is the same Template the JSON front end builds: one BuilderSpec per build (a
source used by a build block), provisioners and post-processors with `only` set to the
build they were evaluated for. Builders, validation, plans and recording then work as for
JSON. A build is named by its source's name (or the `name` a build's `source` block gives
it); `only`/`except`/`override` also accept Packer's `type.name` form.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ...bounded_read import InputFileError, read_text_bounded
from ...catalogue import catalogue
from ...errors import Problem
from .. import fields
from ..durations import parse_duration
from ..functions import RunContext
from ..jsonsource import JsonPath
from ..model import BuilderSpec, PostProcessorSpec, ProvisionerSpec, Template
from ..variables import Variables
from .blocks import body_config, eval_problem
from .evaluate import EvalError, Evaluator, Namespace, closest
from .functions import RunFunctions
from .json_syntax import parse_json_syntax
from .packer_block import HCL2_PACKER_VERSION, check_packer_block
from .parse import (
    JSON_SYNTAX_SUFFIXES,
    Block,
    SourceFile,
    auto_var_files,
    configuration_files,
    parse_text,
)
from .sourcemap import HclSourceMap
from .variables import (
    VariableInputs,
    as_text,
    collect_locals,
    declare,
    evaluate_locals,
    resolve,
)

TOP_LEVEL = ("packer", "variable", "variables", "locals", "local", "source", "build", "data")
BUILD_CONTENT = (
    "source",
    "provisioner",
    "error-cleanup-provisioner",
    "post-processor",
    "post-processors",
)
PROVISIONER_COMMON = ("only", "except", "override", "pause_before", "max_retries", "timeout")
POST_PROCESSOR_COMMON = ("name", "only", "except", "keep_input_artifact")
RUNTIME_BUILD_KEYS = (
    "ID",
    "Host",
    "Port",
    "User",
    "Password",
    "ConnType",
    "PackerRunUUID",
    "PackerHTTPIP",
    "PackerHTTPPort",
    "PackerHTTPAddr",
    "SSHPublicKey",
    "SSHPrivateKey",
    "WinRMPassword",
)


@dataclass
class Build:
    """One source as used by one build block."""

    name: str
    type: str
    label: str
    block_index: int
    block_name: str
    spec: BuilderSpec


def _hint(word: str, choices: Sequence[str]) -> str:
    found = closest(word, choices)
    return f" (did you mean `{found}`?)" if found else ""


class ConfigReader:
    """Reads every file of a configuration and collects each problem on the way."""

    def __init__(self, path: Path, run: RunContext, environ: Mapping[str, str]):
        self.path = path
        self.run = run
        self.environ = environ
        self.root = (path if path.is_dir() else path.parent).resolve()
        self.problems: list[Problem] = []
        self.blocks: list[tuple[Block, SourceFile]] = []
        self.source = HclSourceMap(str(path))
        self.functions = RunFunctions(run, self.root, environ)
        self.roots: dict[str, Any] = {}
        self.unparsed = False  # a file had a syntax error: its blocks are unknown

    # -- files ----------------------------------------------------------------------------
    def read_files(self) -> bool:
        files = configuration_files(self.path)
        if not files:
            self.problems.append(
                Problem(str(self.path), None, "", "the folder has no *.pkr.hcl files to load")
            )
            return False
        for file in files:
            label = str(file if not self.path.is_dir() else self.path / file.name)
            try:
                text = read_text_bounded(file)
            except InputFileError as error:
                self.problems.append(Problem(label, None, "", f"cannot read file: {error.reason}"))
                continue
            except UnicodeDecodeError as error:
                self.problems.append(
                    Problem(label, None, "", f"file is not UTF-8 text: {error.reason}")
                )
                continue
            parse = parse_json_syntax if file.name.endswith(JSON_SYNTAX_SUFFIXES) else parse_text
            body, parsed, problems = parse(text, label)
            self.problems += problems
            if body is None:
                self.unparsed = True
                continue
            for name, attribute in body.attributes.items():
                self.problems.append(
                    attribute.where.problem(
                        f'Unsupported argument: "{name}" is not expected at the top level '
                        "(arguments belong inside blocks such as source or build)"
                    )
                )
            for block in body.blocks:
                if block.type not in TOP_LEVEL:
                    self.problems.append(
                        block.where.problem(
                            f'Unsupported block type "{block.type}" at the top level'
                            + _hint(block.type, TOP_LEVEL)
                        )
                    )
                    continue
                self.blocks.append((block, parsed))
        return not any(p.line is None and "cannot read" in p.message for p in self.problems)

    def of(self, *kinds: str) -> list[tuple[Block, SourceFile]]:
        return [(block, file) for block, file in self.blocks if block.type in kinds]

    # -- variables and locals -------------------------------------------------------------
    def variables(
        self, cli: Mapping[str, str], var_files: Sequence[Path]
    ) -> tuple[dict[str, Any], frozenset[str], set[str]]:
        declared, problems = declare(self.of("variable", "variables"))
        self.problems += problems
        inputs = VariableInputs(self.environ, auto_var_files(self.path), var_files, cli)
        values, problems = resolve(
            declared, inputs, self.functions.table(with_env=True), _display
        )
        self.problems += problems
        sensitive = frozenset(name for name, entry in declared.items() if entry.sensitive)
        return values, sensitive, set(declared)

    def locals(self, values: dict[str, Any]) -> set[str]:
        self.roots = {
            "var": Namespace("var", values, "Reference to undeclared input variable"),
            "local": Namespace("local", {}, "Reference to undeclared local value"),
            "path": {"root": str(self.root), "cwd": str(self.run.cwd)},
            "packer": {"version": HCL2_PACKER_VERSION},
            "data": Namespace(
                "data", {}, "Data sources are not supported by pytest-imagebuild"
            ),
        }
        found, problems = collect_locals(self.of("locals", "local"))
        self.problems += problems
        self.problems += evaluate_locals(found, self.roots, self.functions.table())
        return {name for name, entry in found.items() if entry.sensitive}

    def unsupported(self) -> None:
        for block, _ in self.of("data"):
            label = ".".join(block.labels)
            self.problems.append(
                block.where.problem(
                    f'data "{block.labels[0] if block.labels else ""}": data sources '
                    f"(data.{label}) are not supported by pytest-imagebuild; set the value "
                    "with a variable instead"
                )
            )
        for block, file in self.of("packer"):
            self.problems += check_packer_block(block, file)

    # -- sources and builds ---------------------------------------------------------------
    def sources(self) -> dict[str, tuple[Block, SourceFile]]:
        found: dict[str, tuple[Block, SourceFile]] = {}
        for block, file in self.of("source"):
            if len(block.labels) != 2:
                self.problems.append(
                    block.where.problem('a source block needs two labels: source "type" "name"')
                )
                continue
            key = ".".join(block.labels)
            if key in found:
                first = found[key][0].where
                self.problems.append(
                    block.where.problem(
                        f'Duplicate source "{key}": already defined at '
                        f"{first.file.label}:{first.line}"
                    )
                )
                continue
            found[key] = (block, file)
        return found

    def evaluator(self, file: SourceFile, build: Build | None = None) -> Evaluator:
        roots = dict(self.roots)
        if build is not None:
            roots["source"] = {"name": build.label, "type": build.type}
            roots["build"] = {
                "name": build.block_name,
                **{key: f"{{{{ build `{key}` }}}}" for key in RUNTIME_BUILD_KEYS},
            }
        return Evaluator(file, roots, self.functions.table())

    def builds(self, sources: dict[str, tuple[Block, SourceFile]]) -> list[tuple[Build, Block]]:
        out: list[tuple[Build, Block]] = []
        names: dict[str, Build] = {}
        for index, (block, file) in enumerate(self.of("build")):
            block_name = self._string_attr(block, file, "name")
            self._check_build_content(block)
            references: list[tuple[str, Block | None, Any]] = []
            attribute = block.body.attributes.get("sources")
            if attribute is not None:
                try:
                    listed = self.evaluator(file).value(attribute.expr)
                except EvalError as error:
                    self.problems.append(eval_problem(error))
                    listed = []
                if not isinstance(listed, list):
                    self.problems.append(attribute.where.problem("sources must be a list"))
                    listed = []
                references += [(str(item), None, attribute.where) for item in listed]
            for inner in block.body.blocks_of("source"):
                if len(inner.labels) != 1:
                    self.problems.append(
                        inner.where.problem('a build\'s source block has one label: "source.T.N"')
                    )
                    continue
                references.append((inner.labels[0], inner, inner.where))
            if not references:
                self.problems.append(
                    block.where.problem("a build block needs at least one source")
                )
            for reference, inner, where in references:
                key = reference.removeprefix("source.")
                if key not in sources:
                    self.problems.append(
                        where.problem(
                            f'Unknown source "{reference}"'
                            + _hint(key, [f"source.{k}" for k in sources])
                        )
                    )
                    continue
                build = self._build(key, sources[key], inner, file, index, block_name)
                if build is None:
                    continue
                if build.name in names:
                    self.problems.append(
                        where.problem(
                            f'two builds are named "{build.name}"; give one a name in its '
                            'build-level block: source "source.T.N" { name = "other" }'
                        )
                    )
                    continue
                names[build.name] = build
                out.append((build, block))
        if not self.of("build") and not self.unparsed:
            self.problems.append(
                Problem(str(self.path), None, "", "at least one build block must be defined")
            )
        return out

    def _string_attr(self, block: Block, file: SourceFile, name: str) -> str:
        attribute = block.body.attributes.get(name)
        if attribute is None:
            return ""
        try:
            value = self.evaluator(file).value(attribute.expr)
        except EvalError as error:
            self.problems.append(eval_problem(error))
            return ""
        if not isinstance(value, str):
            self.problems.append(attribute.where.problem(f"{name} must be a string"))
            return ""
        return value

    def _check_build_content(self, block: Block) -> None:
        for name, attribute in block.body.attributes.items():
            if name not in ("name", "description", "sources"):
                self.problems.append(
                    attribute.where.problem(
                        f'Unsupported argument "{name}" in a build block'
                        + _hint(name, ("name", "description", "sources"))
                    )
                )
        for inner in block.body.blocks:
            if inner.type not in BUILD_CONTENT:
                self.problems.append(
                    inner.where.problem(
                        f'Unsupported block type "{inner.type}" in a build block'
                        + _hint(inner.type, BUILD_CONTENT)
                    )
                )

    def _build(
        self,
        key: str,
        found: tuple[Block, SourceFile],
        inner: Block | None,
        file: SourceFile,
        index: int,
        block_name: str,
    ) -> Build | None:
        block, source_file = found
        kind, label = block.labels
        path: JsonPath = ("source", key)
        self.source.locate(path, block.where)
        kinds = catalogue().builder_table(kind, "fields", {})
        config = body_config(
            block.body, self.evaluator(source_file), path, self.source, self.problems, kinds
        )
        name = label
        if inner is not None:
            name = self._string_attr(inner, file, "name") or label
            extra = body_config(
                inner.body, self.evaluator(file), path, self.source, self.problems, kinds,
                skip=("name",),
            )
            for item in extra:
                if item in config:
                    self.problems.append(
                        inner.where.problem(
                            f'the source "{key}" already sets "{item}"; a build\'s source block '
                            "may only fill in arguments the source leaves unset"
                        )
                    )
            config.update(extra)
        spec = BuilderSpec(name, kind, config, path)
        return Build(name, kind, label, index, block_name, spec)

    # -- provisioners and post-processors -------------------------------------------------
    def selected(
        self, build: Build, value: Any, where: Any, siblings: Sequence[Build]
    ) -> list[str] | None:
        """Builds named by only/except, as plan names; None when malformed."""
        if value is None:
            return []
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self.problems.append(where.problem("only/except must be a list of source names"))
            return None
        names = []
        for item in value:
            match = next((b for b in siblings if item in _aliases(b)), None)
            if match is None:
                choices = [f"{b.type}.{b.name}" for b in siblings]
                self.problems.append(
                    where.problem(f'"{item}" is not a source of this build' + _hint(item, choices))
                )
                continue
            names.append(match.name)
        return names

    def _common(
        self, block: Block, build: Build, siblings: Sequence[Build], config: dict[str, Any]
    ) -> bool:
        """Whether a stage applies to build, after its only/except."""
        only = self.selected(build, config.pop("only", None), _where(block, "only"), siblings)
        except_ = self.selected(
            build, config.pop("except", None), _where(block, "except"), siblings
        )
        if only and except_:
            self.problems.append(block.where.problem("only one of only or except may be set"))
        if only is None or except_ is None:
            return True
        return (not only or build.name in only) and build.name not in except_

    def provisioner(
        self, block: Block, file: SourceFile, build: Build, siblings: Sequence[Build],
        path: JsonPath,
    ) -> ProvisionerSpec | None:
        if len(block.labels) != 1:
            self.problems.append(block.where.problem(f'{block.type} needs one label: its type'))
            return None
        kind = block.labels[0]
        self.source.locate(path, block.where)
        config = body_config(
            block.body, self.evaluator(file, build), path, self.source, self.problems,
            fields.PROVISIONER_FIELDS.get(kind, {}),
        )
        if not self._common(block, build, siblings, config):
            return None
        override = config.pop("override", None) or {}
        if not isinstance(override, dict):
            self.problems.append(_where(block, "override").problem("override must be a map"))
            override = {}
        for key, value in override.items():
            target = next((b for b in siblings if key in _aliases(b)), None)
            if target is None:
                self.problems.append(
                    _where(block, "override").problem(
                        f'override names "{key}", which is not a source of this build'
                        + _hint(key, [b.name for b in siblings])
                    )
                )
            elif target is build and isinstance(value, dict):
                config.update(value)
        timing = {}
        for key in ("pause_before", "timeout"):
            value = config.pop(key, None)
            if value in (None, ""):
                continue
            try:
                timing[key] = parse_duration(str(value))
            except ValueError as error:
                self.problems.append(_where(block, key).problem(f"invalid {key}: {error}"))
        retries = config.pop("max_retries", 0)
        if isinstance(retries, bool) or not isinstance(retries, (int, str)):
            self.problems.append(_where(block, "max_retries").problem("expected a number"))
            retries = 0
        try:
            retries = int(retries or 0)
        except ValueError:
            self.problems.append(_where(block, "max_retries").problem("expected a number"))
            retries = 0
        return ProvisionerSpec(
            type=kind,
            config=config,
            path=path,
            only=[build.name],
            pause_before=timing.get("pause_before", 0.0),
            max_retries=retries,
            timeout=timing.get("timeout"),
        )

    def post_processor(
        self, block: Block, file: SourceFile, build: Build, siblings: Sequence[Build],
        path: JsonPath,
    ) -> PostProcessorSpec | None:
        if len(block.labels) != 1:
            self.problems.append(block.where.problem("post-processor needs one label: its type"))
            return None
        kind = block.labels[0]
        self.source.locate(path, block.where)
        config = body_config(
            block.body, self.evaluator(file, build), path, self.source, self.problems,
            fields.POST_PROCESSOR_FIELDS.get(kind, {}),
        )
        if not self._common(block, build, siblings, config):
            return None
        keep = config.pop("keep_input_artifact", None)
        if keep is not None and not isinstance(keep, bool):
            self.problems.append(
                _where(block, "keep_input_artifact").problem("expected true or false")
            )
            keep = None
        name = config.pop("name", "")
        return PostProcessorSpec(
            type=kind,
            config=config,
            path=path,
            name=str(name or ""),
            only=[build.name],
            keep_input_artifact=keep,
        )

    def stages(
        self, builds: list[tuple[Build, Block]]
    ) -> tuple[list[ProvisionerSpec], list[list[PostProcessorSpec]], ProvisionerSpec | None]:
        provisioners: list[ProvisionerSpec] = []
        chains: list[list[PostProcessorSpec]] = []
        cleanup: ProvisionerSpec | None = None
        files = {id(block): file for block, file in self.of("build")}
        block_numbers = {id(block): n for n, (block, _) in enumerate(self.of("build"))}
        for build, block in builds:
            file = files[id(block)]
            number = block_numbers[id(block)]
            siblings = [b for b, blk in builds if blk is block]
            counts: dict[str, int] = {}
            for inner in block.body.blocks:
                position = counts.get(inner.type, 0)
                counts[inner.type] = position + 1
                path: JsonPath = ("build", number, inner.type, position)
                if inner.type == "provisioner":
                    spec = self.provisioner(inner, file, build, siblings, path)
                    if spec:
                        provisioners.append(spec)
                elif inner.type == "error-cleanup-provisioner":
                    spec = self.provisioner(inner, file, build, siblings, path)
                    if spec and cleanup is None:
                        spec.only = []
                        cleanup = spec
                    elif spec and cleanup.path != spec.path:
                        self.problems.append(
                            inner.where.problem(
                                "only one error-cleanup-provisioner per configuration is "
                                "supported by pytest-imagebuild"
                            )
                        )
                elif inner.type == "post-processor":
                    post = self.post_processor(inner, file, build, siblings, path)
                    if post:
                        chains.append([post])
                elif inner.type == "post-processors":
                    chain = []
                    for number_in_chain, member in enumerate(inner.body.blocks):
                        if member.type != "post-processor":
                            self.problems.append(
                                member.where.problem(
                                    f'Unsupported block "{member.type}" in post-processors'
                                )
                            )
                            continue
                        post = self.post_processor(
                            member, file, build, siblings, (*path, number_in_chain)
                        )
                        if post:
                            chain.append(post)
                    if chain:
                        chains.append(chain)
        return provisioners, chains, cleanup


def _aliases(build: Build) -> set[str]:
    return {
        build.name,
        f"{build.type}.{build.name}",
        f"source.{build.type}.{build.name}",
        f"{build.type}.{build.label}",
        f"source.{build.type}.{build.label}",
    }


def _where(block: Block, name: str) -> Any:
    attribute = block.body.attributes.get(name)
    return attribute.where if attribute else block.where


def _display(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def read_hcl2_template(
    path: str | Path,
    variables: Mapping[str, str] | None = None,
    var_files: Sequence[str | Path] = (),
    run: RunContext | None = None,
    environ: Mapping[str, str] | None = None,
) -> tuple[Template | None, list[Problem]]:
    """Parse and evaluate a configuration; return it with every problem found."""
    path = Path(path)
    reader = ConfigReader(path, run or RunContext.create(), os.environ if environ is None
                          else environ)
    if not path.exists():
        return None, [Problem(str(path), None, "", "cannot read template: no such file or folder")]
    reader.read_files()
    values, sensitive, declared = reader.variables(variables or {}, [Path(f) for f in var_files])
    sensitive_locals = reader.locals(values)
    reader.unsupported()
    sources = reader.sources()
    builds = reader.builds(sources)
    provisioners, chains, cleanup = reader.stages(builds)
    description = ""
    for block, file in reader.of("build"):
        description = description or reader._string_attr(block, file, "description")
    local_values = reader.roots["local"].values if reader.roots else {}
    texts = {name: as_text(value) for name, value in values.items()}
    texts.update(
        {f"local.{name}": as_text(local_values.get(name)) for name in sensitive_locals}
    )
    template = Template(
        path=path,
        source=reader.source,
        run=reader.run,
        variables=Variables(
            texts,
            sensitive | {f"local.{name}" for name in sensitive_locals},
            frozenset(declared),
        ),
        description=description,
        builders=[build.spec for build, _ in builds],
        provisioners=provisioners,
        post_processors=chains,
        error_cleanup_provisioner=cleanup,
    )
    return template, reader.problems
