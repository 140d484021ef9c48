"""User variables: defaults, -var-file and -var values, with Packer 1.6.6's precedence.

Precedence (observed in Packer 1.6.6, which differs from its docs): later var files beat
earlier ones, and a value given with ``--image-var`` always beats every var file.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..bounded_read import InputFileError, read_text_bounded
from ..errors import Problem, TemplateError
from .functions import NETWORK_FUNCTIONS, VARIABLES, RunContext, base_functions, env_function
from .gotemplate import Renderer, RenderError
from .hints import did_you_mean
from .jsonsource import SourceMap, parse_json
from .types import describe

_MAX_PASSES = 20


@dataclass
class Variables:
    """Resolved variable values and which of them are sensitive."""

    values: dict[str, str] = field(default_factory=dict)
    sensitive: frozenset[str] = frozenset()
    # Declared or given names, including required ones still without a value.
    names: frozenset[str] = frozenset()

    def secret_values(self) -> set[str]:
        return {self.values[name] for name in self.sensitive if self.values.get(name)}


def read_var_file(path: Path) -> tuple[dict[str, str], list[Problem]]:
    """Read a JSON var file (``-var-file``): an object of names to string values."""
    try:
        text = read_text_bounded(path)
    except InputFileError as error:
        return {}, [Problem(str(path), None, "", f"cannot read variable file: {error.reason}")]
    except UnicodeDecodeError as error:
        reason = f"variable file is not UTF-8 text: {error.reason}"
        return {}, [Problem(str(path), None, "", reason)]
    try:
        data, source = parse_json(text, str(path))
    except TemplateError as error:
        return {}, error.problems
    if not isinstance(data, dict):
        return {}, [source.problem((), "a variable file must be a JSON object of names to values")]
    values: dict[str, str] = {}
    problems: list[Problem] = []
    for name, value in data.items():
        if value is None or isinstance(value, str):
            values[name] = _as_string(value)  # Go's decoder leaves a string empty for null
        else:
            go_kind = _GO_KINDS.get(type(value), "number")
            problems.append(
                source.problem(
                    (name,),
                    f"variable values must be strings, got {describe(value)}"
                    + ("" if isinstance(value, (dict, list)) else "; write it in quotes")
                    + f" (Packer: json: cannot unmarshal {go_kind} into Go value of type string)",
                )
            )
    return values, problems


# What Go's JSON decoder calls each kind of value in "cannot unmarshal <kind>".
_GO_KINDS = {bool: "bool", dict: "object", list: "array"}


def _as_string(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def resolve_variables(
    declared: Mapping[str, Any],
    sensitive: Sequence[str],
    source: SourceMap,
    run: RunContext,
    template_dir: Path,
    cli_vars: Mapping[str, str] | None = None,
    var_files: Sequence[Path] = (),
    environ: Mapping[str, str] | None = None,
) -> tuple[Variables, list[Problem]]:
    """Combine defaults, var files and command-line values, then render the defaults."""
    problems: list[Problem] = []
    given: dict[str, str] = {}
    for var_file in var_files:
        values, file_problems = read_var_file(Path(var_file))
        given.update(values)
        problems += file_problems
    given.update(cli_vars or {})

    pending: dict[str, str] = {}
    values: dict[str, str] = {}
    for name, default in declared.items():
        if name in given:
            values[name] = given[name]
        elif default is None:
            problems.append(
                source.problem(("variables", name), f"required variable not set: {name}")
            )
        elif not isinstance(default, str):
            problems.append(
                source.problem(
                    ("variables", name),
                    f"variable {name}: the default must be a string, "
                    f"got {describe(default)} (write it in quotes)",
                )
            )
        else:
            pending[name] = _as_string(default)
    for name, value in given.items():
        values.setdefault(name, value)

    problems += _render_defaults(pending, values, set(declared), source, run, template_dir, environ)
    names = frozenset(declared) | frozenset(given)
    return Variables(values, frozenset(sensitive), names), problems


def _render_defaults(
    pending: dict[str, str],
    values: dict[str, str],
    declared: set[str],
    source: SourceMap,
    run: RunContext,
    template_dir: Path,
    environ: Mapping[str, str] | None,
) -> list[Problem]:
    """Render defaults that refer to other variables, in as many passes as they need."""
    functions = base_functions(run, template_dir, section=VARIABLES)
    functions["env"] = env_function(environ)
    unresolved: set[str] = set()

    def user(name: str) -> str:
        name = str(name)
        if name in pending:
            unresolved.add(name)
            return ""
        if name not in values and name not in declared:
            raise RenderError(
                f"variable not set: {name}{did_you_mean(name, declared)}: a default can only "
                "use variables that are declared or given a value"
            )
        return values.get(name, "")  # a required variable without a value is reported already

    functions["user"] = user
    renderer = Renderer(functions, {}, NETWORK_FUNCTIONS)
    problems: list[Problem] = []
    for _ in range(_MAX_PASSES):
        progressed = False
        for name, text in list(pending.items()):
            unresolved.clear()
            try:
                rendered = renderer.render(text)
            except RenderError as error:
                problems.append(
                    source.problem(
                        ("variables", name),
                        f"error interpolating default value for '{name}': {error}",
                    )
                )
                del pending[name]
                continue
            if not unresolved:
                values[name] = rendered
                del pending[name]
                progressed = True
        if not pending or not progressed:
            break
    for name in pending:
        problems.append(
            source.problem(("variables", name), "variable default refers to itself in a cycle")
        )
    return problems


def parse_cli_var(text: str) -> tuple[str, str]:
    """Split ``NAME=VALUE`` as given to ``--image-var``."""
    name, sep, value = text.partition("=")
    if not sep or not name:
        raise ValueError(f"--image-var expects NAME=VALUE, got {text!r}")
    return name, value
