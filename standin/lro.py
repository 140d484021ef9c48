"""Long-running operations: the Azure-AsyncOperation / Location polling that ARM clients do.

An operation finishes once it has been polled `polls` times and `delay` seconds have passed, as
set per kind in `Settings`. Azure finishes work whether or not anybody polls (a fire-and-forget
group delete still deletes the group), so a background ticker also completes operations nobody
polls, a little later. Completion runs the change the operation stands for (power state, deletes,
script output) under the store lock; a failure becomes `status: Failed` with an error body.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from standin.errors import ArmError


def iso_now() -> str:
    return dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f0+00:00")


@dataclass
class Operation:
    id: str
    kind: str
    provider: str  # "Microsoft.Network", "Microsoft.Compute", "Microsoft.Resources"
    location: str
    polls_needed: int
    not_before: float
    complete: Callable[[], Any]  # returns output for runCommand, raises ArmError to fail
    ready: Callable[[], bool] = lambda: True
    fail_with: ArmError | None = None
    polls: int = 0
    status: str = "InProgress"
    start_time: str = field(default_factory=iso_now)
    end_time: str | None = None
    error: dict[str, Any] | None = None
    output: Any = None
    created: float = field(default_factory=time.monotonic)
    disk: bool = False  # Microsoft.Compute disk operations use DiskOperations URLs

    @property
    def done(self) -> bool:
        return self.status != "InProgress"


class Operations:
    def __init__(self, lock: threading.RLock, unpolled_grace: Callable[[Operation], float]) -> None:
        self._ops: dict[str, Operation] = {}
        self._lock = lock
        self._grace = unpolled_grace
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._tick, daemon=True, name="standin-lro")
        self._thread.start()

    def start(
        self,
        kind: str,
        provider: str,
        location: str,
        polls: int,
        delay: float,
        complete: Callable[[], Any],
        ready: Callable[[], bool] | None = None,
        fail_with: ArmError | None = None,
        disk: bool = False,
    ) -> Operation:
        op = Operation(
            id=str(uuid.uuid4()),
            kind=kind,
            provider=provider,
            location=location,
            polls_needed=polls,
            not_before=time.monotonic() + delay,
            complete=complete,
            ready=ready or (lambda: True),
            fail_with=fail_with,
            disk=disk,
        )
        with self._lock:
            self._ops[op.id] = op
        return op

    def get(self, op_id: str) -> Operation | None:
        with self._lock:
            return self._ops.get(op_id.lower()) or self._ops.get(op_id)

    def poll(self, op: Operation) -> Operation:
        """One client poll: count it and finish the operation when its time has come."""
        with self._lock:
            if not op.done:
                op.polls += 1
                if op.polls >= op.polls_needed and time.monotonic() >= op.not_before:
                    self._finish(op)
        return op

    def _finish(self, op: Operation) -> None:
        if not op.ready():
            return
        try:
            if op.fail_with is not None:
                raise op.fail_with
            op.output = op.complete()
            op.status = "Succeeded"
        except ArmError as exc:
            op.status = "Failed"
            op.error = exc.error()
        op.end_time = iso_now()

    def _tick(self) -> None:
        while not self._stop.wait(0.1):
            now = time.monotonic()
            with self._lock:
                for op in list(self._ops.values()):
                    if not op.done and now >= max(op.not_before, op.created + self._grace(op)):
                        self._finish(op)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(2)
