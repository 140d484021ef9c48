"""Keep replays offline: any socket connection attempted while replaying fails at once."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from ..errors import ImagebuildError


class NetworkBlocked(ImagebuildError):
    pass


def _address(args: tuple[Any, ...]) -> str:
    address = args[0] if args else "?"
    if isinstance(address, tuple) and len(address) >= 2:
        return f"{address[0]}:{address[1]}"
    return str(address)


@contextmanager
def network_blocked(reason: str) -> Iterator[None]:
    """Refuse TCP/UDP connections (Unix sockets still work) for the duration."""
    original_connect = socket.socket.connect
    original_connect_ex = socket.socket.connect_ex

    def refuse(sock: socket.socket, *args: Any) -> Any:
        if sock.family == getattr(socket, "AF_UNIX", None):
            return original_connect(sock, *args)
        raise NetworkBlocked(f"network access to {_address(args)} is blocked: {reason}")

    def refuse_ex(sock: socket.socket, *args: Any) -> Any:
        if sock.family == getattr(socket, "AF_UNIX", None):
            return original_connect_ex(sock, *args)
        raise NetworkBlocked(f"network access to {_address(args)} is blocked: {reason}")

    socket.socket.connect = refuse  # type: ignore[method-assign]
    socket.socket.connect_ex = refuse_ex  # type: ignore[method-assign]
    try:
        yield
    finally:
        socket.socket.connect = original_connect  # type: ignore[method-assign]
        socket.socket.connect_ex = original_connect_ex  # type: ignore[method-assign]
