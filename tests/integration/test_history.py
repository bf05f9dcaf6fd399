"""The invoice's audit trail: entries built from stream records (pure), and the consumer and route on moto."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from receivables.history import build_entry, change_time
from tests.support import load_event, stripe_signature

SAMPLE_INVOICE = "inv_c060d9732b6f5c158fe6ec18b68018b6"
ISSUED = {
    "id": SAMPLE_INVOICE,
    "status": "open",
    "currency": "EUR",
    "amount_paid": Decimal(0),
    "amount_refunded": Decimal(0),
    "amount_due": Decimal("42.82"),
    "disputed": False,
    "reminders_sent": 0,
    "version": 1,
    "created_at": "2026-11-23T09:00:00.000Z",
    "next_reminder_at": "2026-12-04",
}


# ----------------------------------------------------------------------------------- pure rules
def test_an_insert_is_the_issue_with_what_the_invoice_starts_with() -> None:
    entry = build_entry("e1", "100", 1795338000, None, ISSUED)

    assert entry is not None
    assert (entry["at"], entry["actor"], entry["cause"], entry["kind"]) == (
        "2026-11-23T09:00:00.000Z",
        "system",
        "issued",
        "issued",
    )
    assert entry["changes"] == {
        "status": {"old": None, "new": "open"},
        "amount_due": {"old": None, "new": Decimal("42.82")},
    }
    assert (entry["pk"], entry["sk"]) == (f"INVOICE#{SAMPLE_INVOICE}", "HISTORY#2026-11-23T09:00:00.000Z#e1")


def test_a_change_names_its_writer_its_cause_and_each_field_old_to_new() -> None:
    paid = ISSUED | {
        "status": "partially_paid",
        "amount_paid": Decimal("20.00"),
        "amount_due": Decimal("22.82"),
        "updated_at": "2026-11-25T10:00:00.000Z",
        "changed_by": "stripe",
        "change_cause": "payment_intent.succeeded evt_1",
        "version": 2,
    }

    entry = build_entry("e2", "101", 1795338000, ISSUED, paid)

    assert entry is not None
    assert (entry["at"], entry["actor"], entry["cause"]) == (
        "2026-11-25T10:00:00.000Z",
        "stripe",
        "payment_intent.succeeded evt_1",
    )
    assert entry["changes"] == {
        "status": {"old": "open", "new": "partially_paid"},
        "amount_paid": {"old": Decimal(0), "new": Decimal("20.00")},
        "amount_due": {"old": Decimal("42.82"), "new": Decimal("22.82")},
    }


def test_a_writer_that_names_no_cause_does_not_inherit_the_previous_one() -> None:
    paid = ISSUED | {"changed_by": "stripe", "change_cause": "payment_intent.succeeded evt_1"}
    emailed = paid | {"email_sent_at": "2026-11-25T11:00:00.000Z", "email_message_id": "m-1"}

    entry = build_entry("e3", "102", 1795338000, paid, emailed)

    assert entry is not None
    assert (entry["actor"], entry["cause"], entry["at"]) == (
        "system",
        "invoice emailed",
        "2026-11-25T11:00:00.000Z",
    )
    assert entry["other_fields"] == ["email_message_id"]


def test_the_schedule_moving_is_not_an_event_of_the_invoice() -> None:
    moved = ISSUED | {"next_reminder_at": "2026-12-10", "gsi2sk": "2026-12-10#x", "version": 2}

    assert build_entry("e4", "103", 1795338000, ISSUED, moved) is None


def test_the_time_comes_from_the_change_itself_even_inside_a_map() -> None:
    disputed = ISSUED | {
        "disputed": True,
        "dispute": {"state": "open", "opened_at": "2026-11-26T08:00:00.000Z"},
    }

    assert change_time(ISSUED, disputed, 1795338000) == "2026-11-26T08:00:00.000Z"
    assert change_time(ISSUED, ISSUED | {"status": "void"}, 1795338000) == "2026-11-22T09:00:00.000Z"


# ----------------------------------------------------------------------------------- on moto
def _invoke(system: Any, logical_id: str, event: Any) -> Any:
    function = system.topology.functions.by_logical_id(logical_id)
    return system.topology.functions.invoke(function.name, event)


def _history(system: Any, storefront: str | None = None) -> tuple[int, Any]:
    event = load_event("accounting_api/invoice_history.json")
    if storefront:
        event["requestContext"]["authorizer"]["lambda"]["storefront_id"] = storefront
    response = _invoke(system, "AccountingApiFunction", event)
    return response["statusCode"], json.loads(response["body"])


def test_the_trail_lists_issue_delivery_payment_and_void_oldest_first(local_system: Any) -> None:
    assert (
        _invoke(local_system, "OrdersApiFunction", load_event("orders_api/create_order.json"))["statusCode"]
        == 201
    )
    assert local_system.settle()
    payment = load_event("payment_webhooks/stripe_payment_intent_succeeded.json")
    stripe = json.loads(payment["body"])
    stripe["data"]["object"]["amount_received"] = 1000
    payment["body"] = json.dumps(stripe)
    payment["headers"]["stripe-signature"] = stripe_signature(
        payment["body"].encode(), at=int(local_system.clock.now().timestamp())
    )
    assert (
        json.loads(_invoke(local_system, "PaymentWebhooksFunction", payment)["body"])["result"] == "applied"
    )
    assert local_system.settle()

    status, history = _history(local_system)

    assert status == 200
    items = history["items"]
    assert [(i["actor"], i["cause"]) for i in items] == [
        ("system", "issued"),
        ("system", "PDF rendered"),
        ("system", "invoice emailed"),
        ("stripe", f"payment_intent.succeeded {stripe['id']}"),
    ]
    assert [i["at"] for i in items] == sorted(i["at"] for i in items)
    assert items[-1]["changes"] == {
        "amount_due": {"old": "42.82", "new": "32.82"},
        "amount_paid": {"old": "0.00", "new": "10.00"},
        "status": {"old": "open", "new": "partially_paid"},
    }
    assert items[0]["changes"]["amount_due"] == {"old": None, "new": "42.82"}


def test_a_redelivered_stream_record_writes_no_second_entry(local_system: Any) -> None:
    before = len(_history(local_system)[1]["items"])
    sample = load_event("record_history/invoice_voided.json")

    first = _invoke(local_system, "RecordHistoryFunction", sample)
    again = _invoke(local_system, "RecordHistoryFunction", sample)

    assert first == again == {"batchItemFailures": []}
    items = _history(local_system)[1]["items"]
    assert len(items) == before + 1
    assert [i["cause"] for i in items].count("voided: Bestellung vor Lieferung storniert") == 1


def test_another_storefronts_invoice_has_no_history_for_the_caller(local_system: Any) -> None:
    assert _history(local_system, storefront="another-storefront")[0] == 404
