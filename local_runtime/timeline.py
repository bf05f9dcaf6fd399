"""Waiting on the simulated clock.

Step Functions Wait states, task timeouts, task-token timeouts and retry intervals all wait here
instead of on the wall clock. Each waiter registers its deadline, so the runtime can move the clock
from one pending deadline to the next and let every execution take its next step in order.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable
from datetime import datetime, timedelta

_POLL_SECONDS = 0.02


class Timeline:
    def __init__(self, now: Callable[[], datetime]) -> None:
        self.now = now
        self._deadlines: dict[int, datetime] = {}
        self._ids = itertools.count()
        self._lock = threading.Lock()

    def sleep(self, seconds: float, interrupted: Callable[[], bool] = lambda: False) -> bool:
        """Waits `seconds` of simulated time; False if `interrupted` became true first."""
        return self.wait_until(self.now() + timedelta(seconds=seconds), interrupted)

    def wait_until(self, deadline: datetime, done: Callable[[], bool] = lambda: False) -> bool:
        """Waits until simulated time reaches `deadline` (True) or `done()` holds (False)."""
        waiter = next(self._ids)
        with self._lock:
            self._deadlines[waiter] = deadline
        try:
            while True:
                if done():
                    return False
                if self.now() >= deadline:
                    return True
                threading.Event().wait(_POLL_SECONDS)
        finally:
            with self._lock:
                del self._deadlines[waiter]

    def next_deadline(self, until: datetime) -> datetime | None:
        with self._lock:
            due = [d for d in self._deadlines.values() if d <= until]
        return min(due) if due else None

    def parked(self) -> int:
        """How many waiters are waiting for a moment still in the future."""
        now = self.now()
        with self._lock:
            return sum(1 for d in self._deadlines.values() if d > now)
