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
        self._lock = threading.Lock()

    def allow(self, key: str) -> bool:
        """Count one event for `key`; False (and not counted) when it would exceed the limit."""
        if self.limit <= 0:
            return True
        now = self.clock()
        with self._lock:
            events = self._events[key]
            while events and events[0] <= now - self.window:
                events.popleft()
            if len(events) >= self.limit:
                return False
            events.append(now)
            return True


def questions_message(limit: int) -> str:
    return (
        f"You have asked {limit} questions in the last minute, the most allowed; "
        "please wait a moment and ask again."
    )


def uploads_message(limit: int) -> str:
    return (
        f"You have added {limit} files in the last hour, the most allowed; please try again later."
    )
