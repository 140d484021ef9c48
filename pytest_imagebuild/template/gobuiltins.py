"""Go text/template's built-in functions and how it prints values, for Packer templates.

``and``, ``or``, ``not``, comparisons, ``len``, ``index``, ``slice``, ``print``, ``printf``,
``println``, ``html`` and ``urlquery`` behave as in Go 1.15 (Packer 1.6.6's Go): ``and``/``or``
return one of their arguments, not a bool, and comparing values of different kinds is an error.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any
from urllib.parse import quote_plus

from .goparse import RenderError, quote


def truthy(value: Any) -> bool:
    """Go's notion of "empty": false, 0, nil, and empty strings, lists and maps are false."""
    if value is None or value is False:
        return False
    if isinstance(value, (int, float, str, list, tuple, dict)):
        return bool(value)
    return True


def go_text(value: Any) -> str:
    """A value as ``{{.}}`` prints it (fmt's %v)."""
    if value is None:
        return "<no value>"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e21:
            return str(int(value))
        return repr(value)
    if isinstance(value, (list, tuple)):
        return "[" + " ".join(go_text(item) for item in value) + "]"
    if isinstance(value, dict):
        return "map[" + " ".join(f"{k}:{go_text(value[k])}" for k in sorted(value)) + "]"
    return str(value)


def _kind(value: Any) -> str:
    if value is None:
        return "nil"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float64"
    if isinstance(value, str):
        return "string"
    if isinstance(value, (list, tuple)):
        return "[]interface {}"
    if isinstance(value, dict):
        return "map[string]interface {}"
    return type(value).__name__


def _and(first: Any, *rest: Any) -> Any:
    for value in (first, *rest):
        if not truthy(value):
            return value
    return (first, *rest)[-1]


def _or(first: Any, *rest: Any) -> Any:
    for value in (first, *rest):
        if truthy(value):
            return value
    return (first, *rest)[-1]


def _comparable(left: Any, right: Any) -> None:
    basic = (bool, int, float, str)
    if not isinstance(left, basic) or not isinstance(right, basic):
        raise RenderError("invalid type for comparison")
    if _kind(left) != _kind(right):
        raise RenderError("incompatible types for comparison")


def _eq(first: Any, *others: Any) -> bool:
    if not others:
        raise RenderError("missing argument for comparison")
    for other in others:
        _comparable(first, other)
        if first == other:
            return True
    return False


def _ordered(compare: Callable[[Any, Any], bool]) -> Callable[[Any, Any], bool]:
    def check(left: Any, right: Any) -> bool:
        _comparable(left, right)
        if isinstance(left, bool):
            raise RenderError("invalid type for comparison")
        return compare(left, right)

    return check


def _len(value: Any) -> int:
    if isinstance(value, (str, list, tuple, dict)):
        return len(value.encode() if isinstance(value, str) else value)
    raise RenderError(f"len of type {_kind(value)}")


def _index(item: Any, *keys: Any) -> Any:
    for key in keys:
        if isinstance(item, dict):
            item = item.get(key)
        elif isinstance(item, (list, tuple, str)):
            if isinstance(key, bool) or not isinstance(key, int):
                raise RenderError(f"cannot index slice/array with type {_kind(key)}")
            if not 0 <= key < len(item):
                raise RenderError(f"index out of range: {key}")
            item = item[key] if not isinstance(item, str) else item.encode()[key]
        else:
            raise RenderError(f"can't index item of type {_kind(item)}")
    return item


def _slice(item: Any, *bounds: Any) -> Any:
    if not isinstance(item, (str, list, tuple)):
        raise RenderError(f"can't slice item of type {_kind(item)}")
    if len(bounds) > 2 + (not isinstance(item, str)):
        raise RenderError("too many slice indexes")
    for bound in bounds:
        if isinstance(bound, bool) or not isinstance(bound, int) or not 0 <= bound <= len(item):
            raise RenderError(f"index out of range: {bound}")
    start = bounds[0] if bounds else 0
    end = bounds[1] if len(bounds) > 1 else len(item)
    if start > end:
        raise RenderError(f"invalid slice index: {start} > {end}")
    return item[start:end]


