"""HCL2 in JSON syntax (``.pkr.json``): the same bodies and blocks as a ``.pkr.hcl`` file.

In HCL's JSON syntax a block is an object property whose nested object keys are its labels
(``{"source": {"qemu": {"web": {...}}}}`` is ``source "qemu" "web" {...}``), a repeated block
is an array, and every string is a template (``"${var.size}"``). Which properties are blocks,
and how many labels each takes, is Packer's schema, written out below. Each value becomes the
expression it stands for, parsed by the same HCL parser at the value's line in the JSON file,
so evaluation, validation and errors are those of ``.pkr.hcl`` files. A property named
``"//"`` is a comment, as HCL defines it.
"""

from __future__ import annotations

import json
import math
import re
from bisect import bisect_right
from typing import Any

from lark import Token
from lark.exceptions import UnexpectedInput

from ...errors import Problem, TemplateError
from ..jsonsource import JsonPath, SourceMap, json_kind, parse_json
from .parse import Attribute, Block, Body, Location, SourceFile, parse_expression

# Block types by where they stand: the number of labels each takes.
TOP_BLOCKS = {
    "packer": 0,
    "variable": 1,
    "variables": 0,
    "locals": 0,
    "local": 1,
    "source": 2,
    "data": 2,
    "build": 0,
}
BUILD_BLOCKS = {
    "source": 1,
    "provisioner": 1,
    "post-processor": 1,
    "post-processors": 0,
    "error-cleanup-provisioner": 1,
    "hcp_packer_registry": 0,
}
NESTED_BLOCKS: dict[str, dict[str, int]] = {
    "packer": {"required_plugins": 0},
    "variable": {"validation": 0},
    "build": BUILD_BLOCKS,
    "post-processors": {"post-processor": 1},
}
# Attributes whose JSON string is an expression, not a template (as Terraform and Packer read
# a variable's type).
RAW_EXPRESSIONS = {("variable", "type")}
COMMENT = "//"
PREFIX = "__expr__ = "  # what parse_expression puts before the expression it parses
# JSON string escapes HCL's quoted templates do not have.
_ESCAPES_HCL_LACKS = re.compile(r"(?<!\\)(?:\\\\)*\\[/bf]")


class _Reader:
    def __init__(self, text: str, label: str) -> None:
        self.label = label
        self.text = text
        self.line_starts = [0] + [i + 1 for i, char in enumerate(text) if char == "\n"]
        self.source: SourceMap
        self.problems: list[Problem] = []

    def where(self, path: JsonPath) -> Location:
        line = self.source.line_of(path) or 1
        return Location(SourceFile(self.label, self.text), line, 1)

    def problem(self, path: JsonPath, message: str) -> None:
        self.problems.append(self.where(path).problem(message))

    # -- blocks -----------------------------------------------------------------------------
    def body(self, value: Any, path: JsonPath, kind: str, schema: dict[str, int]) -> Body:
        """An object as a block body: schema names its nested blocks, the rest are arguments."""
        body = Body(where=self.where(path))
        if not isinstance(value, dict):
            self.problem(path, f'the "{kind}" block must be a JSON object, not {json_kind(value)}')
            return body
        for name, item in value.items():
            if name == COMMENT:
                continue
            if name in schema:
                body.blocks += self.blocks(name, item, (*path, name), schema[name])
                continue
            raw = (kind, name) in RAW_EXPRESSIONS
            expression = self.attribute(item, (*path, name), raw)
            if expression is not None:
                body.attributes[name] = expression
        return body

    def blocks(self, kind: str, value: Any, path: JsonPath, labels: int) -> list[Block]:
        """One property of a block type: nested objects by label, arrays for repeats."""
        if isinstance(value, list):
            found = []
            for index, item in enumerate(value):
                found += self.blocks(kind, item, (*path, index), labels)
            return found
        if labels == 0:
            schema = NESTED_BLOCKS.get(kind, {})
            return [Block(kind, [], self.body(value, path, kind, schema), self.where(path))]
        if not isinstance(value, dict):
            self.problem(
                path,
                f'the "{kind}" block takes {labels} label(s): write it as an object keyed by '
                f"its label, not {json_kind(value)}",
            )
            return []
        found = []
        for label, inner in value.items():
            if label == COMMENT:
                continue
            for block in self.blocks(kind, inner, (*path, label), labels - 1):
                block.labels.insert(0, label)
                found.append(block)
        return found

    # -- expressions ------------------------------------------------------------------------
    def attribute(self, value: Any, path: JsonPath, raw: bool) -> Attribute | None:
        """The value as an HCL expression, with the positions it has in the JSON file.

        A JSON value's own text is an HCL expression already (objects may use ``:``, strings
        are templates, escapes are shared), so it is parsed as written and every position in
        the tree is moved to where the value stands; a string holding an expression (a
        variable's type) is parsed from inside its quotes.
        """
        where = self.where(path)
        start, end = self.source.spans.get(path, (0, 0))
        text = self.text[start:end]
        if raw and isinstance(value, str) and len(text) >= 2:
            start, text = start + 1, text[1:-1]
        elif _ESCAPES_HCL_LACKS.search(text) or not text:
            text = _expression(value)  # rewritten: positions inside it are approximate
        try:
            expr = parse_expression(text, self.label, 1)
        except UnexpectedInput as error:
            column = max((getattr(error, "column", None) or 1) - len(PREFIX), 1)
            self.problem(path, f"Invalid expression at column {column} of the value: {text!r}")
            return None
        except ValueError as error:  # python-hcl2's own refusals
            self.problem(path, f"Invalid expression {text!r}: {error}")
            return None
        line = bisect_right(self.line_starts, start)
        column = start - self.line_starts[line - 1] + 1
        _move(expr, start - len(PREFIX), line - 1, column - 1 - len(PREFIX))
        return Attribute(path[-1] if path else "", expr, Location(where.file, line, column))


