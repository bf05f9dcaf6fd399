"""What one invoice costs on AWS, counted from a real invoice life in the in-process local runtime.

The life, through the same HTTP front and stream, schedule and Step Functions wiring as `make run`: a
storefront posts an order (API Gateway + authorizer), the invoice is issued, rendered to PDF and emailed,
the simulated clock moves one day at a time (each day's schedules fire) until two reminders have gone
out, then the bank reports the payment on the generic webhook and the paid confirmation follows.
bench/aws_usage.py counts what that asks of AWS: each Lambda invocation with its measured duration and
its function's MemorySize from template.yaml, DynamoDB request units from item sizes, S3 requests, SES
emails and bytes, EventBridge events, Step Functions state transitions (standard workflow; a life that
is paid after two reminders escalates nothing, and none are invented), Secrets Manager calls and the
handlers' log output. DynamoDB stream reads by Lambda triggers are free and not counted.

A first, short life (due at once, paid after one reminder) warms every function up and is not counted;
the second one is. Durations are wall time measured on this machine with in-process moto answering in
about a millisecond: a laptop proxy for Lambda's, which run on a share of a Graviton core (512 MB gets
about a third of one), wait on the network, and pay for init on a cold start.

Scheduled runs that did nothing for the invoice (the daily dunning run on days without a reminder, the
nightly journal export) cost the same at any volume: they are reported as a fixed cost per month, not
per invoice. Storage (the invoice's items and its PDF, kept for years) is reported per month kept.
Prices: bench/prices.py. Target: at most $0.25 per 1,000 invoices; Stripe Invoicing's 0.4 % of a
EUR 100 average invoice (EUR 400 per 1,000 invoices) beside it. Issue 17's rows: the same without the two
SES lines (at most $0.08), and the life's Lambda invocations (at most 12; the authorizer is counted, idle
scheduled runs are not). Without target, counted the same way after the life: a subscription period
(everything POST /subscriptions causes, its first period's invoice issued, rendered and emailed) and a
bank-statement entry (a one-entry camt.053 paying an open invoice in full, until the paid confirmation).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import math
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from bench import prices
from bench.aws_usage import Invocation, UsageMeter
from bench.isolated import REPOSITORY, Row, run_isolated, smoke

TARGET_USD_PER_1000 = 0.25
TARGET_USD_PER_1000_WITHOUT_SES = 0.08  # issue 17: what is ours to cut, SES's list price aside
TARGET_INVOCATIONS = 12
SES_LINES = ("SES emails", "SES data")
REMINDERS = 2
PAYMENT_TERMS_DAYS = 14  # the sample order's; the default policy reminds 3 days before and 1 day after
MAX_DAYS = 40
API_KEY = "dev-storefront-key"
WEBHOOK_SECRET = "local-webhook-secret"  # noqa: S105 - the local runtime's default (API.md)


@dataclass
class Life:
    invocations: list[Invocation]
    fixed: list[Invocation]  # scheduled runs that did nothing for this invoice
    days: int
    http_requests: int
    state_transitions: int
    stored_item_bytes: int


def _request(system: Any, method: str, path: str, body: bytes, headers: dict[str, str]) -> Any:
    from local_runtime.gateway import HttpRequest

    return system.gateway.handle(HttpRequest(method, path, "", headers, body))


def _order(system: Any, number: int, payment_terms_days: int) -> str:
    body = json.loads((REPOSITORY / "events/http/create_order_body.json").read_text())
    body["payment_terms_days"] = payment_terms_days
    body["external_id"] = f"LIFE-{number}"
    body["customer"] = body["customer"] | {"email": f"life-{number}@example.de"}
    headers = {"x-api-key": API_KEY, "idempotency-key": f"life-{number}", "content-type": "application/json"}
    response = _request(system, "POST", "/orders", json.dumps(body).encode(), headers)
    if response.status != 201:
        raise RuntimeError(f"POST /orders answered {response.status}: {response.body!r}")
    order_id: str = json.loads(response.body)["id"]
    return order_id


def _invoice(system: Any, order_id: str) -> dict[str, Any]:
    from receivables import aws
    from receivables.items import from_item, to_item

    table = system.global_environment()["TABLE_NAME"]
    client = aws.client("dynamodb")
    key = {"pk": f"INVOICE#inv_{order_id.removeprefix('ord_')}", "sk": "INVOICE"}
    found = client.get_item(TableName=table, Key=to_item(key), ConsistentRead=True)
    if "Item" not in found:
        raise RuntimeError(f"order {order_id} has no invoice")
    invoice: dict[str, Any] = from_item(found["Item"])
    return invoice


def _pay(system: Any, invoice: dict[str, Any], number: int) -> None:
    """The bank's payment notice on the generic webhook, signed as API.md describes."""
    now = system.clock.now()
    body = {
        "id": f"evt_life_{number}",
        "type": "payment.succeeded",
        "invoice_number": invoice["number"],
        "amount": str(invoice["amount_due"]),
        "currency": invoice["currency"],
        "method": "bank_transfer",
        "occurred_at": system.clock.iso(now),
    }
    raw = json.dumps(body).encode()
    timestamp = str(int(now.timestamp()))
    digest = hmac.new(WEBHOOK_SECRET.encode(), timestamp.encode() + b"." + raw, hashlib.sha256).hexdigest()
    headers = {
        "content-type": "application/json",
        "x-webhook-timestamp": timestamp,
        "x-webhook-signature": f"v1={digest}",
    }
    response = _request(system, "POST", "/webhooks/generic", raw, headers)
    if response.status != 200:
        raise RuntimeError(f"the payment webhook answered {response.status}: {response.body!r}")


