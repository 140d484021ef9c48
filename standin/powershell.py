"""A small, explicit PowerShell interpreter over a `WindowsMachine`.

It evaluates what `ps_parser` recognises and knows the cmdlets in `pscmdlets`; an unknown command
gets PowerShell's real CommandNotFound error, unsupported syntax a parser error. Output is written
as each statement finishes so a WinRM Receive can stream it.
"""

from __future__ import annotations

import fnmatch
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from standin import ps_parser as ast
from standin.psformat import ErrorRecord, PSObject, format_output, scalar
from standin.windows import WindowsMachine


class Cancelled(Exception):
    """The command was signalled, its shell deleted or the machine went down."""


class _Break(Exception):
    pass


class _Continue(Exception):
    pass


class _Exit(Exception):
    def __init__(self, code: int) -> None:
        self.code = code


class Terminating(Exception):
    def __init__(self, record: ErrorRecord) -> None:
        super().__init__(record.message)
        self.record = record


@dataclass
class Session:
    machine: WindowsMachine
    user: str
    write_out: Callable[[str], None]
    write_err: Callable[[str, str], None]  # (stream, text): stream is "Error", "warning", ...
    cancel: threading.Event = field(default_factory=threading.Event)
    cwd: str = ""
    variables: dict[str, Any] = field(default_factory=dict)
    script: str = ""
    last_ok: bool = True
    reboot_requested: bool = False
    process_env: dict[str, Any] = field(default_factory=dict)  # $env:X set in this session

    def __post_init__(self) -> None:
        self.cwd = self.cwd or rf"C:\Users\{self.user}"
        self.variables.update(
            {
                "erroractionpreference": "Continue",
                "progresspreference": "Continue",
                "verbosepreference": "SilentlyContinue",
                "warningpreference": "Continue",
                "lastexitcode": 0,
                "pwd": self.cwd,
                "home": rf"C:\Users\{self.user}",
            }
        )

    # -- entry point -----------------------------------------------------------------------
    def run(self, script: str) -> int:
        """Run a script; return powershell.exe's exit code."""
        self.script = script
        try:
            body = ast.parse(script)
        except ast.ParseFailure as exc:
            self.error(self.parse_record(exc))
            return 1
        try:
            self.run_block(body)
        except _Exit as ex:
            return ex.code
        except Terminating as t:
            self.error(t.record)
            return 1
        except (_Break, _Continue):
            pass
        return 0 if self.last_ok else 1

    # -- statements ------------------------------------------------------------------------
    def run_block(self, body: list[ast.Node]) -> None:
        for stmt in body:
            self.check_cancel()
            self.run_statement(stmt)

    def run_statement(self, stmt: ast.Node) -> None:
        if isinstance(stmt, ast.If):
            for cond, block in stmt.clauses:
                if truthy(self.value(cond)):
                    self.run_block(block)
                    return
            if stmt.else_body is not None:
                self.run_block(stmt.else_body)
            return
        if isinstance(stmt, ast.While):
            while truthy(self.value(stmt.cond)):
                self.check_cancel()
                try:
                    self.run_block(stmt.body)
                except _Break:
                    break
                except _Continue:
                    continue
            return
        if isinstance(stmt, ast.ForEach):
            for item in as_list(self.value(stmt.items)):
                self.variables[stmt.var.lower()] = item
                try:
                    self.run_block(stmt.body)
                except _Break:
                    break
                except _Continue:
                    continue
            return
        if isinstance(stmt, ast.Try):
            try:
                self.run_block(stmt.body)
            except Terminating as t:
                self.variables["_"] = t.record
                self.run_block(stmt.catch_body)
            finally:
                if stmt.finally_body is not None:
                    self.run_block(stmt.finally_body)
            return
        if isinstance(stmt, ast.Flow):
            if stmt.kind == "break":
                raise _Break()
            if stmt.kind == "continue":
                raise _Continue()
            code = 0 if stmt.value is None else int(to_number(self.value(stmt.value)))
            raise _Exit(code)
        if isinstance(stmt, ast.Assign):
            value = self.value(stmt.value)
            if stmt.op == "+=":
                value = add(self.get_var(stmt.target), value)
            self.set_var(stmt.target, value)
            self.last_ok = True
            return
        self.last_ok = True
        out = self.pipeline_output(stmt)
        text = format_output(out)
        if text:
            self.write_out(text)

    # -- pipelines ---------------------------------------------------------------------------
    def pipeline_output(self, node: ast.Node) -> list[Any]:
        from standin.pscmdlets import (
            invoke,  # cmdlets need the session; imported late to avoid a cycle
        )

        elements = node.elements if isinstance(node, ast.Pipeline) else [node]
        data: list[Any] | None = None
        for el in elements:
            if isinstance(el, ast.Command):
                data = invoke(self, el, data)
            else:
                if data is not None:
                    raise Terminating(
                        self.record(
                            "Expressions are only allowed as the first element of a pipeline.",
                            el,
                            "ParserError: (:) [], ParentContainsErrorRecordException",
                            "ExpressionsMustBeFirstInPipeline",
                            invocation="",
                        )
                    )
                data = as_list(self.eval(el), unroll=True)
        return data or []

    def value(self, node: ast.Node) -> Any:
        """A pipeline or expression's value: one object, a list, or None."""
        if isinstance(node, (ast.Command, ast.Pipeline)):
            out = self.pipeline_output(node)
            return None if not out else out[0] if len(out) == 1 else out
        return self.eval(node)

    # -- expressions -------------------------------------------------------------------------
    def eval(self, node: ast.Node) -> Any:
        if isinstance(node, ast.Str):
            return self.expand(node.value) if node.expand else node.value
        if isinstance(node, ast.Num):
            return node.value
        if isinstance(node, ast.Var):
            return self.get_var(node.name)
        if isinstance(node, ast.Member):
            return member(self.eval(node.target), node.name)
        if isinstance(node, ast.Index):
            target, idx = self.eval(node.target), self.eval(node.index)
            items = as_list(target)
            try:
                return items[int(to_number(idx))]
            except (IndexError, ValueError):
                return None
        if isinstance(node, ast.Unary):
            v = self.eval(node.operand)
            return (not truthy(v)) if node.op == "-not" else -to_number(v)
        if isinstance(node, ast.Binary):
            return self.binary(node)
        if isinstance(node, ast.ArrayLit):
            return [self.eval(i) for i in node.items]
        if isinstance(node, ast.HashLit):
            return {k: self.eval(v) for k, v in node.pairs}
        if isinstance(node, ast.SubExpr):
            out: list[Any] = []
            for stmt in node.body:
                if isinstance(stmt, (ast.Command, ast.Pipeline)) or not isinstance(
                    stmt, (ast.If, ast.While, ast.ForEach, ast.Try, ast.Flow, ast.Assign)
                ):
                    out.extend(self.pipeline_output(stmt))
                else:
                    self.run_statement(stmt)
            return None if not out else out[0] if len(out) == 1 else out
        if isinstance(node, (ast.Command, ast.Pipeline)):
            return self.value(node)
        raise Terminating(
            self.record(
                f"The stand-in cannot evaluate {type(node).__name__}.",
                node,
                "NotImplemented: (:) [], RuntimeException",
                "StandinUnsupportedExpression",
                invocation="",
            )
        )

    def binary(self, node: ast.Binary) -> Any:
        if node.op == "-and":
            return truthy(self.eval(node.left)) and truthy(self.eval(node.right))
        if node.op == "-or":
            return truthy(self.eval(node.left)) or truthy(self.eval(node.right))
        left, right = self.eval(node.left), self.eval(node.right)
        if node.op == "+":
            return add(left, right)
        if node.op == "-":
            return to_number(left) - to_number(right)
        return compare(node.op, left, right)

    def expand(self, text: str) -> str:
        """Expandable string: `$var`, `$env:X`, `$($expr)`, `$x.Prop` in "..." only via $()."""
        out: list[str] = []
        i = 0
        escapes = {"n": "\n", "r": "\r", "t": "\t", "0": "\0", "`": "`", '"': '"', "$": "$"}
        while i < len(text):
            c = text[i]
            if c == "`" and i + 1 < len(text):
                out.append(escapes.get(text[i + 1], text[i + 1]))
                i += 2
            elif c == "$" and text[i + 1 : i + 2] == "(":
                depth, j = 1, i + 2
                while j < len(text) and depth:
                    depth += {"(": 1, ")": -1}.get(text[j], 0)
                    j += 1
                inner = ast.Parser(text[i + 2 : j - 1]).parse_statements(closing="")
                out.append(scalar(self.eval(ast.SubExpr(inner))))
                i = j
            elif c == "$" and i + 1 < len(text) and (text[i + 1].isalpha() or text[i + 1] in "_{"):
                m = re.match(
                    r"\$(\{[^}]+\}|(?:env:|global:|script:)?[A-Za-z_][A-Za-z0-9_]*)", text[i:]
                )
                assert m is not None
                name = m.group(1).strip("{}")
                out.append(scalar(self.get_var(name)))
                i += m.end()
            else:
                out.append(c)
                i += 1
        return "".join(out)

    # -- variables ---------------------------------------------------------------------------
    def get_var(self, name: str) -> Any:
        low = name.lower()
        for scope in ("global:", "script:", "local:"):
            if low.startswith(scope):
                low = low[len(scope) :]
        if low.startswith("env:"):
            key = low[4:]
            if key in self.process_env:
                return self.process_env[key]
            return next((v for k, v in self.machine.env().items() if k.lower() == key), None)
        if low in ("true", "false", "null"):
            return {"true": True, "false": False, "null": None}[low]
        if low == "?":
            return self.last_ok
        return self.variables.get(low)

    def set_var(self, name: str, value: Any) -> None:
        low = name.lower()
        for scope in ("global:", "script:", "local:", "variable:"):
            if low.startswith(scope):
                low = low[len(scope) :]
        if low.startswith("env:"):
            # The process environment: this session reads it back; other commands never see it.
            self.process_env[low[4:]] = None if value is None else str(value)
            return
        self.variables[low] = value

    # -- errors ------------------------------------------------------------------------------
    def record(
        self,
        message: str,
        node: ast.Node,
        category: str,
        error_id: str,
        invocation: str | None = None,
        extent: int | None = None,
    ) -> ErrorRecord:
        line, col, text = ast.line_of(self.script, node.pos)
        end = getattr(node, "end", 0) or (node.pos + len(text) - col + 1)
        if invocation is None:
            invocation = (
                node.name if isinstance(node, ast.Command) and isinstance(node.name, str) else ""
            )
        return ErrorRecord(
            message,
            invocation,
            line,
            col,
            text.rstrip(),
            extent or max(1, min(end, node.pos + len(text) - col + 1) - node.pos),
            category,
            error_id,
        )

    def parse_record(self, exc: ast.ParseFailure) -> ErrorRecord:
        line, col, text = ast.line_of(self.script, exc.pos)
        return ErrorRecord(
            exc.message,
            "",
            line,
            col,
            text,
            1,
            "ParserError: (:) [], ParentContainsErrorRecordException",
            exc.error_id,
        )

    def error(self, record: ErrorRecord) -> None:
        self.write_err("Error", record.text())

    def report(self, record: ErrorRecord, action: str | None = None) -> None:
        """A non-terminating error, unless the error action makes it terminating."""
        self.last_ok = False
        action = action or self.variables.get("erroractionpreference") or "Continue"
        action = str(action).lower()
        if action == "stop":
            raise Terminating(record)
        if action not in ("silentlycontinue", "ignore"):
            self.error(record)

    def check_cancel(self) -> None:
        if self.cancel.is_set() or not self.machine.is_up():
            raise Cancelled()

    def sleep(self, seconds: float) -> None:
        if self.cancel.wait(self.machine.settings.guest_seconds(seconds)):
            raise Cancelled()


