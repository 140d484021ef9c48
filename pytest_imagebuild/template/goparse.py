"""Go text/template's grammar as Packer 1.6.6 (Go 1.15) reads it: a string into a node tree.

Packer renders ``execute_command``, ``inline`` and the like at build time, so users write
``{{if .Vars}}...{{end}}``, ``{{range}}``, ``{{with}}``, variables and ``{{- trim -}}`` markers.
This module only parses and prints back; ``goexec`` evaluates. Printing back lets the parts
that depend on run-time data (``.Path``, ``.Vars``) be kept for the render at build time.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

MAX_NESTING = 50  # control actions and parentheses; real templates nest two or three deep


class RenderError(Exception):
    """A template string that cannot be rendered; the message mirrors Packer's wording."""


class Deferred(Exception):
    """Raised by a function or field that can only be rendered later in the build."""


# --- nodes ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Lit:
    value: Any


@dataclass(frozen=True)
class Dot:
    pass


@dataclass(frozen=True)
class Var:
    name: str  # "$" or "$name"


@dataclass(frozen=True)
class Ident:
    """A function name in a command."""

    name: str


@dataclass(frozen=True)
class FieldRef:
    """``.A.B`` (receiver Dot), ``$x.A`` or ``(pipeline).A``."""

    receiver: Operand
    names: tuple[str, ...]


@dataclass(frozen=True)
class SubPipe:
    pipe: Pipe


Operand = Lit | Dot | Var | Ident | FieldRef | SubPipe


@dataclass(frozen=True)
class Cmd:
    args: tuple[Operand, ...]


@dataclass(frozen=True)
class Pipe:
    cmds: tuple[Cmd, ...]
    decl: tuple[str, ...] = ()
    assign: bool = False  # "$x = value" rather than "$x := value"


@dataclass(frozen=True)
class Text:
    text: str
    src: str | None = field(default=None, compare=False)


@dataclass(frozen=True)
class Action:
    pipe: Pipe
    src: str | None = field(default=None, compare=False)


@dataclass(frozen=True)
class Control:
    """``if``, ``with`` or ``range`` with its body and the ``else`` body (maybe empty)."""

    kind: str
    pipe: Pipe
    body: tuple[Node, ...]
    otherwise: tuple[Node, ...] = ()
    src: str | None = field(default=None, compare=False)


Node = Text | Action | Control


# --- lexing --------------------------------------------------------------------------------

_TOKEN = re.compile(
    r"""(?P<raw>`[^`]*`)
      | (?P<str>"(?:[^"\\\n]|\\.)*")
      | (?P<char>'(?:[^'\\]|\\.)+')
      | (?P<num>[-+]?(?:0[xX][0-9a-fA-F]+|\d+(?:\.\d*)?(?:[eE][-+]?\d+)?|\.\d+))
      | (?P<field>\.[A-Za-z_][A-Za-z0-9_]*)
      | (?P<dot>\.)
      | (?P<var>\$[A-Za-z0-9_]*)
      | (?P<ident>[A-Za-z_][A-Za-z0-9_]*)
      | (?P<declare>:=)
      | (?P<punct>[|(),=])
    """,
    re.VERBOSE,
)
_SPACE = " \t\r\n"
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "a": "\a", "b": "\b", "f": "\f", "v": "\v"}
_ESCAPE = re.compile(r"\\(x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8}|[0-7]{3}|.)", re.DOTALL)


@dataclass(frozen=True)
class Token:
    kind: str
    text: str
    spaced: bool  # whitespace before it: "$x .Y" is two operands, "$x.Y" one


@dataclass
class _Item:
    """A piece of the string: text, or one action's tokens."""

    text: str | None
    tokens: list[Token]
    line: int
    src: str = ""


def _unescape(match: re.Match[str]) -> str:
    code = match.group(1)
    if code[0] in "xuU" and len(code) > 1:
        return chr(int(code[1:], 16))
    if len(code) == 3 and code.isdigit():
        return chr(int(code, 8))
    return _ESCAPES.get(code, code)


def unquote(text: str) -> str:
    return _ESCAPE.sub(_unescape, text[1:-1])


