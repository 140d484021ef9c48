"""Computing HCL expressions: references, operators, templates, `for`, splats, function calls.

python-hcl2 gives the syntax tree only; Packer evaluates expressions with Go's HCL library, and
this is the part of it templates use. Values are plain Python: str, int/float (HCL numbers),
bool, None (null), list (tuples, lists, sets) and dict (objects, maps). An error names the
expression as written and its column, and suggests the closest known name.
"""

from __future__ import annotations

import difflib
import re
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from lark import Token, Tree

from . import limits
from .parse import Location, SourceFile, children, location, name_of, parse_expression


class EvalError(Exception):
    """An expression that cannot be computed, located at the sub-expression at fault."""

    def __init__(self, summary: str, where: Location | None = None, excerpt: str = ""):
        super().__init__(summary)
        self.summary = summary
        self.where = where
        self.excerpt = excerpt

    def message(self) -> str:
        where = f" (column {self.where.column})" if self.where and self.where.column else ""
        excerpt = self.excerpt if len(self.excerpt) <= 80 else self.excerpt[:77] + "..."
        shown = f"`{excerpt}`{where}: " if excerpt else ""
        return f"{shown}{self.summary}"


# How deep evaluation may go (parse tree levels; a parenthesis is two or three): real
# templates stay far below, and Python's stack would give out some way above.
MAX_NESTING = 200
_NESTING = threading.local()


class Pending(Exception):
    """A reference to a local value not computed yet (locals may refer to each other)."""

    def __init__(self, name: str):
        super().__init__(name)
        self.name = name


class FunctionError(Exception):
    """Raised by an HCL function with the reason its arguments were refused."""


@dataclass
class Namespace:
    """A root such as `var` or `local`: its values and how to explain a missing name."""

    prefix: str
    values: dict[str, Any]
    missing: str  # e.g. "Reference to undeclared input variable"
    pending: set[str] = field(default_factory=set)
    # True where no name of this root may be used at all (e.g. var in a variable's default).
    refused: bool = False

    def get(self, name: str) -> Any:
        if name in self.pending:
            raise Pending(name)
        if name not in self.values:
            raise KeyError(name)
        return self.values[name]


def closest(word: str, choices: Iterable[str]) -> str | None:
    found = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return found[0] if found else None


