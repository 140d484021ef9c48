"""How a live request is compared with a recorded one: by meaning, not byte for byte.

JSON bodies compare as data; WinRM SOAP bodies by action and command (message ids are
random); form bodies as sets of fields. A mismatch says where the bodies differ.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from functools import lru_cache
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

if TYPE_CHECKING:  # vcr is imported when a cassette is used: not by a validate-only run
    from vcr.request import Request

SOAP_FIELDS = ("Action", "ResourceURI", "Command", "Arguments", "Signal", "Code")


def _text(body: Any) -> str:
    if body is None:
        return ""
    if isinstance(body, bytes):
        return body.decode("utf-8", errors="replace")
    return str(body)


ENCODED_COMMAND = re.compile(r"(-EncodedCommand\s+)([A-Za-z0-9+/]+={0,2})", re.I)


def _decoded(match: re.Match[str]) -> str:
    try:
        script = base64.b64decode(match.group(2), validate=True).decode("utf-16-le")
    except (binascii.Error, ValueError):
        return match.group(0)
    return f"{match.group(1)}(decoded) {script!r}"



_SOAP_PATTERNS = [
    (
        name,
        re.compile(rf"<(?:\w+:)?{name}\b[^>]*>(.*?)</(?:\w+:)?{name}>", re.S),
        re.compile(rf"<(?:\w+:)?{name}\b[^>]*\bCode=\"([^\"]*)\""),
    )
    for name in SOAP_FIELDS
]


@lru_cache(maxsize=1024)  # a replay compares each live request with every recorded one
def soap_summary(text: str) -> dict[str, list[str]]:
    """The fields that say what a WinRM request asks; PowerShell's -EncodedCommand decoded,
    so a mismatch shows the script (both sides are scrubbed: placeholders, no secret)."""
    summary: dict[str, list[str]] = {}
    for name, element, code in _SOAP_PATTERNS:
        values = element.findall(text) + code.findall(text)
        if values:
            summary[name] = [ENCODED_COMMAND.sub(_decoded, value.strip()) for value in values]
    return summary


def _first_difference(left: Any, right: Any, path: str = "") -> str | None:
    if isinstance(left, dict) and isinstance(right, dict):
        for key in sorted(set(left) | set(right)):
            where = f"{path}.{key}" if path else key
            if key not in left:
                return f"{where} only in the recorded request"
            if key not in right:
                return f"{where} only in the new request"
            found = _first_difference(left[key], right[key], where)
            if found:
                return found
        return None
    if isinstance(left, list) and isinstance(right, list):
        if len(left) != len(right):
            return f"{path or 'body'} has {len(left)} items, recorded {len(right)}"
        for index, (a, b) in enumerate(zip(left, right, strict=True)):
            found = _first_difference(a, b, f"{path}[{index}]")
            if found:
                return found
        return None
    if left != right:
        return f"{path or 'body'} is {left!r}, recorded {right!r}"
    return None


def body_difference(live: Request, recorded: Request) -> str | None:
    """None when the bodies mean the same; else where they differ."""
    left, right = _text(live.body), _text(recorded.body)
    if left == right:
        return None
    if "Envelope" in left and "Envelope" in right:
        a, b = soap_summary(left), soap_summary(right)
        return None if a == b else _first_difference(a, b, "WinRM")
    try:
        return _first_difference(json.loads(left), json.loads(right))
    except ValueError:
        pass
    if "=" in left and "=" in right:
        a = dict(parse_qsl(left, keep_blank_values=True))
        b = dict(parse_qsl(right, keep_blank_values=True))
        if a and b:
            return _first_difference(a, b, "form")
    return "the bodies differ"


def body_matcher(live: Request, recorded: Request) -> None:
    """A vcrpy matcher: raises AssertionError naming the difference."""
    difference = body_difference(live, recorded)
    if difference:
        raise AssertionError(difference)


MATCH_ON = ["method", "scheme", "host", "port", "path", "query", "imagebuild_body"]


MESSAGE_ID = re.compile(r"<(?:\w+:)?MessageID[^>]*>\s*(uuid:[0-9A-Fa-f-]+)\s*</", re.S)
RELATES_TO = re.compile(r"(<(?:\w+:)?RelatesTo[^>]*>\s*)(uuid:[0-9A-Fa-f-]+)(\s*</)", re.S)


def answer_to(live: Request, response: dict[str, Any]) -> dict[str, Any]:
    """A replayed WinRM response relates to the live request's message id, as a real
    server's would (clients check it; message ids are random)."""
    found = MESSAGE_ID.search(_text(live.body))
    body = response.get("body", {}) if isinstance(response, dict) else {}
    string = body.get("string") if isinstance(body, dict) else None
    if not found or not string:
        return response
    text = string.decode("utf-8") if isinstance(string, bytes) else str(string)
    if not RELATES_TO.search(text):
        return response
    text = RELATES_TO.sub(lambda m: m.group(1) + found.group(1) + m.group(3), text, count=1)
    answered = dict(
        response, body=dict(body, string=text.encode() if isinstance(string, bytes) else text)
    )
    return answered
