"""Evaluating a parsed template now, keeping what depends on run-time data for later.

Packer renders ``execute_command`` and friends at build time, with data such as ``.Path``
and ``.Vars``; pytest-imagebuild renders every string when it plans a build (so ``validate``
finds every mistake) and again at build time. What cannot be known yet (a field missing from
the data, a function raising Deferred) is kept as template source: partly evaluated, with the
values known now (``{{user `x`}}``, variables) written in as literals. ``{{if .Vars}}`` keeps
its whole block; ``{{if eq (user `mode`) "fast"}}`` is decided now.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from .gobuiltins import go_text, truthy
from .goparse import (
    Action,
    Cmd,
    Control,
    Deferred,
    Dot,
    FieldRef,
    Ident,
    Lit,
    Node,
    Operand,
    Pipe,
    RenderError,
    SubPipe,
    Text,
    Var,
    literal,
)


@dataclass(frozen=True)
class Residual:
    """A part kept as template source for a later render."""

    node: Any  # a Node, Pipe, Cmd or operand


_UNKNOWN = object()  # the value of a variable or dot only known at build time
_NO_VALUE = object()


class _Scope:
    """Variables visible at a point: name -> value, or _UNKNOWN for a build-time value."""

    def __init__(self, parent: _Scope | None = None, residual: bool = False):
        self.parent = parent
        self.values: dict[str, Any] = {}
        # Inside a block kept for build time nothing can change a variable known now.
        self.residual = residual or (parent.residual if parent else False)

    def lookup(self, name: str) -> Any:
        scope: _Scope | None = self
        while scope is not None:
            if name in scope.values:
                return scope.values[name]
            scope = scope.parent
        raise RenderError(f'undefined variable "{name}"')  # the parser rules this out

    def assign(self, name: str, value: Any) -> None:
        scope: _Scope | None = self
        while scope is not None:
            if name in scope.values:
                known = scope.values[name] is not _UNKNOWN
                if known and self.residual and not scope.residual:
                    raise RenderError(
                        f"assigning to {name} inside a block that depends on build-time data is "
                        "not supported by pytest-imagebuild; declare it inside the block"
                    )
                scope.values[name] = value
                return
            scope = scope.parent


class Evaluator:
    def __init__(
        self,
        functions: Mapping[str, Callable[..., Any]],
        refused: Mapping[str, str],
        data: Mapping[str, Any],
    ):
        self.functions = functions
        self.refused = refused
        self.data = data

    def run(self, nodes: list[Node]) -> list[str | Residual]:
        scope = _Scope()
        scope.values["$"] = self.data
        return self.nodes(nodes, self.data, scope)

    # --- nodes ---------------------------------------------------------------------------

    def nodes(self, nodes: tuple[Node, ...] | list[Node], dot: Any, scope: _Scope) -> list:
        out: list[str | Residual] = []
        for node in nodes:
            if isinstance(node, Text):
                out.append(node.text)
            elif isinstance(node, Action):
                out += self.action(node, dot, scope)
            else:
                out += self.control(node, dot, scope)
        return out

    def action(self, node: Action, dot: Any, scope: _Scope) -> list:
        pipe = node.pipe
        value = self.pipe(pipe, dot, scope)
        if pipe.decl:
            was_known = pipe.assign and scope.lookup(pipe.decl[0]) is not _UNKNOWN
            self.bind(pipe, _UNKNOWN if isinstance(value, Residual) else value, scope)
            if not isinstance(value, Residual):
                return []
            kept: Pipe = value.node
            if was_known:  # its declaration was evaluated away: declare it again here
                kept = Pipe(kept.cmds, kept.decl, assign=False)
            return [Residual(_same(Action(kept), node))]
        if isinstance(value, Residual):
            return [Residual(_same(Action(value.node), node))]
        return [go_text(value)]

    def bind(self, pipe: Pipe, value: Any, scope: _Scope) -> None:
        for name in pipe.decl:
            if pipe.assign:
                scope.assign(name, value)
            else:
                scope.values[name] = value

    def control(self, node: Control, dot: Any, scope: _Scope) -> list:
        inner = _Scope(scope)
        value = self.pipe(node.pipe, dot, inner)
        if isinstance(value, Residual):
            return [self.kept(node, value.node, dot, scope)]
        if node.kind == "range":
            return self.range(node, value, scope)
        if node.pipe.decl:
            self.bind(node.pipe, value, inner)
        if truthy(value):
            return self.nodes(node.body, value if node.kind == "with" else dot, inner)
        return self.nodes(node.otherwise, dot, inner)

    def range(self, node: Control, value: Any, scope: _Scope) -> list:
        if isinstance(value, dict):
            pairs = [(key, value[key]) for key in sorted(value)]
        elif isinstance(value, (list, tuple)):
            pairs = list(enumerate(value))
        elif value is None:
            pairs = []
        else:
            raise RenderError(f"range can't iterate over {go_text(value)}")
        out: list = []
        for key, element in pairs:
            inner = _Scope(scope)
            decl = node.pipe.decl
            if len(decl) == 2:
                inner.values[decl[0]], inner.values[decl[1]] = key, element
            elif decl:
                inner.values[decl[0]] = element
            out += self.nodes(node.body, element, inner)
        if not pairs:
            out += self.nodes(node.otherwise, None, _Scope(scope))
        return out

    def kept(self, node: Control, pipe: Pipe, dot: Any, scope: _Scope) -> Residual:
        """A control action whose value is only known at build time, bodies partly evaluated."""
        inner = _Scope(scope, residual=True)
        for name in node.pipe.decl:
            inner.values[name] = _UNKNOWN
        body_dot = dot if node.kind == "if" else _UNKNOWN
        body = _as_nodes(self.nodes(node.body, body_dot, inner))
        otherwise = _as_nodes(self.nodes(node.otherwise, dot, _Scope(scope, residual=True)))
        return Residual(_same(Control(node.kind, pipe, body, otherwise), node))

    # --- pipelines -----------------------------------------------------------------------

    def pipe(self, pipe: Pipe, dot: Any, scope: _Scope) -> Any:
        """The pipeline's value, or Residual(Pipe) with what is known written in."""
        value: Any = _NO_VALUE
        kept: list[Cmd] | None = None
        for cmd in pipe.cmds:
            if kept is not None:
                kept.append(self.fold_cmd(cmd, dot, scope))
                continue
            result = self.cmd(cmd, value, dot, scope)
            if isinstance(result, Residual):
                kept = [] if value is _NO_VALUE else [Cmd((Lit(value),))]
                kept.append(result.node)
            else:
                value = result
        if kept is not None:
            return Residual(_same(Pipe(tuple(kept), pipe.decl, pipe.assign), pipe))
        return value

    def fold_cmd(self, cmd: Cmd, dot: Any, scope: _Scope) -> Cmd:
        """A later stage of a kept pipeline: its own arguments evaluated where possible."""
        head = cmd.args[0]
        if not isinstance(head, Ident):
            raise RenderError(f"can't give argument to non-function {_shown(head)}")
        args = [self.operand(arg, dot, scope) for arg in cmd.args[1:]]
        self.check_callable(head.name, len(args) + 1)
        return _same(Cmd((head, *(_fold(arg) for arg in args))), cmd)

    def cmd(self, cmd: Cmd, piped: Any, dot: Any, scope: _Scope) -> Any:
        head = cmd.args[0]
        if not isinstance(head, Ident):
            if len(cmd.args) > 1 or piped is not _NO_VALUE:
                raise RenderError(f"can't give argument to non-function {_shown(head)}")
            value = self.operand(head, dot, scope)
            return Residual(Cmd((_fold(value),))) if isinstance(value, Residual) else value
        args = [self.operand(arg, dot, scope) for arg in cmd.args[1:]]
        return self.call(head.name, args, cmd, piped)

    def call(self, name: str, args: list[Any], cmd: Cmd, piped: Any = _NO_VALUE) -> Any:
        """Call a function; a kept call (Residual(Cmd)) leaves the piped value to the pipeline."""
        given = [*args, piped] if piped is not _NO_VALUE else args
        function = self.check_callable(name, len(given))
        if any(isinstance(arg, Residual) for arg in args):
            return Residual(_same(Cmd((Ident(name), *(_fold(a) for a in args))), cmd))
        try:
            return function(*given)
        except Deferred:
            return Residual(_same(Cmd((Ident(name), *(_fold(a) for a in args))), cmd))
        except RenderError as error:
            raise RenderError(
                f'executing "root" at <{name}>: error calling {name}: {error}'
            ) from None
        except (TypeError, ValueError, AttributeError):
            shown = " ".join(repr(arg) for arg in args)
            raise RenderError(
                f'executing "root" at <{name}>: error calling {name}: '
                f"arguments of the wrong type: {shown}"
            ) from None

    def check_callable(self, name: str, count: int) -> Callable[..., Any]:
        if name in self.refused:
            raise RenderError(
                f'executing "root" at <{name}>: error calling {name}: {self.refused[name]}'
            )
        function = self.functions.get(name)
        if function is None:
            raise RenderError(f'template: root:1: function "{name}" not defined')
        wrong = _wrong_arity(name, function, count)
        if wrong:
            raise RenderError(f'executing "root" at <{name}>: {wrong}')
        return function

    # --- operands ------------------------------------------------------------------------

    def operand(self, node: Operand, dot: Any, scope: _Scope) -> Any:
        if isinstance(node, Lit):
            return node.value
        if isinstance(node, Dot):
            return Residual(node) if dot is _UNKNOWN else dot
        if isinstance(node, Var):
            value = scope.lookup(node.name)
            return Residual(node) if value is _UNKNOWN else value
        if isinstance(node, Ident):
            return self.call(node.name, [], Cmd((node,)))
        if isinstance(node, SubPipe):
            value = self.pipe(node.pipe, dot, scope)
            return (
                Residual(_same(SubPipe(value.node), node)) if isinstance(value, Residual) else value
            )
        receiver = self.operand(node.receiver, dot, scope)
        if isinstance(receiver, Residual):
            return Residual(_same(FieldRef(_fold(receiver), node.names), node))
        return self.fields(node, receiver)

    def fields(self, node: FieldRef, value: Any) -> Any:
        for name in node.names:
            if value is self.data and name not in self.data:
                return Residual(node)  # run-time data, e.g. .Path before the build
            if isinstance(value, Mapping):
                value = value.get(name)
            elif value is None:
                raise RenderError(f"nil pointer evaluating interface {{}}.{name}")
            else:
                raise RenderError(f"can't evaluate field {name} in type {type(value).__name__}")
        return value


