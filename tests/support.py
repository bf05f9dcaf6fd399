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


def eventually(probe: Callable[[], T | None], timeout: float = 300.0, interval: float = 0.05) -> T:
    """Polls until `probe` returns something truthy; fails with the last value after `timeout`.

    Only for what settling cannot reach: a process starting, or a moment inside a fault window (the
    system retries while SES is down, so it never settles). Everything else settles, then asserts.
    The timeout is a bound for a hung test, far above any machine's speed, never a guess at it.
    """
    deadline = time.monotonic() + timeout
    value = probe()
    while not value and time.monotonic() < deadline:
        time.sleep(interval)
        value = probe()
    assert value, f"condition not met within {timeout}s (last value: {value!r})"
    return value


def chromium(url: str, out_dir: Path) -> tuple[str, Path]:
    """Loads `url` in headless Chromium: the rendered DOM and a screenshot of it."""
    import shutil
    import subprocess

    binary = shutil.which("chromium") or shutil.which("chromium-browser")
    assert binary, "headless Chromium is missing: `make test` installs Debian's chromium package"
    flags = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={out_dir / 'profile'}",
        "--window-size=1000,1400",
    ]
    dom = subprocess.run(
        [binary, *flags, "--dump-dom", url], capture_output=True, text=True, timeout=60, check=True
    ).stdout
    shot = out_dir / "page.png"
    subprocess.run([binary, *flags, f"--screenshot={shot}", url], capture_output=True, timeout=60, check=True)
    return dom, shot


def non_white_fraction(png: Path) -> float:
    from PIL import Image

    with Image.open(png) as image:
        grey = image.convert("L")
        pixels = list(grey.getdata())
    return sum(1 for p in pixels if p < 235) / len(pixels)


def stripe_signature(body: bytes, secret: str = "whsec_local", at: int | None = None) -> str:
    """A `Stripe-Signature` header as Stripe computes it (t=…,v1=HMAC-SHA256 of "t.body")."""
    import hashlib
    import hmac

    timestamp = str(int(time.time()) if at is None else at)
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def generic_signature_headers(
    body: bytes, secret: str = "local-webhook-secret", at: int | None = None
) -> dict[str, str]:
    import hashlib
    import hmac

    timestamp = str(int(time.time()) if at is None else at)
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return {"X-Webhook-Timestamp": timestamp, "X-Webhook-Signature": f"v1={digest}"}
