"""A parser for the small part of PowerShell that image pipelines use.

Recognised: statements split by newlines and `;`; `if/elseif/else`, `while`, `foreach`,
`try/catch/finally`, `break`, `continue`, `exit N`; assignments to `$var` / `$env:X`; pipelines
of commands (cmdlets, `& path` calls, native programs) and expressions with strings (with `$var`
expansion in double quotes and bare arguments), numbers, variables, `.Property` access,
`(...)`, `$(...)`, `@(...)`, `@{...}`, `,` arrays and the comparison/logical operators.
Anything else raises `ParseFailure`, which the interpreter reports as a PowerShell parser error:
a stand-in that guessed would hide bugs in the scripts under test.
"""

from __future__ import annotations

from dataclasses import dataclass, field


class ParseFailure(Exception):
    def __init__(self, message: str, pos: int, error_id: str = "StandinUnsupportedSyntax"):
        super().__init__(message)
        self.message = message
        self.pos = pos
        self.error_id = error_id


# -- AST ------------------------------------------------------------------------------------
@dataclass
class Node:
    pos: int = field(default=0, kw_only=True)


@dataclass
class Str(Node):
    value: str
    expand: bool = False


@dataclass
class Num(Node):
    value: int | float


@dataclass
class Var(Node):
    name: str  # "x", "env:SystemRoot", "true", "null", ...


@dataclass
class Member(Node):
    target: Node
    name: str


@dataclass
class Index(Node):
    target: Node
    index: Node


@dataclass
class Unary(Node):
    op: str
    operand: Node


@dataclass
class Binary(Node):
    op: str
    left: Node
    right: Node


@dataclass
class ArrayLit(Node):
    items: list[Node]


@dataclass
class HashLit(Node):
    pairs: list[tuple[str, Node]]
    text: str = ""


@dataclass
class SubExpr(Node):
    body: list[Node]  # statements; value is everything they output


@dataclass
class Param(Node):
    name: str
    value: Node | None = None  # `-Name:value`


@dataclass
class Command(Node):
    name: str | Node  # a word, or an expression after `&`
    args: list[Node]
    end: int = 0


@dataclass
class Pipeline(Node):
    elements: list[Node]


@dataclass
class Assign(Node):
    target: str
    op: str
    value: Node


@dataclass
class If(Node):
    clauses: list[tuple[Node, list[Node]]]
    else_body: list[Node] | None


@dataclass
class While(Node):
    cond: Node
    body: list[Node]


@dataclass
class ForEach(Node):
    var: str
    items: Node
    body: list[Node]


@dataclass
class Try(Node):
    body: list[Node]
    catch_body: list[Node]
    finally_body: list[Node] | None


@dataclass
class Flow(Node):
    kind: str  # "break", "continue", "exit", "return"
    value: Node | None = None


COMPARISONS = (
    "-eq",
    "-ne",
    "-gt",
    "-ge",
    "-lt",
    "-le",
    "-like",
    "-notlike",
    "-match",
    "-notmatch",
    "-contains",
    "-notcontains",
    "-in",
    "-notin",
    "-ieq",
    "-ine",
    "-ceq",
    "-cne",
    "-ilike",
    "-imatch",
)
KEYWORDS = {
    "if",
    "elseif",
    "else",
    "while",
    "foreach",
    "for",
    "do",
    "switch",
    "function",
    "try",
    "catch",
    "finally",
    "break",
    "continue",
    "exit",
    "return",
    "param",
    "trap",
    "throw",
    "filter",
    "begin",
    "process",
    "end",
    "until",
    "class",
    "data",
}
_WORD_END = set(" \t\r\n;|(){}")
_UNSUPPORTED_KEYWORDS = {
    "for",
    "do",
    "switch",
    "function",
    "param",
    "trap",
    "filter",
    "begin",
    "process",
    "end",
    "class",
    "data",
    "until",
    "throw",
}


