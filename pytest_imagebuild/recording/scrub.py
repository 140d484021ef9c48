"""Scrubbing applied to every interaction before vcrpy keeps it, and to live requests before
they are matched on replay, so both sides compare in the same, secret-free form."""

from __future__ import annotations

import copy
import ipaddress
import json
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlencode

if TYPE_CHECKING:  # vcr is imported when a cassette is used: not by a validate-only run
    from vcr.request import Request

from ..secrets import WIRE_IDENTITY_KEYS, WIRE_SECRET_KEYS
from .placeholders import SecretBook

SCRUBBED = "scrubbed"
SECRET_KEYS = WIRE_SECRET_KEYS
IDENTITY_KEYS = WIRE_IDENTITY_KEYS
FAKE_ID = "00000000-0000-0000-0000-000000000000"
KEPT_REQUEST_HEADERS = {"content-type"}
DROPPED_RESPONSE_HEADERS = {
    "set-cookie",
    "x-ms-request-id",
    "x-ms-correlation-request-id",
    "x-ms-routing-request-id",
    "x-ms-client-request-id",
    "date",
}
IP_KEYS = {"ipaddress"}
# Values made afresh each run that are no secret but would never match on replay: the
# temporary SSH public key a Linux build or launch gives its VM.
RUN_KEYS = {"keydata"}
RUN_VALUE = "scrubbed-run-ssh-public-key"
DOCUMENTATION_NET = ipaddress.ip_network("203.0.113.0/24")


@dataclass
class PublicAddresses:
    """Public IPs seen in responses, each shown as an address of the documentation range."""

    mapping: dict[str, str] = field(default_factory=dict)

    def fake(self, real: str) -> str:
        if ipaddress.ip_address(real) in DOCUMENTATION_NET:
            return real
        if real not in self.mapping:
            self.mapping[real] = str(DOCUMENTATION_NET[len(self.mapping) + 1])
        return self.mapping[real]

    def scrub(self, text: str) -> str:
        for real, fake in self.mapping.items():
            text = re.sub(rf"(?<![\d.]){re.escape(real)}(?![\d])", fake, text)
        return text


def _scrub_json(value: Any, addresses: PublicAddresses) -> Any:
    if isinstance(value, dict):
        result = {}
        for key, item in value.items():
            lowered = key.lower()
            if lowered in SECRET_KEYS and isinstance(item, str | dict | list) and item:
                result[key] = SCRUBBED
            elif lowered in RUN_KEYS and isinstance(item, str) and item:
                result[key] = RUN_VALUE
            elif lowered in IDENTITY_KEYS and isinstance(item, str) and item:
                result[key] = FAKE_ID
            elif lowered in IP_KEYS and isinstance(item, str) and _is_ip(item):
                result[key] = addresses.fake(item)
            else:
                result[key] = _scrub_json(item, addresses)
        return result
    if isinstance(value, list):
        return [_scrub_json(item, addresses) for item in value]
    return value


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def _text(body: Any) -> str | None:
    if body is None:
        return None
    if isinstance(body, bytes):
        try:
            return body.decode("utf-8")
        except UnicodeDecodeError:
            return None
    return str(body)


@dataclass
class Scrubber:
    book: SecretBook
    addresses: PublicAddresses

    def text(self, text: str) -> str:
        return self.addresses.scrub(self.book.scrub(text))

    def body(self, body: Any, content_type: str) -> Any:
        text = _text(body)
        if text is None or not text:
            return body
        stripped = text.lstrip()
        if stripped.startswith(("{", "[")):
            try:
                data = json.loads(text)
            except ValueError:
                pass
            else:
                text = json.dumps(_scrub_json(data, self.addresses), sort_keys=True)
        elif "x-www-form-urlencoded" in content_type or _looks_like_form(text):
            pairs = parse_qsl(text, keep_blank_values=True)
            text = urlencode([(k, SCRUBBED if k.lower() in SECRET_KEYS else v) for k, v in pairs])
        text = self.text(text)
        return text.encode("utf-8") if isinstance(body, bytes) else text

    def request(self, request: Request) -> Request:
        request = copy.deepcopy(request)
        content_type = request.headers.get("Content-Type", "") or ""
        request.uri = self.text(request.uri)
        request.body = self.body(request.body, content_type)
        for name in list(request.headers):
            if name.lower() not in KEPT_REQUEST_HEADERS:
                del request.headers[name]
        return request

    def response(self, response: dict[str, Any]) -> dict[str, Any]:
        headers = response.get("headers", {})
        content_type = " ".join(_header(headers, "content-type"))
        body = response.get("body", {})
        if isinstance(body, dict) and "string" in body:
            body["string"] = self.body(body["string"], content_type)
        response["headers"] = {
            name: [self.text(str(v)) for v in values]
            for name, values in headers.items()
            if name.lower() not in DROPPED_RESPONSE_HEADERS
        }
        string = body.get("string") if isinstance(body, dict) else None
        for name in response["headers"]:
            if name.lower() == "content-length" and string is not None:
                size = len(string.encode("utf-8") if isinstance(string, str) else string)
                response["headers"][name] = [str(size)]
        return response


def _header(headers: dict[str, Any], name: str) -> list[str]:
    for key, values in headers.items():
        if key.lower() == name:
            return [str(v) for v in values] if isinstance(values, list) else [str(values)]
    return []


def _looks_like_form(text: str) -> bool:
    return bool(re.fullmatch(r"[\w.%~+-]+=[^&\s]*(&[\w.%~+-]+=[^&\s]*)*", text))
