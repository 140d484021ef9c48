"""Go's text/template as Packer templates use it: actions, pipelines, control flow, variables.

Packer renders every string of a template through Go templates; users write
``{{user `x`}}``, ``{{isotime "2006-01-02" | clean_resource_name}}``, ``{{ .Path }}`` or
``{{if .Vars}}{{.Vars}} {{end}}{{.Path}}``. Fields (``.Path``) and calls that only make
sense later in a build are kept as template source so they can be rendered again at run
time, exactly as Packer defers them. Parsing is in ``goparse``, evaluation in ``goexec``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from .gobuiltins import BUILTINS
from .goexec import Evaluator, Residual
from .goparse import Deferred, RenderError, parse, print_nodes

__all__ = ["MAX_RENDERED_CHARS", "Deferred", "Function", "RenderError", "Renderer"]

Function = Callable[..., Any]

MAX_RENDERED_CHARS = 4 * 1024 * 1024
"""The most characters one string may render to: variables that repeat each other twice over
double with every step, and would otherwise exhaust memory."""
_QUOTED_WIDTH = 120


@dataclass
class Renderer:
    """Renders strings with a set of functions and data fields."""

    functions: Mapping[str, Function]
    data: Mapping[str, Any]
    # Functions Packer knows but that are not callable at this point (e.g. env outside variables).
    refused: Mapping[str, str]

    def render(self, text: str) -> str:
        if "{{" not in text:
            return text
        functions = {**BUILTINS, **self.functions}
        try:
            nodes = parse(text, {*functions, *self.refused})
            pieces = Evaluator(functions, self.refused, self.data).run(nodes)
            size = sum(len(piece) for piece in pieces if isinstance(piece, str))
            if size > MAX_RENDERED_CHARS:
                limit = MAX_RENDERED_CHARS
                raise RenderError(f"its actions render to more than {limit} characters")
            if not any(isinstance(piece, Residual) for piece in pieces):
                return "".join(pieces)
            return "".join(
                piece if isinstance(piece, str) else print_nodes([piece.node]) for piece in pieces
            )
        except RecursionError:  # MAX_NESTING keeps templates far from it; belt and braces
            raise RenderError("template: root:1: nested too deeply") from None
        except RenderError as error:
            raise RenderError(f"{error} (in {_quoted(text)})") from None


def _quoted(text: str) -> str:
    """A template string shown inside a one-line error message (a long one cut short)."""
    if len(text) > _QUOTED_WIDTH:
        half = _QUOTED_WIDTH // 2
        text = f"{text[:half]}...{text[-half:]}"
    return '"' + text.replace("\r", "\\r").replace("\n", "\\n") + '"'
