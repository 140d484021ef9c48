"""The request log tests assert on: what was asked, of which service, with what answer.

Only method, path, query (minus nothing secret: secrets travel in bodies and headers, which are
never kept), status and time are recorded.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass


@dataclass(frozen=True)
class LogEntry:
    time: float
    service: str  # "aad", "arm", "winrm", "http"
    host: str
    method: str
    path: str
    query: str
    status: int

    def __str__(self) -> str:
        return f"{self.service} {self.method} {self.path} -> {self.status}"


class RequestLog:
    def __init__(self) -> None:
        self._entries: list[LogEntry] = []
        self._lock = threading.Lock()

    def record(
        self, service: str, host: str, method: str, path: str, query: str, status: int
    ) -> None:
        entry = LogEntry(time.time(), service, host, method, path, query, status)
        with self._lock:
            self._entries.append(entry)

    def entries(self) -> list[LogEntry]:
        with self._lock:
            return list(self._entries)

    def find(
        self,
        method: str | None = None,
        path_contains: str | None = None,
        status: int | None = None,
        service: str | None = None,
    ) -> list[LogEntry]:
        """Entries matching all given criteria; `path_contains` is case-insensitive."""
        needle = path_contains.lower() if path_contains else None
        return [
            e
            for e in self.entries()
            if (method is None or e.method == method.upper())
            and (needle is None or needle in e.path.lower())
            and (status is None or e.status == status)
            and (service is None or e.service == service)
        ]

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)
