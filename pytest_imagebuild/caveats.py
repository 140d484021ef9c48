"""Warnings a template's validate item gives: Packer accepts it, but the user should know.

They go through Python's warnings machinery, so pytest lists them in the warnings summary
under the validate item, and ``-W error::pytest_imagebuild.caveats.ImagebuildWarning``
turns them into failures for whoever wants validate to be strict.
"""

from __future__ import annotations

import warnings

import pytest

from .errors import ImagebuildError, Problem


class ImagebuildWarning(pytest.PytestWarning, ImagebuildError):
    """Something in a template that validate did not check or that Packer silently accepts."""


def warn(problems: list[Problem]) -> None:
    """One warning per problem, located at the template's file and line.

    The location is given as "template <file>" so that the warnings summary does not print
    the template's source line, which could hold a secret written into the template.
    """
    for problem in problems:
        text = f"{problem.path}: {problem.message}" if problem.path else problem.message
        warnings.warn_explicit(
            ImagebuildWarning(text),
            ImagebuildWarning,
            f"template {problem.file}",
            problem.line or 0,
        )