# -- value semantics ---------------------------------------------------------------------------
def as_list(value: Any, unroll: bool = False) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, list):
        return list(value)
    return [value]


def truthy(value: Any) -> bool:
    if isinstance(value, list):
        return len(value) > 1 or (len(value) == 1 and truthy(value[0]))
    if isinstance(value, str):
        return value != ""
    if isinstance(value, PSObject):
        return True
    return bool(value)


def to_number(value: Any) -> float | int:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, (int, float)):
        return value
    try:
        return int(str(value).strip())
    except ValueError:
        return float(str(value).strip())


def add(left: Any, right: Any) -> Any:
    if isinstance(left, list):
        return left + as_list(right)
    if isinstance(left, str):
        return left + scalar(right)
    return to_number(left) + to_number(right)


def member(value: Any, name: str) -> Any:
    if isinstance(value, list):
        if name.lower() in ("count", "length"):
            return len(value)
        found = [member(v, name) for v in value]
        return found[0] if len(found) == 1 else found
    if isinstance(value, PSObject):
        return value.get(name)
    if isinstance(value, dict):
        return next((v for k, v in value.items() if k.lower() == name.lower()), None)
    if isinstance(value, str) and name.lower() == "length":
        return len(value)
    if isinstance(value, ErrorRecord) and name.lower() in ("exception", "message"):
        return value.message
    return None


