"""Every domain event the running system emits validates against its JSON Schema in schemas/events/.

A realistic flow (order, invoice, partial payment, refund, void, credit notes, customer update, dispute
through the hosted page) runs first; then EVERY event on the bus so far — this flow's and any other test's
in the session — is checked: an event type without a schema fails, and so does a money string that does
not carry exactly its currency's minor digits.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import requests
from jsonschema import Draft202012Validator

from receivables.money import format_amount
from tests.conftest import RunningSystem
from tests.support import REPOSITORY, generic_signature_headers, load_event, stripe_signature

pytestmark = pytest.mark.e2e
SCHEMAS = REPOSITORY / "schemas" / "events"
EMAIL = "schema-flow@example.de"  # its own customer: the flow changes the customer record


def _schemas() -> dict[str, dict[str, Any]]:
    schemas = {}
    for path in sorted(SCHEMAS.glob("*.schema.json")):
        schema = json.loads(path.read_text())
        Draft202012Validator.check_schema(schema)
        schemas[path.name.removesuffix(".schema.json")] = schema
    return schemas


def _money_strings(node: dict[str, Any], instance: Any, defs: dict[str, Any]) -> Iterator[str]:
    """Every value of `instance` the schema declares as money (#/$defs/money), wherever it sits."""
    reference = node.get("$ref")
    if reference:
        name = reference.rsplit("/", 1)[-1]
        if name == "money":
            if isinstance(instance, str):
                yield instance
            return
        yield from _money_strings(defs[name], instance, defs)
    for alternative in node.get("anyOf", []):
        yield from _money_strings(alternative, instance, defs)
    if isinstance(instance, dict):
        for key, child in node.get("properties", {}).items():
            if key in instance:
                yield from _money_strings(child, instance[key], defs)
    if isinstance(instance, list) and "items" in node:
        for item in instance:
            yield from _money_strings(node["items"], item, defs)


def test_every_schema_is_a_valid_draft_2020_12_schema_for_its_file_name() -> None:
    schemas = _schemas()

    assert len(schemas) >= 14
    for event_type, schema in schemas.items():
        assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
        assert schema["properties"]["type"] == {"const": event_type}


# ----------------------------------------------------------------------------------- the flow
def _invoice(system: RunningSystem, external_id: str) -> dict[str, Any]:
    body = load_event("http/create_order_body.json")
    body["external_id"] = external_id
    body["customer"]["email"] = EMAIL
    response = system.post_order(body, key=f"schemas-{external_id}")
    assert response.status_code == 201, response.text
    return system.invoice_of(response.json()["id"])


def _generic(system: RunningSystem, invoice: dict[str, Any], kind: str, event_id: str, amount: str) -> str:
    body = load_event("http/generic_payment_body.json") | {
        "id": event_id,
        "type": kind,
        "invoice_number": invoice["number"],
        "amount": amount,
    }
    raw = json.dumps(body).encode()
    headers = {"content-type": "application/json"} | generic_signature_headers(raw, at=system.now())
    response = requests.post(system.url("/webhooks/generic"), data=raw, headers=headers, timeout=120)
    assert response.status_code == 200, response.text
    return str(response.json()["result"])


def _stripe_payment(system: RunningSystem, invoice: dict[str, Any], event_id: str, minor_units: int) -> None:
    event = load_event("stripe/payment_intent.succeeded.json")
    event["id"] = event_id
    event["data"]["object"] |= {"id": f"pi_{event_id}", "amount_received": minor_units}
    event["data"]["object"]["metadata"]["invoice_id"] = invoice["id"]
    raw = json.dumps(event).encode()
    headers = {"content-type": "application/json", "Stripe-Signature": stripe_signature(raw, at=system.now())}
    response = requests.post(system.url("/webhooks/stripe"), data=raw, headers=headers, timeout=120)
    assert response.json()["result"] == "applied", response.text


def _finance(system: RunningSystem, method: str, path: str, body: Any, **headers: str) -> requests.Response:
    return requests.request(
        method,
        system.url(path),
        json=body,
        headers={"x-api-key": system.api_key} | headers,
        timeout=120,
    )


def _run_the_flow(system: RunningSystem) -> set[str]:
    """Drives one of each state change; the event types it must have caused."""
    paid_in_part = _invoice(system, "SCHEMA-PARTIAL")
    assert _generic(system, paid_in_part, "payment.succeeded", "schema-pay-1", "20.00") == "applied"
    assert _generic(system, paid_in_part, "payment.refunded", "schema-refund-1", "5.00") == "applied"

    voided = _invoice(system, "SCHEMA-VOID")
    assert (
        _finance(system, "POST", f"/invoices/{voided['id']}/void", {"reason": "storniert"}).status_code == 200
    )
    assert _generic(system, voided, "payment.succeeded", "schema-pay-void", "42.82") == "unapplied"

    corrected = _invoice(system, "SCHEMA-CREDIT")
    first = _finance(
        system,
        "POST",
        f"/invoices/{corrected['id']}/credit-notes",
        {"lines": [{"description": "Rabatt", "unit_price": "10.00", "tax_rate": "19"}], "reason": "Rabatt"},
        **{"Idempotency-Key": "schema-credit-1"},
    )
    assert first.status_code == 201, first.text
    _stripe_payment(system, corrected, "evt_schema_rest", 3092)  # 42.82 - 11.90: paid in full
    beyond = _finance(
        system,
        "POST",
        f"/invoices/{corrected['id']}/credit-notes",
        {"amount": "5.00", "reason": "Kulanz"},
        **{"Idempotency-Key": "schema-credit-2"},
    )
    assert beyond.status_code == 201, beyond.text  # paid already: becomes customer credit

    patched = _finance(
        system,
        "PATCH",
        f"/customers/{corrected['customer_id']}",
        {"name": "Schema Flow GmbH", "locale": "en"},
    )
    assert patched.status_code == 200, patched.text

    disputed = _invoice(system, "SCHEMA-DISPUTE")
    page = requests.post(f"{disputed['hosted_url']}/dispute", data={"reason": "Falsche Menge"}, timeout=120)
    assert page.status_code == 200
    resolved = _finance(system, "POST", f"/invoices/{disputed['id']}/dispute/resolve", {"outcome": "upheld"})
    assert resolved.status_code == 200, resolved.text
    system.settle()
    return {
        "order.received",
        "invoice.issued",
        "invoice.sent",
        "payment.received",
        "payment.refunded",
        "payment.unapplied",
        "invoice.voided",
        "credit_note.issued",
        "invoice.paid",
        "invoice.payment_confirmed",
        "credit.created",
        "customer.updated",
        "invoice.disputed",
        "invoice.dispute_resolved",
    }


def test_every_emitted_event_validates_against_its_schema(running_system: RunningSystem) -> None:
    expected_types = _run_the_flow(running_system)
    schemas = _schemas()

    events = requests.get(running_system.url("/_local/events"), timeout=120).json()

    assert expected_types <= {e["detail-type"] for e in events}
    missing = sorted({e["detail-type"] for e in events} - schemas.keys())
    assert not missing, f"event types without a schema in schemas/events/: {missing}"
    problems = []
    for event in events:
        detail, schema = event["detail"], schemas[event["detail-type"]]
        assert (event["source"], detail["type"]) == ("receivables", event["detail-type"])
        problems += [
            f"{detail['type']} {detail['id']}: {'/'.join(map(str, error.absolute_path))}: {error.message}"
            for error in Draft202012Validator(schema).iter_errors(detail)
        ]
        currency = detail["data"].get("currency")
        for amount in _money_strings(schema["properties"]["data"], detail["data"], schema["$defs"]):
            if currency and format_amount(Decimal(amount), currency) != amount:
                problems.append(f"{detail['type']} {detail['id']}: {amount} is not a {currency} amount")
    assert not problems, "\n".join(problems)
    assert len({e["detail"]["id"] for e in events}) == len(events)  # every event once, by id


def test_a_schema_rejects_what_the_contract_forbids() -> None:
    schema = _schemas()["invoice.voided"]
    good = {
        "id": "evt_" + "a" * 32,
        "type": "invoice.voided",
        "version": 1,
        "occurred_at": "2026-11-22T09:00:00.000Z",
        "data": {
            "invoice_id": "inv_" + "b" * 32,
            "number": "2026-000001",
            "customer_id": "cus_" + "c" * 32,
            "currency": "EUR",
            "amount_voided": "42.82",
            "voided_at": "2026-11-22T09:00:00.000Z",
            "reason": None,
        },
    }
    validator = Draft202012Validator(schema)

    assert list(validator.iter_errors(good)) == []
    for broken in (
        good | {"data": good["data"] | {"amount_voided": 42.82}},  # money as a JSON number
        good | {"data": good["data"] | {"amount_voided": "42,82"}},
        good | {"version": 2},
        good | {"occurred_at": "2026-11-22T09:00:00+01:00"},
        {key: value for key, value in good.items() if key != "id"},
    ):
        assert list(validator.iter_errors(broken)), broken


def test_the_schema_directory_matches_the_documented_event_list() -> None:
    documented = {
        line.split("`")[1]
        for line in (REPOSITORY / "docs" / "events.md").read_text().splitlines()
        if line.startswith("| `")
    }

    assert documented <= {p.name.removesuffix(".schema.json") for p in Path(SCHEMAS).glob("*.schema.json")}
