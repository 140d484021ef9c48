"""A simulated machine's lock that tells the world about changes only once it is released.

A change inside a Windows guest (a file written, a feature installed, a listener created)
makes the stand-in re-sync every VM's network ports, which takes the stand-in's store lock and
then each machine's lock in turn. Notified while the changing thread still held its own
machine's lock, two guests changing at once deadlocked: each held its machine and waited for
the other's (seen with four parallel builds). Here a change made under the lock is reported
when the outermost ``with`` exits, still before the call that made it returns.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any


class MachineLock:
    """Reentrant lock; `notify` runs after the outermost release when `changed` was called."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._local = threading.local()

    def __enter__(self) -> MachineLock:
        self._lock.acquire()
        self._local.depth = getattr(self._local, "depth", 0) + 1
        return self

    def __exit__(self, *exc: Any) -> None:
        self._local.depth -= 1
        outermost = self._local.depth == 0
        pending: Callable[[], None] | None = None
        if outermost:
            pending, self._local.pending = getattr(self._local, "pending", None), None
        self._lock.release()
        if pending is not None:
            pending()

    def held(self) -> bool:
        return getattr(self._local, "depth", 0) > 0

    def notify(self, callback: Callable[[], None]) -> None:
        """Call `callback` now, or when this thread releases the lock if it holds it."""
        if self.held():
            self._local.pending = callback
        else:
            callback()
