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


def _allowed_addresses(hosts: tuple[str, ...]) -> tuple[set[str], set[str]]:
    """(hosts allowed on any port, "address:port" pairs allowed), names resolved up front."""
    any_port: set[str] = set()
    pairs: set[str] = set()
    for entry in hosts:
        name, _, port = entry.strip().rpartition(":") if entry.count(":") == 1 else (entry, "", "")
        name = name.strip("[]")
        try:
            found = {info[4][0] for info in socket.getaddrinfo(name, None)}
        except OSError:
            found = set()
        for address in found | {name}:
            if port:
                pairs.add(f"{address}:{port}")
            else:
                any_port.add(address)
    return any_port, pairs


def _is_allowed(args: tuple[Any, ...], allowed: tuple[set[str], set[str]]) -> bool:
    address = args[0] if args else None
    if not (isinstance(address, tuple) and len(address) >= 2):
        return False
    any_port, pairs = allowed
    return str(address[0]) in any_port or f"{address[0]}:{address[1]}" in pairs


@contextmanager
def network_blocked(reason: str, allowed_hosts: tuple[str, ...] = ()) -> Iterator[None]:
    """Refuse TCP/UDP connections (Unix sockets, and the allowed hosts, still work) for the
    duration. ``allowed_hosts`` entries are ``host`` (any port) or ``host:port``."""
    original_connect = socket.socket.connect
    original_connect_ex = socket.socket.connect_ex
    allowed = _allowed_addresses(allowed_hosts)

    def refuse(sock: socket.socket, *args: Any) -> Any:
        if sock.family == getattr(socket, "AF_UNIX", None) or _is_allowed(args, allowed):
            return original_connect(sock, *args)
        raise NetworkBlocked(f"network access to {_address(args)} is blocked: {reason}")

    def refuse_ex(sock: socket.socket, *args: Any) -> Any:
        if sock.family == getattr(socket, "AF_UNIX", None) or _is_allowed(args, allowed):
            return original_connect_ex(sock, *args)
        raise NetworkBlocked(f"network access to {_address(args)} is blocked: {reason}")

    socket.socket.connect = refuse  # type: ignore[method-assign]
    socket.socket.connect_ex = refuse_ex  # type: ignore[method-assign]
    try:
        yield
    finally:
        socket.socket.connect = original_connect  # type: ignore[method-assign]
        socket.socket.connect_ex = original_connect_ex  # type: ignore[method-assign]
