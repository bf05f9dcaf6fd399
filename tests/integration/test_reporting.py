"""Reports on the emulated account: a small scripted history, exact figures, and a replay of the stream.

Payments and refunds go through the real payment rules (`payments.record`); voids and credit notes are
committed as the outbox events their feature emits (`invoice.voided`, `credit_note.issued`), constructed here.
"""

from __future__ import annotations

import copy
import csv
import io
import json
import random
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import boto3
import pytest

from local_runtime.filters import matches
from local_runtime.queues import fan_out_event
from receivables import clock
from receivables.outbox import new_event, outbox_put
from receivables.payments import record
from receivables.provider_events import ProviderEvent
from tests.integration.faults_support import consumer_filter
from tests.support import load_event


def _invoke(system: Any, logical_id: str, event: Any) -> Any:
    function = system.topology.functions.by_logical_id(logical_id)
    return system.topology.functions.invoke(function.name, event)


def _table(system: Any) -> str:
    return str(system.global_environment()["TABLE_NAME"])


def _order(system: Any, external_id: str, email: str, unit_price: str, terms: int) -> dict[str, Any]:
    event = load_event("orders_api/create_order.json")
    body = json.loads(event["body"])
    body["external_id"] = external_id
    body["customer"]["email"] = email
    body["lines"][0]["unit_price"] = unit_price
    body["payment_terms_days"] = terms
    event["body"] = json.dumps(body)
    event["headers"]["idempotency-key"] = external_id
    response = _invoke(system, "OrdersApiFunction", event)
    assert response["statusCode"] == 201, response["body"]
    assert system.settle()
    order_id = json.loads(response["body"])["id"]
    return _get_invoice(system, "inv_" + order_id.removeprefix("ord_"))


def _get_invoice(system: Any, invoice_id: str) -> dict[str, Any]:
    event = load_event("invoices_api/get_invoice.json")
    event["pathParameters"]["invoice_id"] = invoice_id
    event["rawPath"] = event["requestContext"]["http"]["path"] = f"/invoices/{invoice_id}"
    response = _invoke(system, "InvoicesApiFunction", event)
    assert response["statusCode"] == 200, response["body"]
    return dict(json.loads(response["body"]))


def _money(
    system: Any, kind: str, invoice: dict[str, Any], event_id: str, amount: str, method: str = ""
) -> None:
    event = ProviderEvent(
        provider="generic",
        event_id=event_id,
        event_type="payment.succeeded" if kind == "payment" else "payment.refunded",
        kind="payment" if kind == "payment" else "refund",
        occurred_at=clock.iso(clock.now()),
        invoice_id=invoice["id"],
        payment_ref=event_id,
        amount=Decimal(amount),
        currency="EUR",
        method=method or "bank_transfer",
    )
    assert record(_table(system), event, "default").result == "applied"


def _commit(system: Any, event_type: str, data: dict[str, Any]) -> None:
    """Commits an outbox event as the void / credit note features do (their own change is not needed here)."""
    boto3.client("dynamodb").transact_write_items(
        TransactItems=[outbox_put(_table(system), new_event(event_type, data))]
    )


def _report(system: Any, sample: str, query: dict[str, str], accept: str | None = None, **path: str) -> Any:
    event = copy.deepcopy(load_event(f"reports_api/{sample}.json"))
    event["queryStringParameters"] = query
    event["rawQueryString"] = "&".join(f"{k}={v}" for k, v in query.items())
    if accept:
        event["headers"]["accept"] = accept
    if path:
        event["pathParameters"] = path
        event["rawPath"] = event["requestContext"]["http"]["path"] = event["rawPath"].replace(
            "cus_dcc46d538724594a91ed3d9e66117e26", path["customer_id"]
        )
    return _invoke(system, "ReportsApiFunction", event)


def _json(response: Any) -> Any:
    assert response["statusCode"] == 200, response["body"]
    return json.loads(response["body"])


