"""A TLS-capable threading HTTP server that can be stopped without waiting on idle clients.

The standard `ThreadingHTTPServer` does the TLS handshake in the accept loop when its socket is
wrapped, and `server_close()` waits for keep-alive connections that a client never closes. Both
would make stopping a stand-in hang, so handshakes happen in the connection's thread and every
open connection is shut down on `stop()`.
"""

from __future__ import annotations

import contextlib
import socket
import ssl
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class StoppableServer(ThreadingHTTPServer):
    daemon_threads = False  # non-daemon threads are the ones server_close() joins
    block_on_close = True
    allow_reuse_address = True

    def __init__(
        self,
        address: tuple[str, int],
        handler: type[BaseHTTPRequestHandler],
        ssl_context: ssl.SSLContext | None = None,
        context: Any = None,
    ) -> None:
        self.ssl_context = ssl_context
        self.context = context  # what handlers serve (the stand-in, a fake host, ...)
        self._connections: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self.hang = False  # fake hosts: accept and never answer (a dropping firewall)
        self.hang_release = threading.Event()
        self.cert_hash: bytes | None = None  # for NTLM channel binding
        self.closing = threading.Event()  # long polls give up when the port goes away
        super().__init__(address, handler)

    def finish_request(self, request: socket.socket, client_address: Any) -> None:
        conn: socket.socket = request
        with self._lock:
            self._connections.add(conn)
        try:
            if self.ssl_context is not None:
                request.settimeout(10)
                wrapped = self.ssl_context.wrap_socket(request, server_side=True)
                with self._lock:  # wrapping moved the descriptor to the TLS socket
                    self._connections.discard(conn)
                    conn = wrapped
                    self._connections.add(conn)
                conn.settimeout(None)
            if self.closing.is_set():
                return
            self.RequestHandlerClass(conn, client_address, self)
        except (OSError, ssl.SSLError):
            pass  # client went away or spoke no TLS; a real server just drops it too
        finally:
            with self._lock:
                self._connections.discard(conn)

    def handle_error(self, request: Any, client_address: Any) -> None:  # pragma: no cover
        pass  # broken pipes from clients that hung up are not errors of the stand-in

    def start(self) -> None:
        self._thread = threading.Thread(
            target=self.serve_forever,
            kwargs={"poll_interval": 0.1},
            daemon=True,
            name=f"standin-{self.server_address[0]}:{self.server_address[1]}",
        )
        self._thread.start()

    def stop(self) -> None:
        self.closing.set()
        self.hang_release.set()
        if self._thread is not None:
            self.shutdown()
            self._thread.join(5)
        with self._lock:
            conns = list(self._connections)
        for conn in conns:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        self.server_close()  # joins the connection threads (block_on_close)

    @property
    def port(self) -> int:
        return int(self.server_address[1])
