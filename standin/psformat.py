"""How PowerShell 5.1 prints: default tables and lists, error records, and CLIXML on stderr.

A script run with `powershell -EncodedCommand` over WinRM has its stderr redirected, so its
error stream arrives as `#< CLIXML` with one `<S S="Error">` element per line; a runCommand
script's error text arrives as plain text.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from xml.sax.saxutils import escape


@dataclass
class PSObject:
    """A .NET object as scripts see it: a type name and ordered properties."""

    type_name: str
    props: dict[str, Any]
    view: str = "table"  # "table" or "list"
    columns: tuple[str, ...] = ()
    widths: tuple[int, ...] = ()
    preamble: str = ""
    right: tuple[str, ...] = ()  # right-aligned columns

    def get(self, name: str) -> Any:
        for k, v in self.props.items():
            if k.lower() == name.lower():
                return v
        return None

    def __str__(self) -> str:
        return f"@{{{'; '.join(f'{k}={v}' for k, v in self.props.items())}}}"


@dataclass
class ErrorRecord:
    message: str
    invocation: str  # what precedes " : " (command name, or the script line for Write-Error)
    line: int
    column: int
    line_text: str
    extent: int  # length of the ~~~ marker
    category: str
    error_id: str
    exception_type: str = "System.Management.Automation.RuntimeException"
    extra: dict[str, Any] = field(default_factory=dict)

    def text(self) -> str:
        head = f"{self.invocation} : {self.message}" if self.invocation else self.message
        marker = " " * (self.column - 1) + "~" * max(1, self.extent)
        return (
            f"{head}\r\nAt line:{self.line} char:{self.column}\r\n+ {self.line_text}\r\n"
            f"+ {marker}\r\n"
            f"    + CategoryInfo          : {self.category}\r\n"
            f"    + FullyQualifiedErrorId : {self.error_id}\r\n \r\n"
        )

    def __str__(self) -> str:
        return self.message


def scalar(value: Any) -> str:
    if value is True:
        return "True"
    if value is False:
        return "False"
    if value is None:
        return ""
    if isinstance(value, list):
        return " ".join(scalar(v) for v in value)
    return str(value)


def _table(objs: list[PSObject]) -> str:
    first = objs[0]
    cols = first.columns or tuple(first.props)
    widths = first.widths or tuple(
        max(len(c), *(len(scalar(o.get(c))) for o in objs)) for c in cols
    )

    def row(values: list[str]) -> str:
        cells = []
        for i, v in enumerate(values):
            w = widths[i] if i < len(widths) else len(v)
            if cols[i] in first.right:
                cells.append(v.rjust(w))
            elif i == len(values) - 1:
                cells.append(v if len(v) <= 44 or i == 0 else v[:41] + "...")
            else:
                cells.append(v[:w].ljust(w))
        return " ".join(cells).rstrip()

    lines = ["", first.preamble] if first.preamble else [""]
    if first.preamble:
        lines.append("")
    lines.append(row(list(cols)))
    lines.append(row(["-" * len(c) for c in cols]))
    for o in objs:
        lines.append(row([_cell(o, c) for c in cols]))
    return "\r\n".join(lines) + "\r\n\r\n\r\n"


def _cell(obj: PSObject, col: str) -> str:
    value = obj.get(col)
    if isinstance(value, list):
        joined = ", ".join(scalar(v) for v in value)
        return "{" + joined + "}" if len(joined) <= 40 else "{" + joined[:40] + "..."
    return scalar(value)


def _list(objs: list[PSObject]) -> str:
    out = [""]
    for o in objs:
        width = max(len(k) for k in o.props)
        out.extend(f"{k.ljust(width)} : {scalar(v)}" for k, v in o.props.items())
        out.append("")
    return "\r\n".join(out) + "\r\n\r\n"


def format_output(values: list[Any]) -> str:
    """Out-Default for one statement's output."""
    text: list[str] = []
    group: list[PSObject] = []

    def flush() -> None:
        if group:
            text.append(_table(group) if group[0].view == "table" else _list(group))
            group.clear()

    for v in values:
        if isinstance(v, PSObject):
            if group and group[0].type_name != v.type_name:
                flush()
            group.append(v)
            continue
        flush()
        if v is None:
            continue
        text.append(scalar(v) + "\r\n")
    flush()
    return "".join(text)


def clixml(streams: list[tuple[str, str]]) -> str:
    """Serialise (stream, text) pairs as PowerShell writes stderr when it is redirected."""
    parts = []
    for stream, text in streams:
        lines = text.replace("\r\n", "\n").split("\n")
        if lines and lines[-1] == "":
            lines.pop()
        for line in lines:
            encoded = escape(line).replace("\r", "_x000D_")
            parts.append(f'<S S="{stream}">{encoded}_x000D__x000A_</S>')
    return (
        '#< CLIXML\r\n<Objs Version="1.1.0.1" xmlns="http://schemas.microsoft.com/powershell/'
        '2004/04">' + "".join(parts) + "</Objs>"
    )