def compare(op: str, left: Any, right: Any) -> Any:
    if isinstance(left, list) and op not in ("-contains", "-notcontains"):
        return [v for v in left if compare(op, v, right)]
    if op in ("-contains", "-notcontains"):
        found = any(compare("-eq", v, right) for v in as_list(left))
        return found if op == "-contains" else not found
    if op in ("-in", "-notin"):
        found = any(compare("-eq", left, v) for v in as_list(right))
        return found if op == "-in" else not found
    if op in ("-like", "-notlike"):
        hit = fnmatch.fnmatchcase(scalar(left).lower(), scalar(right).lower())
        return hit if op == "-like" else not hit
    if op in ("-match", "-notmatch"):
        hit = re.search(scalar(right), scalar(left), re.IGNORECASE) is not None
        return hit if op == "-match" else not hit
    case_sensitive = op.startswith("-c")
    op = op.replace("-c", "-", 1) if case_sensitive else op
    if isinstance(left, (int, float)) and not isinstance(left, bool):
        try:
            right = to_number(right)
        except ValueError:
            return op == "-ne"
    elif isinstance(left, bool):
        right = truthy(right)
    else:
        left = scalar(left) if case_sensitive else scalar(left).lower()
        right = scalar(right) if case_sensitive else scalar(right).lower()
    ops: dict[str, Callable[[Any, Any], bool]] = {
        "-eq": lambda a, b: a == b,
        "-ne": lambda a, b: a != b,
        "-gt": lambda a, b: a > b,
        "-ge": lambda a, b: a >= b,
        "-lt": lambda a, b: a < b,
        "-le": lambda a, b: a <= b,
    }
    return ops[op](left, right)
