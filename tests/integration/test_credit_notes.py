"""Credit notes on the sample events: issued once per Idempotency-Key, numbered, rendered, and booked."""

from __future__ import annotations

import json
from typing import Any

import boto3

from tests.support import load_event, stripe_signature

SAMPLE_INVOICE = "inv_c060d9732b6f5c158fe6ec18b68018b6"
SAMPLE_CUSTOMER = "cus_dcc46d538724594a91ed3d9e66117e26"


def _invoke(system: Any, logical_id: str, event: Any) -> Any:
    function = system.topology.functions.by_logical_id(logical_id)
    return system.topology.functions.invoke(function.name, event)


def _order(system: Any, key: str) -> str:
    event = load_event("orders_api/create_order.json")
    body = json.loads(event["body"]) | {"external_id": key}
    event["body"], event["headers"]["idempotency-key"] = json.dumps(body), key
    response = _invoke(system, "OrdersApiFunction", event)
    assert response["statusCode"] == 201, response["body"]
    assert system.settle()
    return "inv_" + json.loads(response["body"])["id"].removeprefix("ord_")


def _at(event: dict[str, Any], path: str) -> dict[str, Any]:
    event["rawPath"] = event["requestContext"]["http"]["path"] = path
    return event


def _credit(
    system: Any,
    invoice_id: str = SAMPLE_INVOICE,
    body: Any = None,
    key: str | None = "credit-SHOP-1001-1",
) -> tuple[int, dict[str, Any]]:
    event = _at(load_event("accounting_api/create_credit_note.json"), f"/invoices/{invoice_id}/credit-notes")
    if body is not None:
        event["body"] = json.dumps(body)
    if key is None:
        del event["headers"]["idempotency-key"]
    else:
        event["headers"]["idempotency-key"] = key
    response = _invoke(system, "AccountingApiFunction", event)
    return response["statusCode"], json.loads(response["body"])


def _listing(system: Any, invoice_id: str = SAMPLE_INVOICE, storefront: str | None = None) -> Any:
    event = _at(load_event("accounting_api/list_credit_notes.json"), f"/invoices/{invoice_id}/credit-notes")
    if storefront:
        event["requestContext"]["authorizer"]["lambda"]["storefront_id"] = storefront
    response = _invoke(system, "AccountingApiFunction", event)
    return response["statusCode"], json.loads(response["body"])


def _invoice(system: Any, invoice_id: str) -> dict[str, Any]:
    event = _at(load_event("invoices_api/get_invoice.json"), f"/invoices/{invoice_id}")
    return dict(json.loads(_invoke(system, "InvoicesApiFunction", event)["body"]))


def _pay(system: Any, invoice_id: str, minor_units: int, event_id: str) -> None:
    event = load_event("payment_webhooks/stripe_payment_intent_succeeded.json")
    stripe = json.loads(event["body"])
    stripe["id"] = event_id
    stripe["data"]["object"] |= {"id": f"pi_{event_id}", "amount_received": minor_units}
    stripe["data"]["object"]["metadata"]["invoice_id"] = invoice_id
    event["body"] = json.dumps(stripe)
    event["headers"]["stripe-signature"] = stripe_signature(
        event["body"].encode(), at=int(system.clock.now().timestamp())
    )
    assert json.loads(_invoke(system, "PaymentWebhooksFunction", event)["body"])["result"] == "applied"


def _events(system: Any, event_type: str, invoice_id: str) -> list[dict[str, Any]]:
    return [
        e["detail"]["data"]
        for e in system.events()
        if e["detail-type"] == event_type and e["detail"]["data"].get("invoice_id") == invoice_id
    ]


def test_the_sample_credit_note_is_issued_once_reduces_what_is_due_and_gets_its_pdf(
    local_system: Any,
) -> None:
    assert _order(local_system, "order-SHOP-1001") == SAMPLE_INVOICE

    first = _credit(local_system)
    retry = _credit(local_system)
    assert local_system.settle()

    assert first[0] == retry[0] == 201
    assert retry[1] == first[1]
    note = first[1]
    assert (note["number"], note["net"], note["tax"], note["gross"]) == (
        "GS-2026-000001",
        "10.00",
        "1.90",
        "11.90",
    )
    assert (note["invoice_number"], note["reason"]) == ("2026-000001", "Ein Widget beschädigt geliefert")
    invoice = _invoice(local_system, SAMPLE_INVOICE)
    assert (invoice["status"], invoice["total"], invoice["amount_due"]) == ("open", "42.82", "30.92")
    status, listing = _listing(local_system)
    assert (status, listing["amount_credited"], len(listing["items"])) == (200, "11.90", 1)
    listed = listing["items"][0]
    assert listed["pdf_url"]
    assert len(listed["pdf_sha256"]) == 64
    pdf = (
        boto3.client("s3")
        .get_object(
            Bucket=local_system.topology.functions.by_logical_id("RenderCreditNoteFunction").environment[
                "DOCUMENTS_BUCKET"
            ],
            Key="credit-notes/2026/GS-2026-000001.pdf",
        )["Body"]
        .read()
    )
    assert pdf.startswith(b"%PDF")
    [issued] = _events(local_system, "credit_note.issued", SAMPLE_INVOICE)
    assert issued | {"credit_note_id": None} == {
        "credit_note_id": None,
        "number": "GS-2026-000001",
        "invoice_id": SAMPLE_INVOICE,
        "invoice_number": "2026-000001",
        "customer_id": SAMPLE_CUSTOMER,
        "currency": "EUR",
        "net": "10.00",
        "tax": "1.90",
        "gross": "11.90",
        "tax_breakdown": [{"rate": "19", "net": "10.00", "tax": "1.90"}],
        "issue_date": note["issue_date"],
        "amount_due": "30.92",
        "reason": "Ein Widget beschädigt geliefert",
    }


