"""End to end through the local runtime: orders posted over HTTP until each invoice email is sent.

`python -m local_runtime` is started as `make run` starts it (on free ports, its own state directory).
Three figures, in this order:

1. A single order on an otherwise idle runtime: SEQUENTIAL_ORDERS orders, one after the other, each for
   its own customer; each one's latency runs from just before its POST until its invoice email shows in
   `GET /_local/emails` (polled every SINGLE_POLL_SECONDS), and the next is posted only then. The first
   one also pays the runtime's first import of every handler on the way (reported apart); p50 over all.
   Target: p50 <= 1 s.
2. In the same runtime, ORDERS orders, each for its own customer, posted to `POST /orders` by CONCURRENCY
   clients at once; one watcher polls `GET /_local/emails` every POLL_SECONDS and notes when each
   customer's invoice email first appears (figures are at most that much late). Throughput: orders over
   the time from the first POST to the last email (target >= 10 orders/s). The clients post faster than
   the pipeline works, so the percentiles include the time an order waits behind the burst. The POST's
   own answer time through the local gateway (authorizer + intake handler): p50 and p99, no target.
3. A fresh runtime with CLOCK_INVOICES open invoices (orders by CONCURRENCY clients, then
   `POST /_local/settle`): the seconds one `POST /_local/clock {"advance_days": CLOCK_DAYS}` takes. It
   answers once every schedule and deadline on the way has run and the system has settled
   (LocalSystem.advance), so the figure is the whole catch-up. Target <= 10 s.

Everything runs on this machine, one handler at a time as the runtime serialises them, so these are
laptop figures for the local runtime a storefront developer runs, not AWS's.
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
SEQUENTIAL_ORDERS = 10
SINGLE_POLL_SECONDS = 0.02  # few emails exist yet, and a 0.5 s poll would hide a sub-second figure
CLOCK_INVOICES, CLOCK_DAYS = 50, 95
SEQUENTIAL_FIRST, CLOCK_FIRST = 10_000, 20_000  # customers apart from the burst's 0..ORDERS-1
SINGLE_TARGET_MS = 1000
BURST_TARGET_PER_SECOND = 10
CLOCK_TARGET_SECONDS = 10
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


def _post_order(base: str, number: int) -> tuple[str, float]:
    """Posts order `number` (its own customer); returns the customer's email and the POST's seconds."""
    body = _order_body(number)
    headers = {"x-api-key": API_KEY, "Idempotency-Key": body["external_id"]}
    started = time.perf_counter()
    response = requests.post(base + "/orders", json=body, headers=headers, timeout=60)
    seconds = time.perf_counter() - started
    if response.status_code != 201:
        raise RuntimeError(f"POST /orders answered {response.status_code}: {response.text}")
    return str(body["customer"]["email"]), seconds


def _recipients(base: str) -> set[str]:
    return {r for email in requests.get(base + "/_local/emails", timeout=30).json() for r in email["to"]}


def _sequential(base: str, orders: int) -> list[float]:
    """Each order alone on the idle runtime: seconds from just before its POST until its invoice email
    shows in GET /_local/emails (polled every SINGLE_POLL_SECONDS), before the next order is posted."""
    latencies = []
    for number in range(SEQUENTIAL_FIRST, SEQUENTIAL_FIRST + orders):
        started = time.perf_counter()
        recipient, _ = _post_order(base, number)
        deadline = started + 120
        while recipient not in _recipients(base):
            if time.perf_counter() > deadline:
                raise RuntimeError(f"no invoice email for {recipient} within 120 s")
            time.sleep(SINGLE_POLL_SECONDS)
        latencies.append(time.perf_counter() - started)
    return latencies


def _burst(base: str, orders: int) -> tuple[list[float], list[float], float]:
    """`orders` orders by CONCURRENCY clients at once: (order-to-email seconds, POST seconds, seconds from
    the first POST to the last email)."""
    posted_at: dict[str, float] = {}
    post_seconds: list[float] = []
    emailed_at: dict[str, float] = {}
    done = threading.Event()

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
        recipient = _order_body(number)["customer"]["email"]
        posted_at[recipient] = time.perf_counter()
        post_seconds.append(_post_order(base, number)[1])

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
    return latencies, post_seconds, max(emailed_at.values()) - first_post


def _clock_jump(invoices: int, days: int) -> float:
    """A fresh runtime with `invoices` open invoices (orders by CONCURRENCY clients, then settled): the
    seconds one POST /_local/clock {"advance_days": days} takes. It answers once the system has settled
    (LocalSystem.advance settles after the last due moment), so nothing is left running when it returns."""
    with running_runtime() as base:
        with ThreadPoolExecutor(CONCURRENCY) as clients:
            list(
                clients.map(
                    lambda number: _post_order(base, number), range(CLOCK_FIRST, CLOCK_FIRST + invoices)
                )
            )
        if not requests.post(base + "/_local/settle", timeout=600).json()["settled"]:
            raise RuntimeError("the runtime did not settle after the orders")
        if (
            len(
                _recipients(base)
                & {_order_body(n)["customer"]["email"] for n in range(CLOCK_FIRST, CLOCK_FIRST + invoices)}
            )
            < invoices
        ):
            raise RuntimeError("not every order was invoiced before the clock moved")
        started = time.perf_counter()
        response = requests.post(base + "/_local/clock", json={"advance_days": days}, timeout=1800)
        seconds = time.perf_counter() - started
        if response.status_code != 200:
            raise RuntimeError(f"POST /_local/clock answered {response.status_code}: {response.text}")
    return seconds


def measure() -> list[Row]:
    sequential, orders = (2, 2) if smoke() else (SEQUENTIAL_ORDERS, ORDERS)
    clock_invoices, clock_days = (2, 3) if smoke() else (CLOCK_INVOICES, CLOCK_DAYS)
    with running_runtime() as base:
        alone = _sequential(base, sequential)
        latencies, post_seconds, elapsed = _burst(base, orders)
    clock_seconds = _clock_jump(clock_invoices, clock_days)

    single = f"e2e local runtime, single order, {sequential} in a row on an idle runtime"
    label = f"e2e local runtime, {orders} orders x{CONCURRENCY}"
    throughput = orders / elapsed
    p50_alone = statistics.median(alone)
    return [
        {"name": f"{single}: order to email p50", "value": round(p50_alone * 1000), "unit": "ms",
         "target": f"<= {SINGLE_TARGET_MS} ms", "ratio": round(p50_alone * 1000 / SINGLE_TARGET_MS, 2)},
        {"name": f"{single}: the first one (handlers cold)", "value": round(alone[0] * 1000), "unit": "ms"},
        {"name": f"{label}: throughput to invoice email", "value": round(throughput, 1),
         "unit": "orders/s", "target": f">= {BURST_TARGET_PER_SECOND}/s",
         "ratio": round(throughput / BURST_TARGET_PER_SECOND, 2)},
        {"name": f"{label}: order to email p50", "value": round(statistics.median(latencies) * 1000),
         "unit": "ms", "target": "report"},
        {"name": f"{label}: order to email p95", "value": round(_percentile(latencies, 0.95) * 1000),
         "unit": "ms", "target": "report"},
        {"name": f"{label}: order to email, fastest", "value": round(min(latencies) * 1000),
         "unit": "ms", "target": "report"},
        {"name": f"{label}: POST /orders answer p50", "value": round(statistics.median(post_seconds) * 1000),
         "unit": "ms", "target": "report"},
        {"name": f"{label}: POST /orders answer p99", "value": round(_percentile(post_seconds, 0.99) * 1000),
         "unit": "ms", "target": "report"},
        {"name": f"POST /_local/clock {clock_days} days with {clock_invoices} open invoices",
         "value": round(clock_seconds, 1), "unit": "s", "target": f"<= {CLOCK_TARGET_SECONDS} s",
         "ratio": round(clock_seconds / CLOCK_TARGET_SECONDS, 2)},
    ]  # fmt: skip


def run() -> list[Row]:
    return measure()  # the runtime is a process of its own already
