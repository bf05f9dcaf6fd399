"""POST /invoices/{id}/void on the sample events, against the emulated account."""

from __future__ import annotations

import email
import email.policy
import json
import subprocess
from datetime import date
from typing import Any

from tests.support import load_event, stripe_signature

SAMPLE_INVOICE = "inv_c060d9732b6f5c158fe6ec18b68018b6"


def _invoke(system: Any, logical_id: str, event: Any) -> Any:
    function = system.topology.functions.by_logical_id(logical_id)
    return system.topology.functions.invoke(function.name, event)


def _order(system: Any, key: str) -> str:
    """A new order (its own Idempotency-Key and external id) carried to its invoice; the invoice id."""
    event = load_event("orders_api/create_order.json")
    body = json.loads(event["body"]) | {"external_id": key}
    event["body"], event["headers"]["idempotency-key"] = json.dumps(body), key
    response = _invoke(system, "OrdersApiFunction", event)
    assert response["statusCode"] == 201, response["body"]
    assert system.settle()
    return "inv_" + json.loads(response["body"])["id"].removeprefix("ord_")


def _void(
    system: Any, invoice_id: str = SAMPLE_INVOICE, body: Any = None, **authorizer: str
) -> tuple[int, dict[str, Any]]:
    event = load_event("accounting_api/void_invoice.json")
    event["rawPath"] = event["requestContext"]["http"]["path"] = f"/invoices/{invoice_id}/void"
    event["pathParameters"]["invoice_id"] = invoice_id
    if body is not None:
        event["body"] = json.dumps(body)
    event["requestContext"]["authorizer"]["lambda"].update(authorizer)
    response = _invoke(system, "AccountingApiFunction", event)
    return response["statusCode"], json.loads(response["body"])


def _pay(system: Any, invoice_id: str, minor_units: int, event_id: str) -> dict[str, Any]:
    event = load_event("payment_webhooks/stripe_payment_intent_succeeded.json")
    stripe = json.loads(event["body"])
    stripe["id"] = event_id
    stripe["data"]["object"] |= {"id": f"pi_{event_id}", "amount_received": minor_units}
    stripe["data"]["object"]["metadata"]["invoice_id"] = invoice_id
    event["body"] = json.dumps(stripe)
    event["headers"]["stripe-signature"] = stripe_signature(
        event["body"].encode(), at=int(system.clock.now().timestamp())
    )
    response = _invoke(system, "PaymentWebhooksFunction", event)
    assert response["statusCode"] == 200, response["body"]
    return dict(json.loads(response["body"]))


def _events(system: Any, event_type: str, invoice_id: str) -> list[dict[str, Any]]:
    return [
        e["detail"]
        for e in system.events()
        if e["detail-type"] == event_type and e["detail"]["data"].get("invoice_id") == invoice_id
    ]


def _open_tasks(system: Any, invoice_id: str) -> list[dict[str, Any]]:
    response = _invoke(system, "InvoicesApiFunction", load_event("invoices_api/list_open_tasks.json"))
    return [t for t in json.loads(response["body"])["items"] if t["invoice_id"] == invoice_id]


def test_the_sample_void_voids_the_open_invoice_once_closes_its_follow_up_and_emits_one_event(
    local_system: Any,
) -> None:
    assert _order(local_system, "order-SHOP-1001") == SAMPLE_INVOICE  # the sample order's invoice
    assert _open_tasks(local_system, SAMPLE_INVOICE)

    status, voided = _void(local_system)
    again, problem = _void(local_system)
    assert local_system.settle()

    assert status == 200
    assert (voided["status"], voided["amount_due"], voided["total"]) == ("void", "0.00", "42.82")
    assert (again, problem["status"], problem["detail"]) == (409, 409, "Invoice 2026-000001 is already void.")
    [event] = _events(local_system, "invoice.voided", SAMPLE_INVOICE)
    assert event["data"] | {"voided_at": None} == {
        "invoice_id": SAMPLE_INVOICE,
        "number": "2026-000001",
        "customer_id": "cus_dcc46d538724594a91ed3d9e66117e26",
        "currency": "EUR",
        "amount_voided": "42.82",
        "voided_at": None,
        "reason": "Bestellung vor Lieferung storniert",
        "tax_breakdown": [{"rate": "19", "net": "35.98", "tax": "6.84"}],
    }
    assert event["data"]["voided_at"].endswith("Z")
    assert _open_tasks(local_system, SAMPLE_INVOICE) == []