def _lex(text: str) -> list[_Item]:
    items: list[_Item] = []
    pos = 0
    trim_next = False
    while True:
        start = text.find("{{", pos)
        chunk = text[pos:] if start == -1 else text[pos:start]
        if trim_next:
            chunk = chunk.lstrip(_SPACE)
        left_trim = (
            start != -1
            and text[start + 2 : start + 3] == "-"
            and (text[start + 3 : start + 4] in tuple(_SPACE))
        )
        if left_trim:
            chunk = chunk.rstrip(_SPACE)
        if chunk:
            items.append(_Item(chunk, [], 0))
        if start == -1:
            return items
        line = text.count("\n", 0, start) + 1
        inner = start + (4 if left_trim else 2)
        if text.startswith("/*", inner):
            end, trim_next = _comment_end(text, inner, line)
        else:
            tokens, end, trim_next = _action_tokens(text, inner, line)
            items.append(_Item(None, tokens, line, text[start:end]))
        pos = end


def _comment_end(text: str, inner: int, line: int) -> tuple[int, bool]:
    close = text.find("*/", inner + 2)
    if close != -1:
        if text.startswith("}}", close + 2):
            return close + 4, False
        if text.startswith(" -}}", close + 2):
            return close + 6, True
    raise RenderError(f"template: root:{line}: unclosed comment")


def _action_tokens(text: str, pos: int, line: int) -> tuple[list[Token], int, bool]:
    tokens: list[Token] = []
    while True:
        spaced = False
        while pos < len(text) and text[pos] in _SPACE:
            pos += 1
            spaced = True
        if text.startswith("}}", pos):
            return tokens, pos + 2, False
        if spaced and text.startswith("-}}", pos):
            return tokens, pos + 3, True
        if pos >= len(text):
            raise RenderError(f"template: root:{line}: unclosed action")
        match = _TOKEN.match(text, pos)
        if not match and "}}" not in text[pos:]:
            raise RenderError(f"template: root:{line}: unclosed action")
        if not match:
            shown = text[pos:].split("}}")[0].strip()[:20]
            raise RenderError(f"template: root:{line}: unexpected {shown!r} in command")
        kind = match.lastgroup or ""
        tokens.append(Token(kind, match.group(kind), spaced))
        pos = match.end()


# --- parsing -------------------------------------------------------------------------------

KEYWORDS = ("if", "else", "end", "range", "with", "define", "template", "block")
UNSUPPORTED = ("define", "template", "block", "break", "continue")


