"""The `packer { required_version, required_plugins }` block: checked, never installed."""

from __future__ import annotations

import re

from ...errors import Problem
from .evaluate import EvalError, Evaluator
from .parse import Block, SourceFile

# The Packer release whose HCL2 language this front end follows; `packer.version` and
# `required_version` use it.
HCL2_PACKER_VERSION = "1.9.4"
_CONSTRAINT = re.compile(r"^\s*(=|!=|>=|<=|>|<|~>)?\s*v?(\d+(?:\.\d+){0,2})(?:-[\w.]+)?\s*$")


def _parts(version: str) -> tuple[int, ...]:
    numbers = [int(x) for x in version.split(".")]
    return tuple(numbers + [0] * (3 - len(numbers)))


def satisfies(version: str, constraints: str) -> bool | None:
    """Whether version meets every comma-separated constraint; None if one is malformed."""
    have = _parts(version)
    for item in constraints.split(","):
        match = _CONSTRAINT.match(item)
        if not match:
            return None
        operator, wanted_text = match.group(1) or "=", match.group(2)
        wanted = _parts(wanted_text)
        if operator == "~>":
            depth = max(len(wanted_text.split(".")) - 1, 1)
            upper = (*wanted[: depth - 1], wanted[depth - 1] + 1, *([0] * (3 - depth)))
            ok = wanted <= have < upper
        else:
            ok = {
                "=": have == wanted,
                "!=": have != wanted,
                ">=": have >= wanted,
                "<=": have <= wanted,
                ">": have > wanted,
                "<": have < wanted,
            }[operator]
        if not ok:
            return False
    return True


def check_packer_block(block: Block, file: SourceFile) -> list[Problem]:
    problems: list[Problem] = []
    evaluator = Evaluator(file, {}, {})
    for name, attribute in block.body.attributes.items():
        if name != "required_version":
            problems.append(
                attribute.where.problem(f'Unsupported argument "{name}" in the packer block')
            )
            continue
        try:
            constraint = evaluator.value(attribute.expr)
        except EvalError as error:
            problems.append(attribute.where.problem(error.message()))
            continue
        verdict = satisfies(HCL2_PACKER_VERSION, str(constraint))
        if verdict is None:
            problems.append(
                attribute.where.problem(f'Invalid version constraint "{constraint}"')
            )
        elif not verdict:
            problems.append(
                attribute.where.problem(
                    f'This configuration requires Packer "{constraint}"; pytest-imagebuild '
                    f"reads HCL2 as Packer {HCL2_PACKER_VERSION} does"
                )
            )
    for inner in block.body.blocks:
        if inner.type != "required_plugins":
            problems.append(inner.where.problem(f'Unsupported block "{inner.type}" in packer'))
            continue
        for plugin, attribute in inner.body.attributes.items():
            try:
                spec = evaluator.value(attribute.expr)
            except EvalError as error:
                problems.append(attribute.where.problem(error.message()))
                continue
            if not isinstance(spec, dict) or "source" not in spec:
                problems.append(
                    attribute.where.problem(
                        f'required plugin "{plugin}" must be an object with source and version'
                    )
                )
                continue
            version = spec.get("version")
            if version is not None and satisfies("0.0.0", str(version)) is None:
                problems.append(
                    attribute.where.problem(
                        f'Invalid version constraint "{version}" for plugin "{plugin}"'
                    )
                )
    return problems
