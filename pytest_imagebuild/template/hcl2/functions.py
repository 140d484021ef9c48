"""The HCL2 functions Packer templates call, fixed for one run like the JSON front end's.

`timestamp()` is the run's start time and `uuidv4()` is derived from the run's seed and a
counter, so a recorded run renders byte for byte the same when it is replayed.
"""

from __future__ import annotations

import base64
import hashlib
import ipaddress
import json
import os
import re
import uuid as uuidlib
from collections.abc import Callable, Mapping
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from ... import rfc3339
from ...bounded_read import InputFileError, read_bounded, read_text_bounded
from ..functions import RunContext
from . import limits
from .evaluate import FunctionError, to_string

Function = Callable[..., Any]


def _string(value: Any, what: str = "argument") -> str:
    if value is None:
        raise FunctionError(f"{what} must not be null")
    try:
        return to_string(value)
    except TypeError:
        raise FunctionError(f"{what} must be a string, got a {type(value).__name__}") from None


def _list(value: Any, what: str = "argument") -> list[Any]:
    if not isinstance(value, list):
        raise FunctionError(f"{what} must be a list")
    return value


def _map(value: Any, what: str = "argument") -> dict[str, Any]:
    if not isinstance(value, dict):
        raise FunctionError(f"{what} must be a map or object")
    return value


def _int(value: Any, what: str = "argument") -> int:
    if isinstance(value, bool):
        raise FunctionError(f"{what} must be a whole number")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise FunctionError(f"{what} must be a whole number") from None
    if not number.is_integer():
        raise FunctionError(f"{what} must be a whole number")
    return int(number)


# formatdate's specification letters (a subset of Go's time formatting, as HCL defines them).
_FORMAT_TOKENS = [
    ("YYYY", lambda t: f"{t.year:04d}"),
    ("YY", lambda t: f"{t.year % 100:02d}"),
    ("MMMM", lambda t: t.strftime("%B")),
    ("MMM", lambda t: t.strftime("%b")),
    ("MM", lambda t: f"{t.month:02d}"),
    ("M", lambda t: str(t.month)),
    ("DD", lambda t: f"{t.day:02d}"),
    ("D", lambda t: str(t.day)),
    ("EEEE", lambda t: t.strftime("%A")),
    ("EEE", lambda t: t.strftime("%a")),
    ("hh", lambda t: f"{t.hour:02d}"),
    ("h", lambda t: str(t.hour)),
    ("HH", lambda t: f"{(t.hour % 12) or 12:02d}"),
    ("H", lambda t: str((t.hour % 12) or 12)),
    ("AA", lambda t: "AM" if t.hour < 12 else "PM"),
    ("aa", lambda t: "am" if t.hour < 12 else "pm"),
    ("mm", lambda t: f"{t.minute:02d}"),
    ("m", lambda t: str(t.minute)),
    ("ss", lambda t: f"{t.second:02d}"),
    ("s", lambda t: str(t.second)),
    ("ZZZZZ", lambda t: _offset(t, ":")),
    ("ZZZZ", lambda t: _offset(t, "")),
    ("ZZZ", lambda t: "UTC" if not t.utcoffset() else _offset(t, "")),
    ("Z", lambda t: "Z" if not t.utcoffset() else _offset(t, ":")),
]


def _offset(moment: datetime, separator: str) -> str:
    raw = moment.strftime("%z") or "+0000"
    return raw[:3] + separator + raw[3:]


def _parse_timestamp(text: str) -> datetime:
    try:
        return rfc3339.parse(text)
    except ValueError:
        raise FunctionError(f'not a valid RFC 3339 timestamp: "{text}"') from None


def formatdate(spec: Any, timestamp: Any) -> str:
    spec_text, moment = _string(spec), _parse_timestamp(_string(timestamp))
    out, pos = [], 0
    while pos < len(spec_text):
        if spec_text[pos] == "'":
            end = spec_text.find("'", pos + 1)
            if end < 0:
                raise FunctionError("unterminated literal ' in the format")
            out.append(spec_text[pos + 1 : end] or "'")
            pos = end + 1
            continue
        for token, render in _FORMAT_TOKENS:
            if spec_text.startswith(token, pos):
                out.append(render(moment))
                pos += len(token)
                break
        else:
            if spec_text[pos].isalpha():
                raise FunctionError(f"invalid date format verb {spec_text[pos]!r}")
            out.append(spec_text[pos])
            pos += 1
    return "".join(out)