def _stored_bytes(system: Any) -> int:
    """DynamoDB's billed storage of the main table: each item's size plus 100 bytes, once in the table and
    once more in every global secondary index that holds it (all of them project ALL)."""
    from moto.dynamodb.models import dynamodb_backends

    from local_runtime.template import ACCOUNT_ID, REGION

    table = dynamodb_backends[ACCOUNT_ID][REGION].get_table(system.global_environment()["TABLE_NAME"])
    total = 0
    for item in table.all_items():
        copies = 1 + sum(
            1 for index in table.global_indexes if all(a in item.attrs for a in index.schema_key_attrs)
        )
        total += copies * (int(item.size()) + 100)
    return total


def _settled(system: Any) -> None:
    if not system.settle():
        raise RuntimeError("the local runtime did not settle within a minute")


def _live(system: Any, meter: UsageMeter, number: int, reminders: int, payment_terms_days: int) -> Life:
    """One invoice's life; the meter holds only what it caused (and the schedules that ran meanwhile)."""
    _settled(system)
    meter.reset()
    stored_before = _stored_bytes(system)
    order_id = _order(system, number, payment_terms_days)
    _settled(system)
    invoice = _invoice(system, order_id)
    if not invoice.get("email_sent_at"):
        raise RuntimeError(f"invoice {invoice['id']} was not emailed")
    days = 0
    while int(invoice.get("reminders_sent", 0)) < reminders:
        if days == MAX_DAYS:
            raise RuntimeError(f"only {invoice.get('reminders_sent')} reminders after {MAX_DAYS} days")
        system.advance(timedelta(days=1))
        days += 1
        invoice = _invoice(system, order_id)
    _pay(system, invoice, number)
    _settled(system)
    if _invoice(system, order_id)["status"] != "paid":
        raise RuntimeError("the invoice is not paid after the payment webhook")
    invocations = list(meter.invocations)
    fixed = [i for i in invocations if i.trigger == "schedule" and i.total("emails") == 0]
    return Life(
        invocations=[i for i in invocations if i not in fixed],
        fixed=fixed,
        days=days,
        http_requests=2,
        state_transitions=meter.state_transitions(),
        stored_item_bytes=_stored_bytes(system) - stored_before,
    )


def _episode(system: Any, meter: UsageMeter, action: Any, http_requests: int) -> Life:
    """Everything `action` (one HTTP request) caused until the system settled, counted as a Life is."""
    _settled(system)
    meter.reset()
    stored_before = _stored_bytes(system)
    action()
    _settled(system)
    return Life(
        invocations=list(meter.invocations),
        fixed=[],
        days=0,
        http_requests=http_requests,
        state_transitions=meter.state_transitions(),
        stored_item_bytes=_stored_bytes(system) - stored_before,
    )


