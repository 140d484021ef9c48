"""Secrets inside base64 text, replaced where they stand so the blob still decodes.

PowerShell commands cross WinRM as ``-EncodedCommand <base64 of UTF-16LE>`` and command output
comes back as base64 streams, so a secret passed to a provisioner travels encoded. Masking a
piece of the blob would leave a command that no longer decodes and a replay that no longer
matches; instead each blob is decoded, the secret replaced by its placeholder in the blob's
own text encoding (UTF-8 or UTF-16LE), and the result encoded again. A replay, which renders
the template with the placeholders, then sends exactly the blob the cassette holds.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping

# A run of base64 characters standing alone (not part of a longer word or path).
BLOB = re.compile(r"(?<![A-Za-z0-9+/_-])[A-Za-z0-9+/]{8,}={0,2}(?![A-Za-z0-9+/=_-])")
TEXT_ENCODINGS = ("utf-16-le", "utf-8")


def _replace(raw: bytes, replacements: Mapping[str, str]) -> bytes:
    for value, placeholder in replacements.items():
        for encoding in TEXT_ENCODINGS:
            needle = value.encode(encoding)
            if needle in raw:
                raw = raw.replace(needle, placeholder.encode(encoding))
    return raw


def _scrub_blob(blob: str, replacements: Mapping[str, str]) -> str:
    if len(blob) % 4:
        return blob
    try:
        raw = base64.b64decode(blob, validate=True)
    except (binascii.Error, ValueError):
        return blob
    replaced = _replace(raw, replacements)
    return blob if replaced == raw else base64.b64encode(replaced).decode("ascii")


def scrub_base64(text: str, replacements: Mapping[str, str]) -> str:
    """text with every secret (value -> placeholder, longest first) replaced inside each
    base64 blob; blobs without a secret are left byte for byte as they were."""
    if not replacements or len(text) < 8:
        return text
    return BLOB.sub(lambda found: _scrub_blob(found.group(0), replacements), text)