def _format(spec: Any, *args: Any) -> str:
    """HCL's format(): %s, %d, %f, %q, %v, %t and %% verbs."""
    text = _string(spec)
    values = list(args)

    def verb(match: re.Match[str]) -> str:
        flags, kind = match.group(1), match.group(2)
        for number in re.findall(r"\d+", flags):  # width and precision
            limits.check_chars(int(number), "a padded value")
        if kind == "%":
            return "%"
        if not values:
            raise FunctionError("not enough arguments for the format")
        value = values.pop(0)
        if kind == "q":
            return json.dumps(_string(value))
        if kind in ("v", "s"):
            rendered = json.dumps(value) if isinstance(value, (list, dict)) else _string(value)
            return ("%" + flags + "s") % rendered
        if kind == "t":
            return "true" if value is True else "false"
        if kind == "d":
            return ("%" + flags + "d") % _int(value)
        return ("%" + flags + kind) % float(value)

    result = re.sub(r"%([-+ #0-9.]*)([sdfqvte%])", verb, text)
    if values:
        raise FunctionError("too many arguments for the format")
    return result


def _pattern(pattern: Any) -> Any:
    try:
        return limits.compile_pattern(_string(pattern))
    except limits.pattern_errors() as error:
        raise FunctionError(f"invalid regular expression: {error}") from None


def _regex_replace(text: Any, pattern: Any, replacement: Any) -> str:
    expression = _pattern(pattern)
    go_style = re.sub(r"\$\{?(\w+)\}?", r"\\g<\1>", _string(replacement))
    try:
        return expression.sub(go_style, _string(text), timeout=limits.REGEX_SECONDS)
    except TimeoutError:
        raise limits.timed_out(_string(pattern)) from None


def _replace(text: Any, search: Any, replacement: Any) -> str:
    needle = _string(search)
    if len(needle) > 1 and needle.startswith("/") and needle.endswith("/"):
        return _regex_replace(text, needle[1:-1], replacement)
    value, new = _string(text), _string(replacement)
    occurrences = value.count(needle) if needle else len(value) + 1
    limits.check_chars(len(value) + occurrences * (len(new) - len(needle)))
    return value.replace(needle, new)


def _lookup(mapping: Any, key: Any, *default: Any) -> Any:
    values = _map(mapping)
    name = _string(key)
    if name in values:
        return values[name]
    if default:
        return default[0]
    raise FunctionError(f'the given key "{name}" does not exist and no default was given')


def _element(values: Any, index: Any) -> Any:
    items = _list(values)
    if not items:
        raise FunctionError("cannot use element() on an empty list")
    return items[_int(index) % len(items)]


def _length(value: Any) -> int:
    if isinstance(value, (list, dict, str)):
        return len(value)
    raise FunctionError("argument must be a string, list or map")


def _coalesce(*values: Any) -> Any:
    for value in values:
        if value not in (None, ""):
            return value
    raise FunctionError("no non-null, non-empty-string arguments")


def _merge(*maps: Any) -> dict[str, Any]:
    merged: dict[str, Any] = {}
    for value in maps:
        if value is not None:
            merged.update(_map(value))
    return merged


def _concat(*lists: Any) -> list[Any]:
    return [item for value in lists for item in _list(value)]


def _cidrsubnet(prefix: Any, newbits: Any, netnum: Any) -> str:
    try:
        network = ipaddress.ip_network(_string(prefix), strict=False)
    except ValueError as error:
        raise FunctionError(f"invalid CIDR address: {error}") from None
    new_prefix = network.prefixlen + _int(newbits)
    if new_prefix > network.max_prefixlen:
        raise FunctionError(f"not enough remaining address space for {newbits} extra bits")
    number = _int(netnum)
    if not 0 <= number < 2 ** _int(newbits):
        raise FunctionError(f"prefix extension of {newbits} bits cannot hold netnum {number}")
    size = 2 ** (network.max_prefixlen - new_prefix)
    start = int(network.network_address) + number * size
    return str(ipaddress.ip_network((start, new_prefix)))


def _cidrhost(prefix: Any, hostnum: Any) -> str:
    try:
        network = ipaddress.ip_network(_string(prefix), strict=False)
    except ValueError as error:
        raise FunctionError(f"invalid CIDR address: {error}") from None
    number = _int(hostnum)
    if not -network.num_addresses <= number < network.num_addresses:
        raise FunctionError(f"prefix {prefix} has no host number {number}")
    return str(network[number])


def _split(separator: Any, text: Any) -> list[str]:
    value = _string(text)
    return value.split(_string(separator)) if value else [""]


def _join(separator: Any, *lists: Any) -> str:
    return _string(separator).join(_string(item, "element") for v in lists for item in _list(v))


def _contains(values: Any, item: Any) -> bool:
    return item in _list(values)


