"""Reading `.pkr.hcl` files into bodies of attributes and blocks that remember file and line.

python-hcl2 does the parsing (its raw Lark tree keeps line, column and offsets for every
node); this module only reshapes the tree into the few things Packer's language has:
attributes (``name = expression``) and blocks (``type "label" { body }``). Expressions stay
Lark trees: evaluate.py computes them once variables and locals are known.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from lark import Token, Tree
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken

from ...bounded_read import InputFileError, read_text_bounded
from ...errors import Problem

HCL2_SUFFIXES = (".pkr.hcl",)
JSON_SYNTAX_SUFFIXES = (".pkr.json",)
VAR_FILE_SUFFIX = ".pkrvars.hcl"
AUTO_VAR_FILE_SUFFIX = ".auto.pkrvars.hcl"


@dataclass(frozen=True)
class SourceFile:
    """One parsed file: its path as shown in messages and its text (for expression excerpts)."""

    label: str
    text: str

    def excerpt(self, node: Tree | Token) -> str:
        """The expression as written, on one line."""
        start, end = _span(node)
        if start is None or end is None:
            return ""
        return " ".join(self.text[start:end].split())


@dataclass(frozen=True)
class Location:
    file: SourceFile
    line: int
    column: int

    def problem(self, message: str, path: str = "") -> Problem:
        return Problem(self.file.label, self.line, path, message)


@dataclass
class Attribute:
    name: str
    expr: Tree | Token
    where: Location


@dataclass
class Block:
    type: str
    labels: list[str]
    body: Body
    where: Location


@dataclass
class Body:
    attributes: dict[str, Attribute] = field(default_factory=dict)
    blocks: list[Block] = field(default_factory=list)
    where: Location | None = None

    def blocks_of(self, kind: str) -> list[Block]:
        return [block for block in self.blocks if block.type == kind]


def _span(node: Tree | Token) -> tuple[int | None, int | None]:
    if isinstance(node, Token):
        return node.start_pos, node.end_pos
    meta = node.meta
    if getattr(meta, "empty", True):
        return None, None
    return meta.start_pos, meta.end_pos


def location(file: SourceFile, node: Tree | Token) -> Location:
    if isinstance(node, Token):
        return Location(file, node.line or 0, node.column or 0)
    meta = node.meta
    if getattr(meta, "empty", True):
        return Location(file, 0, 0)
    return Location(file, meta.line, meta.column)


def children(node: Tree) -> list[Tree | Token]:
    """Meaningful children: no newlines or comments."""
    return [
        child
        for child in node.children
        if not (isinstance(child, Tree) and child.data == "new_line_or_comment")
    ]


def name_of(node: Tree | Token) -> str:
    """The text of an identifier, keyword or literal used as a name."""
    if isinstance(node, Token):
        return str(node)
    if node.data in ("identifier", "keyword", "literal_value"):
        return str(node.children[0])
    if node.data == "expr_term" and len(node.children) == 1:
        return name_of(node.children[0])
    raise ValueError(node.data)


def _label(node: Tree | Token) -> str:
    if isinstance(node, Tree) and node.data == "string":
        parts = [child for child in node.children if isinstance(child, Tree)]
        text = ""
        for part in parts:
            inner = part.children[0]
            if isinstance(inner, Token):
                text += str(inner)
        return text
    return name_of(node)


# Blocks inside blocks: Packer's schema goes four deep; far beyond, Python's stack gives out.
MAX_BLOCK_DEPTH = 100


def _body(file: SourceFile, tree: Tree, problems: list[Problem], depth: int = 0) -> Body:
    body = Body(where=location(file, tree))
    if depth > MAX_BLOCK_DEPTH:
        problems.append(body.where.problem(f"blocks are nested more than {MAX_BLOCK_DEPTH} deep"))
        return body
    for child in children(tree):
        if not isinstance(child, Tree):
            continue
        if child.data == "attribute":
            name_node, _, expr = children(child)
            name = name_of(name_node)
            where = location(file, child)
            if name in body.attributes:
                first = body.attributes[name].where
                problems.append(
                    where.problem(
                        f'Attribute redefined: the argument "{name}" was already set at '
                        f"{first.file.label}:{first.line}; each argument may be set only once"
                    )
                )
                continue
            body.attributes[name] = Attribute(name, expr, where)
        elif child.data == "block":
            parts = children(child)
            brace = next(
                i for i, part in enumerate(parts) if isinstance(part, Token) and part == "{"
            )
            kind = name_of(parts[0])
            labels = [_label(part) for part in parts[1:brace]]
            inner = parts[brace + 1]
            block_body = (
                _body(file, inner, problems, depth + 1)
                if isinstance(inner, Tree) and inner.data == "body"
                else Body(where=location(file, child))
            )
            body.blocks.append(Block(kind, labels, block_body, location(file, child)))
    return body


def _syntax_problem(file: SourceFile, error: UnexpectedInput) -> Problem:
    line = getattr(error, "line", None) or file.text.count("\n") + 1
    column = getattr(error, "column", None) or 1
    if isinstance(error, UnexpectedToken):
        found = str(error.token).strip() or "end of line"
        what = f"unexpected {found!r}"
        if error.token.type == "$END":
            what = "unexpected end of file"
    elif isinstance(error, UnexpectedCharacters):
        what = f"unexpected character {error.char!r}"
    elif isinstance(error, UnexpectedEOF):
        what = "unexpected end of file"
    else:
        what = "invalid syntax"
    lines = file.text.splitlines()
    shown = lines[line - 1].expandtabs(1) if 0 < line <= len(lines) else ""
    caret = " " * (column - 1) + "^"
    return Problem(
        file.label,
        line,
        "",
        f"Invalid HCL syntax at line {line}, column {column}: {what} "
        f"(an argument is written name = value, a block type \"label\" {{ ... }}):\n"
        f"      {shown}\n      {caret}",
    )


def parse_text(text: str, label: str) -> tuple[Body | None, SourceFile, list[Problem]]:
    """Parse HCL text; syntax errors come back as one Problem with line, column and a caret."""
    from hcl2.api import parses_to_tree

    file = SourceFile(label, text.lstrip("\ufeff"))
    try:
        tree = parses_to_tree(file.text)
    except UnexpectedInput as error:
        return None, file, [_syntax_problem(file, error)]
    problems: list[Problem] = []
    return _body(file, tree.children[0], problems), file, problems


def parse_file(path: Path, label: str | None = None) -> tuple[Body | None, list[Problem]]:
    label = label or str(path)
    try:
        text = read_text_bounded(path)
    except InputFileError as error:
        return None, [Problem(label, None, "", f"cannot read file: {error.reason}")]
    except UnicodeDecodeError as error:
        return None, [Problem(label, None, "", f"file is not UTF-8 text: {error.reason}")]
    body, _, problems = parse_text(text, label)
    return body, problems


def parse_expression(text: str, label: str, line: int) -> Tree | Token:
    """One expression from a heredoc or var value, positioned as if it started at line."""
    from hcl2.api import parses_to_tree

    tree = parses_to_tree("\n" * (line - 1) + f"__expr__ = {text}")
    attribute = next(c for c in children(tree.children[0]) if isinstance(c, Tree))
    return children(attribute)[2]


def is_hcl2_path(path: Path) -> bool:
    """A `.pkr.hcl` file or a folder (a folder's `*.pkr.hcl` files are one configuration)."""
    return path.is_dir() or path.name.endswith(HCL2_SUFFIXES + JSON_SYNTAX_SUFFIXES)


def configuration_files(path: Path) -> list[Path]:
    """The files Packer loads for a path: the file itself, or a folder's `*.pkr.hcl`."""
    if path.is_dir():
        return sorted(
            p
            for p in path.iterdir()
            if p.is_file() and p.name.endswith(HCL2_SUFFIXES + JSON_SYNTAX_SUFFIXES)
        )
    return [path]


def auto_var_files(path: Path) -> list[Path]:
    """`*.auto.pkrvars.hcl` beside the configuration, in lexical order (as Packer loads them)."""
    folder = path if path.is_dir() else path.parent
    return sorted(p for p in folder.glob(f"*{AUTO_VAR_FILE_SUFFIX}") if p.is_file())


def is_configuration_folder(path: Path) -> bool:
    """A folder Packer would load as one configuration: it holds `*.pkr.hcl` files."""
    return path.is_dir() and any(configuration_files(path))


def source_types(path: Path) -> set[str]:
    """The builder types of a configuration's source blocks, read leniently (no evaluation)."""
    types: set[str] = set()
    for file in configuration_files(path):
        body, _ = parse_file(file)
        for block in body.blocks_of("source") if body else []:
            if block.labels:
                types.add(block.labels[0])
    return types
