"""Where each part of an HCL2 configuration was written, across all the files of a folder.

The JSON front end's SourceMap knows one file; a folder configuration has several, so this
one also remembers the file of every located path. Builders, provisioners and validation
report through it unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ...errors import Caveat, Problem
from ..jsonsource import JsonPath, SourceMap, format_path
from .parse import Location


@dataclass
class HclSourceMap(SourceMap):
    files: dict[JsonPath, str] = field(default_factory=dict)

    def locate(self, path: JsonPath, where: Location) -> None:
        self.lines[path] = where.line
        self.files[path] = where.file.label

    def _anchor(self, path: JsonPath) -> JsonPath | None:
        while True:
            if path in self.lines:
                return path
            if not path:
                return None
            path = path[:-1]

    def problem(self, path: JsonPath, message: str) -> Problem:
        anchor = self._anchor(path)
        warning = isinstance(message, Caveat)
        if anchor is None:
            return Problem(self.file, None, format_path(path), message, warning)
        file = self.files.get(anchor, self.file)
        return Problem(file, self.lines[anchor], format_path(path), message, warning)