def to_string(value: Any) -> str:
    """HCL's conversion of a primitive to a string."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (int, float, str)):
        return str(value)
    raise TypeError(_kind(value))


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "tuple"
    return "object"


_ESCAPE = re.compile(r"\\(u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8}|.)", re.DOTALL)
_SIMPLE_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", '"': '"', "\\": "\\"}


def _unescape(text: str) -> str:
    def replace(match: re.Match[str]) -> str:
        code = match.group(1)
        if code[0] in "uU" and len(code) > 1:
            return chr(int(code[1:], 16))
        return _SIMPLE_ESCAPES.get(code, "\\" + code)

    return _ESCAPE.sub(replace, text)


# Template pieces: ("text", str), ("expr", node, file), ("if", node, file), ("else",),
# ("endif",), ("for", key, value, node, file), ("endfor",); strip flags ride along.
Piece = tuple[Any, ...]


def _directive_flags(node: Tree) -> tuple[bool, bool]:
    tokens = [c for c in node.children if isinstance(c, Token)]
    left = len(tokens) > 1 and tokens[1].type == "STRIP_MARKER"
    right = len(tokens) > 1 and tokens[-2].type == "STRIP_MARKER"
    return left, right


def _string_pieces(node: Tree, file: SourceFile) -> list[Piece]:
    pieces: list[Piece] = []
    for part in node.children:
        if not isinstance(part, Tree):
            continue
        inner = part.children[0]
        if isinstance(inner, Token):
            text = str(inner)
            if inner.type == "ESCAPED_INTERPOLATION" or inner.type == "ESCAPED_DIRECTIVE":
                pieces.append(("text", text[1:]))
            else:
                pieces.append(("text", _unescape(text)))
            continue
        kids = children(inner)
        exprs = [k for k in kids if isinstance(k, Tree) and k.data != "identifier"]
        left, right = _directive_flags(inner) if inner.data != "interpolation" else (False, False)
        if inner.data == "interpolation":
            pieces.append(("expr", kids[1], file))
        elif inner.data == "template_if_start":
            pieces.append(("if", exprs[-1], file, left, right))
        elif inner.data == "template_else":
            pieces.append(("else", left, right))
        elif inner.data == "template_endif":
            pieces.append(("endif", left, right))
        elif inner.data == "template_for_start":
            names = [name_of(k) for k in kids if isinstance(k, Tree) and k.data == "identifier"]
            pieces.append(("for", names, exprs[-1], file, left, right))
        elif inner.data == "template_endfor":
            pieces.append(("endfor", left, right))
    return pieces


_DIRECTIVE = re.compile(
    r"^(?P<left>~?)\s*(?:(?P<if>if)\s+(?P<cond>.+?)|(?P<else>else)|(?P<endif>endif)"
    r"|(?P<for>for)\s+(?P<names>[A-Za-z_][\w-]*(?:\s*,\s*[A-Za-z_][\w-]*)?)\s+in\s+(?P<coll>.+?)"
    r"|(?P<endfor>endfor))\s*(?P<right>~?)$",
    re.DOTALL,
)


def _closing_brace(text: str, start: int) -> int:
    """Index of the `}` that closes an interpolation opened just before start."""
    depth, pos, quote = 0, start, False
    while pos < len(text):
        char = text[pos]
        if quote:
            if char == "\\":
                pos += 1
            elif char == '"':
                quote = False
        elif char == '"':
            quote = True
        elif char == "{":
            depth += 1
        elif char == "}":
            if depth == 0:
                return pos
            depth -= 1
        pos += 1
    return -1


def heredoc_pieces(token: Token, file: SourceFile) -> list[Piece]:
    """A heredoc's body as template pieces (no backslash escapes, as in HCL)."""
    raw = str(token)
    trim = raw.startswith("<<-")
    lines = raw.split("\n")
    body_lines = lines[1:-2] if lines[-1] == "" else lines[1:-1]
    if trim:
        indents = [len(line) - len(line.lstrip(" \t")) for line in body_lines if line.strip()]
        cut = min(indents, default=0)
        body_lines = [line[cut:] for line in body_lines]
    body = "".join(line + "\n" for line in body_lines)
    return text_pieces(body, file, (token.line or 1) + 1)


def text_pieces(body: str, file: SourceFile, first_line: int) -> list[Piece]:
    """Template text (a heredoc body or a templatefile) as pieces; first_line is body's line."""
    pieces: list[Piece] = []
    pos = 0
    while pos < len(body):
        match = re.search(r"(?<![$%])[$%]\{|\$\$\{|%%\{", body[pos:])
        if not match:
            pieces.append(("text", body[pos:]))
            break
        start = pos + match.start()
        marker = match.group()
        if marker in ("$${", "%%{"):
            pieces.append(("text", body[pos:start] + marker[1:]))
            pos = start + 3
            continue
        pieces.append(("text", body[pos:start]))
        end = _closing_brace(body, start + 2)
        if end < 0:
            raise EvalError(
                "Unterminated template sequence: a `${` or `%{` in this heredoc is not closed",
                Location(file, first_line + body.count("\n", 0, start), 1),
            )
        inner = body[start + 2 : end]
        line = first_line + body.count("\n", 0, start)
        sub = SourceFile(file.label, "\n" * (line - 1) + "__expr__ = " + inner.strip("~ \t"))
        if marker == "${":
            pieces.append(("expr", parse_expression(inner.strip("~ \t"), file.label, line), sub))
        else:
            pieces.append(_heredoc_directive(inner, file, sub, line))
        pos = end + 1
    return pieces


def _heredoc_directive(inner: str, file: SourceFile, sub: SourceFile, line: int) -> Piece:
    found = _DIRECTIVE.match(inner.strip(" \t"))
    if not found:
        raise EvalError(
            f"Invalid template directive: `%{{{inner}}}` (expected if, else, endif, for or "
            "endfor)",
            Location(file, line, 1),
        )
    left, right = bool(found["left"]), bool(found["right"])
    if found["if"]:
        text = found["cond"]
        node = parse_expression(text, file.label, line)
        return ("if", node, SourceFile(file.label, "\n" * (line - 1) + "__expr__ = " + text),
                left, right)
    if found["for"]:
        text = found["coll"]
        node = parse_expression(text, file.label, line)
        names = [n.strip() for n in found["names"].split(",")]
        return ("for", names, node, SourceFile(file.label, "\n" * (line - 1) + "__expr__ = "
                                               + text), left, right)
    kind = "else" if found["else"] else "endif" if found["endif"] else "endfor"
    del sub
    return (kind, left, right)


