"""Order intake through the local runtime's HTTP port, exactly as a storefront calls it."""

from __future__ import annotations

import copy
from typing import Any

import pytest
import requests

from tests.conftest import RunningSystem
from tests.support import load_event

pytestmark = pytest.mark.e2e


def example_order(external_id: str = "SHOP-1001") -> dict[str, Any]:
    body: dict[str, Any] = load_event("http/create_order_body.json")
    body["external_id"] = external_id
    return body


def test_the_contract_example_is_priced_and_stored_once(running_system: RunningSystem) -> None:
    # given the example body of API.md
    first = running_system.post_order(example_order("E2E-1"), key="e2e-key-1")
    # when the storefront retries with the same key
    replay = running_system.post_order(example_order("E2E-1"), key="e2e-key-1")

    assert first.status_code == 201, first.text
    assert first.json()["totals"] == {
        "currency": "EUR",
        "net": "35.98",
        "tax": "6.84",
        "gross": "42.82",
        "tax_breakdown": [
            {"rate": "19", "net": "35.98", "tax": "6.84", "category": "S", "exemption_code": None}
        ],
    }
    assert first.json()["status"] == "received"
    assert replay.status_code == 201
    assert replay.json() == first.json()

    stored = requests.get(
        running_system.url(f"/orders/{first.json()['id']}"),
        headers={"x-api-key": running_system.api_key},
        timeout=120,
    )
    assert stored.status_code == 200
    assert stored.json()["lines"][0]["net"] == "35.98"
    assert stored.json()["customer"]["name"] == "Anna Schmidt GmbH"


def test_one_problem_names_every_bad_field(running_system: RunningSystem) -> None:
    body = example_order("E2E-BAD")
    body["lines"][0]["quantity"] = "-1"
    body["currency"] = "XXX"
    body["customer"]["email"] = "anna(at)example"

    response = running_system.post_order(body, key="e2e-bad-1")

    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    fields = {error["field"] for error in response.json()["errors"]}
    assert fields == {"lines[0].quantity", "currency", "customer.email"}


def test_same_key_with_another_body_is_a_conflict(running_system: RunningSystem) -> None:
    assert running_system.post_order(example_order("E2E-2"), key="e2e-key-2").status_code == 201
    changed = example_order("E2E-2")
    changed["lines"][0]["quantity"] = "3"

    response = running_system.post_order(changed, key="e2e-key-2")

    assert response.status_code == 409
    assert response.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize("api_key", [None, "not-a-key"])
def test_without_a_valid_key_nothing_is_stored(running_system: RunningSystem, api_key: str | None) -> None:
    headers = {"Idempotency-Key": f"e2e-nokey-{api_key}"} | ({"x-api-key": api_key} if api_key else {})

    order = example_order(f"E2E-NOKEY-{api_key}")
    response = requests.post(running_system.url("/orders"), json=order, headers=headers, timeout=120)
    retry_with_key = running_system.post_order(order, key=f"e2e-nokey-{api_key}")

    assert response.status_code == 401
    # had the rejected call stored anything, the external id would now be taken
    assert retry_with_key.status_code == 201


def test_the_order_reaches_the_stream_consumer(running_system: RunningSystem) -> None:
    order = running_system.post_order(example_order("E2E-STREAM"), key="e2e-stream").json()

    running_system.settle()

    events = requests.get(running_system.url("/_local/events"), timeout=120).json()
    ours = [e for e in events if e["detail"]["data"].get("order_id") == order["id"]]
    received = [e for e in ours if e["detail-type"] == "order.received"]
    # published once, and the invoice it led to was published too
    assert len(received) == 1
    assert received[0]["detail"]["data"]["gross"] == "42.82"
    assert "invoice.issued" in {e["detail-type"] for e in ours}


def test_the_clock_moves_forward_only(running_system: RunningSystem) -> None:
    before = requests.get(running_system.url("/_local/clock"), timeout=120).json()["now"]

    moved = requests.post(running_system.url("/_local/clock"), json={"advance_days": 1}, timeout=600)
    backwards = requests.post(
        running_system.url("/_local/clock"), json={"now": "2001-01-01T00:00:00Z"}, timeout=120
    )

    assert moved.status_code == 200
    assert moved.json()["now"] > before
    assert backwards.status_code == 422


def test_unknown_routes_are_not_found(running_system: RunningSystem) -> None:
    response = requests.get(running_system.url("/nothing-here"), headers={"x-api-key": "k"}, timeout=120)
    assert response.status_code == 404


def test_problem_bodies_never_leak_the_order(running_system: RunningSystem) -> None:
    body = copy.deepcopy(example_order("E2E-LEAK"))
    body["lines"] = []
    response = running_system.post_order(body, key="e2e-leak")
    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["lines"]