def _subscribe(system: Any) -> None:
    """POST /subscriptions with the sample body: the subscription, and its first period's invoice issued,
    rendered and emailed at once (decisions/0026)."""
    event = json.loads((REPOSITORY / "events/subscriptions_api/create_subscription.json").read_text())
    headers = {"x-api-key": API_KEY, "idempotency-key": "cost-sub-1", "content-type": "application/json"}
    response = _request(system, "POST", "/subscriptions", event["body"].encode(), headers)
    if response.status != 201:
        raise RuntimeError(f"POST /subscriptions answered {response.status}: {response.body!r}")


def _statement_paying(invoice: dict[str, Any]) -> bytes:
    """The camt.053 sample (events/bank_statements) cut to its first entry, which now pays `invoice` in
    full with its number in the remittance text."""
    import re

    xml = (REPOSITORY / "events/bank_statements/camt053_001_08.xml").read_text()
    entries = re.findall(r"\s*<Ntry>.*?</Ntry>", xml, flags=re.S)
    xml = xml.replace("".join(entries[1:]), "")
    xml = xml.replace(">1190.00<", f">{invoice['amount_due']}<").replace(
        "RE 2026-000123", f"RE {invoice['number']}"
    )
    return xml.replace("2026112300012345", f"COST{invoice['number']}").encode()


def _import_statement(system: Any, invoice: dict[str, Any]) -> None:
    headers = {"x-api-key": API_KEY, "idempotency-key": f"cost-{invoice['number']}"}
    headers["content-type"] = "application/xml"
    response = _request(system, "POST", "/bank-statements", _statement_paying(invoice), headers)
    if response.status != 202:
        raise RuntimeError(f"POST /bank-statements answered {response.status}: {response.body!r}")


def _usd(life: Life) -> float:
    return sum(usd for _, usd in _costs(life).values())


def _billed_gb_seconds(invocations: list[Invocation]) -> float:
    """Lambda bills each invocation's duration rounded up to the millisecond."""
    return sum(i.memory_mb / 1024 * math.ceil(i.seconds * 1000) / 1000 for i in invocations)


def _total(invocations: list[Invocation], unit: str) -> float:
    return sum(i.total(unit) for i in invocations)


def _costs(life: Life) -> dict[str, tuple[str, float]]:
    """Each cost line of one invoice life: (what was counted, US dollars)."""
    calls = life.invocations
    invocations = len(calls)
    gb_seconds = _billed_gb_seconds(calls)
    wru, rru = _total(calls, "wru"), _total(calls, "rru")
    s3_put, s3_get = _total(calls, "s3_put"), _total(calls, "s3_get")
    emails, email_bytes = _total(calls, "emails"), _total(calls, "email_bytes")
    events = _total(calls, "events")
    secrets, publishes = _total(calls, "secrets_calls"), _total(calls, "sns")
    log_bytes = sum(i.log_bytes for i in calls) + invocations * prices.LAMBDA_PLATFORM_LOG_BYTES
    return {
        "Lambda requests": (f"{invocations} invocations", prices.LAMBDA_REQUEST.cost(invocations)),
        "Lambda duration (laptop-measured proxy)": (
            f"{gb_seconds:.3f} GB-s",
            prices.LAMBDA_GB_SECOND.cost(gb_seconds),
        ),
        "DynamoDB writes": (f"{wru:g} WRU", prices.DYNAMODB_WRITE.cost(wru)),
        "DynamoDB reads": (f"{rru:g} RRU", prices.DYNAMODB_READ.cost(rru)),
        "S3 requests": (
            f"{s3_put:g} PUT, {s3_get:g} GET",
            prices.S3_PUT.cost(s3_put) + prices.S3_GET.cost(s3_get),
        ),
        "SES emails": (f"{emails:g} emails", prices.SES_EMAIL.cost(emails)),
        "SES data": (f"{email_bytes / 1024:.0f} KB", prices.SES_DATA.cost(email_bytes)),
        "EventBridge events + SQS subscriber": (
            f"{events:g} events",
            prices.EVENTBRIDGE_EVENT.cost(events) + prices.SQS_REQUEST.cost(events),
        ),
        "Step Functions transitions": (
            f"{life.state_transitions} transitions",
            prices.STEP_FUNCTIONS_TRANSITION.cost(life.state_transitions),
        ),
        "API Gateway HTTP API": (
            f"{life.http_requests} requests",
            prices.HTTP_API_REQUEST.cost(life.http_requests),
        ),
        "Secrets Manager + SNS": (
            f"{secrets:g} calls, {publishes:g} publishes",
            prices.SECRETS_MANAGER_CALL.cost(secrets) + prices.SNS_PUBLISH.cost(publishes),
        ),
        "CloudWatch Logs ingestion": (f"{log_bytes / 1024:.0f} KB", prices.LOGS_INGESTION.cost(log_bytes)),
    }  # fmt: skip


