"""Errors a user can act on; pytest renders them as one paragraph, never as a traceback."""

from __future__ import annotations

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
        key = f" {self.path}:" if self.path else ""
        return f"{where}:{key} {self.message}"


class Caveat(str):
    """A problem message that is a warning (see Problem.warning), not an error."""


class TemplateError(ImagebuildError):
    """A template that cannot be used; carries every problem found, not just the first."""

    def __init__(self, problems: list[Problem]):
        self.problems = list(problems)
        super().__init__(self.render())

    def render(self) -> str:
        count = len(self.problems)
        noun = "error" if count == 1 else "errors"
        lines = [f"{count} {noun} in template {self.problems[0].file}:" if self.problems else ""]
        lines += [f"  * {problem}" for problem in self.problems]
        return "\n".join(lines)


class BuildError(ImagebuildError):
    """A build stage that failed; the message names the build and the stage."""
