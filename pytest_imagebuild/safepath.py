"""The one place that turns user text (template, build, test names) into paths.

A build named ``..`` or ``../../x``, a template named ``...json``, a NUL or a 10,000-character
name must never make the plugin write outside the folders it owns (pytest's base temp, the
cassette folder, the state dir). Every path derived from user text goes through
``component`` (one safe file name) and is checked with ``inside`` before anything is written.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from .errors import ImagebuildError, printable

# Bytes, not characters: file systems limit a name to 255 bytes and a letter may take four.
MAX_COMPONENT_BYTES = 100
_UNSAFE = re.compile(r"[^\w.-]+")
_EDGES = re.compile(r"^[.-]+|-+$")  # no leading dot or dash, no trailing dash


class UnsafePath(ImagebuildError):
    """A path derived from user text would leave the folder it belongs in."""


def short_hash(text: str, length: int = 12) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:length]


def component(text: str, fallback: str = "unnamed") -> str:
    """One file name made from user text: letters, digits, ``_.-`` only, no leading dot (so
    never ``.`` or ``..`` or a hidden file), never empty, at most 100 bytes (a cut name ends
    with a hash of the whole text, so two long names do not collide)."""
    cleaned = _EDGES.sub("", _UNSAFE.sub("-", text)) or fallback
    if len(cleaned.encode("utf-8", "surrogatepass")) <= MAX_COMPONENT_BYTES:
        return cleaned
    suffix = "-" + short_hash(text)
    budget = MAX_COMPONENT_BYTES - len(suffix)
    cut = cleaned.encode("utf-8", "surrogatepass")[:budget].decode("utf-8", "ignore")
    return cut.rstrip("-.") + suffix


def inside(root: Path, path: Path, what: str = "a file") -> Path:
    """``path`` (made absolute against ``root``) if it lies inside ``root`` once both are
    resolved (``..`` and symbolic links followed); else UnsafePath naming both."""
    resolved_root = Path(root).resolve()
    candidate = path if path.is_absolute() else resolved_root / path
    resolved = candidate.resolve()
    if resolved != resolved_root and resolved_root not in resolved.parents:
        raise UnsafePath(
            f"refusing to write {what} at {printable(str(candidate))}: it is outside "
            f"{resolved_root}, the folder it belongs in. A name in the template (a build name, "
            "output_directory, a post-processor output) leads there; pick one without '..' or "
            "'/'."
        )
    return resolved
