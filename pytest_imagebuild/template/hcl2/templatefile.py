"""templatefile(): a file rendered as an HCL string template with the variables given."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from lark import Tree

from ...bounded_read import InputFileError, read_text_bounded
from .evaluate import EvalError, Evaluator, FunctionError, text_pieces
from .parse import SourceFile


def render_template_file(
    path: Path, variables: Mapping[str, Any], functions: Mapping[str, Callable[..., Any]]
) -> Any:
    """The rendered file; its own errors come back as the function's failure, with file:line."""
    try:
        text = read_text_bounded(path)
    except InputFileError as error:
        raise FunctionError(f"cannot read {path}: {error.reason}") from None
    except UnicodeDecodeError:
        raise FunctionError(f"{path} is not UTF-8 text") from None
    file = SourceFile(str(path), text)
    table = {k: v for k, v in functions.items() if k != "templatefile"}
    evaluator = Evaluator(file, dict(variables), table)
    try:
        pieces = text_pieces(text, file, 1)
        return evaluator.template(pieces, Tree("template", []), heredoc=True)
    except EvalError as error:
        line = f":{error.where.line}" if error.where else ""
        raise FunctionError(f"{path}{line}: {error.message()}") from None
