"""Build stage lines from xdist workers to the controller's terminal, while the build runs.

An xdist worker has no terminal, and its reports reach the controller only when a test phase
ends: a 20-minute Azure build would stay silent until it finished. The controller listens on
a Unix socket in a private temporary folder and names it in each worker's ``workerinput``;
a worker sends each line as it happens (one JSON object per line) and the controller prints it
at once. A worker that cannot reach the socket keeps the lines for its next report instead.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import socket
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

WORKERINPUT_KEY = "imagebuild_progress_socket"
CONNECT_TIMEOUT = 5.0


class RelayServer:
    """On the controller: accepts workers and hands each line they send to ``show``."""

    def __init__(self, show: Callable[[str, str, str], None]) -> None:
        self.show = show
        self._folder = tempfile.mkdtemp(prefix="pib-progress-")  # 0700: only this user
        self.path = str(Path(self._folder, "relay.sock"))
        self._server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._server.bind(self.path)
        self._server.listen(64)
        self._closed = False
        threading.Thread(target=self._accept, name="imagebuild-progress", daemon=True).start()

    def _accept(self) -> None:
        while not self._closed:
            try:
                connection, _ = self._server.accept()
            except OSError:
                return  # closed
            threading.Thread(
                target=self._serve, args=(connection,), name="imagebuild-progress", daemon=True
            ).start()

    def _serve(self, connection: socket.socket) -> None:
        with connection, connection.makefile("r", encoding="utf-8", errors="replace") as lines:
            for raw in lines:
                try:
                    message = json.loads(raw)
                    worker, elapsed, line = message["worker"], message["elapsed"], message["line"]
                except (ValueError, KeyError, TypeError):
                    continue  # not ours: nothing else knows this socket, but never crash
                if not self._closed:
                    self.show(str(worker), str(elapsed), str(line))

    def close(self) -> None:
        self._closed = True
        with contextlib.suppress(OSError):
            self._server.close()
        shutil.rmtree(self._folder, ignore_errors=True)


class RelayClient:
    """In a worker: sends lines to the controller; ``send`` is False once that is impossible."""

    def __init__(self, path: str, worker: str) -> None:
        self.path, self.worker = path, worker
        self._socket: socket.socket | None = None
        self._broken = False
        self._lock = threading.Lock()

    def send(self, elapsed: str, line: str) -> bool:
        message = json.dumps({"worker": self.worker, "elapsed": elapsed, "line": line})
        with self._lock:
            if self._broken:
                return False
            try:
                if self._socket is None:
                    self._socket = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                    self._socket.settimeout(CONNECT_TIMEOUT)
                    self._socket.connect(self.path)
                self._socket.sendall(message.encode("utf-8") + b"\n")
                return True
            except OSError:
                self._broken = True
                self.close()
                return False

    def close(self) -> None:
        if self._socket is not None:
            with contextlib.suppress(OSError):
                self._socket.close()
            self._socket = None


def client_for(config: Any) -> RelayClient | None:
    """The worker's client when the controller offered a relay, else None."""
    workerinput = getattr(config, "workerinput", None) or {}
    path = workerinput.get(WORKERINPUT_KEY)
    if not path:
        return None
    return RelayClient(str(path), str(workerinput.get("workerid", "worker")))
