"""The stable stand-ins written in cassettes instead of secret values.

Placeholders are stable (derived from the variable name, or from the value for generated
secrets) so a replay, which sends placeholders, matches what the recording wrote.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from urllib.parse import quote, quote_plus

from ..secrets import maskable
from .base64_blobs import scrub_base64

UUID_SHAPE = re.compile(r"^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")


def placeholder_for(name: str, value: str) -> str:
    """A fake that still parses where the real value had to (ids stay UUIDs)."""
    if UUID_SHAPE.match(value):
        return str(uuid.uuid5(uuid.NAMESPACE_URL, f"pytest-imagebuild:{name}"))
    return f"scrubbed-{name}"


def _encoded_forms(value: str) -> tuple[str, ...]:
    """How a value also appears in URLs and forms (only the forms unlike the value)."""
    return tuple(e for e in (quote(value, safe=""), quote_plus(value)) if e != value)


def anonymous_placeholder(value: str) -> str:
    return "scrubbed-" + hashlib.sha256(value.encode()).hexdigest()[:12]


@dataclass
class SecretBook:
    """Known secret values by name; generated ones (passwords) arrive during the run."""

    named: dict[str, str] = field(default_factory=dict)
    live: Callable[[], Iterable[str]] = lambda: ()
    extra: dict[str, str] = field(default_factory=dict)
    # The last table and what it was made from: scrubbing runs for every request of a replay.
    _memo: tuple[object, dict[str, str], list[tuple[str, str, tuple[str, ...]]]] | None = field(
        default=None, init=False, repr=False, compare=False
    )

    def replacements(self) -> dict[str, str]:
        """value -> placeholder, longest values first so overlaps resolve sensibly."""
        return dict(self._table()[0])

    def _table(self) -> tuple[dict[str, str], list[tuple[str, str, tuple[str, ...]]]]:
        live = list(self.live())
        key = (tuple(self.named.items()), tuple(live), tuple(self.extra.items()))
        if self._memo is None or self._memo[0] != key:
            table = self._replacements(live)
            forms = [
                (value, placeholder, _encoded_forms(value)) for value, placeholder in table.items()
            ]
            self._memo = (key, table, forms)
        return self._memo[1], self._memo[2]

    def _replacements(self, live: Iterable[str]) -> dict[str, str]:
        table: dict[str, str] = {}
        for name, value in self.named.items():
            if value and maskable(value):
                table[value] = placeholder_for(name, value)
        for value in live:
            if value and maskable(value) and value not in table:
                table[value] = anonymous_placeholder(value)
        table.update(self.extra)
        return dict(sorted(table.items(), key=lambda item: len(item[0]), reverse=True))

    def names(self) -> dict[str, str]:
        """value -> a name to show in errors."""
        shown = {value: "a generated secret" for value in self.live() if value}
        shown.update({value: name for name, value in self.named.items() if value})
        return shown

    def scrub(self, text: str) -> str:
        """text with each secret replaced by its placeholder: raw, URL-encoded, and inside
        base64 blobs (re-encoded, so they still decode; see base64_blobs)."""
        replacements, forms = self._table()
        text = scrub_base64(text, replacements)
        for value, placeholder, encodings in forms:
            if value in text:
                text = text.replace(value, placeholder)
            for encoded in encodings:
                if encoded in text:
                    text = text.replace(encoded, placeholder)
        return text
