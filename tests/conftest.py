"""Shared fixtures. The emulated account is always built from template.yaml, never retyped here."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.support import REPOSITORY, eventually, generic_signature_headers, load_event

os.environ.setdefault("AWS_ACCOUNT_ID_ENDPOINT_MODE", "disabled")
os.environ.setdefault("AWS_DEFAULT_REGION", "eu-central-1")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Long modules first (stable otherwise): `--dist loadfile` hands out modules in this order, so each of
    the two workers starts on a long one instead of one worker finishing them alone at the end."""
    items.sort(key=lambda item: item.get_closest_marker("long_module") is None)


@pytest.fixture(scope="module")
def local_system(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    """The whole system in this process (handlers, streams, schedules) on moto, from template.yaml."""
    from local_runtime.system import LocalSystem
    from receivables import aws

    aws.reset_clients()
    system = LocalSystem(state_dir=tmp_path_factory.mktemp("local")).start()
    yield system
    system.stop()
    aws.reset_clients()


def _free_ports(count: int) -> list[int]:
    """Distinct free ports (all held open while choosing, so none is picked twice)."""
    probes = [socket.socket() for _ in range(count)]
    try:
        for probe in probes:
            probe.bind(("127.0.0.1", 0))
        return [int(probe.getsockname()[1]) for probe in probes]
    finally:
        for probe in probes:
            probe.close()


class RunningSystem:
    """The local runtime as `make run` starts it, reached only through its HTTP port."""

    def __init__(self, base_url: str, state_dir: Path) -> None:
        self.base_url = base_url
        self.state_dir = state_dir
        self.api_key = "dev-storefront-key"

    def url(self, path: str) -> str:
        return self.base_url + path

    def post_order(self, body: object, key: str, api_key: str | None = None) -> requests.Response:
        headers = {"x-api-key": api_key or self.api_key, "Idempotency-Key": key}
        return requests.post(self.url("/orders"), json=body, headers=headers, timeout=120)

    def get_json(self, path: str, **params: Any) -> Any:
        response = requests.get(
            self.url(path), headers={"x-api-key": self.api_key}, params=params, timeout=120
        )
        assert response.status_code == 200, response.text
        return response.json()

    def invoice_of(self, order_id: str) -> dict[str, Any]:
        """The order's invoice once the system has settled (issued, rendered and emailed)."""
        self.settle()
        invoice_id = self.get_json(f"/orders/{order_id}").get("invoice_id")
        assert invoice_id, f"order {order_id} has no invoice after the system settled"
        invoice: dict[str, Any] = self.get_json(f"/invoices/{invoice_id}")
        assert invoice.get("email_sent_at"), f"invoice {invoice_id} was not emailed: {invoice}"
        return invoice

    def emails(self) -> list[dict[str, Any]]:
        return list(requests.get(self.url("/_local/emails"), timeout=120).json())

    def now(self) -> int:
        """The runtime's simulated clock as Unix seconds (other tests may have moved it): sign with it."""
        from datetime import datetime

        now = requests.get(self.url("/_local/clock"), timeout=120).json()["now"]
        return int(datetime.fromisoformat(now.replace("Z", "+00:00")).timestamp())

    def advance_days(self, days: int) -> None:
        response = requests.post(self.url("/_local/clock"), json={"advance_days": days}, timeout=600)
        assert response.status_code == 200, response.text

    def pay_by_bank(self, invoice: dict[str, Any], event_id: str, amount: str) -> None:
        """A bank's signed generic webhook for the invoice, signed at the runtime's clock; applied."""
        body = load_event("http/generic_payment_body.json") | {
            "id": event_id,
            "invoice_number": invoice["number"],
            "amount": amount,
        }
        raw = json.dumps(body).encode()
        headers = {"content-type": "application/json"} | generic_signature_headers(raw, at=self.now())
        response = requests.post(self.url("/webhooks/generic"), data=raw, headers=headers, timeout=120)
        assert response.json()["result"] == "applied", response.text

    def emulated_aws(self) -> dict[str, str]:
        """boto3 settings for the runtime's emulated AWS port, which `make run` prints in its log."""
        import re

        log = (self.state_dir.parent / "runtime.log").read_text()
        found = re.search(r"emulated AWS\s+(http://\S+)", log)
        assert found, f"the runtime's log does not name its emulated AWS endpoint:\n{log[:2000]}"
        return {
            "endpoint_url": found.group(1),
            "region_name": "eu-central-1",
            "aws_access_key_id": "local",
            "aws_secret_access_key": "local",
        }

    def settle(self) -> None:
        """Returns once every stream, queue and execution is idle: then the system's answers are final."""
        response = requests.post(self.url("/_local/settle"), timeout=900)
        assert response.status_code == 200, response.text
        assert response.json()["settled"], response.text


def start_runtime(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningSystem]:
    """`python -m local_runtime` as `make run` starts it, on free ports, until the generator closes."""
    # The emulated AWS endpoint defaults to PORT+1, which another test process may hold: choose both.
    port, aws_port = _free_ports(2)
    state_dir = tmp_path_factory.mktemp("run")
    log = (state_dir / "runtime.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "local_runtime", "--port", str(port), "--state-dir", str(state_dir / "state")],
        cwd=REPOSITORY,
        stdout=log,
        stderr=subprocess.STDOUT,
        env=os.environ | {"PORT": str(port), "AWS_PORT": str(aws_port)},
    )
    base = f"http://127.0.0.1:{port}"

    def healthy() -> bool:
        try:
            return requests.get(base + "/_local/health", timeout=1).status_code == 200
        except requests.ConnectionError:
            assert process.poll() is None, (state_dir / "runtime.log").read_text()
            return False

    # A bound, not a guess: a start takes seconds; only a hung start (the log says why) reaches it.
    eventually(healthy, timeout=300, interval=0.2)
    yield RunningSystem(base, state_dir / "state")
    process.terminate()
    process.wait(timeout=120)
    log.close()


@pytest.fixture(scope="session")
def running_system(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningSystem]:
    """One runtime shared by the e2e tests of a worker (tests look only at their own records)."""
    yield from start_runtime(tmp_path_factory)
