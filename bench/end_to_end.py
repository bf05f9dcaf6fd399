"""End to end through the local runtime: orders posted over HTTP until each invoice email is sent.

`python -m local_runtime` is started as `make run` starts it (on free ports, its own state directory).
ORDERS orders, each for its own customer, are posted to `POST /orders` by CONCURRENCY clients at once;
one watcher polls `GET /_local/emails` and notes when each customer's invoice email first appears.
Latency per order: from just before its POST to that moment (the watcher polls every POLL_SECONDS, so
figures are at most that much late). Throughput: orders over the time from the first POST to the last
email. The clients post faster than the pipeline works, so the percentiles include the time an order
waits behind the burst; the fastest one is closest to an order's way through an idle pipeline.
Everything runs on this machine, one handler at a time as the runtime serialises them, so these are
laptop figures for the whole pipeline (authorizer, intake, numbering, PDF, email), not AWS's: reported,
no target.
"""

from __future__ import annotations

import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import requests

from bench.isolated import REPOSITORY, Row, smoke

ORDERS = 200
CONCURRENCY = 8
POLL_SECONDS = 0.5  # each poll serialises every email sent so far: not too often
API_KEY = "dev-storefront-key"


def _free_ports(count: int) -> list[int]:
    probes = [socket.socket() for _ in range(count)]
    try:
        for probe in probes:
            probe.bind(("127.0.0.1", 0))
        return [int(probe.getsockname()[1]) for probe in probes]
    finally:
        for probe in probes:
            probe.close()


@contextmanager
def running_runtime() -> Iterator[str]:
    """`python -m local_runtime` on free ports until the block ends; yields its base URL."""
    port, aws_port = _free_ports(2)
    with tempfile.TemporaryDirectory(prefix="bench-runtime-") as scratch:
        log_path = Path(scratch) / "runtime.log"
        with log_path.open("w") as log:
            command = ["-m", "local_runtime", "--port", str(port), "--state-dir", f"{scratch}/state"]
            process = subprocess.Popen(
                [sys.executable, *command],
                cwd=REPOSITORY,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=os.environ | {"PORT": str(port), "AWS_PORT": str(aws_port)},
            )
            base = f"http://127.0.0.1:{port}"
            try:
                _wait_until_healthy(base, process, log_path)
                yield base
            finally:
                process.terminate()
                try:
                    process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()


def _wait_until_healthy(base: str, process: subprocess.Popen[bytes], log_path: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the local runtime exited:\n{log_path.read_text()[-3000:]}")
        try:
            if requests.get(base + "/_local/health", timeout=1).status_code == 200:
                return
        except requests.ConnectionError:
            pass
        time.sleep(0.2)
    raise RuntimeError("the local runtime did not become healthy within 60 s")


def _order_body(number: int) -> dict[str, Any]:
    body: dict[str, Any] = json.loads((REPOSITORY / "events/http/create_order_body.json").read_text())
    body["external_id"] = f"BENCH-{number:05d}"
    body["customer"] = body["customer"] | {"email": f"bench-{number:05d}@example.de"}
    return body


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def measure() -> list[Row]:
    orders = 2 if smoke() else ORDERS
    posted_at: dict[str, float] = {}
    post_seconds: list[float] = []
    emailed_at: dict[str, float] = {}
    done = threading.Event()

    with running_runtime() as base:

        def watch() -> None:
            while not done.is_set():
                for email in requests.get(base + "/_local/emails", timeout=30).json():
                    for recipient in email["to"]:  # a new customer's first email is the invoice
                        if recipient in posted_at:
                            emailed_at.setdefault(recipient, time.perf_counter())
                if len(emailed_at) >= orders:
                    return
                done.wait(POLL_SECONDS)

        def post(number: int) -> None:
            body = _order_body(number)
            recipient = body["customer"]["email"]
            posted_at[recipient] = started = time.perf_counter()
            headers = {"x-api-key": API_KEY, "Idempotency-Key": body["external_id"]}
            response = requests.post(base + "/orders", json=body, headers=headers, timeout=60)
            post_seconds.append(time.perf_counter() - started)
            if response.status_code != 201:
                raise RuntimeError(f"POST /orders answered {response.status_code}: {response.text}")

        watcher = threading.Thread(target=watch, daemon=True)
        first_post = time.perf_counter()
        watcher.start()
        with ThreadPoolExecutor(CONCURRENCY) as clients:
            list(clients.map(post, range(orders)))
        watcher.join(timeout=300)
        done.set()
    if len(emailed_at) < orders:
        raise RuntimeError(f"only {len(emailed_at)} of {orders} invoice emails appeared within 300 s")

    latencies = [emailed_at[r] - posted_at[r] for r in posted_at]
    elapsed = max(emailed_at.values()) - first_post
    label = f"e2e local runtime, {orders} orders x{CONCURRENCY}"
    return [
        {"name": f"{label}: throughput to invoice email", "value": round(orders / elapsed, 1),
         "unit": "orders/s", "target": "report"},
        {"name": f"{label}: order to email p50", "value": round(statistics.median(latencies) * 1000),
         "unit": "ms", "target": "report"},
        {"name": f"{label}: order to email p95", "value": round(_percentile(latencies, 0.95) * 1000),
         "unit": "ms", "target": "report"},
        {"name": f"{label}: order to email, fastest", "value": round(min(latencies) * 1000),
         "unit": "ms", "target": "report"},
        {"name": f"{label}: POST /orders answer p50", "value": round(statistics.median(post_seconds) * 1000),
         "unit": "ms", "target": "report"},
    ]  # fmt: skip


def run() -> list[Row]:
    return measure()  # the runtime is a process of its own already
