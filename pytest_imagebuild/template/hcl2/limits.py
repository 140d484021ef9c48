"""Bounds on what evaluating one HCL2 expression may cost, so a hostile template is a problem
line, not a hang or an exhausted machine.

Go's HCL evaluates `range(1e9)`, `indent(1e12, ...)`, `[for a in range(1e5): [for b in
range(1e5): 0]]` or a regular expression with nested repetition as far as memory allows (its
regular expressions never backtrack). Python would allocate gigabytes, or backtrack for
ever, before reporting anything; real templates stay many orders of magnitude below these
limits.
"""

from __future__ import annotations

import re
import threading
from typing import Any

MAX_ELEMENTS = 100_000
"""The most elements a list or object made by one function call may have."""

MAX_STRING_CHARS = 4 * 1024 * 1024
"""The most characters a string made by one function call or template may have (as the
legacy JSON templates' rendering limit)."""

MAX_STEPS = 2_000_000
"""The most expression nodes evaluated for one top-level expression (about two seconds)."""

_STEPS = threading.local()


class LimitExceeded(Exception):
    """A limit above was reached; the message completes "the expression ..."."""


def too_many_elements(count: int, what: str = "the result") -> LimitExceeded:
    return LimitExceeded(
        f"{what} would have {count} elements, more than {MAX_ELEMENTS} "
        "(pytest-imagebuild's limit for one value)"
    )


def check_count(count: int, what: str = "the result") -> None:
    if count > MAX_ELEMENTS:
        raise too_many_elements(count, what)


def check_chars(count: int, what: str = "the result") -> None:
    if count > MAX_STRING_CHARS:
        raise LimitExceeded(
            f"{what} would be {count} characters long, more than {MAX_STRING_CHARS} "
            "(pytest-imagebuild's limit for one string)"
        )


def check_value(value: Any) -> None:
    """A function's result: not too many elements, not too long a string."""
    if isinstance(value, str):
        check_chars(len(value))
    elif isinstance(value, (list, dict)):
        check_count(len(value))


def start_expression() -> None:
    """A top-level expression begins: a fresh step budget."""
    _STEPS.count = 0


def step() -> None:
    """One expression node evaluated; LimitExceeded once the budget is spent."""
    count = getattr(_STEPS, "count", 0) + 1
    _STEPS.count = count
    if count > MAX_STEPS:
        raise LimitExceeded(
            f"evaluating it takes more than {MAX_STEPS} steps (pytest-imagebuild's limit for "
            "one expression; a `for` over a large collection inside another?)"
        )


# A group with a repetition inside that is itself repeated: `(a+)+`, `(a*b?)*`, `(x{2,})+`.
_NESTED_REPETITION = re.compile(
    r"\((?:[^()\\]|\\.)*(?:[*+]|\{\d*,\d*\})(?:[^()\\]|\\.)*\)(?:[*+]|\{\d*,)"
)


def check_pattern(pattern: str) -> None:
    """Refuse a regular expression Python may take exponential time to match.

    Packer's (Go's RE2) engine matches any pattern in linear time; Python's backtracks, and a
    repetition nested in a repetition, such as `(a+)+b`, makes it try every way of splitting
    the text. Such patterns are refused with a hint instead of hanging the session.
    """
    if _NESTED_REPETITION.search(pattern):
        raise LimitExceeded(
            f"the regular expression {pattern!r} repeats a group that itself repeats (such as "
            "(a+)+), which pytest-imagebuild's regular-expression engine can take exponential "
            "time to match; write it without the nested repetition"
        )