class Parser:
    def __init__(self, text: str) -> None:
        self.text = text.replace("\r\n", "\n")
        self.i = 0

    # -- low level ---------------------------------------------------------------------------
    def peek(self, n: int = 0) -> str:
        j = self.i + n
        return self.text[j] if j < len(self.text) else "\0"  # never `in` any test string

    def at(self, s: str) -> bool:
        return self.text.startswith(s, self.i)

    def at_word(self, word: str) -> bool:
        end = self.i + len(word)
        return self.text[self.i : end].lower() == word and (
            end >= len(self.text) or not (self.text[end].isalnum() or self.text[end] in "-_")
        )

    def fail(self, message: str, error_id: str = "StandinUnsupportedSyntax") -> ParseFailure:
        return ParseFailure(message, self.i, error_id)

    def skip_space(self, newlines: bool = False) -> None:
        while self.i < len(self.text):
            c = self.text[self.i]
            if c in " \t" or (newlines and c in "\n\r"):
                self.i += 1
            elif c == "`" and self.peek(1) == "\n":
                self.i += 2
            elif c == "#":
                while self.i < len(self.text) and self.text[self.i] != "\n":
                    self.i += 1
            elif c == "<" and self.peek(1) == "#":
                end = self.text.find("#>", self.i)
                if end < 0:
                    raise self.fail("Missing closing '#>'", "MissingEndOfComment")
                self.i = end + 2
            else:
                return

    def expect(self, s: str, error_id: str) -> None:
        self.skip_space(newlines=True)
        if not self.at(s):
            raise self.fail(f"Missing '{s}'.", error_id)
        self.i += len(s)

    # -- statements --------------------------------------------------------------------------
    def parse_script(self) -> list[Node]:
        body = self.parse_statements(closing="")
        if self.i < len(self.text):
            raise self.fail(
                f"Unexpected token '{self.text[self.i]}' in expression or statement.",
                "UnexpectedToken",
            )
        return body

    def parse_statements(self, closing: str) -> list[Node]:
        stmts: list[Node] = []
        while True:
            self.skip_space(newlines=True)
            while self.at(";"):
                self.i += 1
                self.skip_space(newlines=True)
            if self.i >= len(self.text) or (closing and self.at(closing)):
                return stmts
            stmts.append(self.parse_statement())
            self.skip_space()
            if self.i < len(self.text) and not (
                self.peek() in ";\n" or (closing and self.at(closing))
            ):
                raise self.fail(
                    f"Unexpected token '{self.text[self.i : self.i + 20].split()[0]}' in "
                    "expression or statement.",
                    "UnexpectedToken",
                )

    def parse_block(self) -> list[Node]:
        self.expect("{", "MissingOpenBraceInStatement")
        body = self.parse_statements(closing="}")
        if not self.at("}"):
            raise self.fail(
                "Missing closing '}' in statement block or type definition.", "MissingEndCurlyBrace"
            )
        self.i += 1
        return body

    def parse_condition(self) -> Node:
        self.expect("(", "MissingOpenParenthesisInIfStatement")
        self.skip_space(newlines=True)
        cond = self.parse_pipeline()
        self.expect(")", "MissingEndParenthesisAfterStatement")
        return cond

    def parse_statement(self) -> Node:
        pos = self.i
        for kw in _UNSUPPORTED_KEYWORDS:
            if self.at_word(kw):
                raise self.fail(f"The '{kw}' statement is not supported by the stand-in.")
        if self.at_word("if"):
            self.i += 2
            clauses = [(self.parse_condition(), self.parse_block())]
            else_body = None
            while True:
                save = self.i
                self.skip_space(newlines=True)
                if self.at_word("elseif"):
                    self.i += 6
                    clauses.append((self.parse_condition(), self.parse_block()))
                elif self.at_word("else"):
                    self.i += 4
                    else_body = self.parse_block()
                    break
                else:
                    self.i = save
                    break
            return If(clauses, else_body, pos=pos)
        if self.at_word("while"):
            self.i += 5
            return While(self.parse_condition(), self.parse_block(), pos=pos)
        if self.at_word("foreach"):
            self.i += 7
            self.expect("(", "MissingOpenParenthesisAfterKeyword")
            self.skip_space()
            var = self.parse_primary()
            if not isinstance(var, Var):
                raise self.fail(
                    "Missing variable name after foreach.", "MissingVariableNameAfterForeach"
                )
            self.skip_space()
            if not self.at_word("in"):
                raise self.fail(
                    "Missing 'in' after variable in foreach loop.", "MissingInInForeach"
                )
            self.i += 2
            self.skip_space()
            items = self.parse_pipeline()
            self.expect(")", "MissingEndParenthesisAfterForeach")
            return ForEach(var.name, items, self.parse_block(), pos=pos)
        if self.at_word("try"):
            self.i += 3
            body = self.parse_block()
            self.skip_space(newlines=True)
            catch_body: list[Node] = []
            finally_body = None
            if self.at_word("catch"):
                self.i += 5
                self.skip_space()
                if self.at("["):
                    raise self.fail("Typed catch blocks are not supported by the stand-in.")
                catch_body = self.parse_block()
                self.skip_space(newlines=True)
            if self.at_word("finally"):
                self.i += 7
                finally_body = self.parse_block()
            return Try(body, catch_body, finally_body, pos=pos)
        for kw in ("break", "continue", "exit", "return"):
            if self.at_word(kw):
                self.i += len(kw)
                self.skip_space()
                value = None
                if kw in ("exit", "return") and self.peek() not in ("\0", ";", "\n", "}"):
                    value = self.parse_expression()
                return Flow(kw, value, pos=pos)
        if self.peek() == "$" and self._looks_like_assignment():
            name = self._read_variable_name()
            self.skip_space()
            op = "+=" if self.at("+=") else "="
            self.i += len(op)
            self.skip_space(newlines=True)
            return Assign(name, op, self.parse_pipeline(), pos=pos)
        return self.parse_pipeline()

    def _looks_like_assignment(self) -> bool:
        save = self.i
        try:
            self._read_variable_name()
            self.skip_space()
            return (self.at("=") and not self.at("==")) or self.at("+=")
        except ParseFailure:
            return False
        finally:
            self.i = save

    def _read_variable_name(self) -> str:
        if not self.at("$"):
            raise self.fail("Expected a variable.")
        self.i += 1
        if self.at("{"):
            end = self.text.find("}", self.i)
            name = self.text[self.i + 1 : end]
            self.i = end + 1
            return name
        start = self.i
        while self.i < len(self.text) and (
            self.text[self.i].isalnum() or self.text[self.i] in "_:?"
        ):
            if self.text[self.i] == ":" and self.text[start : self.i].lower() not in (
                "env",
                "global",
                "script",
                "local",
                "variable",
            ):
                break
            self.i += 1
        name = self.text[start : self.i]
        if not name:
            raise self.fail("Variable reference is not valid.", "InvalidVariableReference")
        return name

    # -- pipelines and commands ----------------------------------------------------------------
    def parse_pipeline(self) -> Node:
        pos = self.i
        elements = [self.parse_element()]
        while True:
            self.skip_space()
            if self.at("|") and not self.at("||"):
                self.i += 1
                self.skip_space(newlines=True)
                elements.append(self.parse_command())
            else:
                break
        return elements[0] if len(elements) == 1 else Pipeline(elements, pos=pos)

    def parse_element(self) -> Node:
        c = self.peek()
        if c == "&" or ((c.isalpha() or c in "_.\\") and not self._is_number_start()):
            if c == "." and self.peek(1) not in "\\/":
                raise self.fail("Dot-sourcing is not supported by the stand-in.")
            return self.parse_command()
        return self.parse_expression()

    def _is_number_start(self) -> bool:
        return self.peek().isdigit()

    def parse_command(self) -> Node:
        pos = self.i
        if self.at("&"):
            self.i += 1
            self.skip_space()
            name: str | Node = self.parse_argument()
        else:
            start = self.i
            while self.i < len(self.text) and self.text[self.i] not in _WORD_END:
                self.i += 1
            name = self.text[start : self.i]
            if not name:
                raise self.fail("An empty pipe element is not allowed.", "EmptyPipeElement")
            if name.lower() in KEYWORDS:
                raise self.fail(f"The '{name}' keyword is not supported here by the stand-in.")
        args: list[Node] = []
        while True:
            self.skip_space()
            c = self.peek()
            if c in ("\0", "\n", ";", "|", ")", "}"):
                break
            if c == "-" and (self.peek(1).isalpha()):
                ppos = self.i
                self.i += 1
                start = self.i
                while self.i < len(self.text) and (
                    self.text[self.i].isalnum() or self.text[self.i] in "_"
                ):
                    self.i += 1
                pname = self.text[start : self.i]
                value = None
                if self.at(":"):
                    self.i += 1
                    value = self.parse_argument()
                args.append(Param(pname, value, pos=ppos))
            else:
                args.append(self.parse_argument())
        return Command(name, args, pos=pos, end=self.i)

    def parse_argument(self) -> Node:
        """One argument in command mode: a quoted string, a value expression, or a bare word."""
        c = self.peek()
        pos = self.i
        if c in "'\"" or c in "(@" or (c == "$" and self._bare_is_variable_only()):
            node = self.parse_primary()
            node = self.parse_postfix(node)
            if self.peek() == ",":
                items = [node]
                while self.peek() == ",":
                    self.i += 1
                    self.skip_space()
                    items.append(self.parse_postfix(self.parse_primary()))
                return ArrayLit(items, pos=pos)
            return node
        start = self.i
        depth = 0
        while self.i < len(self.text):
            ch = self.text[self.i]
            if ch in "'\"":
                end = self.text.find(ch, self.i + 1)
                self.i = end + 1 if end > 0 else len(self.text)
                continue
            if ch == "{":
                depth += 1
            elif ch == "}":
                if depth == 0:
                    break
                depth -= 1
            elif ch in " \t\r\n;|()" and depth == 0:
                break
            self.i += 1
        word = self.text[start : self.i]
        if "," in word and not any(q in word for q in "'\"{"):
            return ArrayLit([Str(w, expand=True, pos=pos) for w in word.split(",")], pos=pos)
        if word.replace(".", "", 1).isdigit():
            return Num(float(word) if "." in word else int(word), pos=pos)
        return Str(word, expand=True, pos=pos)

    def _bare_is_variable_only(self) -> bool:
        """`$x` or `$x.Prop` is a value; `$Env:SystemRoot\\System32\\x.exe` is a bare word."""
        save = self.i
        try:
            self._read_variable_name()
            while self.at("."):
                self.i += 1
                while self.i < len(self.text) and (
                    self.text[self.i].isalnum() or self.text[self.i] == "_"
                ):
                    self.i += 1
            return self.peek() in ("\0", " ", "\t", "\n", ";", "|", ")", "}", ",", "[")
        except ParseFailure:
            return True
        finally:
            self.i = save

    # -- expressions -------------------------------------------------------------------------
    def parse_expression(self) -> Node:
        return self.parse_or()

    def _op_here(self, ops: tuple[str, ...]) -> str | None:
        self.skip_space()
        for op in sorted(ops, key=len, reverse=True):
            if self.text[self.i : self.i + len(op)].lower() == op:
                nxt = self.peek(len(op))
                if op[0] == "-" and (nxt.isalnum() or nxt == "_"):
                    continue
                return op
        return None

    def parse_or(self) -> Node:
        left = self.parse_and()
        while (op := self._op_here(("-or",))) is not None:
            self.i += len(op)
            self.skip_space(newlines=True)
            left = Binary("-or", left, self.parse_and(), pos=left.pos)
        return left

    def parse_and(self) -> Node:
        left = self.parse_comparison()
        while (op := self._op_here(("-and",))) is not None:
            self.i += len(op)
            self.skip_space(newlines=True)
            left = Binary("-and", left, self.parse_comparison(), pos=left.pos)
        return left

    def parse_comparison(self) -> Node:
        left = self.parse_additive()
        while (op := self._op_here(COMPARISONS)) is not None:
            self.i += len(op)
            self.skip_space()
            left = Binary(
                op.replace("-i", "-", 1) if op.startswith("-i") else op,
                left,
                self.parse_additive(),
                pos=left.pos,
            )
        return left

    def parse_additive(self) -> Node:
        left = self.parse_array()
        while True:
            self.skip_space()
            c = self.peek()
            if c in "+-" and not self.peek(1).isalpha() and self.peek(1) != "=":
                self.i += 1
                self.skip_space()
                left = Binary(c, left, self.parse_array(), pos=left.pos)
            else:
                return left

    def parse_array(self) -> Node:
        first = self.parse_unary()
        self.skip_space()
        if self.peek() != ",":
            return first
        items = [first]
        while self.peek() == ",":
            self.i += 1
            self.skip_space(newlines=True)
            items.append(self.parse_unary())
            self.skip_space()
        return ArrayLit(items, pos=first.pos)

    def parse_unary(self) -> Node:
        self.skip_space()
        pos = self.i
        if self.at("!"):
            self.i += 1
            return Unary("-not", self.parse_unary(), pos=pos)
        if self.text[self.i : self.i + 4].lower() == "-not" and not self.peek(4).isalnum():
            self.i += 4
            self.skip_space()
            return Unary("-not", self.parse_unary(), pos=pos)
        if self.at("-") and self.peek(1).isdigit():
            self.i += 1
            return Unary("-", self.parse_unary(), pos=pos)
        return self.parse_postfix(self.parse_primary())

    def parse_postfix(self, node: Node) -> Node:
        while True:
            if self.at(".") and (self.peek(1).isalpha() or self.peek(1) == "_"):
                self.i += 1
                start = self.i
                while self.i < len(self.text) and (
                    self.text[self.i].isalnum() or self.text[self.i] == "_"
                ):
                    self.i += 1
                name = self.text[start : self.i]
                if self.at("("):
                    raise self.fail(
                        f"Method calls ('.{name}()') are not supported by the stand-in."
                    )
                node = Member(node, name, pos=node.pos)
            elif self.at("["):
                self.i += 1
                idx = self.parse_expression()
                self.expect("]", "MissingEndSquareBracket")
                node = Index(node, idx, pos=node.pos)
            else:
                return node

    def parse_primary(self) -> Node:
        self.skip_space()
        pos = self.i
        c = self.peek()
        if c == "'":
            return Str(self._read_single_quoted(), pos=pos)
        if c == '"':
            return Str(self._read_double_quoted(), expand=True, pos=pos)
        if c == "$" and self.peek(1) == "(":
            self.i += 2
            body = self.parse_statements(closing=")")
            self.expect(")", "MissingEndParenthesisInSubexpression")
            return SubExpr(body, pos=pos)
        if c == "$":
            return Var(self._read_variable_name(), pos=pos)
        if c == "@" and self.peek(1) == "(":
            self.i += 2
            body = self.parse_statements(closing=")")
            self.expect(")", "MissingEndParenthesisInSubexpression")
            return SubExpr(body, pos=pos)
        if c == "@" and self.peek(1) == "{":
            return self._read_hashtable()
        if c == "(":
            self.i += 1
            self.skip_space(newlines=True)
            inner = self.parse_pipeline()
            self.expect(")", "MissingEndParenthesisInExpression")
            return SubExpr([inner], pos=pos)
        if c.isdigit():
            start = self.i
            while self.i < len(self.text) and (
                self.text[self.i].isdigit() or self.text[self.i] == "."
            ):
                self.i += 1
            raw = self.text[start : self.i]
            return Num(float(raw) if "." in raw else int(raw), pos=pos)
        if c == "[":
            raise self.fail("Type literals ('[...]') are not supported by the stand-in.")
        raise self.fail(f"Unexpected token '{c}' in expression or statement.", "UnexpectedToken")

    def _read_single_quoted(self) -> str:
        self.i += 1
        out = []
        while self.i < len(self.text):
            ch = self.text[self.i]
            if ch == "'":
                if self.peek(1) == "'":
                    out.append("'")
                    self.i += 2
                    continue
                self.i += 1
                return "".join(out)
            out.append(ch)
            self.i += 1
        raise self.fail(
            "The string is missing the terminator: '.", "TerminatorExpectedAtEndOfString"
        )

    def _read_double_quoted(self) -> str:
        self.i += 1
        start = self.i
        depth = 0
        while self.i < len(self.text):
            ch = self.text[self.i]
            if ch == "`":
                self.i += 2
                continue
            if ch == "$" and self.peek(1) == "(":
                depth += 1
            elif ch == ")" and depth:
                depth -= 1
            elif ch == '"' and not depth:
                if self.peek(1) == '"':
                    self.i += 2
                    continue
                raw = self.text[start : self.i]
                self.i += 1
                return raw
            self.i += 1
        raise self.fail(
            'The string is missing the terminator: ".', "TerminatorExpectedAtEndOfString"
        )

    def _read_hashtable(self) -> HashLit:
        pos = self.i
        self.i += 2
        pairs: list[tuple[str, Node]] = []
        while True:
            self.skip_space(newlines=True)
            while self.at(";"):
                self.i += 1
                self.skip_space(newlines=True)
            if self.at("}"):
                self.i += 1
                return HashLit(pairs, text=self.text[pos : self.i], pos=pos)
            if self.peek() in "'\"":
                key = self.parse_primary()
                key_text = key.value if isinstance(key, Str) else ""
            else:
                start = self.i
                while self.i < len(self.text) and (
                    self.text[self.i].isalnum() or self.text[self.i] in "_-"
                ):
                    self.i += 1
                key_text = self.text[start : self.i]
            if not key_text:
                raise self.fail(
                    "Missing key before '=' in hash literal.", "MissingEqualsInHashLiteral"
                )
            self.expect("=", "MissingEqualsInHashLiteral")
            self.skip_space()
            pairs.append((key_text, self.parse_expression()))


def parse(text: str) -> list[Node]:
    return Parser(text).parse_script()


def line_of(text: str, pos: int) -> tuple[int, int, str]:
    """1-based line and column of `pos`, and that line's text (for 'At line:1 char:1')."""
    text = text.replace("\r\n", "\n")
    line_start = text.rfind("\n", 0, pos) + 1
    line_end = text.find("\n", pos)
    line_text = text[line_start : line_end if line_end >= 0 else len(text)]
    return text.count("\n", 0, pos) + 1, pos - line_start + 1, line_text