def test_the_void_issues_one_stornorechnung_with_every_amount_negated_emailed_with_its_pdf(
    local_system: Any,
) -> None:
    # given the sample invoice voided above (the system settled)
    listing = _invoke(
        local_system,
        "AccountingApiFunction",
        _at(load_event("accounting_api/list_credit_notes.json"), f"/invoices/{SAMPLE_INVOICE}/credit-notes"),
    )

    # then it has exactly one document: the cancellation, negating the invoice and naming it with its date
    [note] = json.loads(listing["body"])["items"]
    assert (note["kind"], note["invoice_number"], note["gross"], note["net"]) == (
        "cancellation",
        "2026-000001",
        "-42.82",
        "-35.98",
    )
    assert note["tax_breakdown"] == [{"rate": "19", "net": "-35.98", "tax": "-6.84"}]
    assert note["pdf_sha256"]
    # emailed once with its PDF, whose text calls it a Stornorechnung of the invoice of that date
    [sent] = [
        e
        for e in local_system.emails()
        if any(a["filename"] == f"{note['number']}.pdf" for a in e.attachments)
    ]
    assert sent.subject.startswith(f"Stornorechnung {note['number']} zu Rechnung 2026-000001")
    message = email.message_from_bytes(sent.mime, policy=email.policy.default)
    [pdf] = [part.get_payload(decode=True) for part in message.iter_attachments()]
    text = subprocess.run(
        ["pdftotext", "-layout", "-", "-"], input=pdf, capture_output=True, check=True
    ).stdout
    shown = " ".join(text.decode().replace("\xa0", " ").split())
    issued = date.fromisoformat(note["invoice_issue_date"]).strftime("%d.%m.%Y")
    assert f"Stornorechnung {note['number']}" in shown
    assert f"Storniert wird die Rechnung 2026-000001 vom {issued} in voller Höhe." in shown
    assert "Stornobetrag -42,82 €" in shown
    assert "Gutschrift" not in shown


def _at(event: dict[str, Any], path: str) -> dict[str, Any]:
    event["rawPath"] = event["requestContext"]["http"]["path"] = path
    event["pathParameters"]["invoice_id"] = path.split("/")[2]
    return event


def test_money_sent_to_a_void_invoice_is_kept_as_unapplied(local_system: Any) -> None:
    outcome = _pay(local_system, SAMPLE_INVOICE, 4282, "evt_void_pay")

    assert outcome["result"] == "unapplied"
    invoice = json.loads(
        _invoke(local_system, "InvoicesApiFunction", load_event("invoices_api/get_invoice.json"))["body"]
    )
    assert (invoice["status"], invoice["amount_paid"], invoice["amount_due"]) == ("void", "0.00", "0.00")


def test_a_partly_paid_invoice_is_refunded_or_credited_not_voided(local_system: Any) -> None:
    invoice_id = _order(local_system, "VOID-PARTLY")
    assert _pay(local_system, invoice_id, 1000, "evt_void_partly")["result"] == "applied"

    status, problem = _void(local_system, invoice_id, {"reason": "storno"})

    assert status == 409
    assert problem["detail"].endswith("refund first or issue a credit note.")
    assert _events(local_system, "invoice.voided", invoice_id) == []


def test_a_void_without_a_body_needs_no_reason(local_system: Any) -> None:
    invoice_id = _order(local_system, "VOID-NO-REASON")

    event = load_event("accounting_api/void_invoice.json")
    event["rawPath"] = event["requestContext"]["http"]["path"] = f"/invoices/{invoice_id}/void"
    event["pathParameters"]["invoice_id"] = invoice_id
    del event["body"]
    response = _invoke(local_system, "AccountingApiFunction", event)
    assert local_system.settle()

    assert response["statusCode"] == 200, response["body"]
    assert _events(local_system, "invoice.voided", invoice_id)[0]["data"]["reason"] is None


def test_bad_input_scope_and_storefront_are_refused_and_change_nothing(local_system: Any) -> None:
    invoice_id = _order(local_system, "VOID-REFUSED")

    too_long = _void(local_system, invoice_id, {"reason": "x" * 501})
    not_text = _void(local_system, invoice_id, {"reason": 42})
    storefront_key = _void(local_system, invoice_id, scopes="orders")
    other_storefront = _void(local_system, invoice_id, storefront_id="another-storefront")
    unknown = _void(local_system, "inv_" + "0" * 32)

    assert (too_long[0], [e["field"] for e in too_long[1]["errors"]]) == (422, ["reason"])
    assert not_text[0] == 422
    assert (storefront_key[0], other_storefront[0], unknown[0]) == (403, 404, 404)
    event = load_event("invoices_api/get_invoice.json")
    event["rawPath"] = event["requestContext"]["http"]["path"] = f"/invoices/{invoice_id}"
    invoice = json.loads(_invoke(local_system, "InvoicesApiFunction", event)["body"])
    assert invoice["status"] == "open"
