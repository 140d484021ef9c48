"""What a project may change about its cassettes, from its own ``conftest.py``.

The ``imagebuild_vcr_config`` fixture (like pytest-recording's ``vcr_config``) returns a dict of
vcrpy settings; this module checks it and merges it with the plugin's own, which always have
the last word: the plugin's scrubber runs after the project's hooks, its matchers stay, and the
record mode is ``--image-record-mode`` (vcrpy's modes, vcrpy's meaning).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..errors import ImagebuildError

PASSED_TO_VCR = ("filter_headers", "filter_query_parameters", "filter_post_data_parameters")
HOOKS = ("before_record_request", "before_record_response")
KNOWN = (*PASSED_TO_VCR, *HOOKS, "match_on", "secret_scan_allow")


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, str) or callable(value):
        return [value]
    return list(value)


@dataclass(frozen=True)
class UserVcrConfig:
    """The project's vcrpy settings, checked."""

    passed: dict[str, Any] = field(default_factory=dict)
    before_record_request: tuple[Callable[..., Any], ...] = ()
    before_record_response: tuple[Callable[..., Any], ...] = ()
    match_on: tuple[Any, ...] = ()
    secret_scan_allow: tuple[str, ...] = ()

    @classmethod
    def from_fixture(cls, value: Any) -> UserVcrConfig:
        """From what the imagebuild_vcr_config fixture returned; a clear error otherwise."""
        where = "imagebuild_vcr_config (a fixture in your conftest.py)"
        if value is None:
            return cls()
        if not isinstance(value, Mapping):
            raise ImagebuildError(f"{where} must return a dict, not {type(value).__name__}")
        if "record_mode" in value:
            raise ImagebuildError(
                f"{where}: 'record_mode' is not taken from here; use --image-record-mode or "
                "the image_record_mode ini key (vcrpy's modes: none, once, new_episodes, all, "
                "rewrite)."
            )
        unknown = sorted(set(value) - set(KNOWN))
        if unknown:
            raise ImagebuildError(
                f"{where}: unknown key(s) {', '.join(map(repr, unknown))}; known keys: "
                f"{', '.join(KNOWN)}."
            )
        hooks = {name: tuple(_as_list(value.get(name))) for name in HOOKS}
        for name, functions in hooks.items():
            if not all(callable(f) for f in functions):
                raise ImagebuildError(f"{where}: {name} must be a function or a list of them")
        allow = tuple(_as_list(value.get("secret_scan_allow")))
        if not all(isinstance(text, str) and text for text in allow):
            raise ImagebuildError(f"{where}: secret_scan_allow must be a list of strings")
        return cls(
            passed={k: value[k] for k in PASSED_TO_VCR if k in value},
            before_record_request=hooks["before_record_request"],
            before_record_response=hooks["before_record_response"],
            match_on=tuple(_as_list(value.get("match_on"))),
            secret_scan_allow=allow,
        )

    def matchers(self) -> dict[str, Callable[..., Any] | None]:
        """Extra matchers by name: a function is registered under its own name; a name is one
        of vcrpy's built-in matchers (None: nothing to register)."""
        named: dict[str, Callable[..., Any] | None] = {}
        for matcher in self.match_on:
            if callable(matcher):
                named[f"project:{getattr(matcher, '__qualname__', repr(matcher))}"] = matcher
            else:
                named[str(matcher)] = None
        return named

    def vcr_settings(
        self, match_on: Iterable[Any], request_scrubber: Any, response_scrubber: Any
    ) -> dict[str, Any]:
        """Keyword arguments of vcr.VCR: the project's hooks first, the plugin's scrubbers last."""
        matchers = list(match_on) + [
            name for name in self.matchers() if name not in match_on
        ]
        return {
            **self.passed,
            "match_on": matchers,
            "before_record_request": [*self.before_record_request, request_scrubber],
            "before_record_response": [*self.before_record_response, response_scrubber],
        }


def without_allowed(text: str, allowed: Iterable[str]) -> str:
    """Text with the exempted strings removed, for the secret scan only."""
    for exempt in sorted(allowed, key=len, reverse=True):
        text = text.replace(exempt, "")
    return text
