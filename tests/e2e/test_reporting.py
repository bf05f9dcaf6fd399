"""A scripted month through the local runtime: the reports equal what this test computes from the raw records
it fetches through the API, the journal balances, and replaying the whole stream changes no figure.

The runtime is shared with the other e2e tests of this worker: aging and DSO cover every invoice it holds
(so they are recomputed from every invoice), while the period reports start on a day only this test used.
Days are the seller's (Europe/Berlin, the default seller profile's time zone).
"""

from __future__ import annotations

import csv
import io
import json
import statistics
from collections import defaultdict
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from zoneinfo import ZoneInfo

import boto3
import pytest
import requests

from local_runtime.queues import fan_out_event
from tests.conftest import RunningSystem, start_runtime
from tests.support import generic_signature_headers, load_event

pytestmark = pytest.mark.e2e

BERLIN = ZoneInfo("Europe/Berlin")
BUCKETS = ("current", "1-30", "31-60", "61-90", "90+")
ONE_DAY = Decimal("0.1")


# ------------------------------------------------------------------------------------ driving it
def _now(system: RunningSystem) -> datetime:
    text = requests.get(system.url("/_local/clock"), timeout=120).json()["now"]
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _today(system: RunningSystem) -> date:
    return _now(system).astimezone(BERLIN).date()


def _advance(system: RunningSystem, days: int) -> None:
    response = requests.post(system.url("/_local/clock"), json={"advance_days": days}, timeout=900)
    assert response.status_code == 200, response.text


def _order(system: RunningSystem, key: str, email: str, unit_price: str, terms: int) -> dict[str, Any]:
    body = load_event("http/create_order_body.json")
    body["external_id"] = key
    body["customer"]["email"] = email
    body["lines"][0]["unit_price"] = unit_price
    body["payment_terms_days"] = terms
    response = system.post_order(body, key=key)
    assert response.status_code == 201, response.text
    return system.invoice_of(response.json()["id"])


def _webhook(
    system: RunningSystem, invoice: dict[str, Any], event_id: str, amount: str, kind: str, method: str = ""
) -> None:
    """A signed generic webhook, stamped with the runtime's (simulated) clock."""
    now = _now(system)
    body = load_event("http/generic_payment_body.json") | {
        "id": event_id,
        "type": kind,
        "invoice_number": invoice["number"],
        "amount": amount,
        "method": method or "bank_transfer",
        "occurred_at": now.isoformat().replace("+00:00", "Z"),
    }
    raw = json.dumps(body).encode()
    headers = {"content-type": "application/json"} | generic_signature_headers(raw, at=int(now.timestamp()))
    response = requests.post(system.url("/webhooks/generic"), data=raw, headers=headers, timeout=120)
    assert response.status_code == 200, response.text
    assert response.json()["result"] == "applied", response.text


def _get(
    system: RunningSystem, path: str, accept: str = "application/json", **params: str
) -> requests.Response:
    headers = {"x-api-key": system.api_key, "accept": accept}
    response = requests.get(system.url(path), headers=headers, params=params, timeout=120)
    assert response.status_code == 200, response.text
    return response


# ------------------------------------------------------------------------------------ raw records
def _all_invoices(system: RunningSystem) -> list[dict[str, Any]]:
    invoices: list[dict[str, Any]] = []
    token: str | None = None
    while True:
        params = {"limit": "200"} | ({"next_token": token} if token else {})
        page = system.get_json("/invoices", **params)
        invoices += page["items"]
        token = page.get("next_token")
        if not token:
            return invoices


def _payments(system: RunningSystem, invoice: dict[str, Any]) -> list[dict[str, Any]]:
    return list(system.get_json(f"/invoices/{invoice['id']}/payments")["items"])


def _day_of(instant: str) -> date:
    return datetime.fromisoformat(instant.replace("Z", "+00:00")).astimezone(BERLIN).date()


