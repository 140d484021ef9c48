"""Bounds on what evaluating one HCL2 expression may cost, so a hostile template is a problem
line, not a hang or an exhausted machine.

Go's HCL evaluates `range(1e9)`, `indent(1e12, ...)`, `[for a in range(1e5): [for b in
range(1e5): 0]]` or a regular expression with nested repetition as far as memory allows (its
regular expressions never backtrack). Python would allocate gigabytes, or backtrack for
ever, before reporting anything; real templates stay many orders of magnitude below these
limits.
"""

from __future__ import annotations

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


MAX_EXPANDED = 1_000_000
"""The most elements a value may hold counting nested ones, as written out in full."""


def expanded_size(value: Any, limit: int = MAX_EXPANDED) -> int:
    """How many elements ``value`` holds once every shared part is written out in full.

    Locals can double a list forty times (`a1 = [a0, a0]`, `a2 = [a1, a1]`, ...): cheap as
    shared Python objects, ruinous once rendered. Counted over the distinct containers, stopping
    early past ``limit``.
    """
    sizes: dict[int, int] = {}
    stack: list[tuple[Any, bool]] = [(value, False)]
    while stack:
        item, done = stack.pop()
        if not isinstance(item, (list, dict)) or (id(item) in sizes and not done):
            continue
        members = list(item.values()) if isinstance(item, dict) else item
        if not done:
            sizes[id(item)] = 0  # visiting: a value never contains itself
            stack.append((item, True))
            stack.extend((member, False) for member in members)
            continue
        total = len(members) + sum(
            sizes.get(id(m), 0) for m in members if isinstance(m, (list, dict))
        )
        sizes[id(item)] = min(total, limit + 1)
    return sizes.get(id(value), 0)


def check_value(value: Any) -> None:
    """A function's or constructor's result: not too many elements, not too long a string."""
    if isinstance(value, str):
        check_chars(len(value))
    elif isinstance(value, (list, dict)):
        check_count(len(value))
        size = expanded_size(value)
        if size > MAX_EXPANDED:
            raise LimitExceeded(
                f"the value would hold more than {MAX_EXPANDED} elements written out in full "
                "(pytest-imagebuild's limit; is a list doubled again and again through locals?)"
            )


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


REGEX_SECONDS = 2.0
"""How long one regular-expression match may take before it is refused."""


def compile_pattern(pattern: str) -> Any:
    """A compiled pattern of the `regex` engine, whose matches can be given a time limit."""
    import regex

    return regex.compile(pattern)


def pattern_errors() -> tuple[type[BaseException], ...]:
    import regex

    return (regex.error,)


def timed_out(pattern: str) -> LimitExceeded:
    """Go's engine never backtracks; Python's may, for ever, on a pattern such as `(a+)+b`."""
    return LimitExceeded(
        f"matching the regular expression {pattern!r} took more than {REGEX_SECONDS:g} s "
        "(pytest-imagebuild's engine backtracks where Packer's does not: a repetition inside "
        "a repetition, such as (a+)+b, can take exponential time); simplify the pattern"
    )