@pytest.fixture(scope="module")
def history(local_system: Any) -> dict[str, Any]:
    """Three invoices; a part payment after 3 days, an overpayment after 13; a refund, credit note, void."""
    a = _order(local_system, "REPORT-A", "reporting-a@example.de", "19.99", 14)  # 42.82
    b = _order(local_system, "REPORT-B", "reporting-a@example.de", "50.00", 7)  # 107.10
    c = _order(local_system, "REPORT-C", "reporting-c@example.de", "100.00", 30)  # 214.20
    local_system.advance(timedelta(days=3))
    _money(local_system, "payment", a, "evt_report_a1", "20.00")
    local_system.advance(timedelta(days=10))
    _money(local_system, "payment", b, "evt_report_b1", "120.00", "card")  # 12.90 beyond the total
    _money(local_system, "refund", b, "evt_report_b2", "30.00")
    _commit(
        local_system,
        "credit_note.issued",
        {
            "credit_note_id": "cn_report_a",
            "number": "GS-2026-900001",
            "invoice_id": a["id"],
            "invoice_number": a["number"],
            "customer_id": a["customer_id"],
            "currency": "EUR",
            "net": "10.00",
            "tax": "1.90",
            "gross": "11.90",
            "tax_breakdown": [{"rate": "19", "net": "10.00", "tax": "1.90"}],
            # the seller-local day (the UTC date differs late in the evening): issued + 13 days, as below
            "issue_date": (date.fromisoformat(a["issue_date"]) + timedelta(days=13)).isoformat(),
            "amount_due": "10.92",
        },
    )
    _commit(
        local_system,
        "invoice.voided",
        {
            "invoice_id": c["id"],
            "number": c["number"],
            "customer_id": c["customer_id"],
            "currency": "EUR",
            "amount_voided": "214.20",
            "voided_at": clock.iso(clock.now()),
        },
    )
    assert local_system.settle()
    issued = date.fromisoformat(a["issue_date"])
    return {"a": a, "b": b, "c": c, "issued": issued, "today": issued + timedelta(days=13)}


def _figures(system: Any, history: dict[str, Any]) -> dict[str, Any]:
    today, issued = history["today"], history["issued"]
    period = {"from": (today - timedelta(days=29)).isoformat(), "to": today.isoformat()}
    customer = history["a"]["customer_id"]
    return {
        "aging": _json(_report(system, "aging", {"as_of": today.isoformat()})),
        "aging_later": _json(_report(system, "aging", {"as_of": (issued + timedelta(days=45)).isoformat()})),
        "dso": _json(_report(system, "dso", period)),
        "by_method": _json(_report(system, "payment_trends_by_method", period | {"group_by": "method"})),
        "by_month": _json(_report(system, "payment_trends_by_method", period | {"group_by": "month"})),
        "statement": _json(_report(system, "customer_statement", period, customer_id=customer)),
        "journal": _report(system, "journal_export", period)["body"],
    }


def _buckets(aging: dict[str, Any]) -> dict[str, tuple[str, int]]:
    (eur,) = aging["currencies"]
    return {
        b["bucket"]: (b["amount"], b["count"]) for b in eur["buckets"] if b["count"] or b["amount"] != "0.00"
    }


def test_the_reports_show_the_scripted_history(local_system: Any, history: dict[str, Any]) -> None:
    figures = _figures(local_system, history)

    # A: 42.82 - 20.00 paid - 11.90 credited = 10.92, due in 1 day; B: refunded 30.00, 6 days past due; C void
    assert _buckets(figures["aging"]) == {"current": ("10.92", 1), "1-30": ("30.00", 1)}
    assert figures["aging"]["currencies"][0]["total"] == {"amount": "40.92", "count": 2}
    assert _buckets(figures["aging_later"]) == {"31-60": ("40.92", 2)}  # 31 and 38 days past due
    (dso,) = figures["dso"]["currencies"]
    # invoiced 42.82 + 107.10 + 214.20 = 364.12, credited 11.90: 40.92 / 352.22 x 30 days
    assert (dso["receivables_end"], dso["credit_sales"], dso["dso"]) == ("40.92", "352.22", "3.5")
    assert [
        (g["group"], g["count"], g["amount"], g["median_days_to_pay"]) for g in figures["by_method"]["groups"]
    ] == [
        ("bank_transfer", 1, "20.00", "3.0"),
        ("card", 1, "120.00", "13.0"),
    ]
    first_month = (history["issued"] + timedelta(days=3)).isoformat()[:7]
    second_month = history["today"].isoformat()[:7]
    expected_months = (
        [(first_month, 2, "140.00", "8.0")]
        if first_month == second_month
        else [(first_month, 1, "20.00", "3.0"), (second_month, 1, "120.00", "13.0")]
    )
    by_month = figures["by_month"]["groups"]
    assert [
        (g["group"], g["count"], g["amount"], g["average_days_to_pay"]) for g in by_month
    ] == expected_months
    (statement,) = figures["statement"]["currencies"]
    # the customer owes 10.92 on A and 30.00 on B, and has 12.90 to its credit from the overpayment
    assert [line["kind"] for line in statement["lines"]] == [
        "invoice", "invoice", "payment", "payment", "refund", "credit_note",
    ]  # fmt: skip
    assert statement["closing_balance"] == "28.02"
    rows = list(csv.DictReader(io.StringIO(figures["journal"])))
    balances: dict[str, Decimal] = {}
    for row in rows:
        balances[row["document"]] = (
            balances.get(row["document"], Decimal(0))
            + Decimal(row["debit"] or 0)
            - Decimal(row["credit"] or 0)
        )
    assert len(balances) == 7  # 3 invoices, 2 payments, 1 refund, 1 credit note (the void shares C's number)
    assert set(balances.values()) == {Decimal(0)}
    receivable = sum(
        Decimal(r["debit"] or 0) - Decimal(r["credit"] or 0) for r in rows if r["account"] == "1400"
    )
    assert receivable == Decimal("40.92")
    assert [r["credit"] for r in rows if r["account"] == "1710"] == ["12.90"]


