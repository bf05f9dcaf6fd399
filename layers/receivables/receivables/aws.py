"""AWS clients, created on first use and cached per process (never at import time).

Lazy creation keeps cold starts short and lets tests and the local runtime point every client at moto.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import boto3
from botocore.config import Config

_CONFIG = Config(retries={"mode": "standard", "max_attempts": 5}, connect_timeout=3, read_timeout=10)


@cache
def client(service: str) -> Any:
    return boto3.client(service, config=_CONFIG)  # type: ignore[call-overload]


def reset_clients() -> None:
    """Forgets cached clients, for tests that start a fresh emulated account."""
    client.cache_clear()
