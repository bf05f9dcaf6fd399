"""The customer's answer when finance resolves a dispute: one email, in their language, through moto SES.

Each test orders for its own customer (email and locale), disputes the invoice on its hosted page,
resolves it through `POST /invoices/{id}/dispute/resolve`, lets the system settle, and reads what SES sent
to that customer. A retried resolve and a redelivered `invoice.dispute_resolved` event send nothing more.
"""

from __future__ import annotations

import copy
import json
from datetime import date, timedelta
from typing import Any

from jsonschema import Draft202012Validator  # type: ignore[import-untyped]

from local_runtime.queues import fan_out_event
from tests.integration.faults_support import invoke, stream_record
from tests.support import REPOSITORY, load_event


def _http_event(method: str, path: str, route: str, body: str, content_type: str, **params: str) -> Any:
    """An API Gateway request in the shape of the recorded sample (scopes `orders finance`)."""
    event = copy.deepcopy(load_event("accounting_api/update_customer.json"))
    event["routeKey"] = event["requestContext"]["routeKey"] = f"{method} {route}"
    event["rawPath"] = event["requestContext"]["http"]["path"] = path
    event["requestContext"]["http"]["method"] = method
    event["pathParameters"] = params
    event["headers"] = {k: v for k, v in event["headers"].items() if k != "if-match"} | {
        "content-type": content_type
    }
    event["body"] = body
    return event


def _invoice_for(system: Any, customer_email: str, locale: str) -> dict[str, Any]:
    """A new order of the sample's lines for this customer, carried to its issued and emailed invoice."""
    event = load_event("orders_api/create_order.json")
    body = json.loads(event["body"])
    body["external_id"] = f"DISPUTE-{customer_email}"
    body["customer"] |= {"email": customer_email, "locale": locale}
    event["body"], event["headers"]["idempotency-key"] = json.dumps(body), f"key-{customer_email}"
    response = invoke(system, "OrdersApiFunction", event)
    assert response["statusCode"] == 201, response["body"]
    assert system.settle()
    return _invoice(system, "inv_" + json.loads(response["body"])["id"].removeprefix("ord_"))


def _invoice(system: Any, invoice_id: str) -> dict[str, Any]:
    from receivables.invoices import get_invoice

    return get_invoice(system.global_environment()["TABLE_NAME"], invoice_id)


def _dispute(system: Any, invoice: dict[str, Any]) -> None:
    token = invoice["hosted_token"]
    event = _http_event(
        "POST", f"/i/{token}/dispute", "/i/{token}/dispute", "reason=Falsche+Menge", "", token=token
    )
    event["headers"]["content-type"] = "application/x-www-form-urlencoded"
    response = invoke(system, "HostedInvoiceFunction", event)
    assert response["statusCode"] == 200, response["body"]
    assert system.settle()


def _resolve(system: Any, invoice_id: str, outcome: str, note: str | None) -> int:
    body = {"outcome": outcome} | ({"note": note} if note else {})
    event = _http_event(
        "POST",
        f"/invoices/{invoice_id}/dispute/resolve",
        "/invoices/{invoice_id}/dispute/resolve",
        json.dumps(body),
        "application/json",
        invoice_id=invoice_id,
    )
    status = int(invoke(system, "InvoicesApiFunction", event)["statusCode"])
    assert system.settle()
    return status


def _credit_note(system: Any, invoice_id: str, amount: str) -> dict[str, Any]:
    event = load_event("accounting_api/create_credit_note.json")
    event["rawPath"] = event["requestContext"]["http"]["path"] = f"/invoices/{invoice_id}/credit-notes"
    event["pathParameters"]["invoice_id"] = invoice_id
    event["headers"]["idempotency-key"] = f"credit-{invoice_id}"
    event["body"] = json.dumps({"amount": amount, "tax_rate": "19", "reason": "Ein Widget fehlte"})
    response = invoke(system, "AccountingApiFunction", event)
    assert response["statusCode"] == 201, response["body"]
    assert system.settle()
    return dict(json.loads(response["body"]))


def _answers(system: Any, customer_email: str, number: str) -> list[Any]:
    """The dispute answers SES accepted for this customer's invoice (not its invoice or credit notes)."""
    return [
        e for e in system.emails() if customer_email in e.to and number in e.subject and not e.attachments
    ]


def _resolution(system: Any, invoice_id: str) -> dict[str, Any]:
    """The one `invoice.dispute_resolved` event of the invoice, checked against its published schema."""
    [event] = [
        e["detail"]
        for e in system.events()
        if e["detail-type"] == "invoice.dispute_resolved" and e["detail"]["data"]["invoice_id"] == invoice_id
    ]
    schema = json.loads((REPOSITORY / "schemas/events/invoice.dispute_resolved.schema.json").read_text())
    assert not list(Draft202012Validator(schema).iter_errors(event))
    return dict(event["data"])


def _redeliver_resolution(system: Any, invoice_id: str) -> Any:
    """The `invoice.dispute_resolved` outbox record once more, as the queue would redeliver it."""
    record = stream_record(system, "NotifyPaidFunction", invoice_id, "invoice.dispute_resolved")
    return invoke(system, "NotifyPaidFunction", fan_out_event([record]))


