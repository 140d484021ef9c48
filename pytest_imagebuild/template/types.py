"""Type checks for config values, as lenient as Packer's weakly typed decoder and no more."""

from __future__ import annotations

from typing import Any

from .durations import parse_duration

_TRUE = ("1", "t", "T", "TRUE", "true", "True")
_FALSE = ("0", "f", "F", "FALSE", "false", "False", "")
_NAMES = {
    "str": "a string",
    "bool": "a boolean",
    "int": "an integer",
    "float": "a number",
    "duration": 'a duration such as "5m" or "30s"',
    "[str]": "a list of strings",
    "[int]": "a list of integers",
    "{str}": "an object of strings",
    "{}": "an object",
    "[{}]": "a list of objects",
    "[[str]]": "a list of lists of strings",
    "any": "a value",
}


def describe(value: Any) -> str:
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, (int, float)):
        return f"the number {value}"
    if isinstance(value, str):
        return f"the string {value!r}"
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "a list"
    return "null"


def _scalar(value: Any) -> bool:
    return isinstance(value, (str, int, float, bool)) or value is None


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def type_error(value: Any, kind: str) -> str | None:
    """Why value cannot be decoded as kind, or None when it can."""
    if value is None or kind == "any":
        return None
    check = _CHECKS.get(kind)
    if check is None:
        raise KeyError(f"unknown field type {kind!r}")
    if check(value):
        return None
    message = f"expected {_NAMES[kind]}, got {describe(value)}"
    if kind == "duration" and isinstance(value, str):
        try:
            parse_duration(value)
        except ValueError as error:
            message += f" ({error})"
    return message


def _is_bool(value: Any) -> bool:
    if isinstance(value, (bool, int, float)):
        return True
    return isinstance(value, str) and value in _TRUE + _FALSE


def _is_int(value: Any) -> bool:
    if isinstance(value, (bool, int, float)):
        return True
    if isinstance(value, str):
        try:
            int(value or "0", 0)
        except ValueError:
            return False
        return True
    return False


def _is_float(value: Any) -> bool:
    if isinstance(value, (int, float)):
        return True
    try:
        float(value or "0")
    except (TypeError, ValueError):
        return False
    return True


def _is_duration(value: Any) -> bool:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return True
    if not isinstance(value, str):
        return False
    try:
        # "" too: Go's time.ParseDuration refuses it, so Packer fails on an empty timeout.
        parse_duration(value)
    except ValueError:
        return False
    return True


_CHECKS = {
    "str": _scalar,
    "bool": _is_bool,
    "int": _is_int,
    "float": _is_float,
    "duration": _is_duration,
    "[str]": lambda v: all(_scalar(item) for item in _as_list(v)),
    "[int]": lambda v: all(_is_int(item) for item in _as_list(v)),
    "{str}": lambda v: (isinstance(v, dict) and all(_scalar(x) for x in v.values())) or v == [],
    "{}": lambda v: isinstance(v, dict) or v == [],
    "[{}]": lambda v: all(isinstance(item, dict) for item in _as_list(v)),
    "[[str]]": lambda v: (
        isinstance(v, list)
        and all(isinstance(row, list) and all(_scalar(x) for x in row) for row in v)
    ),
}


def as_bool(value: Any) -> bool:
    """Decode a checked boolean the way Packer does ("true", 1, true...)."""
    if isinstance(value, str):
        return value in _TRUE
    return bool(value)


def string_list(value: Any) -> list[str]:
    """A checked list-of-strings value as Packer's decoder sees it.

    Packer's decode hook splits a plain string at commas ("md5,sha1" is two checksum
    types, "" is none), and a single non-string scalar becomes a one-element list.
    """
    if value is None:
        return []
    if isinstance(value, str):
        return value.split(",") if value else []
    if isinstance(value, list):
        return ["" if item is None else str(item) for item in value]
    return [str(value)]


def is_set(config: dict[str, Any], key: str) -> bool:
    """The key holds a value Packer treats as given (not null, "", [] or {})."""
    return config.get(key) not in (None, "", [], {})
