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


def _chromium_command(out_dir: Path) -> list[str]:
    import shutil

    binary = shutil.which("chromium") or shutil.which("chromium-browser")
    assert binary, "headless Chromium is missing: `make test` installs Debian's chromium package"
    return [
        binary,
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


def chromium(url: str, out_dir: Path) -> tuple[str, Path]:
    """Loads `url` in headless Chromium: the rendered DOM and a screenshot of it."""
    import subprocess

    binary, *flags = _chromium_command(out_dir)
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


class BrowserPage:
    """One page of headless Chromium, driven over the DevTools protocol (aiohttp's websocket client):
    open a URL, run JavaScript in it (clicks, typing), read what it shows. Close it (a `with` block)."""

    def __init__(self, out_dir: Path) -> None:
        import asyncio
        import subprocess

        import requests

        profile = out_dir / "profile"
        self._process = subprocess.Popen(
            [*_chromium_command(out_dir), "--remote-debugging-port=0", "about:blank"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        active_port = profile / "DevToolsActivePort"  # Chromium writes the port it chose, once listening
        port = eventually(lambda: active_port.exists() and active_port.read_text().split("\n")[0], timeout=60)
        targets = requests.get(f"http://127.0.0.1:{port}/json/list", timeout=30).json()
        page = next(t for t in targets if t["type"] == "page")
        self._loop = asyncio.new_event_loop()
        self._ids = 0
        self._socket = self._loop.run_until_complete(self._connect(page["webSocketDebuggerUrl"]))

    async def _connect(self, url: str) -> Any:
        import aiohttp

        self._session = aiohttp.ClientSession()
        return await self._session.ws_connect(url, max_msg_size=0)

    def _call(self, method: str, **params: Any) -> Any:
        self._ids += 1
        call_id = self._ids

        async def call() -> Any:
            await self._socket.send_json({"id": call_id, "method": method, "params": params})
            while True:  # events arrive between the answers; the answer carries our id
                message = await self._socket.receive_json(timeout=60)
                if message.get("id") == call_id:
                    assert "error" not in message, message
                    return message["result"]

        return self._loop.run_until_complete(call())

    def open(self, url: str) -> None:
        self._call("Page.navigate", url=url)
        eventually(lambda: self.evaluate("document.readyState") == "complete", timeout=60)

    def evaluate(self, expression: str) -> Any:
        result = self._call("Runtime.evaluate", expression=expression, awaitPromise=True, returnByValue=True)
        assert "exceptionDetails" not in result, result
        return result["result"].get("value")

    def text(self, selector: str) -> str:
        return str(
            self.evaluate(f"(document.querySelector({json.dumps(selector)}) || {{}}).textContent || ''")
        )

    def close(self) -> None:
        async def disconnect() -> None:
            await self._socket.close()
            await self._session.close()

        self._loop.run_until_complete(disconnect())
        self._loop.close()
        self._process.terminate()
        self._process.wait(timeout=60)

    def __enter__(self) -> BrowserPage:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