def _credit_note_emails(system: Any, number: str) -> list[Any]:
    return [e for e in system.emails() if any(a["filename"] == f"{number}.pdf" for a in e.attachments)]


def test_replaying_the_render_sample_renders_and_sends_nothing_again(local_system: Any) -> None:
    before = _listing(local_system)[1]["items"][0]["pdf_sha256"]
    assert len(_credit_note_emails(local_system, "GS-2026-000001")) == 1  # sent once, after rendering

    response = _invoke(
        local_system, "RenderCreditNoteFunction", load_event("render_credit_note/credit_note_inserted.json")
    )

    assert response == {"batchItemFailures": []}
    assert _listing(local_system)[1]["items"][0]["pdf_sha256"] == before
    [email] = _credit_note_emails(local_system, "GS-2026-000001")
    assert "Rechnungskorrektur GS-2026-000001 zu Rechnung 2026-000001" in email.subject


def test_the_same_key_with_another_correction_is_a_conflict_and_a_key_is_required(local_system: Any) -> None:
    other = _credit(local_system, body={"amount": "1.19", "reason": "anders"})
    keyless = _credit(local_system, key=None)

    assert other[0] == 409
    assert (keyless[0], keyless[1]["errors"][0]["field"]) == (400, "Idempotency-Key")
    assert len(_listing(local_system)[1]["items"]) == 1


def test_numbers_continue_without_gaps_and_a_refused_note_uses_none(local_system: Any) -> None:
    second = _credit(local_system, body={"amount": "1.19", "reason": "Porto"}, key="credit-2")
    too_much = _credit(local_system, body={"amount": "30.00", "reason": "zu viel"}, key="credit-3")
    third = _credit(
        local_system,
        body={
            "lines": [{"description": "Rabatt", "quantity": "2", "unit_price": "0.50", "tax_rate": "19"}],
            "reason": "Rabatt",
        },
        key="credit-4",
    )

    assert (second[0], third[0]) == (201, 201)
    assert (second[1]["number"], third[1]["number"]) == ("GS-2026-000002", "GS-2026-000003")
    assert too_much[0] == 422
    assert too_much[1]["errors"] == [
        {
            "field": "amount",
            "message": "The credit (30.00 gross) exceeds what is left to credit on the invoice (29.73)",
        }
    ]
    assert _invoice(local_system, SAMPLE_INVOICE)["amount_due"] == "28.54"  # 42.82 - 11.90 - 1.19 - 1.19


def test_crediting_a_paid_invoice_gives_the_customer_credit(local_system: Any) -> None:
    invoice_id = _order(local_system, "CREDIT-PAID")
    _pay(local_system, invoice_id, 4282, "evt_credit_paid")

    status, note = _credit(
        local_system, invoice_id, {"amount": "5.95", "reason": "Kulanz"}, key="credit-paid"
    )
    assert local_system.settle()

    assert (status, note["credited_to_customer"]) == (201, "5.95")
    invoice = _invoice(local_system, invoice_id)
    assert (invoice["status"], invoice["amount_due"]) == ("paid", "0.00")
    event = _at(load_event("invoices_api/get_invoice.json"), f"/customers/{SAMPLE_CUSTOMER}")
    event["requestContext"]["authorizer"]["lambda"]["scopes"] = "finance"
    customer = json.loads(_invoke(local_system, "InvoicesApiFunction", event)["body"])
    assert customer["credit_balance"] == {"EUR": "5.95"}
    [credit] = _events(local_system, "credit.created", invoice_id)
    assert (credit["source"], credit["amount"], credit["credit_note_id"]) == (
        "credit_note",
        "5.95",
        note["id"],
    )


def test_a_credit_note_that_covers_the_rest_settles_a_partly_paid_invoice(local_system: Any) -> None:
    invoice_id = _order(local_system, "CREDIT-SETTLES")
    _pay(local_system, invoice_id, 3000, "evt_credit_settles")

    status, note = _credit(
        local_system, invoice_id, {"amount": "12.82", "reason": "Rest erlassen"}, key="settle"
    )
    assert local_system.settle()

    assert (status, note["credited_to_customer"]) == (201, "0.00")
    invoice = _invoice(local_system, invoice_id)
    assert (invoice["status"], invoice["amount_due"], invoice["amount_paid"]) == ("paid", "0.00", "30.00")
    assert [e["total"] for e in _events(local_system, "invoice.paid", invoice_id)] == ["42.82"]


def test_void_invoices_and_other_storefronts_invoices_take_no_credit_note(local_system: Any) -> None:
    invoice_id = _order(local_system, "CREDIT-VOID")
    event = _at(load_event("accounting_api/void_invoice.json"), f"/invoices/{invoice_id}/void")
    assert _invoke(local_system, "AccountingApiFunction", event)["statusCode"] == 200

    void = _credit(local_system, invoice_id, {"amount": "1.00", "reason": "x"}, key="credit-void")
    elsewhere = _listing(local_system, storefront="another-storefront")

    assert void[0] == 409
    assert elsewhere[0] == 404
