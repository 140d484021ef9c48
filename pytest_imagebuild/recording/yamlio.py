"""Reading cassette YAML fast and safely: libyaml's C loader where PyYAML has it.

The pure-Python loader took most of a replay's time (a build cassette is ~200 KB). libyaml's
composer recurses in C, so a document nested a hundred thousand levels deep would crash the
interpreter instead of raising: the events are scanned first (libyaml's parser keeps its own
stack) and a document deeper than ``MAX_DEPTH`` is refused before anything is composed.
"""

from __future__ import annotations

from typing import Any

import yaml

SafeLoader: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
"""libyaml's safe loader, or PyYAML's own where libyaml is missing."""

MAX_DEPTH = 100
"""Deepest nesting of mappings and sequences read (vcrpy writes six)."""

_OPEN = (yaml.MappingStartEvent, yaml.SequenceStartEvent)
_CLOSE = (yaml.MappingEndEvent, yaml.SequenceEndEvent)


class TooDeep(ValueError):
    """The document nests collections deeper than MAX_DEPTH."""


def nesting_depth(text: str, limit: int = MAX_DEPTH) -> int:
    """The deepest nesting of collections in text; TooDeep as soon as it passes limit."""
    depth = deepest = 0
    for event in yaml.parse(text, Loader=SafeLoader):
        if isinstance(event, _OPEN):
            depth += 1
            if depth > limit:
                raise TooDeep(f"nested deeper than {limit} levels")
            deepest = max(deepest, depth)
        elif isinstance(event, _CLOSE):
            depth -= 1
    return deepest


def safe_load(text: str) -> Any:
    """yaml.safe_load, with the C loader when there is one; TooDeep for deep nesting."""
    if SafeLoader is not yaml.SafeLoader:
        nesting_depth(text)
    return yaml.load(text, Loader=SafeLoader)