def test_replaying_the_whole_stream_in_any_order_changes_no_figure(
    local_system: Any, history: dict[str, Any]
) -> None:
    before = _figures(local_system, history)
    (router,) = local_system.pump.consumers
    policy = consumer_filter(local_system, "ProjectAggregatesFunction")
    records = [r for r in router.log if matches(policy, r)]
    assert len(records) == 8  # 3 invoices issued, 2 payments, 1 refund, 1 credit note, 1 void

    shuffled = records[:]
    random.Random(6).shuffle(shuffled)
    for batch_start in range(0, len(records), 10):
        for replay in (records, shuffled):
            response = _invoke(
                local_system,
                "ProjectAggregatesFunction",
                fan_out_event(replay[batch_start : batch_start + 10]),
            )
            assert response == {"batchItemFailures": []}
    assert local_system.settle()

    assert _figures(local_system, history) == before


def test_reports_need_the_reports_scope_and_name_bad_parameters(
    local_system: Any, history: dict[str, Any]
) -> None:
    without_scope = load_event("reports_api/aging.json")
    without_scope["requestContext"]["authorizer"]["lambda"]["scopes"] = "orders"
    forbidden = _invoke(local_system, "ReportsApiFunction", without_scope)
    bad = _invoke(local_system, "ReportsApiFunction", load_event("reports_api/aging_bad_as_of.json"))
    bad_trends = _report(
        local_system, "payment_trends_by_method", {"group_by": "weekday", "from": "2026-02-30"}
    )
    unknown = _report(local_system, "customer_statement", {}, customer_id="cus_nobody")

    assert forbidden["statusCode"] == 403
    assert (bad["statusCode"], bad["headers"]["Content-Type"]) == (422, "application/problem+json")
    assert [e["field"] for e in json.loads(bad["body"])["errors"]] == ["as_of"]
    assert bad_trends["statusCode"] == 422
    assert [e["field"] for e in json.loads(bad_trends["body"])["errors"]] == ["group_by", "from"]
    assert unknown["statusCode"] == 404


def test_each_report_answers_csv_when_asked(local_system: Any, history: dict[str, Any]) -> None:
    today = history["today"].isoformat()
    customer = history["a"]["customer_id"]
    responses = {
        "aging": _report(local_system, "aging", {"as_of": today}, accept="text/csv"),
        "dso": _report(local_system, "dso", {"to": today}, accept="text/csv"),
        "trends": _report(local_system, "payment_trends_by_method", {"to": today}, accept="text/csv"),
        "statement": _report(
            local_system, "customer_statement", {"to": today}, "text/csv", customer_id=customer
        ),
        "journal": _report(local_system, "journal_export", {"to": today}),
    }

    for name, response in responses.items():
        assert response["statusCode"] == 200, (name, response["body"])
        assert response["headers"]["Content-Type"] == "text/csv; charset=utf-8", name
    aging = list(csv.DictReader(io.StringIO(responses["aging"]["body"])))
    assert [(r["bucket"], r["amount"], r["count"]) for r in aging if r["bucket"] == "total"] == [
        ("total", "40.92", "2")
    ]
    header = responses["journal"]["body"].splitlines()[0]
    assert header == "date,document,account,debit,credit,currency,description,entry_id"
