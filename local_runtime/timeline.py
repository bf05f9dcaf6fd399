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
        self._busy: set[int] = set()  # waiters whose execution works meanwhile (a task's own timeout)
        self._ids = itertools.count()
        self._lock = threading.Lock()

    def sleep(
        self, seconds: float, interrupted: Callable[[], bool] = lambda: False, parks: bool = True
    ) -> bool:
        """Waits `seconds` of simulated time; False if `interrupted` became true first."""
        return self.wait_until(self.now() + timedelta(seconds=seconds), interrupted, parks)

    def wait_until(
        self, deadline: datetime, done: Callable[[], bool] = lambda: False, parks: bool = True
    ) -> bool:
        """Waits until simulated time reaches `deadline` (True) or `done()` holds (False).

        `parks=False`: the waiting thread's execution is busy meanwhile (a Task state waits on its
        timeout while another thread runs the task), so it does not count as parked.
        """
        waiter = next(self._ids)
        with self._lock:
            self._deadlines[waiter] = deadline
            if not parks:
                self._busy.add(waiter)
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
                self._busy.discard(waiter)

    def next_deadline(self, until: datetime) -> datetime | None:
        with self._lock:
            due = [d for d in self._deadlines.values() if d <= until]
        return min(due) if due else None

    def parked(self) -> int:
        """How many waiters are waiting for a moment still in the future."""
        now = self.now()
        with self._lock:
            return sum(1 for w, d in self._deadlines.items() if d > now and w not in self._busy)
