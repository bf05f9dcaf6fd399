"""A statement imported: each entry recorded once, matched, and its money applied through the payment path.

Exactly once (docs/decisions/0030): an entry's record `BANKENTRY#<entry key>` is created only if absent and
holds the match decided when it was first seen. A later statement with the same entry (the same file again,
overlapping daily statements, the MT940 of the day a camt.053 already brought) finds the record and reuses
its decision, so it never decides differently. Applying goes through `payments.record` with provider `bank`:
each part is a provider event whose id derives from the entry key, recorded in the same transaction as its
effect, so a crash between the entry record and the payment is repaired by importing again, and nothing is
applied twice. Debits are recorded, never applied to invoices.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from receivables import aws, clock, money
from receivables.bank.matching import (
    Match,
    OpenInvoice,
    Part,
    best_candidates,
    decide,
    entry_key,
    invoice_numbers_in,
)
from receivables.bank.statement_files import BankEntry, StatementFile
from receivables.errors import NotFound
from receivables.invoices import get_invoice, invoice_number_key
from receivables.invoicing.model import Invoice
from receivables.items import from_item, to_item
from receivables.payments import record
from receivables.provider_events import ProviderEvent
from receivables.records import read

PROVIDER = "bank"
METHOD = "bank_transfer"
MAX_OPEN_INVOICES = 2000  # read for amount-and-payer matching; beyond that finance matches by hand


def entry_record_key(key: str) -> dict[str, str]:
    return {"pk": f"BANKENTRY#{key}", "sk": "BANKENTRY"}


def statement_key(statement_id: str) -> dict[str, str]:
    return {"pk": f"BANKSTATEMENT#{statement_id}", "sk": "STATEMENT"}


def payer_iban_key(seller_id: str, iban: str) -> dict[str, str]:
    return {"pk": f"PAYERIBAN#{seller_id}#{iban}", "sk": "PAYERIBAN"}


@dataclass
class _Context:
    table: str
    seller_id: str
    storefront_id: str | None
    _open: list[OpenInvoice] | None = None
    taken: set[str] = field(default_factory=set)  # matched by amount in this import: not again

    def open_invoices(self) -> list[OpenInvoice]:
        if self._open is None:
            self._open = (
                list(_read_open_invoices(self.table, self.storefront_id)) if self.storefront_id else []
            )
        return [i for i in self._open if i.id not in self.taken]


def import_statement(
    table: str,
    statement: StatementFile,
    *,
    statement_id: str,
    seller_id: str,
    storefront_id: str | None,
    source: str,
) -> dict[str, Any]:
    """Records, matches and applies every entry; the statement's summary (`public_summary`)."""
    context = _Context(table, seller_id, storefront_id)
    now = clock.iso(clock.now())
    lines = []
    for position, entry in enumerate(statement.entries):
        entry_record, first_seen = _entry_record(context, entry, statement_id, now)
        _apply(context, entry, entry_record)
        lines.append(_line(statement_id, position, entry_record, first_seen))
    header = statement_key(statement_id) | {
        "entity": "bank_statement",
        "id": statement_id,
        "format": statement.format,
        "account": statement.account,
        "bank_statement_id": statement.statement_id,
        "source": source,
        "storefront_id": storefront_id,
        "seller_id": seller_id,
        "imported_at": now,
        "entries": len(lines),
        "matched": sum(1 for line in lines if line["direction"] == "credit" and line["how"] != "none"),
        "unmatched": sum(1 for line in lines if line["direction"] == "credit" and line["how"] == "none"),
        "already_recorded": sum(1 for line in lines if not line["first_seen"]),
    }
    client = aws.client("dynamodb")
    with_lines = [{"PutRequest": {"Item": to_item(line)}} for line in lines]
    for start in range(0, len(with_lines), 25):  # the lines are derived from the entry records: idempotent
        _batch_write(table, with_lines[start : start + 25])
    try:  # the first import under this id stands; a replay (same key, same body) writes the same lines
        client.put_item(TableName=table, Item=to_item(header), ConditionExpression="attribute_not_exists(pk)")
    except client.exceptions.ConditionalCheckFailedException:
        header = read(table, statement_key(statement_id)) or header
    return public_summary(header)


def _batch_write(table: str, requests: list[dict[str, Any]]) -> None:
    client = aws.client("dynamodb")
    pending: dict[str, Any] = {table: requests}
    while pending:
        pending = client.batch_write_item(RequestItems=pending).get("UnprocessedItems") or {}