def _bucket(days_past_due: int) -> str:
    for limit, name in ((0, "current"), (30, "1-30"), (60, "31-60"), (90, "61-90")):
        if days_past_due <= limit:
            return name
    return "90+"


def _expected_aging(invoices: list[dict[str, Any]], as_of: date) -> dict[tuple[str, str], tuple[str, int]]:
    sums: dict[tuple[str, str], list[Any]] = defaultdict(lambda: [Decimal(0), 0])
    for invoice in invoices:
        due = Decimal(invoice["amount_due"])
        if invoice["status"] == "void" or due <= 0:
            continue
        key = (invoice["currency"], _bucket((as_of - date.fromisoformat(invoice["due_date"])).days))
        sums[key][0] += due
        sums[key][1] += 1
    return {key: (format(amount, "f"), count) for key, (amount, count) in sums.items()}


def _reported_aging(report: dict[str, Any]) -> dict[tuple[str, str], tuple[str, int]]:
    return {
        (c["currency"], b["bucket"]): (b["amount"], b["count"])
        for c in report["currencies"]
        for b in c["buckets"]
        if b["count"] or Decimal(b["amount"])
    }


def _median(values: list[int]) -> str:
    return format(Decimal(str(statistics.median(values))).quantize(ONE_DAY, rounding=ROUND_HALF_UP), "f")


def _mean(values: list[int]) -> str:
    return format((Decimal(sum(values)) / len(values)).quantize(ONE_DAY, rounding=ROUND_HALF_UP), "f")