def _fixed_per_month(life: Life) -> float:
    """The idle scheduled runs seen during the life, scaled to a 30-day month."""
    runs = life.fixed
    usd = prices.LAMBDA_REQUEST.cost(len(runs)) + prices.LAMBDA_GB_SECOND.cost(_billed_gb_seconds(runs))
    usd += prices.DYNAMODB_WRITE.cost(_total(runs, "wru")) + prices.DYNAMODB_READ.cost(_total(runs, "rru"))
    usd += prices.S3_PUT.cost(_total(runs, "s3_put")) + prices.S3_GET.cost(_total(runs, "s3_get"))
    return usd / max(1, life.days) * 30


def _storage_per_month(life: Life) -> float:
    pdf_bytes = sum(c.units.get("s3_bytes", 0.0) for i in life.invocations for c in i.calls)
    return prices.DYNAMODB_STORAGE.cost(life.stored_item_bytes / 1024**3) + prices.S3_STORAGE.cost(
        pdf_bytes / 1024**3
    )


def _breakdown(life: Life) -> list[dict[str, Any]]:
    by_function: dict[str, list[Invocation]] = defaultdict(list)
    for invocation in life.invocations:
        by_function[invocation.logical_id].append(invocation)
    return [
        {
            "function": name,
            "memory_mb": calls[0].memory_mb,
            "invocations": len(calls),
            "ms": round(sum(i.seconds for i in calls) * 1000, 1),
            "gb_s": round(_billed_gb_seconds(calls), 4),
            "wru": _total(calls, "wru"),
            "rru": _total(calls, "rru"),
            "other": ", ".join(
                f"{k} {v:g}"
                for k in ("s3_put", "s3_get", "emails", "events", "secrets_calls")
                if (v := _total(calls, k))
            ),
            "dynamodb_calls": [
                f"{c.operation} " + ", ".join(f"{u} {v:g}" for u, v in c.units.items())
                for i in calls
                for c in i.calls
                if c.service == "dynamodb"
            ],
        }
        for name, calls in sorted(by_function.items())
    ]


def measure() -> list[Row]:
    meter = UsageMeter()
    with meter.installed():
        from local_runtime.system import LocalSystem
        from receivables import aws

        aws.reset_clients()
        system = LocalSystem(state_dir=Path(tempfile.mkdtemp(prefix="bench-cost-"))).start()
        try:
            # A short life (due at once, one reminder the next day) takes every step in a few simulated
            # days: the smoke test's whole run, and the warm-up (imports, clients, caches) otherwise.
            life = _live(system, meter, 1, reminders=1, payment_terms_days=0)
            if not smoke():
                started = time.perf_counter()
                life = _live(system, meter, 2, REMINDERS, PAYMENT_TERMS_DAYS)
                print(
                    f"invoice life: {time.perf_counter() - started:.1f}s, {life.days} days", file=sys.stderr
                )
            period = _episode(system, meter, lambda: _subscribe(system), http_requests=1)
            if not any(i.total("emails") for i in period.invocations):
                raise RuntimeError("the subscription's first period was not invoiced by email")
            unpaid_order = _order(system, 3, PAYMENT_TERMS_DAYS)
            _settled(system)
            unpaid = _invoice(system, unpaid_order)
            entry = _episode(system, meter, lambda: _import_statement(system, unpaid), http_requests=1)
            if _invoice(system, unpaid_order)["status"] != "paid":
                raise RuntimeError("the bank-statement entry did not pay its invoice")
        finally:
            system.stop()
            aws.reset_clients()
    return _rows(life) + _other_rows(period, entry)


