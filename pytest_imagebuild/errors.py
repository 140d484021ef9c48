"""Errors a user can act on; pytest renders them as one paragraph, never as a traceback."""

from __future__ import annotations

import re
from dataclasses import dataclass


class ImagebuildError(Exception):
    """Base of every error caused by input or environment rather than by a bug in the plugin."""


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a template, located as precisely as the source allows."""

    file: str
    line: int | None
    path: str
    message: str
    # Something Packer accepts that the user should know about: reported, never fails validate.
    warning: bool = False

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        key = f" {printable(self.path)}:" if self.path else ""
        return f"{where}:{key} {printable(self.message, keep_newlines=True)}"


_MESSAGE_WIDTH = 2000
# Lone surrogates (from a JSON "\\ud800" escape) too: printing one raises UnicodeEncodeError.
_CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f\x7f-\x9f\ud800-\udfff]")


def printable(text: str, keep_newlines: bool = False) -> str:
    """Text from a template made safe for one paragraph on a terminal: control characters
    (an escape sequence in a key, a carriage return) shown escaped, a huge value cut short."""
    if len(text) > _MESSAGE_WIDTH:
        half = _MESSAGE_WIDTH // 2
        text = f"{text[:half]} ... ({len(text) - 2 * half} characters left out) ... {text[-half:]}"
    text = _CONTROL.sub(lambda match: repr(match.group())[1:-1], text)
    return text if keep_newlines else text.replace("\n", "\\n")


class Caveat(str):
    """A problem message that is a warning (see Problem.warning), not an error."""


class TemplateError(ImagebuildError):
    """A template that cannot be used; carries every problem found, not just the first."""

    def __init__(self, problems: list[Problem], template: str | None = None):
        self.problems = list(problems)
        # The template the problems are about (one may sit in a variable file it was given).
        self.template = template
        super().__init__(self.render())

    def render(self) -> str:
        count = len(self.problems)
        noun = "error" if count == 1 else "errors"
        file = self.template or (self.problems[0].file if self.problems else "")
        lines = [f"{count} {noun} in template {file}:" if self.problems else ""]
        lines += [f"  * {problem}" for problem in self.problems]
        return "\n".join(lines)


class BuildError(ImagebuildError):
    """A build stage that failed; the message names the build and the stage."""
