"""Variable type constraints (`type = list(string)`) and the conversions HCL applies to values."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from lark import Token, Tree

from .evaluate import to_string
from .parse import children, name_of

PRIMITIVES = ("string", "number", "bool", "any")
COLLECTIONS = ("list", "set", "map")


@dataclass(frozen=True)
class HclType:
    """string, number, bool, any; list/set/map of one type; object or tuple of several."""

    kind: str
    element: HclType | None = None
    attributes: dict[str, HclType] = field(default_factory=dict)
    items: tuple[HclType, ...] = ()

    def __str__(self) -> str:
        if self.kind in PRIMITIVES:
            return self.kind
        if self.kind in COLLECTIONS:
            return f"{self.kind}({self.element})"
        if self.kind == "object":
            inner = ", ".join(f"{k} = {v}" for k, v in self.attributes.items())
            return f"object({{{inner}}})"
        return f"tuple([{', '.join(str(item) for item in self.items)}])"

    @property
    def is_string(self) -> bool:
        return self.kind in ("string", "any")


ANY = HclType("any")


class TypeSyntaxError(Exception):
    pass


def _unwrap(node: Tree | Token) -> Tree | Token:
    while isinstance(node, Tree) and node.data == "expr_term" and len(children(node)) == 1:
        node = children(node)[0]
    return node


def parse_type(node: Tree | Token) -> HclType:
    """A type constraint from its expression; TypeSyntaxError says what is wrong."""
    node = _unwrap(node)
    if isinstance(node, Tree) and node.data == "identifier":
        name = name_of(node)
        if name in PRIMITIVES:
            return HclType(name)
        if name in COLLECTIONS:
            return HclType(name, ANY)
        raise TypeSyntaxError(
            f'"{name}" is not a type (use string, number, bool, any, list(...), set(...), '
            "map(...), object({...}) or tuple([...]))"
        )
    if isinstance(node, Tree) and node.data == "function_call":
        kids = children(node)
        name = name_of(kids[0])
        args_node = next((k for k in kids if isinstance(k, Tree) and k.data == "arguments"), None)
        args = [k for k in children(args_node) if isinstance(k, Tree)] if args_node else []
        if len(args) != 1:
            raise TypeSyntaxError(f"{name}() takes exactly one type argument")
        if name in COLLECTIONS:
            return HclType(name, parse_type(args[0]))
        inner = _unwrap(args[0])
        if name == "object" and isinstance(inner, Tree) and inner.data == "object":
            attributes = {}
            for elem in children(inner):
                if isinstance(elem, Tree) and elem.data == "object_elem":
                    key_node, _, value_node = children(elem)
                    attributes[name_of(_unwrap(children(key_node)[0]))] = parse_type(value_node)
            return HclType("object", attributes=attributes)
        if name == "tuple" and isinstance(inner, Tree) and inner.data == "tuple":
            items = tuple(parse_type(k) for k in children(inner) if isinstance(k, Tree))
            return HclType("tuple", items=items)
        raise TypeSyntaxError(f"{name}() is not a type constructor")
    raise TypeSyntaxError("a type constraint must be a type keyword or constructor")


class ConversionError(Exception):
    pass


def convert(value: Any, wanted: HclType) -> Any:
    """value converted to the type as HCL converts it; ConversionError says why not."""
    if value is None or wanted.kind == "any":
        return value
    if wanted.kind == "string":
        if isinstance(value, (list, dict)):
            raise ConversionError("string required")
        return to_string(value)
    if wanted.kind == "number":
        if isinstance(value, bool):
            raise ConversionError("number required")
        if isinstance(value, (int, float)):
            return value
        if isinstance(value, str):
            try:
                number = float(value)
            except ValueError:
                raise ConversionError(f'a number is required, got "{value}"') from None
            return int(number) if number.is_integer() else number
        raise ConversionError("number required")
    if wanted.kind == "bool":
        if isinstance(value, bool):
            return value
        if value in ("true", "false"):
            return value == "true"
        raise ConversionError("bool required")
    if wanted.kind in ("list", "set"):
        if not isinstance(value, list):
            raise ConversionError(f"{wanted.kind} of {wanted.element} required")
        items = [convert(item, wanted.element or ANY) for item in value]
        if wanted.kind == "set":
            unique: list[Any] = []
            for item in items:
                if item not in unique:
                    unique.append(item)
            return unique
        return items
    if wanted.kind == "map":
        if not isinstance(value, dict):
            raise ConversionError(f"map of {wanted.element} required")
        return {key: convert(item, wanted.element or ANY) for key, item in value.items()}
    if wanted.kind == "object":
        if not isinstance(value, dict):
            raise ConversionError("object required")
        missing = [name for name in wanted.attributes if name not in value]
        if missing:
            raise ConversionError(f'attribute "{missing[0]}" is required')
        return {name: convert(value[name], kind) for name, kind in wanted.attributes.items()}
    if wanted.kind == "tuple":
        if not isinstance(value, list) or len(value) != len(wanted.items):
            raise ConversionError(f"tuple of {len(wanted.items)} elements required")
        return [convert(item, kind) for item, kind in zip(value, wanted.items, strict=True)]
    raise ConversionError(f"unknown type {wanted}")