def _sprint(*values: Any) -> str:
    out = []
    for index, value in enumerate(values):
        if index and not isinstance(value, str) and not isinstance(values[index - 1], str):
            out.append(" ")
        out.append(go_text(value) if value is not None else "<nil>")
    return "".join(out)


_VERB = re.compile(r"%([-+# 0]*)(\d+|\*)?(?:\.(\d+))?([a-zA-Z%])")


def sprintf(fmt: str, *args: Any) -> str:
    """Go's fmt.Sprintf for the verbs templates use: %s %v %d %q %t %f %e %g %x %X %o %c %%."""
    values = list(args)
    used = 0

    def verb(match: re.Match[str]) -> str:
        nonlocal used
        flags, width, precision, letter = match.groups()
        if letter == "%":
            return "%"
        if used >= len(values):
            return f"%!{letter}(MISSING)"
        value = values[used]
        used += 1
        text = _format_one(letter, value, precision)
        if width and width != "*":
            align = "<" if "-" in flags else ">"
            fill = "0" if "0" in flags and align == ">" and letter in "dfegxXo" else " "
            text = f"{text:{fill}{align}{width}}"
        return text

    out = _VERB.sub(verb, str(fmt))
    if used < len(values):
        extra = ", ".join(f"{_kind(v)}={go_text(v)}" for v in values[used:])
        out += f"%!(EXTRA {extra})"
    return out


def _format_one(letter: str, value: Any, precision: str | None) -> str:
    number = isinstance(value, (int, float)) and not isinstance(value, bool)
    if letter in "sv":
        text = go_text(value) if value is not None else "<nil>"
        return text[: int(precision)] if precision and letter == "s" else text
    if letter == "q" and isinstance(value, str):
        return quote(value)
    if letter == "q" and isinstance(value, int) and not isinstance(value, bool):
        return "'" + quote(chr(value))[1:-1].replace('\\"', '"').replace("'", "\\'") + "'"
    if letter == "t" and isinstance(value, bool):
        return go_text(value)
    if letter in "dxXoc" and isinstance(value, int) and not isinstance(value, bool):
        return {"d": str, "x": "{:x}".format, "X": "{:X}".format, "o": "{:o}".format}.get(
            letter, chr
        )(value)
    if letter in "xX" and isinstance(value, str):
        hexed = value.encode().hex()
        return hexed.upper() if letter == "X" else hexed
    if letter in "feEgG" and number:
        spec = f".{precision}{letter}" if precision else ("f" if letter == "f" else letter)
        return format(float(value), spec if letter != "f" or precision else ".6f")
    return f"%!{letter}({_kind(value)}={go_text(value)})"


def _html(*values: Any) -> str:
    text = _sprint(*values)
    for char, entity in (("&", "&amp;"), ("'", "&#39;"), ("<", "&lt;"), (">", "&gt;")):
        text = text.replace(char, entity)
    return text.replace('"', "&#34;").replace("\0", "\ufffd")


BUILTINS: dict[str, Callable[..., Any]] = {
    "and": _and,
    "or": _or,
    "not": lambda value: not truthy(value),
    "eq": _eq,
    "ne": lambda left, right: not _eq(left, right),
    "lt": _ordered(lambda a, b: a < b),
    "le": _ordered(lambda a, b: a <= b),
    "gt": _ordered(lambda a, b: a > b),
    "ge": _ordered(lambda a, b: a >= b),
    "len": _len,
    "index": _index,
    "slice": _slice,
    "print": _sprint,
    "printf": sprintf,
    "println": lambda *values: (
        " ".join(go_text(v) if v is not None else "<nil>" for v in values) + "\n"
    ),
    "html": _html,
    "urlquery": lambda *values: quote_plus(_sprint(*values)),
}
