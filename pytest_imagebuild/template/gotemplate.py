"""The subset of Go's text/template that Packer templates use: actions, pipelines, literals.

Packer renders every string of a template through Go templates; users write
``{{user `x`}}``, ``{{isotime "2006-01-02" | clean_resource_name}}`` or ``{{ .Path }}``.
Fields (``.Path``) and calls that only make sense later in a build are left untouched
so they can be rendered again at run time, exactly as Packer defers them.
"""

from __future__ import annotations

import inspect
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
MAX_EXPRESSION_DEPTH = 100
"""Parentheses nested deeper than this are refused, as newer Go versions do past 10000."""

MAX_RENDERED_CHARS = 4 * 1024 * 1024
"""The most characters the actions of one string may add: variables that repeat each other
twice over double with every step, and would otherwise exhaust memory."""

_COMMENT = re.compile(r"(?:- )?/\*.*\*/(?: -)?", re.DOTALL)
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


def _parse_pipeline(
    tokens: list[tuple[str, str]], pos: int, depth: int = 0
) -> tuple[list[list[Any]], int]:
    if depth > MAX_EXPRESSION_DEPTH:
        raise RenderError(
            f"template: root:1: max expression depth exceeded (more than {MAX_EXPRESSION_DEPTH} "
            "nested parentheses)"
        )
    commands: list[list[Any]] = [[]]
    while pos < len(tokens):
        kind, text = tokens[pos]
        if kind == "punct" and text == ")":
            break
        pos += 1
        if kind == "punct" and text == "|":
            commands.append([])
        elif kind == "punct" and text == "(":
            inner, pos = _parse_pipeline(tokens, pos, depth + 1)
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
        size = 0
        while True:
            start = text.find("{{", pos)
            if start == -1:
                out.append(text[pos:])
                return "".join(out)
            out.append(text[pos:start])
            action, end = _split_action(text, start)
            pos = end
            try:
                rendered = self._action(_strip_trim_markers(action))
            except Deferred:
                out.append(text[start:end])  # kept whole, trim markers included, for later
                continue
            except RenderError as error:
                raise RenderError(f"{error} (in {_quoted(text)})") from None
            if action.startswith("- "):
                out[-1] = out[-1].rstrip()
            if action.endswith(" -"):
                pos = len(text) - len(text[pos:].lstrip())
            out.append(rendered)
            size += len(rendered)
            if size > MAX_RENDERED_CHARS:
                raise RenderError(
                    f"its actions render to more than {MAX_RENDERED_CHARS} characters "
                    f"(in {_quoted(text)})"
                )

    def _action(self, action: str) -> str:
        if _COMMENT.fullmatch(action):
            return ""
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
        wrong = _wrong_arity(name, function, len(args))
        if wrong:
            raise RenderError(f'executing "root" at <{name}>: {wrong}')
        try:
            return function(*args)
        except RenderError as error:
            raise RenderError(
                f'executing "root" at <{name}>: error calling {name}: {error}'
            ) from None
        except (TypeError, ValueError):
            shown = " ".join(repr(arg) for arg in args)
            raise RenderError(
                f'executing "root" at <{name}>: error calling {name}: '
                f"arguments of the wrong type: {shown}"
            ) from None


def _wrong_arity(name: str, function: Function, count: int) -> str | None:
    """Go's "wrong number of args" message, so no Python function name reaches the user."""
    try:
        parameters = inspect.signature(function).parameters.values()
    except (TypeError, ValueError):
        return None
    positional = [p for p in parameters if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    variadic = any(p.kind is p.VAR_POSITIONAL for p in parameters)
    required = sum(1 for p in positional if p.default is p.empty)
    if required <= count and (variadic or count <= len(positional)):
        return None
    if variadic:
        want = f"at least {required}"
    elif required == len(positional):
        want = str(required)
    else:
        want = f"{required} to {len(positional)}"
    return f"wrong number of args for {name}: want {want} got {count}"


def _split_action(text: str, start: int) -> tuple[str, int]:
    """The inside of the action starting at start, and where the text after it begins."""
    inner = start + 2
    if text.startswith(("/*", "- /*"), inner):
        close = text.find("*/", inner)
        end = text.find("}}", close + 2) if close != -1 else -1
        if end == -1 or text[close + 2 : end].strip() not in ("", "-"):
            raise RenderError(f"template: root:1: unclosed comment (in {_quoted(text)})")
        return text[inner:end], end + 2
    end = text.find("}}", inner)
    if end == -1:
        raise RenderError(f"template: root:1: unclosed action (in {_quoted(text)})")
    return text[inner:end], end + 2


def _quoted(text: str) -> str:
    """A template string shown inside a one-line error message (a long one cut short)."""
    if len(text) > _QUOTED_WIDTH:
        half = _QUOTED_WIDTH // 2
        text = f"{text[:half]}...{text[-half:]}"
    return '"' + text.replace("\r", "\\r").replace("\n", "\\n") + '"'


_QUOTED_WIDTH = 120


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