# --------------------------------------------------------------------------- the emulated AWS endpoint
def _outbox_records(aws: dict[str, str]) -> Iterator[dict[str, Any]]:
    """Every outbox INSERT the table's stream has carried, shaped as Lambda delivers stream records."""
    dynamodb, streams = boto3.client("dynamodb", **aws), boto3.client("dynamodbstreams", **aws)
    (table,) = [t for t in dynamodb.list_tables()["TableNames"] if t.endswith("ReceivablesTable")]
    stream_arn = dynamodb.describe_table(TableName=table)["Table"]["LatestStreamArn"]
    for shard in streams.describe_stream(StreamArn=stream_arn)["StreamDescription"]["Shards"]:
        iterator = streams.get_shard_iterator(
            StreamArn=stream_arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        while iterator:
            page = streams.get_records(ShardIterator=iterator, Limit=1000)
            for record in page["Records"]:
                image = record["dynamodb"].get("NewImage", {})
                if record["eventName"] != "INSERT" or image.get("entity", {}).get("S") != "outbox_event":
                    continue
                data = dict(record["dynamodb"])
                created = data.get("ApproximateCreationDateTime")
                if isinstance(created, datetime):
                    data["ApproximateCreationDateTime"] = int(created.timestamp())
                yield {
                    "eventID": record["eventID"],
                    "eventName": "INSERT",
                    "eventVersion": "1.1",
                    "eventSource": "aws:dynamodb",
                    "awsRegion": "eu-central-1",
                    "dynamodb": data,
                    "eventSourceARN": stream_arn,
                }
            if not page["Records"]:
                break
            iterator = page.get("NextShardIterator")


# ----------------------------------------------------------------------------------------- the test
@pytest.fixture(scope="module")
def running_system(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningSystem]:
    """A runtime of its own: the replay re-delivers the whole stream, which on the shared runtime holds
    every other test's records too (minutes instead of seconds)."""
    yield from start_runtime(tmp_path_factory)


def test_a_scripted_month_reports_what_the_raw_records_say_and_a_replay_changes_nothing(
    running_system: RunningSystem,
) -> None:
    system = running_system
    _advance(system, 2)  # a day no earlier test of this runtime has touched
    start = _today(system)

    # given five invoices of three customers
    r1 = _order(system, "REPORTING-1", "reporting-e2e-a@example.de", "19.99", 14)
    r2 = _order(system, "REPORTING-2", "reporting-e2e-a@example.de", "50.00", 7)
    r3 = _order(system, "REPORTING-3", "reporting-e2e-b@example.de", "100.00", 30)
    r4 = _order(system, "REPORTING-4", "reporting-e2e-b@example.de", "12.50", 30)
    r5 = _order(system, "REPORTING-5", "reporting-e2e-c@example.de", "75.00", 60)
    mine = [r1, r2, r3, r4, r5]

    # and a month of payments: full, partial, an overpayment, a refund, and invoices running overdue
    _webhook(system, r1, "evt_reporting_1", r1["total"], "payment.succeeded")
    _advance(system, 5)
    _webhook(system, r2, "evt_reporting_2", "50.00", "payment.succeeded", "card")
    _webhook(system, r3, "evt_reporting_3", "220.00", "payment.succeeded", "paypal")
    _advance(system, 10)
    _webhook(system, r1, "evt_reporting_4", "12.82", "payment.refunded")
    _advance(system, 25)
    _webhook(system, r4, "evt_reporting_5", "10.00", "payment.succeeded")
    _advance(system, 8)
    system.settle()
    today = _today(system)
    assert (today - start).days == 48

    # the raw records, through the API
    invoices = _all_invoices(system)
    mine = [next(i for i in invoices if i["id"] == m["id"]) for m in mine]
    payments = {i["id"]: _payments(system, i) for i in mine}

    # aging, today and 45 days on: every invoice of the runtime, bucketed by its due date
    figures: dict[str, Any] = {}
    for as_of in (today, today + timedelta(days=45)):
        report = _get(system, "/reports/aging", as_of=as_of.isoformat()).json()
        assert _reported_aging(report) == _expected_aging(invoices, as_of), as_of
        figures[f"aging {as_of}"] = report
    assert {b for (_, b) in _expected_aging(invoices, today)} >= {"current", "1-30", "31-60"}

    # DSO over the period only this test used
    period = {"from": start.isoformat(), "to": today.isoformat()}
    dso = _get(system, "/reports/dso", **period).json()
    days = (today - start).days + 1
    receivables: dict[str, Decimal] = defaultdict(Decimal)
    sales: dict[str, Decimal] = defaultdict(Decimal)
    for invoice in invoices:
        if invoice["status"] != "void":
            receivables[invoice["currency"]] += Decimal(invoice["amount_due"])
        if start <= date.fromisoformat(invoice["issue_date"]) <= today:
            sales[invoice["currency"]] += Decimal(invoice["total"])
    for row in dso["currencies"]:
        currency = row["currency"]
        assert Decimal(row["receivables_end"]) == receivables[currency], row
        assert Decimal(row["credit_sales"]) == sales[currency], row
        expected = (
            format((receivables[currency] / sales[currency] * days).quantize(ONE_DAY, ROUND_HALF_UP), "f")
            if sales[currency]
            else None
        )
        assert row["dso"] == expected, row
    assert sales["EUR"] == sum(Decimal(i["total"]) for i in mine)
    assert {c for c, amount in receivables.items() if amount} <= {
        row["currency"] for row in dso["currencies"]
    }
    figures["dso"] = dso

    # payment trends, by month and by method: count, amount, average and median days to pay
    facts = [
        (p["method"], _day_of(p["recorded_at"]), Decimal(p["amount"]), invoice)
        for invoice in mine
        for p in payments[invoice["id"]]
        if p["kind"] == "payment" and p["status"] == "applied"
    ]
    assert len(facts) == 4
    for group_by in ("month", "method"):
        groups: dict[str, list[tuple[Decimal, int]]] = defaultdict(list)
        for method, day, amount, invoice in facts:
            key = day.isoformat()[:7] if group_by == "month" else method
            groups[key].append((amount, (day - date.fromisoformat(invoice["issue_date"])).days))
        expected_groups = [
            {
                "currency": "EUR",
                "group": key,
                "count": len(members),
                "amount": format(sum(a for a, _ in members), "f"),
                "average_days_to_pay": _mean([d for _, d in members]),
                "median_days_to_pay": _median([d for _, d in members]),
            }
            for key, members in sorted(groups.items())
        ]
        trends = _get(system, "/reports/payment-trends", group_by=group_by, **period).json()
        assert trends["groups"] == expected_groups, group_by
        figures[f"trends {group_by}"] = trends

    # the statement of customer A: what its invoices still ask for, less its credit
    customer = r1["customer_id"]
    statement = _get(system, f"/customers/{customer}/statement", **period).json()
    (eur,) = statement["currencies"]
    owed = sum(Decimal(i["amount_due"]) for i in mine if i["customer_id"] == customer)
    credit = Decimal(system.get_json(f"/customers/{customer}")["credit_balance"].get("EUR", "0"))
    assert Decimal(eur["closing_balance"]) == owed - credit
    assert [line["kind"] for line in eur["lines"]] == ["invoice", "invoice", "payment", "payment", "refund"]
    figures["statement"] = statement

    # the journal balances per document and overall; the receivable moved by what is still due
    journal = _get(system, "/exports/journal", accept="text/csv", **period)
    assert journal.headers["content-type"] == "text/csv; charset=utf-8"
    rows = list(csv.DictReader(io.StringIO(journal.text)))
    per_document: dict[str, Decimal] = defaultdict(Decimal)
    for row in rows:
        per_document[row["document"]] += Decimal(row["debit"] or 0) - Decimal(row["credit"] or 0)
    assert len(per_document) == 5 + 4 + 1
    assert set(per_document.values()) == {Decimal(0)}
    receivable = sum(
        Decimal(r["debit"] or 0) - Decimal(r["credit"] or 0) for r in rows if r["account"] == "1400"
    )
    assert receivable == sum(Decimal(i["amount_due"]) for i in mine)
    surplus = [r["credit"] for r in rows if r["account"] == "1710"]
    assert surplus == ["5.80"]  # r3: 220.00 paid on 214.20
    figures["journal"] = journal.text

    # the nightly schedule wrote the first day's journal to S3 (mirrored into the state directory)
    first_day = f"exports/journal/{start.year}/{start.isoformat()}.csv"
    system.settle()
    stored = next(iter(system.state_dir.glob(f"s3/*/{first_day}")))
    one_day = _get(
        system, "/exports/journal", accept="text/csv", **{"from": start.isoformat(), "to": start.isoformat()}
    )
    assert stored.read_bytes() == one_day.content  # byte for byte, CRLF rows as RFC 4180 has them

    # when the whole stream is delivered to the consumer again
    aws = system.emulated_aws()
    lambda_client = boto3.client("lambda", **aws)
    (function,) = [
        f["FunctionName"]
        for f in lambda_client.list_functions()["Functions"]
        if f["FunctionName"].endswith("ProjectAggregatesFunction")
    ]
    records = list(_outbox_records(aws))
    assert len(records) > 20
    for batch in range(0, len(records), 10):  # as its FIFO queue hands them over: 10 at most
        response = lambda_client.invoke(
            FunctionName=function, Payload=json.dumps(fan_out_event(records[batch : batch + 10])).encode()
        )
        assert "FunctionError" not in response
        assert json.loads(response["Payload"].read()) == {"batchItemFailures": []}
    system.settle()

    # then no figure changed
    assert _get(system, "/reports/aging", as_of=today.isoformat()).json() == figures[f"aging {today}"]
    later = today + timedelta(days=45)
    assert _get(system, "/reports/aging", as_of=later.isoformat()).json() == figures[f"aging {later}"]
    assert _get(system, "/reports/dso", **period).json() == figures["dso"]
    for group_by in ("month", "method"):
        again = _get(system, "/reports/payment-trends", group_by=group_by, **period).json()
        assert again == figures[f"trends {group_by}"]
    assert _get(system, f"/customers/{customer}/statement", **period).json() == figures["statement"]
    assert _get(system, "/exports/journal", accept="text/csv", **period).text == figures["journal"]
