"""The one writer of invoice items.

Every change is the difference between the invoice as read and the invoice a transition returned,
written in ONE transaction with what belongs to it (outbox events, tasks, payments, fees, counters):
conditioned on the version read (so concurrent changes never lose an update), bumping it by one, and
naming who changed it and why (`changed_by`, `change_cause`) for the audit trail the stream builds.
No other module builds an update expression for an invoice: tests/security/test_invoice_store.py
records every write during a business day and checks which module issued it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from receivables import aws
from receivables.errors import Conflict, NotFound
from receivables.invoicing.model import INVOICE_ENTITY, Invoice, invoice_key
from receivables.items import to_item, to_value
from receivables.outbox import DomainEvent, outbox_put
from receivables.records import put_new, read

_AUDIT = ("changed_by", "change_cause")
_ATTEMPTS = 25


@dataclass(frozen=True)
class Decision:
    """What a transition decided for one invoice: the new invoice, its events and the writes beside it."""

    after: Invoice
    events: Sequence[DomainEvent] = ()
    items: Sequence[dict[str, Any]] = ()  # further TransactWriteItems entries (tasks, fees, records)
    lead: Sequence[dict[str, Any]] = field(default=())  # entries that must come before the invoice


def read_item(table: str, invoice_id: str) -> dict[str, Any] | None:
    """The invoice item as stored, read consistently (state decisions are made on it), or None."""
    return read(table, invoice_key(invoice_id))


def read_invoice(table: str, invoice_id: str) -> Invoice:
    item = read_item(table, invoice_id)
    if item is None or item.get("entity") != INVOICE_ENTITY:
        raise NotFound(f"No invoice {invoice_id}.")
    return Invoice.from_item(item)


def create(
    table: str,
    invoice: Invoice,
    *,
    lead: Sequence[dict[str, Any]] = (),
    items: Sequence[dict[str, Any]] = (),
    events: Sequence[DomainEvent] = (),
) -> None:
    """Writes a new invoice once (create-only), with what belongs to its issue.

    Raises the client's TransactionCanceledException as is: callers decide what a lost race means.
    """
    writes = [*lead, put_new(table, invoice.to_item()), *items]
    writes += [outbox_put(table, event) for event in events]
    aws.client("dynamodb").transact_write_items(TransactItems=writes)


def commit(table: str, before: Invoice, decision: Decision, *, changed_by: str, change_cause: str) -> None:
    """Writes `decision.after` over `before` if the invoice is still at `before.version`.

    The invoice's entry sits right after `decision.lead`; the client's TransactionCanceledException is
    raised as is (its reasons are positional), so callers keep their own meaning of a cancelled entry.
    """
    update = _versioned_update(table, before, decision.after, changed_by, change_cause)
    writes = [*decision.lead, update, *decision.items]
    writes += [outbox_put(table, event) for event in decision.events]
    aws.client("dynamodb").transact_write_items(TransactItems=writes)


def commit_together(
    table: str,
    changes: Sequence[tuple[Invoice, Decision]],
    *,
    lead: Sequence[dict[str, Any]] = (),
    changed_by: str,
    change_cause: str,
) -> None:
    """Several invoices in ONE transaction (all or none), each conditioned on the version read.

    Order: `lead`, then per invoice its own lead, its update and its items, then every event. Each invoice
    must appear once (a transaction touches an item once). The client's TransactionCanceledException is
    raised as is; `lead` entries keep their positions.
    """
    writes = [*lead]
    for before, decision in changes:
        writes += [*decision.lead, _versioned_update(table, before, decision.after, changed_by, change_cause)]
        writes += decision.items
    writes += [outbox_put(table, event) for _, decision in changes for event in decision.events]
    aws.client("dynamodb").transact_write_items(TransactItems=writes)


def change(
    table: str,
    invoice_id: str,
    decide: Callable[[Invoice], Decision | None],
    *,
    changed_by: str,
    change_cause: str,
) -> Invoice | None:
    """Read → transition → commit, again from a fresh read whenever the invoice moved meanwhile.

    `decide` returns None when there is nothing to do (a retried step, a state that no longer fits) and
    raises a domain error when the change is not allowed. Returns the invoice as committed, or None;
    a Conflict when an entry beside the invoice found its condition broken.
    """
    client = aws.client("dynamodb")
    for _ in range(_ATTEMPTS):
        before = read_invoice(table, invoice_id)
        decision = decide(before)
        if decision is None:
            return None
        try:
            commit(table, before, decision, changed_by=changed_by, change_cause=change_cause)
        except client.exceptions.TransactionCanceledException as cancelled:
            if not moved_meanwhile(cancelled, len(decision.lead)):
                # another entry's condition: what it guards (a task, a record) was done by someone else
                raise Conflict(
                    f"Invoice {invoice_id} changed meanwhile; reload and try again."
                ) from cancelled
            continue
        return decision.after
    raise Conflict(f"Invoice {invoice_id} kept changing; try again.")


def moved_meanwhile(cancelled: Exception, invoice_position: int) -> bool:
    """True if a transaction was cancelled because the invoice (or another entry) changed concurrently."""
    response = getattr(cancelled, "response", {})
    reasons = [r.get("Code") for r in response.get("CancellationReasons", [])]
    stale = len(reasons) > invoice_position and reasons[invoice_position] == "ConditionalCheckFailed"
    return stale or "TransactionConflict" in reasons


def _versioned_update(
    table: str, before: Invoice, after: Invoice, changed_by: str, change_cause: str
) -> dict[str, Any]:
    if after.id != before.id:
        raise ValueError("a transition cannot change which invoice it is")
    old, new = before.to_item(), after.to_item()
    sets = {k: v for k, v in new.items() if k not in ("pk", "sk", "version", *_AUDIT) and old.get(k) != v}
    sets |= {"changed_by": changed_by, "change_cause": change_cause, "version": before.version + 1}
    removes = [k for k in old if k not in new and k not in ("pk", "sk")]
    names: dict[str, str] = {}
    values: dict[str, Any] = {":expected": to_value(before.version)}
    assignments = []
    for index, (name, value) in enumerate(sets.items()):
        names[f"#s{index}"] = name
        values[f":s{index}"] = to_value(value)
        assignments.append(f"#s{index} = :s{index}")
    expression = "SET " + ", ".join(assignments)
    if removes:
        names |= {f"#r{index}": name for index, name in enumerate(removes)}
        expression += " REMOVE " + ", ".join(f"#r{index}" for index in range(len(removes)))
    return {
        "Update": {
            "TableName": table,
            "Key": to_item(invoice_key(before.id)),
            "UpdateExpression": expression,
            "ConditionExpression": "version = :expected",
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": values,
        }
    }