class Evaluator:
    """Evaluates expressions of one file against the roots (var, local, path, ...) given."""

    def __init__(
        self,
        file: SourceFile,
        roots: Mapping[str, Any],
        functions: Mapping[str, Callable[..., Any]],
        scope: Mapping[str, Any] | None = None,
    ):
        self.file = file
        self.roots = roots
        self.functions = functions
        self.scope = dict(scope or {})

    def _child(self, file: SourceFile | None = None, scope: Mapping[str, Any] | None = None):
        return Evaluator(file or self.file, self.roots, self.functions, scope or self.scope)

    def fail(self, node: Tree | Token, summary: str) -> EvalError:
        return EvalError(summary, location(self.file, node), self.file.excerpt(node))

    def value(self, node: Tree | Token) -> Any:
        if isinstance(node, Token):
            raise self.fail(node, f"unexpected {node!s}")
        method = getattr(self, f"_{node.data}", None)
        if method is None:
            raise self.fail(node, f"the expression kind {node.data!r} is not supported")
        depth = getattr(_NESTING, "depth", 0)
        if depth >= MAX_NESTING:  # deeper would exhaust Python's stack: a traceback
            raise self.fail(node, f"the expression is nested more than {MAX_NESTING} levels deep")
        if depth == 0:
            limits.start_expression()
        _NESTING.depth = depth + 1
        try:
            limits.step()
            return method(node)
        except limits.LimitExceeded as error:
            raise self.fail(node, str(error)) from None
        finally:
            _NESTING.depth = depth

    # -- terms --------------------------------------------------------------------------
    def _expr_term(self, node: Tree) -> Any:
        kids = children(node)
        if isinstance(kids[0], Token) and kids[0] == "(":
            return self.value(kids[1])
        return self.value(kids[0])

    def _int_lit(self, node: Tree) -> int:
        return int(str(node.children[0]))

    def _float_lit(self, node: Tree) -> float:
        return float(str(node.children[0]))

    def _literal_value(self, node: Tree) -> Any:
        return {"true": True, "false": False, "null": None}[str(node.children[0])]

    def _identifier(self, node: Tree) -> Any:
        name = name_of(node)
        if name in self.scope:
            return self.scope[name]
        if name in self.roots:
            root = self.roots[name]
            if isinstance(root, Namespace):
                return {key: root.get(key) for key in root.values if key not in root.pending}
            return root
        hint = closest(name, [*self.scope, *self.roots])
        raise self.fail(
            node,
            f'Unknown variable: there is no variable named "{name}"'
            + (f" (did you mean `{hint}`?)" if hint else ""),
        )

    def _tuple(self, node: Tree) -> list[Any]:
        values = [self.value(kid) for kid in children(node) if isinstance(kid, Tree)]
        return self._bounded(values, node)

    def _bounded(self, value: Any, node: Tree) -> Any:
        """A constructed list or object, refused when written out it would be too large."""
        try:
            limits.check_value(value)
        except limits.LimitExceeded as error:
            raise self.fail(node, str(error)) from None
        return value

    def _object(self, node: Tree) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for elem in children(node):
            if not isinstance(elem, Tree) or elem.data != "object_elem":
                continue
            key_node, _, value_node = children(elem)
            key_expr = children(key_node)[0]
            key = self._object_key(key_expr)
            result[key] = self.value(value_node)
        return self._bounded(result, node)

    def _object_key(self, node: Tree | Token) -> str:
        if isinstance(node, Tree) and node.data == "keyword":
            return name_of(node)
        if isinstance(node, Tree) and node.data == "expr_term":
            kids = children(node)
            simple = len(kids) == 1 and isinstance(kids[0], Tree)
            if simple and kids[0].data in ("identifier", "literal_value"):
                return name_of(kids[0])
        key = self.value(node)
        try:
            return to_string(key)
        except TypeError:
            raise self.fail(node, f"Incorrect key type: an object key must be a string, "
                            f"got {_kind(key)}") from None

    def _string(self, node: Tree) -> Any:
        return self.template(_string_pieces(node, self.file), node)

    def _template_string(self, node: Tree) -> Any:
        return _unescape(str(node.children[0])[2:-2])

    def _heredoc_template(self, node: Tree) -> Any:
        token = node.children[0]
        assert isinstance(token, Token)
        return self.template(heredoc_pieces(token, self.file), node, heredoc=True)

    _heredoc_template_trim = _heredoc_template

    # -- templates ----------------------------------------------------------------------
    def template(self, pieces: list[Piece], node: Tree, heredoc: bool = False) -> Any:
        if len(pieces) == 1 and pieces[0][0] == "expr" and not heredoc:
            return self._child(pieces[0][2]).value(pieces[0][1])
        pieces = _apply_strip(pieces)
        text, rest = self._render(pieces, 0, node, ())
        if rest < len(pieces):
            raise self.fail(node, f"Unexpected %{{{pieces[rest][0]}}} in this template")
        return text

    def _render(
        self, pieces: list[Piece], pos: int, node: Tree, stop: tuple[str, ...]
    ) -> tuple[str, int]:
        out: list[str] = []
        while pos < len(pieces):
            piece = pieces[pos]
            kind = piece[0]
            if kind in stop:
                return "".join(out), pos
            self._check_size(out, node)
            if kind == "text":
                out.append(piece[1])
                pos += 1
            elif kind == "expr":
                evaluator = self._child(piece[2])
                value = evaluator.value(piece[1])
                out.append(evaluator._interpolate(value, piece[1]))
                pos += 1
            elif kind == "if":
                evaluator = self._child(piece[2])
                condition = evaluator._bool(evaluator.value(piece[1]), piece[1])
                middle = _find(pieces, pos + 1, ("else", "endif"))
                end = _find(pieces, middle, ("endif",)) if middle < len(pieces) else middle
                if end >= len(pieces):
                    raise self.fail(node, "Unclosed template directive: %{if} without %{endif}")
                if condition:
                    text, _ = self._render(pieces[: middle], pos + 1, node, ())
                else:
                    text, _ = self._render(pieces[:end], middle + 1, node, ())
                out.append(text)
                pos = end + 1
            elif kind == "for":
                names, expr, file = piece[1], piece[2], piece[3]
                evaluator = self._child(file)
                collection = evaluator.value(expr)
                end = _find(pieces, pos + 1, ("endfor",))
                if end >= len(pieces):
                    raise self.fail(node, "Unclosed template directive: %{for} without %{endfor}")
                for key, item in _pairs(collection, evaluator, expr):
                    scope = {**self.scope, **_bind(names, key, item)}
                    inner = Evaluator(self.file, self.roots, self.functions, scope)
                    text, _ = inner._render(pieces[:end], pos + 1, node, ())
                    out.append(text)
                    self._check_size(out, node)
                pos = end + 1
            else:
                raise self.fail(node, f"Unexpected %{{{kind}}} in this template")
        self._check_size(out, node)
        return "".join(out), pos

    def _check_size(self, out: list[str], node: Tree) -> None:
        try:
            limits.check_chars(sum(map(len, out)), "the template's text")
        except limits.LimitExceeded as error:
            raise self.fail(node, str(error)) from None

    def _interpolate(self, value: Any, node: Tree | Token) -> str:
        if value is None:
            raise self.fail(node, "Invalid template interpolation value: the value is null")
        try:
            return to_string(value)
        except TypeError as error:
            raise self.fail(
                node,
                f"Invalid template interpolation value: cannot include a {error} in a string "
                "(use jsonencode() or join())",
            ) from None

    def _bool(self, value: Any, node: Tree | Token) -> bool:
        if isinstance(value, bool):
            return value
        if value in ("true", "false"):
            return value == "true"
        raise self.fail(node, f"a bool is required here, got {_kind(value)}")

    # -- traversals ---------------------------------------------------------------------
    def _get_attr_expr_term(self, node: Tree) -> Any:
        base_node, attr = children(node)
        name = name_of(children(attr)[-1])
        root = self._root_namespace(base_node)
        if root is not None:
            return self._namespace_attr(root, name, node)
        return self._attribute(self.value(base_node), name, node)

    def _root_namespace(self, node: Tree | Token) -> Namespace | None:
        if isinstance(node, Tree) and node.data == "expr_term":
            kids = children(node)
            if len(kids) == 1 and isinstance(kids[0], Tree) and kids[0].data == "identifier":
                name = name_of(kids[0])
                if name not in self.scope and isinstance(self.roots.get(name), Namespace):
                    return self.roots[name]
        return None

    def _namespace_attr(self, root: Namespace, name: str, node: Tree) -> Any:
        try:
            return root.get(name)
        except KeyError:
            if root.refused:
                raise self.fail(node, f"{root.missing} `{root.prefix}.{name}`") from None
            hint = closest(name, root.values)
            raise self.fail(
                node,
                f'{root.missing}: "{name}" is not declared'
                + (f" (did you mean `{root.prefix}.{hint}`?)" if hint else ""),
            ) from None

    def _attribute(self, value: Any, name: str, node: Tree) -> Any:
        if isinstance(value, dict):
            if name in value:
                return value[name]
            hint = closest(name, value)
            raise self.fail(
                node,
                f'Unsupported attribute: this object has no attribute "{name}"'
                + (f" (did you mean `{hint}`?)" if hint else ""),
            )
        if value is None:
            raise self.fail(node, "Attempt to get attribute from null value")
        raise self.fail(node, f"Unsupported attribute: a {_kind(value)} has no attributes")

    def _index_expr_term(self, node: Tree) -> Any:
        base_node, index = children(node)
        return self._index(self.value(base_node), self._index_key(index), node)

    def _index_key(self, index: Tree) -> Any:
        kids = children(index)
        if index.data == "short_index":
            return int(str(kids[-1]))
        return self.value(kids[1])

    def _index(self, value: Any, key: Any, node: Tree) -> Any:
        if isinstance(value, list):
            try:
                position = int(key) if not isinstance(key, bool) else None
            except (TypeError, ValueError):
                position = None
            if position is None or (isinstance(key, float) and not key.is_integer()):
                raise self.fail(node, f"Invalid index: a tuple or list needs a whole number, "
                                f"got {key!r}")
            if not 0 <= position < len(value):
                raise self.fail(
                    node, f"Invalid index: {position} is out of range (length {len(value)})"
                )
            return value[position]
        if isinstance(value, dict):
            try:
                name = to_string(key)
            except TypeError:
                raise self.fail(node, "Invalid index: a map key must be a string") from None
            if name not in value:
                hint = closest(name, value)
                raise self.fail(
                    node,
                    f'Invalid index: the given key "{name}" does not exist'
                    + (f" (did you mean `{hint}`?)" if hint else ""),
                )
            return value[name]
        if value is None:
            raise self.fail(node, "Attempt to index null value")
        raise self.fail(node, f"Invalid index: a {_kind(value)} cannot be indexed")

    def _splat(self, node: Tree) -> Any:
        base_node, splat = children(node)
        base = self.value(base_node)
        items = [] if base is None else base if isinstance(base, list) else [base]
        steps = [step for step in children(splat) if isinstance(step, Tree)]
        out = []
        for item in items:
            for step in steps:
                if step.data == "get_attr":
                    item = self._attribute(item, name_of(children(step)[-1]), node)
                else:
                    item = self._index(item, self._index_key(step), node)
            out.append(item)
        return out

    _attr_splat_expr_term = _splat
    _full_splat_expr_term = _splat

    # -- for expressions ----------------------------------------------------------------
    def _for_parts(self, node: Tree) -> tuple[list[str], Any, list[Tree | Token]]:
        kids = children(node)
        intro = next(k for k in kids if isinstance(k, Tree) and k.data == "for_intro")
        intro_kids = children(intro)
        names = [name_of(k) for k in intro_kids if isinstance(k, Tree) and k.data == "identifier"]
        coll_node = next(k for k in intro_kids if isinstance(k, Tree) and k.data != "identifier")
        rest = [k for k in kids if k is not intro]
        return names, (coll_node, self.value(coll_node)), rest

    def _for_items(self, node: Tree) -> Iterable[tuple[Evaluator, list[Tree | Token]]]:
        names, (coll_node, collection), rest = self._for_parts(node)
        condition = next(
            (k for k in rest if isinstance(k, Tree) and k.data == "for_cond"), None
        )
        for key, item in _pairs(collection, self, coll_node):
            inner = self._child(scope={**self.scope, **_bind(names, key, item)})
            if condition is not None:
                cond_node = children(condition)[-1]
                if not inner._bool(inner.value(cond_node), cond_node):
                    continue
            yield inner, rest

    def _for_tuple_expr(self, node: Tree) -> list[Any]:
        out = []
        for inner, rest in self._for_items(node):
            expr = next(k for k in rest if isinstance(k, Tree) and k.data != "for_cond")
            out.append(inner.value(expr))
        return self._bounded(out, node)

    def _for_object_expr(self, node: Tree) -> dict[str, Any]:
        out: dict[str, Any] = {}
        grouping = any(isinstance(k, Token) and k == "..." for k in node.children)
        for inner, rest in self._for_items(node):
            exprs = [k for k in rest if isinstance(k, Tree) and k.data != "for_cond"]
            key_value = inner.value(exprs[0])
            try:
                key = to_string(key_value)
            except TypeError:
                raise inner.fail(exprs[0], "Invalid object key: a key must be a string") from None
            value = inner.value(exprs[1])
            if grouping:
                out.setdefault(key, []).append(value)
            elif key in out:
                raise self.fail(
                    node,
                    f'Duplicate object key: "{key}" is produced twice (add ... after the value '
                    "to group the values by key)",
                )
            else:
                out[key] = value
        return out

    # -- operators ----------------------------------------------------------------------
    def _conditional(self, node: Tree) -> Any:
        exprs = [k for k in children(node) if isinstance(k, Tree)]
        condition, then, otherwise = exprs
        return self.value(then if self._bool(self.value(condition), condition) else otherwise)

    def _unary_op(self, node: Tree) -> Any:
        operator, operand = node.children[0], node.children[-1]
        value = self.value(operand)
        if str(operator) == "!":
            return not self._bool(value, operand)
        return -self._number(value, operand)

    def _number(self, value: Any, node: Tree | Token) -> int | float:
        if isinstance(value, bool):
            raise self.fail(node, "a number is required here, got bool")
        if isinstance(value, (int, float)):
            return value
        if isinstance(value, str):
            try:
                number = float(value)
            except ValueError:
                pass
            else:
                return int(number) if number.is_integer() else number
        raise self.fail(node, f"a number is required here, got {_kind(value)}")

    def _binary_op(self, node: Tree) -> Any:
        left_node = children(node)[0]
        term = children(node)[1]
        operator_node, right_node = [k for k in children(term) if isinstance(k, Tree)]
        operator = str(operator_node.children[0])
        left = self.value(left_node)
        if operator == "&&":
            return self._bool(left, left_node) and self._bool(self.value(right_node), right_node)
        if operator == "||":
            return self._bool(left, left_node) or self._bool(self.value(right_node), right_node)
        right = self.value(right_node)
        if operator == "==":
            return _equal(left, right)
        if operator == "!=":
            return not _equal(left, right)
        a, b = self._number(left, left_node), self._number(right, right_node)
        if operator in ("/", "%") and b == 0:
            raise self.fail(node, "Division by zero")
        result = {
            "+": lambda: a + b,
            "-": lambda: a - b,
            "*": lambda: a * b,
            "/": lambda: a / b,
            "%": lambda: a % b,
            "<": lambda: a < b,
            ">": lambda: a > b,
            "<=": lambda: a <= b,
            ">=": lambda: a >= b,
        }[operator]()
        if isinstance(result, float) and result.is_integer() and operator != "/":
            return int(result)
        if operator == "/" and isinstance(result, float) and result.is_integer():
            return int(result)
        return result

    # -- function calls -----------------------------------------------------------------
    def _function_call(self, node: Tree) -> Any:
        kids = children(node)
        name = name_of(kids[0])
        arguments = next((k for k in kids if isinstance(k, Tree) and k.data == "arguments"), None)
        arg_nodes = [k for k in children(arguments)] if arguments is not None else []
        expand = any(isinstance(k, Token) and k == "..." for k in arg_nodes)
        if name in LAZY_FUNCTIONS and name in self.functions:
            return self._lazy(name, [k for k in arg_nodes if isinstance(k, Tree)], node)
        args = [self.value(k) for k in arg_nodes if isinstance(k, Tree)]
        if expand:
            if not args or not isinstance(args[-1], list):
                raise self.fail(node, "Invalid expanding argument value: ... needs a list")
            args = [*args[:-1], *args[-1]]
        function = self.functions.get(name)
        if function is None:
            hint = closest(name, self.functions)
            raise self.fail(
                node,
                f'Call to unknown function: there is no function named "{name}"'
                + (f" (did you mean `{hint}`?)" if hint else "")
                + (
                    "; env() may only be used in a variable's default"
                    if name == "env"
                    else ""
                ),
            )
        try:
            result = function(*args)
            limits.check_value(result)
            return result
        except limits.LimitExceeded as error:
            raise self.fail(
                node, f'Error in function call: call to "{name}" failed: {error}'
            ) from None
        except FunctionError as error:
            raise self.fail(
                node, f'Error in function call: call to "{name}" failed: {error}'
            ) from None
        except TypeError as error:
            raise self.fail(node, f'Error in function call: "{name}": {_arity(error)}') from None
        except (ValueError, ArithmeticError) as error:
            raise self.fail(
                node, f'Error in function call: call to "{name}" failed: {error}'
            ) from None


    def _lazy(self, name: str, arg_nodes: list[Tree], node: Tree) -> Any:
        """can() and try(): their arguments' errors are the answer, not a failure."""
        if name == "can":
            if len(arg_nodes) != 1:
                raise self.fail(node, "can() takes exactly one argument")
            try:
                self.value(arg_nodes[0])
            except EvalError:
                return False
            return True
        for arg in arg_nodes:
            try:
                return self.value(arg)
            except EvalError:
                continue
        raise self.fail(node, "Error in function call: no argument of try() could be evaluated")