def _move(node: Any, offset: int, lines: int, columns: int) -> None:
    """Shift a parsed expression's positions from its own text to the JSON file's."""
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, Token):
            first_line = item.line == 1
            item.start_pos = (item.start_pos or 0) + offset
            item.end_pos = (item.end_pos or 0) + offset
            if item.column is not None and first_line:
                item.column += columns
            if item.end_column is not None and item.end_line == 1:
                item.end_column += columns
            item.line = (item.line or 1) + lines
            item.end_line = (item.end_line or 1) + lines
            continue
        meta = item.meta
        if not getattr(meta, "empty", True):
            if meta.line == 1:
                meta.column += columns
            if meta.end_line == 1:
                meta.end_column += columns
            meta.start_pos += offset
            meta.end_pos += offset
            meta.line += lines
            meta.end_line += lines
        stack.extend(item.children)


def _expression(value: Any) -> str:
    """A JSON value as HCL expression text: strings stay templates (``${...}`` works)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, (int, float)):
        if isinstance(value, float) and not math.isfinite(value):
            raise ValueError(f"{value!r} is not a number HCL can hold")
        return json.dumps(value)
    if isinstance(value, str):
        return _template(value)
    if isinstance(value, list):
        return "[" + ", ".join(_expression(item) for item in value) + "]"
    if isinstance(value, dict):
        items = (
            f"{_template(key)} = {_expression(item)}"
            for key, item in value.items()
            if key != COMMENT
        )
        return "{" + ", ".join(items) + "}"
    raise ValueError(f"unexpected JSON value {value!r}")


def _template(text: str) -> str:
    """A JSON string as a quoted HCL template: the same characters, on one line."""
    escaped = (
        text.replace("\\", "\\\\")
        .replace('"', '\\"')
        .replace("\n", "\\n")
        .replace("\r", "\\r")
        .replace("\t", "\\t")
    )
    return f'"{escaped}"'


def parse_json_syntax(text: str, label: str) -> tuple[Body | None, SourceFile, list[Problem]]:
    """A ``.pkr.json`` file as a body of top-level blocks, with problems found on the way."""
    reader = _Reader(text.lstrip("\ufeff"), label)
    file = SourceFile(label, reader.text)
    try:
        document, reader.source = parse_json(reader.text, label)
    except TemplateError as error:
        return None, file, list(error.problems)
    if not isinstance(document, dict):
        problem = Problem(label, 1, "", "a .pkr.json file must hold one JSON object")
        return None, file, [problem]
    body = Body(where=Location(file, 1, 1))
    for name, value in document.items():
        if name == COMMENT:
            continue
        if name not in TOP_BLOCKS:
            expression = reader.attribute(value, (name,), raw=False)
            if expression is not None:
                body.attributes[name] = expression  # reported as misplaced by the caller
            continue
        body.blocks += reader.blocks(name, value, (name,), TOP_BLOCKS[name])
    return body, file, reader.problems
