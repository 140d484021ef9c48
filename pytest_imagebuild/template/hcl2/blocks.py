"""Block bodies to config dicts: attributes, nested blocks (repeated ones become lists) and
`dynamic` blocks, evaluated and located in the source map as they go."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ...errors import Problem
from ..jsonsource import JsonPath
from .evaluate import EvalError, Evaluator, Pending
from .parse import Block, Body, name_of
from .sourcemap import HclSourceMap


def eval_problem(error: EvalError, path: str = "") -> Problem:
    where = error.where
    if where is None:
        return Problem("", None, path, error.message())
    return Problem(where.file.label, where.line, path, error.message())


def body_config(
    body: Body,
    evaluator: Evaluator,
    path: JsonPath,
    source: HclSourceMap,
    problems: list[Problem],
    kinds: Mapping[str, str],
    skip: tuple[str, ...] = (),
) -> dict[str, Any]:
    """Every attribute and nested block of body; kinds says which keys are lists of objects."""
    config: dict[str, Any] = {}
    for name, attribute in body.attributes.items():
        if name in skip:
            continue
        source.locate((*path, name), attribute.where)
        try:
            config[name] = evaluator.value(attribute.expr)
        except Pending:
            raise
        except EvalError as error:
            problems.append(eval_problem(error))
            # Kept as written (as the JSON front end keeps a value it cannot render), so no
            # second problem says the argument is missing.
            config[name] = attribute.where.file.excerpt(attribute.expr)
    for block in body.blocks:
        if block.type in skip:
            continue
        if block.type == "dynamic":
            for key, item in _dynamic(block, evaluator, path, source, problems, kinds):
                _add_block(config, key, item, kinds)
            continue
        if block.labels:
            problems.append(
                block.where.problem(f'the "{block.type}" block takes no labels here')
            )
        source.locate((*path, block.type), block.where)
        nested = body_config(block.body, evaluator, (*path, block.type), source, problems, {})
        _add_block(config, block.type, nested, kinds)
    return config


def _add_block(config: dict[str, Any], key: str, value: dict[str, Any], kinds: Mapping[str, str]):
    if key in config:
        existing = config[key]
        config[key] = [*existing, value] if isinstance(existing, list) else [existing, value]
    elif kinds.get(key.lower(), "").startswith("["):
        config[key] = [value]
    else:
        config[key] = value


def _dynamic(
    block: Block,
    evaluator: Evaluator,
    path: JsonPath,
    source: HclSourceMap,
    problems: list[Problem],
    kinds: Mapping[str, str],
) -> list[tuple[str, dict[str, Any]]]:
    if len(block.labels) != 1:
        problems.append(block.where.problem('a dynamic block needs one label: the block type'))
        return []
    kind = block.labels[0]
    for_each = block.body.attributes.get("for_each")
    content = block.body.blocks_of("content")
    if for_each is None or len(content) != 1:
        problems.append(
            block.where.problem(
                f'dynamic "{kind}" needs a for_each argument and exactly one content block'
            )
        )
        return []
    iterator = kind
    if "iterator" in block.body.attributes:
        try:
            iterator = name_of(block.body.attributes["iterator"].expr)
        except ValueError:
            problems.append(
                block.body.attributes["iterator"].where.problem("iterator must be a plain name")
            )
            return []
    try:
        collection = evaluator.value(for_each.expr)
    except EvalError as error:
        problems.append(eval_problem(error))
        return []
    if isinstance(collection, dict):
        pairs = sorted(collection.items())
    elif isinstance(collection, list):
        pairs = list(enumerate(collection))
    else:
        problems.append(for_each.where.problem("for_each must be a list, set or map"))
        return []
    out = []
    source.locate((*path, kind), block.where)
    for key, value in pairs:
        scope = {**evaluator.scope, iterator: {"key": key, "value": value}}
        inner = Evaluator(evaluator.file, evaluator.roots, evaluator.functions, scope)
        out.append(
            (kind, body_config(content[0].body, inner, (*path, kind), source, problems, {}))
        )
    return out