# ------------------------------------------------------------------------------------ the entry, once
def _entry_record(
    context: _Context, entry: BankEntry, statement_id: str, now: str
) -> tuple[dict[str, Any], bool]:
    key = entry_key(entry)
    existing = read(context.table, entry_record_key(key))
    if existing is not None:
        return existing, False
    match = _match(context, entry)
    item = entry_record_key(key) | {
        "entity": "bank_entry",
        "id": key,
        "seller_id": context.seller_id,
        "first_statement_id": statement_id,
        "account": entry.account,
        "booking_date": entry.booking_date.isoformat(),
        "value_date": entry.value_date.isoformat() if entry.value_date else None,
        "direction": entry.direction,
        "amount": entry.amount,
        "currency": entry.currency,
        "bank_reference": entry.bank_reference,
        "end_to_end_id": entry.end_to_end_id,
        "remittance": entry.remittance[:1000],
        "counterparty_name": entry.counterparty_name,
        "counterparty_iban": entry.counterparty_iban,
        "how": match.how,
        "confidence": match.confidence,
        "parts": [{"invoice_id": p.invoice_id, "number": p.number, "amount": p.amount} for p in match.parts],
        "candidates": [{"invoice_id": c.id, "number": c.number} for c in match.candidates],
        "reason": match.reason,
        "recorded_at": now,
    }
    client = aws.client("dynamodb")
    try:
        client.put_item(
            TableName=context.table, Item=to_item(item), ConditionExpression="attribute_not_exists(pk)"
        )
    except client.exceptions.ConditionalCheckFailedException:  # a concurrent import recorded it first
        won = read(context.table, entry_record_key(key))
        assert won is not None
        return won, False
    return from_item(to_item(item)), True


def _match(context: _Context, entry: BankEntry) -> Match:
    if entry.direction != "credit":
        return decide(entry, [], [], frozenset())
    referenced = [
        i for i in (_invoice_by_number(context, n) for n in invoice_numbers_in(entry.remittance)) if i
    ]
    if referenced:
        return decide(entry, referenced, [], frozenset())
    customers = _iban_customers(context, entry.counterparty_iban)
    match = decide(entry, [], context.open_invoices(), customers)
    if match.how == "amount_and_payer":
        # the index may lag: the invoice itself, read consistently, must still ask exactly this amount
        fresh = _open_invoice(context.table, match.parts[0].invoice_id)
        if (
            fresh is None
            or fresh.amount_due != entry.amount
            or fresh.status not in ("open", "partially_paid")
        ):
            candidates = best_candidates(entry, context.open_invoices(), customers)
            return Match(
                "none", Decimal(0), candidates=candidates, reason="the invoice that fit was paid meanwhile"
            )
        context.taken.add(fresh.id)
    return match


def _invoice_by_number(context: _Context, number: str) -> OpenInvoice | None:
    found = read(context.table, invoice_number_key(context.seller_id, number))
    return _open_invoice(context.table, found["invoice_id"]) if found else None


def _open_invoice(table: str, invoice_id: str) -> OpenInvoice | None:
    try:
        return _as_open_invoice(get_invoice(table, invoice_id))
    except NotFound:
        return None


def _as_open_invoice(item: dict[str, Any]) -> OpenInvoice:
    invoice = Invoice.from_item(item)
    return OpenInvoice(
        id=invoice.id,
        number=invoice.number,
        customer_id=invoice.customer_id,
        customer_name=str((item.get("customer") or {}).get("name") or ""),
        currency=invoice.currency,
        amount_due=invoice.account_amount_due,
        status=invoice.status,
    )


