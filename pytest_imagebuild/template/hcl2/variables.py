"""Input variables and locals of an HCL2 configuration, with Packer's precedence.

A variable's value is, from weakest to strongest: its `default`, a `PKR_VAR_<name>`
environment variable, the `*.auto.pkrvars.hcl` files beside the configuration (in lexical
order), each `--image-var-file` in the order given, and `--image-var`. Values given as text
(environment, command line) are taken as strings for string variables and read as HCL
expressions otherwise, as Packer does.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lark import Token, Tree
from lark.exceptions import UnexpectedInput

from ...bounded_read import InputFileError, read_text_bounded
from ...errors import Problem, TemplateError
from ..jsonsource import parse_json
from .evaluate import EvalError, Evaluator, Namespace, Pending, closest, to_string
from .parse import Block, Location, SourceFile, parse_expression, parse_text
from .types import ANY, ConversionError, HclType, TypeSyntaxError, convert, parse_type

VARIABLE_ARGUMENTS = ("type", "default", "description", "sensitive", "nullable")
Functions = Mapping[str, Callable[..., Any]]


@dataclass
class Validation:
    condition: Tree | Token
    error_message: Tree | Token | None
    where: Location


@dataclass
class Declared:
    """A `variable` block (or an entry of a `variables` block)."""

    name: str
    where: Location
    type: HclType = ANY
    typed: bool = False
    default: Tree | Token | None = None
    sensitive: bool = False
    description: str = ""
    validations: list[Validation] = field(default_factory=list)


@dataclass
class Given:
    """A value from outside the configuration and where it came from."""

    value: Any
    origin: str  # e.g. "--image-var", "PKR_VAR_vm_size", "vars.pkrvars.hcl:3"
    where: Location | None = None
    raw_text: str | None = None  # set for text values (-var, environment)


def literal(evaluator: Evaluator, node: Tree | Token, problems: list[Problem]) -> Any:
    try:
        return evaluator.value(node)
    except EvalError as error:
        problems.append(_problem(error))
        return None


def _problem(error: EvalError, path: str = "") -> Problem:
    where = error.where
    if where is None:
        return Problem("", None, path, error.message())
    return Problem(where.file.label, where.line, path, error.message())


def declare(
    blocks: Sequence[tuple[Block, SourceFile]],
) -> tuple[dict[str, Declared], list[Problem]]:
    """Every declared variable; `variable` blocks and the older `variables { name = ... }`."""
    declared: dict[str, Declared] = {}
    problems: list[Problem] = []
    for block, file in blocks:
        entries: list[Declared] = []
        if block.type == "variables":
            for name, attribute in block.body.attributes.items():
                entries.append(Declared(name, attribute.where, default=attribute.expr))
        elif len(block.labels) != 1:
            problems.append(block.where.problem('a variable block needs one label: its name'))
            continue
        else:
            entries.append(_variable_block(block, file, problems))
        for entry in entries:
            if entry.name in declared:
                first = declared[entry.name].where
                problems.append(
                    entry.where.problem(
                        f'Duplicate variable declaration: "{entry.name}" was already declared '
                        f"at {first.file.label}:{first.line}"
                    )
                )
                continue
            declared[entry.name] = entry
    return declared, problems


def _variable_block(block: Block, file: SourceFile, problems: list[Problem]) -> Declared:
    entry = Declared(block.labels[0], block.where)
    evaluator = Evaluator(file, {}, {})
    for name, attribute in block.body.attributes.items():
        if name == "type":
            try:
                entry.type, entry.typed = parse_type(attribute.expr), True
            except TypeSyntaxError as error:
                problems.append(attribute.where.problem(f"Invalid type specification: {error}"))
        elif name == "default":
            entry.default = attribute.expr
        elif name == "sensitive":
            entry.sensitive = literal(evaluator, attribute.expr, problems) is True
        elif name == "description":
            entry.description = str(literal(evaluator, attribute.expr, problems) or "")
        elif name != "nullable":
            problems.append(
                attribute.where.problem(
                    f'Unsupported argument: "{name}" is not expected in a variable block'
                    + _hint(name, VARIABLE_ARGUMENTS)
                )
            )
    for inner in block.body.blocks:
        if inner.type != "validation":
            problems.append(
                inner.where.problem(f'Unsupported block type "{inner.type}" in a variable block')
            )
            continue
        condition = inner.body.attributes.get("condition")
        message = inner.body.attributes.get("error_message")
        if condition is None:
            problems.append(inner.where.problem('a validation block needs a "condition"'))
            continue
        if message is None:
            problems.append(inner.where.problem('a validation block needs an "error_message"'))
        entry.validations.append(
            Validation(condition.expr, message.expr if message else None, condition.where)
        )
    return entry


def _hint(name: str, choices: Sequence[str]) -> str:
    found = closest(name, choices)
    return f" (did you mean `{found}`?)" if found else ""


def read_var_file(path: Path, label: str) -> tuple[dict[str, Given], list[Problem]]:
    """A `.pkrvars.hcl` file (or a JSON object for a `.json` file): names to values."""
    try:
        text = read_text_bounded(path)
    except InputFileError as error:
        return {}, [Problem(label, None, "", f"cannot read variable file: {error.reason}")]
    except UnicodeDecodeError as error:
        return {}, [Problem(label, None, "", f"variable file is not UTF-8 text: {error.reason}")]
    if path.name.endswith(".json"):
        return _json_var_values(text, label)
    body, file, problems = parse_text(text, label)
    if body is None:
        return {}, problems
    values: dict[str, Given] = {}
    for block in body.blocks:
        problems.append(
            block.where.problem(
                f'a variable file sets values only (name = value); "{block.type}" blocks '
                "belong in the configuration"
            )
        )
    evaluator = Evaluator(file, {}, {})
    for name, attribute in body.attributes.items():
        try:
            value = evaluator.value(attribute.expr)
        except EvalError as error:
            problems.append(_problem(error))
            continue
        where = attribute.where
        values[name] = Given(value, f"{label}:{where.line}", where)
    return values, problems


def _json_var_values(text: str, label: str) -> tuple[dict[str, Given], list[Problem]]:
    try:
        data, _ = parse_json(text, label)  # located syntax errors, nesting bounded
    except TemplateError as error:
        return {}, list(error.problems)
    if not isinstance(data, dict):
        return {}, [Problem(label, None, "", "a variable file must be an object of values")]
    return {name: Given(value, label) for name, value in data.items()}, []


@dataclass
class VariableInputs:
    """Everything that sets variables from outside the configuration, weakest first."""

    environ: Mapping[str, str]
    auto_files: Sequence[Path] = ()
    var_files: Sequence[Path] = ()
    cli: Mapping[str, str] = field(default_factory=dict)


def resolve(
    declared: Mapping[str, Declared],
    inputs: VariableInputs,
    default_functions: Functions,
    display: Callable[[Path], str],
) -> tuple[dict[str, Any], list[Problem]]:
    """The value of every declared variable, checked against its type and validations."""
    problems: list[Problem] = []
    given: dict[str, Given] = {}
    for key, text in inputs.environ.items():
        if key.startswith("PKR_VAR_") and key[8:] in declared:
            given[key[8:]] = Given(text, key, raw_text=text)
    for path in [*inputs.auto_files, *inputs.var_files]:
        values, file_problems = read_var_file(path, display(path))
        problems += file_problems
        for name, item in values.items():
            if name not in declared:
                problems.append(
                    Problem(
                        display(path),
                        item.where.line if item.where else None,
                        "",
                        f'Undefined variable: a value was given for "{name}", which is not '
                        "declared in the configuration" + _hint(name, list(declared)),
                    )
                )
                continue
            given[name] = item
    for name, text in inputs.cli.items():
        if name.startswith("local."):
            continue  # recorded sensitive locals: their values come from the configuration
        if name not in declared:
            problems.append(
                Problem(
                    "--image-var",
                    None,
                    "",
                    f'Undefined -var variable: "{name}" is not declared in the configuration'
                    + _hint(name, list(declared)),
                )
            )
            continue
        given[name] = Given(text, "--image-var", raw_text=text)

    values: dict[str, Any] = {}
    for name, entry in declared.items():
        value = _value_of(entry, given.get(name), default_functions, problems)
        if value is _UNSET:
            continue
        values[name] = value
    for name, entry in declared.items():
        if name in values:
            _validate(entry, values[name], default_functions, problems)
    return values, problems


_UNSET = object()


def _value_of(
    entry: Declared, item: Given | None, functions: Functions, problems: list[Problem]
) -> Any:
    if item is None:
        if entry.default is None:
            problems.append(
                entry.where.problem(
                    f'Unset variable "{entry.name}": it has no default, so a value must be '
                    f"given (--image-var {entry.name}=..., a var file, or PKR_VAR_{entry.name})"
                )
            )
            return _UNSET
        evaluator = Evaluator(entry.where.file, _default_roots(), functions)
        try:
            value = evaluator.value(entry.default)
        except EvalError as error:
            problems.append(_problem(error))
            return _UNSET
        origin, where = "its default", entry.where
    else:
        value = item.value
        if item.raw_text is not None and not entry.type.is_string:
            try:
                node = parse_expression(item.raw_text, item.origin, 1)
                value = Evaluator(SourceFile(item.origin, "__expr__ = " + item.raw_text), {}, {})
                value = value.value(node)
            except (UnexpectedInput, EvalError):
                problems.append(
                    entry.where.problem(
                        f'Invalid value for variable "{entry.name}" from {item.origin}: '
                        f"{item.raw_text!r} is not a valid HCL value for type {entry.type}"
                    )
                )
                return _UNSET
        origin, where = item.origin, item.where or entry.where
    try:
        return convert(value, entry.type)
    except ConversionError as error:
        problems.append(
            where.problem(
                f'Invalid value for variable "{entry.name}" (from {origin}): {error}; '
                f"the variable's type is {entry.type}"
            )
        )
        return _UNSET


def _default_roots() -> dict[str, Any]:
    refused = "not allowed: a variable's default is a constant (use a local), so it cannot use"
    return {
        "var": Namespace("var", {}, f"Variables {refused}", refused=True),
        "local": Namespace("local", {}, f"Locals {refused}", refused=True),
        "path": Namespace("path", {}, f"path values are {refused}", refused=True),
    }


def _validate(entry: Declared, value: Any, functions: Functions, problems: list[Problem]) -> None:
    for rule in entry.validations:
        roots = {"var": Namespace("var", {entry.name: value}, "Invalid reference in validation")}
        evaluator = Evaluator(rule.where.file, roots, functions)
        try:
            passed = evaluator.value(rule.condition)
        except EvalError as error:
            problems.append(_problem(error))
            continue
        if passed is True:
            continue
        if passed is not False:
            problems.append(rule.where.problem("Invalid validation condition: a bool is required"))
            continue
        message = ""
        if rule.error_message is not None:
            try:
                message = to_string(evaluator.value(rule.error_message))
            except (EvalError, TypeError):
                message = "(the error_message could not be computed)"
        problems.append(
            rule.where.problem(
                f'Invalid value for variable "{entry.name}": {message} '
                f"(checked by the validation rule at {rule.where.file.label}:{rule.where.line})"
            )
        )


@dataclass
class LocalValue:
    name: str
    expr: Tree | Token
    where: Location
    sensitive: bool = False


def collect_locals(
    blocks: Sequence[tuple[Block, SourceFile]],
) -> tuple[dict[str, LocalValue], list[Problem]]:
    """`locals { a = ... }` entries and `local "a" { expression = ... sensitive = ... }`."""
    found: dict[str, LocalValue] = {}
    problems: list[Problem] = []
    for block, file in blocks:
        entries: list[LocalValue] = []
        if block.type == "locals":
            for name, attribute in block.body.attributes.items():
                entries.append(LocalValue(name, attribute.expr, attribute.where))
        else:
            expression = block.body.attributes.get("expression")
            if len(block.labels) != 1 or expression is None:
                problems.append(
                    block.where.problem('a local block is written local "name" { expression = '
                                        "... }")
                )
                continue
            sensitive_attr = block.body.attributes.get("sensitive")
            sensitive = False
            if sensitive_attr is not None:
                sensitive = literal(Evaluator(file, {}, {}), sensitive_attr.expr, problems) is True
            entries.append(LocalValue(block.labels[0], expression.expr, block.where, sensitive))
        for entry in entries:
            if entry.name in found:
                first = found[entry.name].where
                problems.append(
                    entry.where.problem(
                        f'Duplicate local value: "{entry.name}" was already defined at '
                        f"{first.file.label}:{first.line}"
                    )
                )
                continue
            found[entry.name] = entry
    return found, problems


def evaluate_locals(
    found: Mapping[str, LocalValue], roots: dict[str, Any], functions: Functions
) -> list[Problem]:
    """Fill roots["local"] (a Namespace) in as many passes as references between locals need."""
    namespace: Namespace = roots["local"]
    namespace.pending = set(found)
    namespace.values = dict.fromkeys(found)
    problems: list[Problem] = []
    waiting: dict[str, str] = {}
    while namespace.pending:
        progressed = False
        for name in sorted(namespace.pending, key=lambda n: found[n].where.line):
            entry = found[name]
            evaluator = Evaluator(entry.where.file, roots, functions)
            try:
                value = evaluator.value(entry.expr)
            except Pending as pending:
                waiting[name] = pending.name
                continue
            except EvalError as error:
                problems.append(_problem(error))
                value = None
            namespace.values[name] = value
            namespace.pending.discard(name)
            progressed = True
        if not progressed:
            for name in sorted(namespace.pending):
                problems.append(
                    found[name].where.problem(
                        f'Cycle in local values: local.{name} depends on local.{waiting[name]}, '
                        "which depends on it in turn"
                    )
                )
            namespace.pending.clear()
    return problems


def as_text(value: Any) -> str:
    """A value as the JSON front end's string variables hold it."""
    if isinstance(value, (list, dict)):
        return json.dumps(value, sort_keys=True)
    if value is None:
        return ""
    return to_string(value)