def _keys(value: Any) -> list[str]:
    return sorted(_map(value))


def _values(value: Any) -> list[Any]:
    mapping = _map(value)
    return [mapping[key] for key in sorted(mapping)]


class RunFunctions:
    """The functions of one configuration: run-fixed time and uuids, files relative to it."""

    def __init__(self, run: RunContext, root: Path, environ: Mapping[str, str] | None = None):
        self.run = run
        self.root = root
        self.environ = os.environ if environ is None else environ
        self._uuids = 0

    def timestamp(self) -> str:
        return self.run.started.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")

    def uuidv4(self) -> str:
        self._uuids += 1
        if not self.run.seed:
            return str(uuidlib.uuid4())
        digest = hashlib.sha256(f"{self.run.run_uuid}:{self._uuids}".encode()).hexdigest()
        return str(uuidlib.UUID(digest[:32], version=4))

    def _path(self, value: Any) -> Path:
        path = Path(os.path.expanduser(_string(value)))
        return path if path.is_absolute() else self.run.cwd / path

    def file(self, path: Any) -> str:
        target = self._path(path)
        try:
            return read_text_bounded(target)
        except InputFileError as error:
            raise FunctionError(f"cannot read {target}: {error.reason}") from None
        except UnicodeDecodeError:
            raise FunctionError(f"{target} is not UTF-8 text (use filebase64)") from None

    def filebase64(self, path: Any) -> str:
        target = self._path(path)
        try:
            return base64.b64encode(read_bounded(target)).decode()
        except InputFileError as error:
            raise FunctionError(f"cannot read {target}: {error.reason}") from None

    def templatefile(self, path: Any, variables: Any) -> Any:
        from .templatefile import render_template_file

        return render_template_file(self._path(path), _map(variables), self.table())

    def env(self, name: Any) -> str:
        return self.environ.get(_string(name), "")

    def table(self, with_env: bool = False) -> dict[str, Function]:
        """Every function by its HCL name; env() only where Packer allows it."""
        table: dict[str, Function] = {
            "timestamp": self.timestamp,
            "uuidv4": self.uuidv4,
            "formatdate": formatdate,
            "file": self.file,
            "filebase64": self.filebase64,
            "fileexists": lambda p: self._path(p).is_file(),
            "templatefile": self.templatefile,
            "abspath": lambda p: str(self._path(p).resolve()),
            "basename": lambda p: os.path.basename(_string(p)),
            "dirname": lambda p: os.path.dirname(_string(p)) or ".",
            "pathexpand": lambda p: os.path.expanduser(_string(p)),
            "join": _join,
            "split": _split,
            "lower": lambda s: _string(s).lower(),
            "upper": lambda s: _string(s).upper(),
            "title": lambda s: _string(s).title(),
            "replace": _replace,
            "regex_replace": _regex_replace,
            "regex": _regex,
            "trimspace": lambda s: _string(s).strip(),
            "trim": lambda s, chars: _string(s).strip(_string(chars)),
            "trimprefix": lambda s, p: _string(s).removeprefix(_string(p)),
            "trimsuffix": lambda s, p: _string(s).removesuffix(_string(p)),
            "substr": _substr,
            "chomp": lambda s: _string(s).rstrip("\r\n"),
            "indent": _indent,
            "startswith": lambda s, p: _string(s).startswith(_string(p)),
            "endswith": lambda s, p: _string(s).endswith(_string(p)),
            "strrev": lambda s: _string(s)[::-1],
            "coalesce": _coalesce,
            "coalescelist": lambda *ls: next((item for item in ls if _list(item)), []),
            "compact": lambda v: [item for item in _list(v) if item not in (None, "")],
            "concat": _concat,
            "distinct": _distinct,
            "flatten": _flatten,
            "merge": _merge,
            "lookup": _lookup,
            "length": _length,
            "element": _element,
            "index": lambda v, x: _index_of(_list(v), x),
            "keys": _keys,
            "values": _values,
            "contains": _contains,
            "zipmap": lambda k, v: dict(zip((_string(x) for x in _list(k)), _list(v), strict=True)),
            "slice": lambda v, a, b: _list(v)[_int(a) : _int(b)],
            "reverse": lambda v: list(reversed(_list(v))),
            "sort": lambda v: sorted(_string(item) for item in _list(v)),
            "range": _range,
            "min": lambda *n: min(n),
            "max": lambda *n: max(n),
            "abs": lambda n: abs(n),
            "ceil": lambda n: int(-(-float(n) // 1)),
            "floor": lambda n: int(float(n) // 1),
            "format": _format,
            "formatlist": lambda spec, *ls: [_format(spec, *row) for row in zip(*ls, strict=True)],
            "jsonencode": lambda v: json.dumps(v, separators=(",", ":"), sort_keys=True),
            "jsondecode": _jsondecode,
            "base64encode": lambda s: base64.b64encode(_string(s).encode()).decode(),
            "base64decode": _base64decode,
            "sha256": lambda s: hashlib.sha256(_string(s).encode()).hexdigest(),
            "sha1": lambda s: hashlib.sha1(_string(s).encode()).hexdigest(),
            "sha512": lambda s: hashlib.sha512(_string(s).encode()).hexdigest(),
            "md5": lambda s: hashlib.md5(_string(s).encode()).hexdigest(),
            "cidrsubnet": _cidrsubnet,
            "cidrhost": _cidrhost,
            "tostring": lambda v: None if v is None else _string(v),
            "tonumber": _tonumber,
            "tobool": _tobool,
            "tolist": lambda v: list(_list(v)),
            "toset": lambda v: sorted(set(_list(v)), key=str),
            "tomap": lambda v: dict(_map(v)),
            # Evaluated by the evaluator itself (evaluate.LAZY_FUNCTIONS); listed to exist.
            "can": _lazy_placeholder,
            "try": _lazy_placeholder,
        }
        if with_env:
            table["env"] = self.env
        return table


def _lazy_placeholder(*args: Any) -> Any:
    raise FunctionError("evaluated by the evaluator")


def _regex(pattern: Any, text: Any) -> Any:
    try:
        match = _pattern(pattern).search(_string(text), timeout=limits.REGEX_SECONDS)
    except TimeoutError:
        raise limits.timed_out(_string(pattern)) from None
    if not match:
        raise FunctionError("pattern did not match any part of the given string")
    if match.groupdict():
        return match.groupdict()
    if match.groups():
        return list(match.groups())
    return match.group()


def _substr(text: Any, offset: Any, length: Any) -> str:
    value, start, count = _string(text), _int(offset), _int(length)
    if start < 0:
        start += len(value)
    return value[start:] if count < 0 else value[start : start + count]


def _flatten(value: Any) -> list[Any]:
    out: list[Any] = []
    for item in _list(value):
        out.extend(_flatten(item) if isinstance(item, list) else [item])
    return out


def _index_of(values: list[Any], item: Any) -> int:
    if item not in values:
        raise FunctionError("item not found")
    return values.index(item)


def _range(*args: Any) -> list[int]:
    numbers = [_int(a) for a in args]
    if not 1 <= len(numbers) <= 3:
        raise FunctionError("range() takes 1 to 3 arguments")
    if len(numbers) == 3 and numbers[2] == 0:
        raise FunctionError("the step of range() must not be zero")
    values = range(*numbers)
    try:
        count = len(values)
    except OverflowError:  # more than a machine word can count
        raise limits.too_many_elements(max(numbers) - min(numbers)) from None
    limits.check_count(count)
    return list(values)


def _indent(spaces: Any, text: Any) -> str:
    value, width = _string(text), _int(spaces)
    limits.check_chars(len(value) + value.count("\n") * max(width, 0))
    return value.replace("\n", "\n" + " " * width)


def _distinct(values: Any) -> list[Any]:
    """The first of each equal value, in order; linear for strings, numbers and bools."""
    out: list[Any] = []
    seen: set[Any] = set()
    for item in _list(values):
        try:
            if item in seen:
                continue
            seen.add(item)
        except TypeError:  # a list or object: compared with the others of its kind
            if item in out:
                continue
        out.append(item)
    return out


def _jsondecode(text: Any) -> Any:
    try:
        return json.loads(_string(text))
    except ValueError as error:
        raise FunctionError(f"invalid JSON: {error}") from None


def _base64decode(text: Any) -> str:
    try:
        return base64.b64decode(_string(text), validate=True).decode()
    except (ValueError, UnicodeDecodeError):
        raise FunctionError("the string is not valid base64 of UTF-8 text") from None


def _tonumber(value: Any) -> Any:
    if value is None or (isinstance(value, (int, float)) and not isinstance(value, bool)):
        return value
    try:
        number = float(_string(value))
    except ValueError:
        raise FunctionError(f"cannot convert {value!r} to a number") from None
    return int(number) if number.is_integer() else number


def _tobool(value: Any) -> Any:
    if value is None or isinstance(value, bool):
        return value
    if value in ("true", "false"):
        return value == "true"
    raise FunctionError(f"cannot convert {value!r} to a bool")


def started_utc(run: RunContext) -> datetime:
    return run.started.astimezone(timezone.utc)
