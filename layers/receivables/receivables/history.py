"""The invoice's audit trail, written from the table stream: one entry per committed change.

Every writer states who changed the invoice and why on the item itself (`changed_by`, `change_cause`);
the stream carries old and new image, so the trail needs no cooperation beyond that and cannot miss a
change. One entry per stream record, keyed by the record's `eventID` (`attribute_not_exists`), so a
redelivered record writes nothing. See docs/decisions/0013-voids-credit-notes-history.md.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from receivables import aws, clock, money
from receivables.items import from_item, to_item

HISTORY_ENTITY = "invoice_history"
# The fields whose old -> new values the trail shows.
TRACKED_FIELDS = (
    "status",
    "amount_paid",
    "amount_refunded",
    "amount_credited",
    "amount_due",
    "disputed",
    "in_collections",
    "reminders_sent",
    "email_sent_at",
    "email_status",
    "pdf_key",
)
MONEY_FIELDS = frozenset({"amount_paid", "amount_refunded", "amount_credited", "amount_due"})
# Attributes that move with every change or only schedule the future: a record changing nothing but
# these is not an event of the invoice's life (the dunning index moving, for example).
_BOOKKEEPING = frozenset(
    {"version", "updated_at", "changed_by", "change_cause", "gsi2pk", "gsi2sk", "next_reminder_at"}
)
# When a writer did not name a cause (or left the previous writer's on the item), say what happened.
_DERIVED_CAUSES = (
    ("pdf_key", "PDF rendered"),
    ("email_sent_at", "invoice emailed"),
    ("reminders_sent", "reminder sent"),
    ("in_collections", "handed to collections"),
)


def history_key(invoice_id: str, at: str, stream_event_id: str) -> dict[str, str]:
    return {"pk": f"INVOICE#{invoice_id}", "sk": f"HISTORY#{at}#{stream_event_id}"}


def _changed(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    return sorted(name for name in old.keys() | new.keys() if old.get(name) != new.get(name))


def change_time(old: dict[str, Any] | None, new: dict[str, Any], committed_epoch: int | None) -> str:
    """When the change happened, by the system's clock, from the record alone (so redelivery agrees).

    The latest instant among the changed `*_at` attributes (top level, or inside a changed map such as
    `dispute`) — writers stamp what they change; failing that, when DynamoDB committed the record.
    """
    if old is None:
        return str(new.get("created_at") or _epoch_iso(committed_epoch))
    stamps: list[str] = []
    for name in _changed(old, new):
        value = new.get(name)
        if isinstance(value, str) and _is_change_stamp(name):
            stamps.append(value)
        elif isinstance(value, dict):
            previous = old.get(name)
            before: dict[str, Any] = previous if isinstance(previous, dict) else {}
            stamps += [
                v
                for k, v in value.items()
                if isinstance(v, str) and _is_change_stamp(k) and before.get(k) != v
            ]
    return max(stamps) if stamps else _epoch_iso(committed_epoch)


def _is_change_stamp(name: str) -> bool:
    return name.endswith("_at") and not name.startswith("next_") and name not in ("expires_at", "created_at")


def _epoch_iso(epoch: int | None) -> str:
    if epoch is None:
        return clock.iso(clock.now())
    return clock.iso(datetime.fromtimestamp(int(epoch), UTC))


def build_entry(
    stream_event_id: str,
    sequence_number: str,
    committed_epoch: int | None,
    old: dict[str, Any] | None,
    new: dict[str, Any],
) -> dict[str, Any] | None:
    """The history item for one stream record of an invoice; None when it changed nothing of note."""
    previous = old or {}
    changed = _changed(previous, new)
    if old is not None and not set(changed) - _BOOKKEEPING:
        return None
    if old is None:  # issued: what it starts with, leaving out the zeros and false flags
        changes = {
            name: {"old": None, "new": new[name]}
            for name in TRACKED_FIELDS
            if name in new and (new[name] or name in ("status", "amount_due"))
        }
    else:  # an amount the item never had is zero (amount_credited before the first credit note)
        changes = {
            name: {
                "old": previous.get(name, Decimal(0) if name in MONEY_FIELDS else None),
                "new": new.get(name),
            }
            for name in TRACKED_FIELDS
            if name in changed
        }
    fresh_cause = old is None or (new.get("changed_by"), new.get("change_cause")) != (
        old.get("changed_by"),
        old.get("change_cause"),
    )
    if old is None:
        actor, cause, kind = str(new.get("changed_by") or "system"), "issued", "issued"
    elif fresh_cause and new.get("change_cause"):
        actor, cause, kind = str(new.get("changed_by") or "system"), str(new["change_cause"]), "changed"
    else:
        actor, cause, kind = "system", _derived_cause(changes), "changed"
    at = change_time(old, new, committed_epoch)
    return history_key(new["id"], at, stream_event_id) | {
        "entity": HISTORY_ENTITY,
        "invoice_id": new["id"],
        "at": at,
        "actor": actor,
        "cause": cause,
        "kind": kind,
        "version": new.get("version"),
        "changes": changes,
        "other_fields": []
        if old is None
        else [n for n in changed if n not in changes and n not in _BOOKKEEPING],
        "currency": new.get("currency"),
        "stream_event_id": stream_event_id,
        "sequence_number": sequence_number,
    }


def _derived_cause(changes: dict[str, Any]) -> str:
    for name, cause in _DERIVED_CAUSES:
        if name in changes:
            return cause
    status = changes.get("status")
    if status:
        return f"status {status['old']} -> {status['new']}"
    return "updated"


def record_change(table_name: str, entry: dict[str, Any]) -> bool:
    """Writes the entry once; False when this stream record was recorded before (redelivery)."""
    client = aws.client("dynamodb")
    try:
        client.put_item(
            TableName=table_name, Item=to_item(entry), ConditionExpression="attribute_not_exists(pk)"
        )
    except client.exceptions.ConditionalCheckFailedException:
        return False
    return True


def list_history(table_name: str, invoice_id: str) -> list[dict[str, Any]]:
    """The invoice's entries, oldest first (ties within a millisecond in stream order)."""
    request: dict[str, Any] = {
        "TableName": table_name,
        "KeyConditionExpression": "pk = :pk AND begins_with(sk, :history)",
        "ExpressionAttributeValues": to_item({":pk": f"INVOICE#{invoice_id}", ":history": "HISTORY#"}),
    }
    items: list[dict[str, Any]] = []
    while True:
        page = aws.client("dynamodb").query(**request)
        items += [from_item(i) for i in page["Items"]]
        if "LastEvaluatedKey" not in page:
            break
        request["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    return sorted(items, key=lambda i: (i["at"], _sequence(i.get("sequence_number"))))


def _sequence(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


def public_entry(item: dict[str, Any]) -> dict[str, Any]:
    currency = item.get("currency")

    def shown(name: str, value: Any) -> Any:
        if value is None:
            return None
        if name in MONEY_FIELDS and currency:
            return money.format_amount(Decimal(value), currency)
        if isinstance(value, Decimal):
            return int(value) if value == value.to_integral_value() else str(value)
        return value

    return {
        "at": item["at"],
        "actor": item["actor"],
        "cause": item["cause"],
        "kind": item["kind"],
        "version": shown("version", item.get("version")),
        "changes": {
            name: {"old": shown(name, change.get("old")), "new": shown(name, change.get("new"))}
            for name, change in sorted(item.get("changes", {}).items())
        },
        "other_fields": list(item.get("other_fields", [])),
    }