# Functions whose arguments are evaluated by the function itself (errors are their answer).
LAZY_FUNCTIONS = ("can", "try")


def _arity(error: TypeError) -> str:
    text = str(error)
    return re.sub(r"^\w+\(\) ", "", text)


def _find(pieces: list[Piece], start: int, kinds: tuple[str, ...]) -> int:
    """Index of the first piece of one of kinds at this nesting level (len(pieces) if none)."""
    depth = 0
    for index in range(start, len(pieces)):
        kind = pieces[index][0]
        if depth == 0 and kind in kinds:
            return index
        if kind in ("if", "for"):
            depth += 1
        elif kind in ("endif", "endfor"):
            depth -= 1
    return len(pieces)


def _equal(left: Any, right: Any) -> bool:
    if isinstance(left, bool) or isinstance(right, bool):
        return type(left) is type(right) and left == right
    return left == right


def _pairs(collection: Any, evaluator: Evaluator, node: Tree | Token) -> list[tuple[Any, Any]]:
    if isinstance(collection, list):
        return list(enumerate(collection))
    if isinstance(collection, dict):
        return sorted(collection.items())
    raise evaluator.fail(node, f"A for expression needs a list, set, tuple, map or object, "
                         f"got {_kind(collection)}")


def _bind(names: list[str], key: Any, item: Any) -> dict[str, Any]:
    if len(names) == 1:
        return {names[0]: item}
    return {names[0]: key, names[1]: item}


def _apply_strip(pieces: list[Piece]) -> list[Piece]:
    """`%{~ ... ~}` removes the whitespace before and after a directive."""
    out = [list(piece) for piece in pieces]
    for index, piece in enumerate(out):
        if piece[0] in ("text", "expr"):
            continue
        left, right = piece[-2], piece[-1]
        if left and index > 0 and out[index - 1][0] == "text":
            out[index - 1][1] = out[index - 1][1].rstrip()
        if right and index + 1 < len(out) and out[index + 1][0] == "text":
            out[index + 1][1] = out[index + 1][1].lstrip()
    return [tuple(piece) for piece in out]
