"""Helpers shared by the tests: sample events, and polling instead of sleeping."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

REPOSITORY = Path(__file__).resolve().parent.parent
T = TypeVar("T")


def load_event(name: str) -> Any:
    """A sample event from events/, the same file `sam local invoke -e` uses."""
    return json.loads((REPOSITORY / "events" / name).read_text())


def eventually(probe: Callable[[], T | None], timeout: float = 10.0, interval: float = 0.05) -> T:
    """Polls until `probe` returns something truthy; fails with the last value after `timeout`."""
    deadline = time.monotonic() + timeout
    value = probe()
    while not value and time.monotonic() < deadline:
        time.sleep(interval)
        value = probe()
    assert value, f"condition not met within {timeout}s (last value: {value!r})"
    return value
