"""Packer templates to one build plan: parsing with line numbers, variables, functions and
validation. Keys and rules of a builder come from its provider through the catalogue; the
generic tables (communicator, provisioners, post-processors) live here. Imports no provider."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from ..errors import Problem, TemplateError
from .functions import RunContext
from .loader import read_template
from .model import BuildPlan, Template
from .plans import plan_builds
from .validate import validate_template

__all__ = [
    "BuildPlan",
    "RunContext",
    "Template",
    "check",
    "check_all",
    "load_template",
    "plan_builds",
]


def check(
    path: str | Path,
    variables: Mapping[str, str] | None = None,
    var_files: Sequence[str | Path] = (),
    run: RunContext | None = None,
    only: Sequence[str] = (),
    except_: Sequence[str] = (),
) -> list[Problem]:
    """Every error of a template, like `packer validate`; an empty list means valid."""
    problems = check_all(path, variables, var_files, run, only, except_)
    return [problem for problem in problems if not problem.warning]


def check_all(
    path: str | Path,
    variables: Mapping[str, str] | None = None,
    var_files: Sequence[str | Path] = (),
    run: RunContext | None = None,
    only: Sequence[str] = (),
    except_: Sequence[str] = (),
) -> list[Problem]:
    """Every error and warning (Problem.warning) of a template."""
    template, problems = read_template(path, variables, var_files, run)
    if template is None:
        return problems
    return problems + validate_template(template, only, except_)


def load_template(
    path: str | Path,
    variables: Mapping[str, str] | None = None,
    var_files: Sequence[str | Path] = (),
    run: RunContext | None = None,
    only: Sequence[str] = (),
    except_: Sequence[str] = (),
) -> Template:
    """A valid template, or TemplateError listing every problem."""
    template, problems = read_template(path, variables, var_files, run)
    if template is not None:
        problems += validate_template(template, only, except_)
    errors = [problem for problem in problems if not problem.warning]
    if errors or template is None:
        raise TemplateError(errors, str(path))
    return template