class _Parser:
    def __init__(self, items: list[_Item], functions: Any):
        self.items = items
        self.index = 0
        self.functions = functions  # names a command may call (a container)
        self.scopes: list[list[str]] = [["$"]]
        self.depth = 0
        self.line = 1

    def fail(self, message: str) -> RenderError:
        return RenderError(f"template: root:{self.line}: {message}")

    def nest(self) -> None:
        self.depth += 1
        if self.depth > MAX_NESTING:
            raise self.fail(
                f"nesting deeper than {MAX_NESTING} levels of control actions and parentheses"
            )

    def parse_list(self, stop: tuple[str, ...]) -> tuple[list[Node], _Item | None]:
        nodes: list[Node] = []
        while self.index < len(self.items):
            item = self.items[self.index]
            self.index += 1
            if item.text is not None:
                nodes.append(Text(item.text))
                continue
            self.line = item.line
            keyword = _keyword(item)
            if keyword in ("end", "else"):
                if keyword in stop:
                    return nodes, item
                raise self.fail(f"unexpected {{{{{keyword}}}}}")
            if keyword in UNSUPPORTED:
                raise self.fail(f"control action {{{{{keyword}}}}} is not supported")
            if keyword in ("if", "with", "range"):
                nodes.append(self.control(keyword, item.tokens[1:], item.src))
            else:
                pipe = self.pipeline(item.tokens, 0, declarations=1, end_ok=False)[0]
                nodes.append(Action(pipe, item.src))
        return nodes, None

    def control(self, kind: str, tokens: list[Token], src: str | None) -> Control:
        self.nest()
        self.scopes.append([])
        start = self.index
        if not tokens:
            raise self.fail(f"missing value for {kind}")
        pipe = self.pipeline(tokens, 0, declarations=2 if kind == "range" else 1, end_ok=False)[0]
        in_pipeline = len(self.scopes[-1])
        body, stop = self.parse_list(("end", "else"))
        otherwise: list[Node] = []
        del self.scopes[-1][in_pipeline:]  # the body's variables end with it
        if stop is not None and _keyword(stop) == "else":
            chained = stop.tokens[1:]
            if kind == "if" and chained and chained[0].kind == "ident" and chained[0].text == "if":
                otherwise = [self.control(kind, chained[1:], None)]
                stop = self.items[self.index - 1]
            else:
                if len(stop.tokens) > 1:
                    raise self.fail("unexpected tokens after {{else}}")
                otherwise, stop = self.parse_list(("end", "else"))
                if stop is not None and _keyword(stop) == "else":
                    raise self.fail("expected end; found {{else}}")
        if stop is None:
            raise self.fail("unexpected EOF")
        if len(stop.tokens) > 1:
            raise self.fail("unexpected tokens after {{end}}")
        self.scopes.pop()
        self.depth -= 1
        whole = None
        if src is not None:  # the source from {{if ...}} to its {{end}}, for keeping it as is
            whole = src + "".join(
                item.text if item.text is not None else item.src
                for item in self.items[start : self.index]
            )
        return Control(kind, pipe, tuple(body), tuple(otherwise), whole)

    def pipeline(
        self, tokens: list[Token], pos: int, declarations: int, end_ok: bool
    ) -> tuple[Pipe, int]:
        decl, assign, pos = self.declaration(tokens, pos, declarations)
        cmds: list[Cmd] = [Cmd(())]
        args: list[Operand] = []
        while pos < len(tokens):
            token = tokens[pos]
            if token.text == ")" and token.kind == "punct":
                if not end_ok:
                    raise self.fail("unexpected right paren")
                break
            if token.kind == "punct" and token.text == "|":
                cmds[-1] = self.command(args, len(cmds))
                cmds.append(Cmd(()))
                args = []
                pos += 1
                continue
            operand, pos = self.operand(tokens, pos)
            args.append(operand)
        cmds[-1] = self.command(args, len(cmds))
        if end_ok and pos >= len(tokens):
            raise self.fail("unclosed left paren")
        for name in decl:
            if not assign:
                self.scopes[-1].append(name)
        return Pipe(tuple(cmds), tuple(decl), assign), pos

    def declaration(
        self, tokens: list[Token], pos: int, allowed: int
    ) -> tuple[list[str], bool, int]:
        """``$x :=``, ``$i, $e :=`` (range only) or ``$x =`` at the start of a pipeline."""
        kinds = [(t.kind, t.text) for t in tokens[pos : pos + 4]]
        names: list[str] = []
        if len(kinds) >= 2 and kinds[0][0] == "var" and kinds[1][0] == "declare":
            names, end = [tokens[pos].text], pos + 2
        elif len(kinds) >= 2 and kinds[0][0] == "var" and kinds[1] == ("punct", "="):
            if not self.defined(tokens[pos].text):
                raise self.fail(f'undefined variable "{tokens[pos].text}"')
            return [tokens[pos].text], True, pos + 2
        elif (
            len(kinds) == 4
            and kinds[0][0] == "var"
            and kinds[1] == ("punct", ",")
            and kinds[2][0] == "var"
            and kinds[3][0] == "declare"
        ):
            names, end = [tokens[pos].text, tokens[pos + 2].text], pos + 4
        else:
            return [], False, pos
        if len(names) > allowed:
            raise self.fail("too many declarations in command")
        return names, False, end

    def defined(self, name: str) -> bool:
        return any(name in scope for scope in self.scopes)

    def command(self, args: list[Operand], stage: int) -> Cmd:
        if not args:
            raise self.fail("missing value for command")
        if stage > 1 and isinstance(args[0], (Lit, Dot)):
            raise self.fail(f"non executable command in pipeline stage {stage}")
        return Cmd(tuple(args))

    def operand(self, tokens: list[Token], pos: int) -> tuple[Operand, int]:
        token = tokens[pos]
        pos += 1
        term: Operand
        if token.kind == "raw":
            term = Lit(token.text[1:-1])
        elif token.kind == "str":
            term = Lit(unquote(token.text))
        elif token.kind == "char":
            term = Lit(ord(unquote(token.text)[:1] or "\0"))
        elif token.kind == "num":
            term = Lit(_number(token.text))
        elif token.kind == "dot":
            term = Dot()
        elif token.kind == "field":
            term = FieldRef(Dot(), (token.text[1:],))
        elif token.kind == "var":
            if not self.defined(token.text):
                raise self.fail(f'undefined variable "{token.text}"')
            term = Var(token.text)
        elif token.kind == "ident":
            term = self.identifier(token.text)
        elif token.kind == "punct" and token.text == "(":
            self.nest()
            pipe, pos = self.pipeline(tokens, pos, declarations=0, end_ok=True)
            self.depth -= 1
            pos += 1
            term = SubPipe(pipe)
        else:
            raise self.fail(f"unexpected {token.text!r} in command")
        names: list[str] = []
        while pos < len(tokens) and tokens[pos].kind == "field" and not tokens[pos].spaced:
            names.append(tokens[pos].text[1:])
            pos += 1
        if names:
            if isinstance(term, FieldRef):
                term = FieldRef(term.receiver, (*term.names, *names))
            elif isinstance(term, (Var, SubPipe, Dot)):
                term = FieldRef(term, tuple(names))
            else:
                raise self.fail(f"unexpected . after term {_print_operand(term)!r}")
        return term, pos

    def identifier(self, name: str) -> Operand:
        if name in ("true", "false"):
            return Lit(name == "true")
        if name == "nil":
            return Lit(None)
        if name in KEYWORDS:
            raise self.fail(f"unexpected <{name}> in command")
        if name not in self.functions:
            raise self.fail(f'function "{name}" not defined')
        return Ident(name)