def _other_rows(period: Life, entry: Life) -> list[Row]:
    """No target: what a subscription period and a bank-statement entry cost, counted as the life is."""
    return [
        {
            "name": "cost per 1,000 subscription periods (POST /subscriptions: first period invoiced)",
            "value": round(_usd(period) * 1000, 4),
            "unit": "$/1k",
            "target": "report",
            "invocations": len(period.invocations),
        },
        {
            "name": "cost per 1,000 bank-statement entries (one-entry camt.053 paying an invoice in full)",
            "value": round(_usd(entry) * 1000, 4),
            "unit": "$/1k",
            "target": "report",
            "invocations": len(entry.invocations),
        },
    ]


def _rows(life: Life) -> list[Row]:
    costs = _costs(life)
    total = sum(usd for _, usd in costs.values()) * 1000
    unit = "$/1k inv"
    rows: list[Row] = [
        {
            "name": "cost per 1,000 invoices (issue, PDF, email, 2 reminders, payment)",
            "value": round(total, 4),
            "unit": unit,
            "target": f"<= ${TARGET_USD_PER_1000}",
            "ratio": round(total / TARGET_USD_PER_1000, 2),
            "breakdown": _breakdown(life),
            "prices": f"{prices.REGION}, arm64, list prices {prices.PRICE_LIST_DATE} (bench/prices.py)",
        }
    ]
    without_ses = sum(usd for name, (_, usd) in costs.items() if name not in SES_LINES) * 1000
    invocations = len(life.invocations)
    rows += [
        {
            "name": "cost per 1,000 invoices excluding SES",
            "value": round(without_ses, 4),
            "unit": unit,
            "target": f"<= ${TARGET_USD_PER_1000_WITHOUT_SES}",
            "ratio": round(without_ses / TARGET_USD_PER_1000_WITHOUT_SES, 2),
        },
        {
            "name": "Lambda invocations per invoice life (authorizer included, idle schedules not)",
            "value": invocations,
            "unit": "calls",
            "target": f"<= {TARGET_INVOCATIONS}",
            "ratio": round(invocations / TARGET_INVOCATIONS, 2),
            "by_function": {line["function"]: line["invocations"] for line in _breakdown(life)},
        },
    ]
    for name, (counted, usd) in costs.items():
        rows.append(
            {
                "name": f"  cost/1k: {name}, {counted} per invoice",
                "value": round(usd * 1000, 4),
                "unit": unit,
                "share": round(usd * 1000 / total, 3) if total else 0,
            }
        )
    stripe = prices.STRIPE_INVOICING_RATE * prices.AVERAGE_INVOICE_EUR * 1000
    rows += [
        {
            "name": "  Stripe Invoicing Starter: 0.4% of a EUR 100 average invoice",
            "value": round(stripe),
            "unit": "EUR/1k",
            "source": prices.STRIPE_SOURCE,
        },
        {
            "name": f"cost fixed per month: idle scheduled runs ({len(life.fixed)} in {life.days} days)",
            "value": round(_fixed_per_month(life), 4),
            "unit": "$/month",
        },
        {
            "name": "cost of storage per 1,000 invoices kept, per month (items + PDF)",
            "value": round(_storage_per_month(life) * 1000, 4),
            "unit": "$/month",
            "item_bytes_per_invoice": life.stored_item_bytes,
        },
    ]
    return rows


def run() -> list[Row]:
    rows = run_isolated(__name__)
    print("cost model, per invoice life, by function (laptop-measured durations):", file=sys.stderr)
    for line in rows[0].get("breakdown", []):
        print(
            f"  {line['function']:<28} {line['memory_mb']:>5} MB x{line['invocations']:<2} {line['ms']:>8} ms"
            f" {line['gb_s']:>7} GB-s {line['wru']:>5g} WRU {line['rru']:>5g} RRU  {line['other']}",
            file=sys.stderr,
        )
    return rows