def _read_open_invoices(table: str, storefront_id: str) -> Iterator[OpenInvoice]:
    client = aws.client("dynamodb")
    read_so_far = 0
    for status in ("open", "partially_paid"):
        request: dict[str, Any] = {
            "TableName": table,
            "IndexName": "gsi4",
            "KeyConditionExpression": "gsi4pk = :pk",
            "ExpressionAttributeValues": to_item({":pk": f"INVOICES#{storefront_id}#{status}"}),
        }
        while read_so_far < MAX_OPEN_INVOICES:
            page = client.query(**request)
            for raw in page["Items"]:
                read_so_far += 1
                yield _as_open_invoice(from_item(raw))
            if "LastEvaluatedKey" not in page:
                break
            request["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def _iban_customers(context: _Context, iban: str | None) -> frozenset[str]:
    """Customers this IBAN paid for before (learnt from entries matched by reference)."""
    if not iban:
        return frozenset()
    found = read(context.table, payer_iban_key(context.seller_id, iban))
    return frozenset(found.get("customer_ids", ())) if found else frozenset()


def _learn_iban(context: _Context, iban: str, customer_id: str) -> None:
    aws.client("dynamodb").update_item(
        TableName=context.table,
        Key=to_item(payer_iban_key(context.seller_id, iban)),
        UpdateExpression="SET entity = :entity ADD customer_ids :customer",
        ExpressionAttributeValues={":entity": {"S": "payer_iban"}, ":customer": {"SS": [customer_id]}},
    )


# ------------------------------------------------------------------------------------------ applying
def _apply(context: _Context, entry: BankEntry, entry_record: dict[str, Any]) -> None:
    """The recorded decision, through the payment path; every call is idempotent per provider event."""
    if entry_record["direction"] != "credit":
        return
    key = entry_record["id"]
    parts = [Part(p["invoice_id"], p["number"], Decimal(p["amount"])) for p in entry_record.get("parts", [])]
    common = {
        "provider": PROVIDER,
        "event_type": "bank_statement.credit",
        "kind": "payment",
        "occurred_at": f"{entry_record['booking_date']}T00:00:00.000Z",
        "currency": entry_record["currency"],
        "method": METHOD,
        "payer": entry_record.get("counterparty_name"),
        "reference": entry_record.get("remittance") or None,
    }
    if not parts:  # unapplied money with a finance task naming the candidates
        event = ProviderEvent(
            event_id=key,
            payment_ref=key,
            amount=Decimal(entry_record["amount"]),
            reason=entry_record.get("reason") or None,
            **common,
        )
        record(context.table, event, context.seller_id)
        return
    for n, part in enumerate(parts):
        event_id = key if len(parts) == 1 else f"{key}.{n + 1}"
        event = ProviderEvent(
            event_id=event_id, payment_ref=event_id, invoice_id=part.invoice_id, amount=part.amount, **common
        )
        record(context.table, event, context.seller_id)
    if entry_record["how"] == "reference" and entry_record.get("counterparty_iban"):
        invoice = _open_invoice(context.table, parts[0].invoice_id)
        if invoice:
            _learn_iban(context, entry_record["counterparty_iban"], invoice.customer_id)


# ------------------------------------------------------------------------------------------ reading
def _line(statement_id: str, position: int, entry_record: dict[str, Any], first_seen: bool) -> dict[str, Any]:
    return {
        "pk": f"BANKSTATEMENT#{statement_id}",
        "sk": f"LINE#{position:06d}",
        "entity": "bank_statement_line",
        "entry_id": entry_record["id"],
        "direction": entry_record["direction"],
        "how": entry_record["how"],
        "first_seen": first_seen,
    }


def read_statement(table: str, statement_id: str, seller_id: str) -> dict[str, Any]:
    header = read(table, statement_key(statement_id))
    if header is None or header.get("seller_id") != seller_id:
        raise NotFound(f"No bank statement {statement_id}.")
    client = aws.client("dynamodb")
    request: dict[str, Any] = {
        "TableName": table,
        "KeyConditionExpression": "pk = :pk AND begins_with(sk, :line)",
        "ExpressionAttributeValues": to_item({":pk": f"BANKSTATEMENT#{statement_id}", ":line": "LINE#"}),
    }
    lines: list[dict[str, Any]] = []
    while True:
        page = client.query(**request)
        lines += [from_item(i) for i in page["Items"]]
        if "LastEvaluatedKey" not in page:
            break
        request["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    entries = []
    for line in lines:
        entry = read(table, entry_record_key(line["entry_id"]))
        if entry is not None:
            entries.append(public_entry(entry, first_seen=bool(line.get("first_seen"))))
    return public_summary(header) | {
        "format": header["format"],
        "account": header["account"],
        "bank_statement_id": header.get("bank_statement_id"),
        "source": header["source"],
        "imported_at": header["imported_at"],
        "items": entries,
    }


def public_summary(header: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": header["id"],
        "entries": int(header["entries"]),
        "matched": int(header["matched"]),
        "unmatched": int(header["unmatched"]),
        "already_recorded": int(header.get("already_recorded", 0)),
    }


def public_entry(entry: dict[str, Any], first_seen: bool) -> dict[str, Any]:
    currency = entry["currency"]
    parts = entry.get("parts") or []
    credit = entry["direction"] == "credit"
    return {
        "id": entry["id"],
        "direction": entry["direction"],
        "booking_date": entry["booking_date"],
        "amount": money.format_amount(Decimal(entry["amount"]), currency),
        "currency": currency,
        "bank_reference": entry.get("bank_reference"),
        "remittance": entry.get("remittance"),
        "counterparty": {"name": entry.get("counterparty_name"), "iban": entry.get("counterparty_iban")},
        "match": {
            "invoice_id": parts[0]["invoice_id"] if parts else None,
            "how": entry["how"],
            "confidence": str(entry["confidence"]),
        },
        "allocations": [
            {
                "invoice_id": p["invoice_id"],
                "number": p["number"],
                "amount": money.format_amount(Decimal(p["amount"]), currency),
            }
            for p in parts
        ],
        # unmatched money waits under this id in GET /payments?status=unapplied
        "unapplied_payment_id": f"{PROVIDER}:{entry['id']}" if credit and not parts else None,
        "candidates": entry.get("candidates") or [],
        "reason": entry.get("reason") or None,
        "first_seen_in": entry.get("first_statement_id"),
        "already_recorded": not first_seen,
    }