def _keyword(item: _Item) -> str:
    first = item.tokens[0] if item.tokens else None
    return first.text if first is not None and first.kind == "ident" else ""


def _number(text: str) -> int | float:
    try:
        return int(text, 0)
    except ValueError:
        return float(text)


def parse(text: str, functions: Any) -> list[Node]:
    """The node tree of a template string; RenderError names the line for bad syntax."""
    parser = _Parser(_lex(text), functions)
    nodes, stop = parser.parse_list(())
    assert stop is None
    return nodes


# --- printing back -------------------------------------------------------------------------


def quote(text: str) -> str:
    """A Go string literal for text."""
    out = []
    for char in text:
        if char in '"\\':
            out.append("\\" + char)
        elif char == "\n":
            out.append("\\n")
        elif char == "\t":
            out.append("\\t")
        elif char == "\r":
            out.append("\\r")
        elif ord(char) < 0x20 or ord(char) == 0x7F:
            out.append(f"\\x{ord(char):02x}")
        else:
            out.append(char)
    return '"' + "".join(out) + '"'


def literal(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "nil"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return quote(value)
    raise RenderError(
        f"a {type(value).__name__} value cannot be kept for the render at build time; "
        "compute it inside the part that uses run-time data"
    )


def _print_operand(node: Operand) -> str:
    if isinstance(node, Lit):
        return literal(node.value)
    if isinstance(node, Dot):
        return "."
    if isinstance(node, (Var, Ident)):
        return node.name
    if isinstance(node, SubPipe):
        return f"({print_pipe(node.pipe)})"
    receiver = "" if isinstance(node.receiver, Dot) else _print_operand(node.receiver)
    return receiver + "".join(f".{name}" for name in node.names)


def print_pipe(pipe: Pipe) -> str:
    head = ""
    if pipe.decl:
        head = ", ".join(pipe.decl) + (" = " if pipe.assign else " := ")
    return head + " | ".join(" ".join(_print_operand(a) for a in cmd.args) for cmd in pipe.cmds)


def print_nodes(nodes: tuple[Node, ...] | list[Node]) -> str:
    """Template source for nodes; text that looks like an action is printed as a literal."""
    out = []
    for node in nodes:
        if node.src is not None:
            out.append(node.src)
        elif isinstance(node, Text):
            out.append(f"{{{{{quote(node.text)}}}}}" if "{{" in node.text else node.text)
        elif isinstance(node, Action):
            out.append(f"{{{{{print_pipe(node.pipe)}}}}}")
        else:
            out.append(f"{{{{{node.kind} {print_pipe(node.pipe)}}}}}{print_nodes(node.body)}")
            if node.otherwise:
                out.append(f"{{{{else}}}}{print_nodes(node.otherwise)}")
            out.append("{{end}}")
    return "".join(out)
