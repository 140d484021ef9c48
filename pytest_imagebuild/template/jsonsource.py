"""JSON parsing that remembers the line of every key, so errors can point into the file.

The standard library's decoder forgets positions; a plain recursive-descent parser lets us
explain typographic quotes precisely. It stays linear in the size of the file (lines are
found by bisecting a table of line starts) and refuses, as a located syntax error, what
would otherwise crash later: nesting deeper than ``MAX_DEPTH`` and numbers beyond the range
of Go's float64, which is how Packer's decoder reads them.
"""

from __future__ import annotations

import math
import re
from bisect import bisect_right
from dataclasses import dataclass, field
from typing import Any

from ..errors import Caveat, Problem, TemplateError

JsonPath = tuple[str | int, ...]

TYPOGRAPHIC_QUOTES = {
    "\u201c": "left double quotation mark",
    "\u201d": "right double quotation mark",
    "\u2018": "left single quotation mark",
    "\u2019": "right single quotation mark",
    "\u201e": "double low-9 quotation mark",
    "\u00ab": "left-pointing double angle quotation mark",
    "\u00bb": "right-pointing double angle quotation mark",
}

_NUMBER = re.compile(r"-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?")
_WHITESPACE = re.compile(r"[ \t\r\n]*")
_PLAIN = re.compile(r'[^"\\\x00-\x1f]*')  # string content up to a quote, escape or control
_LINE_BREAK = re.compile("\n")
_ESCAPES = {'"': '"', "\\": "\\", "/": "/", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t"}


MAX_DEPTH = 100
"""Objects and arrays nested deeper than this are refused (Go's decoder stops at 10000)."""

# An error shows the offending line; a longer one is cut to this many characters around it.
_SHOWN_WIDTH = 100


def json_kind(value: Any) -> str:
    """What a decoded JSON value is, for messages: "an object", "a list", "a string", ..."""
    return {dict: "an object", list: "a list", str: "a string", bool: "a boolean"}.get(
        type(value), "a number" if isinstance(value, (int, float)) else "null"
    )


def format_path(path: JsonPath) -> str:
    """Render a path the way users write it: builders[0].client_id."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else part
    return out


@dataclass
class SourceMap:
    """Where each path of a parsed document starts (1-based lines)."""

    file: str
    lines: dict[JsonPath, int] = field(default_factory=dict)
    # Keys given twice in one object, with the line of the first one: Go's decoder would
    # silently keep the last, so Packer rejects the template ("template has duplicate field").
    duplicates: list[tuple[JsonPath, int]] = field(default_factory=list)
    # Where each value's text starts and ends (offsets), for HCL2's JSON syntax.
    spans: dict[JsonPath, tuple[int, int]] = field(default_factory=dict)

    def line_of(self, path: JsonPath) -> int | None:
        """Line of the path, or of its nearest ancestor that has one."""
        while True:
            if path in self.lines:
                return self.lines[path]
            if not path:
                return None
            path = path[:-1]

    def problem(self, path: JsonPath, message: str) -> Problem:
        warning = isinstance(message, Caveat)
        return Problem(self.file, self.line_of(path), format_path(path), message, warning)


MAX_DEPTH = 100


class _Parser:
    def __init__(self, text: str, source: SourceMap):
        self.text = text
        self.pos = 0
        self.source = source
        self.depth = 0
        self.line_starts = [0] + [match.end() for match in _LINE_BREAK.finditer(text)]

    def fail(self, message: str, pos: int | None = None) -> TemplateError:
        pos = self.pos if pos is None else pos
        line = self.line_at(pos)
        start = self.line_starts[line - 1]
        end = self.text.find("\n", pos)
        text_line = self.text[start : end if end != -1 else len(self.text)]
        column = pos - start + 1
        shown, offset = _clip(text_line.expandtabs(1), column - 1)
        caret = " " * offset + "^"
        detail = f"{message} at line {line}, column {column}:\n      {shown}\n      {caret}"
        return TemplateError([Problem(self.source.file, line, "", detail)])

    def line_at(self, pos: int) -> int:
        return bisect_right(self.line_starts, pos)

    def line(self) -> int:
        return self.line_at(self.pos)

    def skip_ws(self) -> None:
        self.pos = _WHITESPACE.match(self.text, self.pos).end()  # type: ignore[union-attr]

    def nest(self) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise self.fail(
                f"JSON syntax error: objects and arrays nested more than {MAX_DEPTH} deep "
                "(pytest-imagebuild's limit; Packer's decoder stops at 10000 with "
                "'exceeded max depth')"
            )

    def unexpected(self, expected: str) -> TemplateError:
        if self.pos >= len(self.text):
            return self.fail(f"JSON syntax error: unexpected end of file, expected {expected}")
        char = self.text[self.pos]
        if char in TYPOGRAPHIC_QUOTES:
            return self.fail(
                f"JSON syntax error: typographic quote {char!r} ({TYPOGRAPHIC_QUOTES[char]}) "
                'where JSON needs a straight double quote ("); the template was probably copied '
                "from a web page or word processor, replace every \u201c \u201d \u2018 \u2019 "
                'with "'
            )
        return self.fail(f"JSON syntax error: invalid character {char!r}, expected {expected}")

    def value(self, path: JsonPath) -> Any:
        self.skip_ws()
        self.source.lines.setdefault(path, self.line())
        start = self.pos
        found = self._value(path)
        self.source.spans[path] = (start, self.pos)
        return found

    def _value(self, path: JsonPath) -> Any:
        if self.pos >= len(self.text):
            raise self.unexpected("a value")
        char = self.text[self.pos]
        if char == "{":
            return self.object(path)
        if char == "[":
            return self.array(path)
        if char == '"':
            return self.string()
        for literal, result in (("true", True), ("false", False), ("null", None)):
            if self.text.startswith(literal, self.pos):
                self.pos += len(literal)
                return result
        match = _NUMBER.match(self.text, self.pos)
        if match:
            return self.number(match)
        raise self.unexpected("a value")

    def number(self, match: re.Match[str]) -> int | float:
        """Packer decodes numbers into Go's float64: one beyond its range is an error there."""
        number = match.group()
        value = float(number)  # never raises: too large becomes inf, too small 0.0
        if math.isinf(value):
            shown = number if len(number) <= 40 else f"{number[:20]}...{number[-10:]}"
            raise self.fail(
                f"json: cannot unmarshal number {shown} into Go value of type float64 "
                f"(it is beyond the range of a 64-bit float; {len(number)} characters)"
            )
        self.pos = match.end()
        if any(c in number for c in ".eE"):
            return value
        return int(number)  # at most 309 digits here, as value is finite

    def object(self, path: JsonPath) -> dict[str, Any]:
        self.nest()
        self.pos += 1
        result: dict[str, Any] = {}
        self.skip_ws()
        if self.text.startswith("}", self.pos):
            self.pos += 1
            self.depth -= 1
            return result
        while True:
            self.skip_ws()
            if not self.text.startswith('"', self.pos):
                raise self.unexpected("a double-quoted key")
            key_line = self.line()
            key = self.string()
            if key in result:
                self.source.duplicates.append(((*path, key), self.source.lines[(*path, key)]))
            self.source.lines[(*path, key)] = key_line
            self.skip_ws()
            if not self.text.startswith(":", self.pos):
                raise self.unexpected("':' after a key")
            self.pos += 1
            result[key] = self.value((*path, key))
            self.skip_ws()
            if self.text.startswith(",", self.pos):
                self.pos += 1
                continue
            if self.text.startswith("}", self.pos):
                self.pos += 1
                self.depth -= 1
                return result
            raise self.unexpected("',' or '}' after an object member")

    def array(self, path: JsonPath) -> list[Any]:
        self.nest()
        self.pos += 1
        result: list[Any] = []
        self.skip_ws()
        if self.text.startswith("]", self.pos):
            self.pos += 1
            self.depth -= 1
            return result
        while True:
            result.append(self.value((*path, len(result))))
            self.skip_ws()
            if self.text.startswith(",", self.pos):
                self.pos += 1
                continue
            if self.text.startswith("]", self.pos):
                self.pos += 1
                self.depth -= 1
                return result
            raise self.unexpected("',' or ']' after an array element")

    def string(self) -> str:
        start = self.pos
        self.pos += 1
        parts: list[str] = []
        text = self.text
        while True:
            end = _PLAIN.match(text, self.pos).end()  # type: ignore[union-attr]
            parts.append(text[self.pos : end])
            self.pos = end
            if end >= len(text) or text[end] == "\n":
                raise self.fail(
                    "JSON syntax error: string not closed before the end of the line", start
                )
            char = text[end]
            if char == '"':
                self.pos += 1
                return "".join(parts)
            if char != "\\":
                raise self.fail("JSON syntax error: control character in string")
            escape = text[end + 1 : end + 2]
            if escape == "u":
                digits = text[end + 2 : end + 6]
                if not re.fullmatch(r"[0-9a-fA-F]{4}", digits):
                    raise self.fail("JSON syntax error: bad \\u escape", end)
                parts.append(chr(int(digits, 16)))
                self.pos = end + 6
            elif escape in _ESCAPES:
                parts.append(_ESCAPES[escape])
                self.pos = end + 2
            else:
                raise self.fail(f"JSON syntax error: invalid escape '\\{escape}'", end)


def _clip(line: str, index: int) -> tuple[str, int]:
    """A long line cut to a window around index, and where index falls in the window."""
    if len(line) <= _SHOWN_WIDTH:
        return line, index
    start = max(0, min(index - _SHOWN_WIDTH // 2, len(line) - _SHOWN_WIDTH))
    shown = line[start : start + _SHOWN_WIDTH]
    offset = index - start
    if start > 0:
        shown, offset = "..." + shown, offset + 3
    if start + _SHOWN_WIDTH < len(line):
        shown += "..."
    return shown, offset


def parse_json(text: str, file: str) -> tuple[Any, SourceMap]:
    """Parse JSON text; on a syntax error raise TemplateError with line, column and a caret."""
    source = SourceMap(file)
    parser = _Parser(text.lstrip("\ufeff"), source)
    value = parser.value(())
    parser.skip_ws()
    if parser.pos != len(parser.text):
        raise parser.unexpected("end of file after the top-level value")
    return value, source