def test_a_rejected_dispute_is_answered_once_in_german_with_the_reason_and_a_new_date_to_pay_by(
    local_system: Any,
) -> None:
    # given an invoice disputed and looked into for ten days
    customer = "abgelehnt@example.de"
    invoice = _invoice_for(local_system, customer, "de")
    _dispute(local_system, invoice)
    local_system.advance(timedelta(days=10))
    resolved_on = local_system.clock.now().date()

    # when finance rejects it, retries the request, and the event reaches the consumer again
    reason = "Laut Lieferschein wurden alle 2 Widgets zugestellt."
    first = _resolve(local_system, invoice["id"], "rejected", reason)
    retried = _resolve(local_system, invoice["id"], "rejected", reason)
    redelivered = _redeliver_resolution(local_system, invoice["id"])
    assert local_system.settle()

    # then one German answer names the reason and the invoice's 14 days counted again from the answer
    assert (first, retried, redelivered) == (200, 409, {"batchItemFailures": []})
    [answer] = _answers(local_system, customer, invoice["number"])
    pay_by = resolved_on + timedelta(days=14)
    assert pay_by > date.fromisoformat(invoice["due_date"])
    assert answer.subject == f"Ihr Einwand zur Rechnung {invoice['number']}"
    assert "können ihm aber leider nicht stattgeben" in answer.text
    assert f"Begründung: {reason}" in answer.text
    assert f"Neues Zahlungsziel: {pay_by:%d.%m.%Y}" in answer.text
    assert f"Bitte zahlen Sie den offenen Betrag von 42,82\xa0€ bis zum {pay_by:%d.%m.%Y}." in answer.text
    assert reason in answer.html
    # the invoice keeps its printed due date; dunning looks at it again the day after the new one
    after = _invoice(local_system, invoice["id"])
    assert (after["due_date"], after["disputed"]) == (invoice["due_date"], False)
    assert after["dispute"]["pay_by"] == pay_by.isoformat()
    assert after["next_reminder_at"] == (pay_by + timedelta(days=1)).isoformat()
    assert _resolution(local_system, invoice["id"]) == {
        "invoice_id": invoice["id"],
        "number": invoice["number"],
        "outcome": "rejected",
        "customer_id": invoice["customer_id"],
        "currency": "EUR",
        "account_amount_due": "42.82",
        "note": reason,
        "pay_by": pay_by.isoformat(),
    }


def test_a_rejected_dispute_is_answered_in_english_to_an_english_customer(local_system: Any) -> None:
    customer = "rejected@example.com"
    invoice = _invoice_for(local_system, customer, "en")
    _dispute(local_system, invoice)

    assert _resolve(local_system, invoice["id"], "rejected", "All items were delivered.") == 200

    [answer] = _answers(local_system, customer, invoice["number"])
    # resolved on the day it was issued: the invoice's own due date stands
    due = date.fromisoformat(invoice["due_date"])
    assert answer.subject == f"Your dispute of invoice {invoice['number']}"
    assert "but unfortunately we cannot accept it" in answer.text
    assert "Reason: All items were delivered." in answer.text
    assert f"Please pay the amount due of €42.82 by {due.day} {due:%B %Y}." in answer.text
    assert "New due date" not in answer.text  # the date is the invoice's own


def test_an_upheld_dispute_is_answered_once_in_german_naming_the_credit_note_it_led_to(
    local_system: Any,
) -> None:
    # given a disputed invoice corrected by a credit note while the dispute was open
    customer = "recht@example.de"
    invoice = _invoice_for(local_system, customer, "de")
    _dispute(local_system, invoice)
    credit_note = _credit_note(local_system, invoice["id"], "11.90")
    number = credit_note["number"]

    # when finance upholds the dispute and the event is delivered twice
    assert _resolve(local_system, invoice["id"], "upheld", None) == 200
    assert _redeliver_resolution(local_system, invoice["id"]) == {"batchItemFailures": []}
    assert local_system.settle()

    # then one answer names the credit note and what is still due after it
    [answer] = _answers(local_system, customer, invoice["number"])
    assert answer.subject == f"Ihr Einwand zur Rechnung {invoice['number']}: Wir geben Ihnen recht"
    assert f"Dafür haben wir die Rechnungskorrektur {number} ausgestellt" in answer.text
    assert "Auf der Rechnung sind noch 30,92\xa0€ offen." in answer.text
    assert "Zahlungsziel" not in answer.text
    assert _resolution(local_system, invoice["id"])["credit_notes"] == [
        {"credit_note_id": credit_note["id"], "number": number, "gross": "11.90"}
    ]


def test_an_upheld_dispute_is_answered_in_english_with_finance_s_note(local_system: Any) -> None:
    customer = "upheld@example.com"
    invoice = _invoice_for(local_system, customer, "en")
    _dispute(local_system, invoice)

    assert _resolve(local_system, invoice["id"], "upheld", "We will ship the missing widget today.") == 200

    [answer] = _answers(local_system, customer, invoice["number"])
    assert answer.subject == f"Your dispute of invoice {invoice['number']}: you are right"
    assert "and agree with you." in answer.text
    assert "Note: We will ship the missing widget today." in answer.text
    assert "€42.82 is still due on the invoice." in answer.text
    assert "credit note" not in answer.text


def test_a_chargeback_closed_by_the_card_network_is_not_answered_by_email(local_system: Any) -> None:
    from receivables.dispute_answers import send_dispute_answer
    from receivables.outbox import new_event
    from receivables.seller import load_seller_profile
    from receivables.settings import NotifySettings, load

    customer = "chargeback@example.de"
    invoice = _invoice_for(local_system, customer, "de")
    event = new_event(
        "invoice.dispute_resolved",
        {"invoice_id": invoice["id"], "number": invoice["number"], "outcome": "lost"},
    )

    functions = local_system.topology.functions
    with functions.environment_of(functions.by_logical_id("NotifyPaidFunction")):
        settings = load(NotifySettings)
        sent = send_dispute_answer(
            settings.table_name,
            settings.sender_address,
            settings.public_base_url,
            event,
            load_seller_profile(settings.seller_profile_parameter),
        )
    assert local_system.settle()

    assert sent is None
    assert _answers(local_system, customer, invoice["number"]) == []
