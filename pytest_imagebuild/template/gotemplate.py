"""The subset of Go's text/template that Packer templates use: actions, pipelines, literals.

Packer renders every string of a template through Go templates; users write
``{{user `x`}}``, ``{{isotime "2006-01-02" | clean_resource_name}}`` or ``{{ .Path }}``.
Fields (``.Path``) and calls that only make sense later in a build are left untouched
so they can be rendered again at run time, exactly as Packer defers them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

Function = Callable[..., Any]


class RenderError(Exception):
    """A template string that cannot be rendered; the message mirrors Packer's wording."""


class Deferred(Exception):
    """Raised by a function or field that can only be rendered later in the build."""


@dataclass(frozen=True)
class Field:
    name: str


@dataclass(frozen=True)
class Call:
    name: str
    args: tuple[Any, ...]


_TOKEN = re.compile(
    r"""\s*(?:
        (?P<raw>`[^`]*`)
      | (?P<str>"(?:[^"\\]|\\.)*")
      | (?P<num>-?\d+(?:\.\d+)?)
      | (?P<field>\.[A-Za-z_][A-Za-z0-9_]*|\.)
      | (?P<ident>[A-Za-z_][A-Za-z0-9_]*)
      | (?P<punct>[|()])
    )""",
    re.VERBOSE,
)
_STRING_ESCAPES = {"n": "\n", "t": "\t", '"': '"', "\\": "\\", "r": "\r"}


def _tokens(action: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    pos = 0
    body = action.rstrip()
    while pos < len(body):
        match = _TOKEN.match(body, pos)
        if not match or match.end() == pos:
            raise RenderError(f"unexpected {body[pos:].strip()[:20]!r} in command")
        kind = match.lastgroup or ""
        out.append((kind, match.group(kind)))
        pos = match.end()
    return out


def _unquote(text: str) -> str:
    return re.sub(r"\\(.)", lambda m: _STRING_ESCAPES.get(m.group(1), m.group(1)), text[1:-1])


def _parse_pipeline(tokens: list[tuple[str, str]], pos: int) -> tuple[list[list[Any]], int]:
    commands: list[list[Any]] = [[]]
    while pos < len(tokens):
        kind, text = tokens[pos]
        if kind == "punct" and text == ")":
            break
        pos += 1
        if kind == "punct" and text == "|":
            commands.append([])
        elif kind == "punct" and text == "(":
            inner, pos = _parse_pipeline(tokens, pos)
            if pos >= len(tokens):
                raise RenderError("unclosed left paren")
            pos += 1
            commands[-1].append(inner)
        elif kind == "raw":
            commands[-1].append(text[1:-1])
        elif kind == "str":
            commands[-1].append(_unquote(text))
        elif kind == "num":
            commands[-1].append(float(text) if "." in text else int(text))
        elif kind == "field":
            commands[-1].append(Field(text[1:]))
        else:
            commands[-1].append(Call(text, ()))
    if any(not command for command in commands):
        raise RenderError("missing value for command")
    return commands, pos


def parse_action(action: str) -> list[list[Any]]:
    """Parse the inside of ``{{ ... }}`` into a pipeline of commands."""
    tokens = _tokens(action)
    pipeline, pos = _parse_pipeline(tokens, 0)
    if pos != len(tokens):
        raise RenderError("unexpected ')' in command")
    return pipeline


@dataclass
class Renderer:
    """Renders strings with a set of functions and data fields."""

    functions: Mapping[str, Function]
    data: Mapping[str, Any]
    # Functions Packer knows but that are not callable at this point (e.g. env outside variables).
    refused: Mapping[str, str]

    def render(self, text: str) -> str:
        if "{{" not in text:
            return text
        out: list[str] = []
        pos = 0
        while True:
            start = text.find("{{", pos)
            if start == -1:
                out.append(text[pos:])
                return "".join(out)
            end = text.find("}}", start + 2)
            if end == -1:
                raise RenderError(f"template: root:1: unclosed action in:\n\n{text}")
            out.append(text[pos:start])
            action = text[start + 2 : end]
            try:
                out.append(self._action(_strip_trim_markers(action)))
            except Deferred:
                out.append(text[start : end + 2])
            except RenderError as error:
                raise RenderError(f"{error} in:\n\n{text}") from None
            pos = end + 2

    def _action(self, action: str) -> str:
        if not action.strip():
            raise RenderError("template: root:1: missing value for command")
        if action.split()[0] in ("if", "range", "with", "define", "template", "block", "end"):
            raise RenderError(f"control action {{{{{action.split()[0]}}}}} is not supported")
        return _to_text(self._pipeline(parse_action(action)))

    def _pipeline(self, pipeline: list[list[Any]]) -> Any:
        result: Any = _NO_VALUE
        for command in pipeline:
            args = [self._operand(operand) for operand in command[1:]]
            if result is not _NO_VALUE:
                args.append(result)
            result = self._command(command[0], args)
        return result

    def _operand(self, operand: Any) -> Any:
        if isinstance(operand, list):
            return self._pipeline(operand)
        if isinstance(operand, Field):
            return self._field(operand)
        if isinstance(operand, Call):
            return self._call(operand.name, [])
        return operand

    def _command(self, head: Any, args: list[Any]) -> Any:
        if isinstance(head, Call):
            return self._call(head.name, args)
        if args:
            raise RenderError(f"can't give argument to non-function {head!r}")
        return self._operand(head)

    def _field(self, field: Field) -> Any:
        if field.name in self.data:
            return self.data[field.name]
        raise Deferred(field.name)

    def _call(self, name: str, args: list[Any]) -> Any:
        if name in self.refused:
            raise RenderError(
                f'executing "root" at <{name}>: error calling {name}: {self.refused[name]}'
            )
        function = self.functions.get(name)
        if function is None:
            raise RenderError(f'template: root:1: function "{name}" not defined')
        try:
            return function(*args)
        except TypeError as error:
            raise RenderError(f"wrong arguments for {name}: {error}") from None


def _strip_trim_markers(action: str) -> str:
    if action.startswith("- "):
        action = action[2:]
    if action.endswith(" -"):
        action = action[:-2]
    return action


class _NoValue:
    pass


_NO_VALUE = _NoValue()


def _to_text(value: Any) -> str:
    if value is None:
        return "<no value>"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
