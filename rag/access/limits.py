"""Limits per visitor: at most N events in a sliding window, per user (or per address when
nobody signs in). In memory: a limit protects one running server."""

from __future__ import annotations

import threading
import time
from collections import defaultdict, deque


class RateLimit:
    """At most `limit` events per `window` seconds for each key; 0 means no limit."""

    def __init__(self, limit: int, window: float, clock=time.monotonic):
        self.limit, self.window, self.clock = limit, window, clock
        self._events: dict[str, deque] = defaultdict(deque)
        self._lock = threading.RLock()

    def allow(self, key: str) -> bool:
        """Count one event for `key`; False (and not counted) when it would exceed the limit."""
        with self._lock:
            if self.room(key) < 1:
                return False
            self.spend(key, 1)
            return True

    def room(self, key: str) -> int:
        """How many more events `key` may have now (a large number when there is no limit)."""
        if self.limit <= 0:
            return 1 << 30
        now = self.clock()
        with self._lock:
            events = self._events[key]
            while events and events[0] <= now - self.window:
                events.popleft()
            return self.limit - len(events)

    def spend(self, key: str, n: int) -> None:
        """Count `n` events done by `key` (what was done, after checking `room`)."""
        if self.limit > 0:
            with self._lock:
                self._events[key].extend([self.clock()] * n)


def questions_message(limit: int) -> str:
    return (
        f"You have asked {limit} questions in the last minute, the most allowed; "
        "please wait a moment and ask again."
    )


def uploads_message(limit: int) -> str:
    return (
        f"You have added {limit} files in the last hour, the most allowed; please try again later."
    )