def _same(new: Any, old: Any) -> Any:
    """The original node (with its source text) when evaluation changed nothing in it."""
    return old if old is not None and new == old else new


def _fold(value: Any) -> Any:
    """An evaluated argument as a node: kept parts as they are, known values as literals."""
    if isinstance(value, Residual):
        node = value.node
        if isinstance(node, Pipe):
            return SubPipe(node)
        if isinstance(node, Cmd):
            return node.args[0] if len(node.args) == 1 else SubPipe(Pipe((node,)))
        return node
    literal(value)  # fails for values that cannot be written as a literal
    return Lit(value)


def _as_nodes(pieces: list) -> tuple[Node, ...]:
    return tuple(p.node if isinstance(p, Residual) else Text(p) for p in pieces)


def _shown(node: Operand) -> str:
    from .goparse import _print_operand

    return _print_operand(node)


def _wrong_arity(name: str, function: Callable[..., Any], count: int) -> str | None:
    """Go's "wrong number of args" message, so no Python function name reaches the user."""
    try:
        parameters = inspect.signature(function).parameters.values()
    except (TypeError, ValueError):
        return None
    positional = [p for p in parameters if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    variadic = any(p.kind is p.VAR_POSITIONAL for p in parameters)
    required = sum(1 for p in positional if p.default is p.empty)
    if required <= count and (variadic or count <= len(positional)):
        return None
    if variadic:
        want = f"at least {required}"
    elif required == len(positional):
        want = str(required)
    else:
        want = f"{required} to {len(positional)}"
    return f"wrong number of args for {name}: want {want} got {count}"
