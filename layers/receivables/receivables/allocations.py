"""Finance puts unapplied money on open invoices (`POST /payments/{id}/allocate`; decisions/0023).

One allocation is ONE transaction: the money shrinks by the sum (conditioned on the amount read), the
allocation's record is created once (its id comes from the Idempotency-Key), and every invoice takes its
part exactly as a received payment would (§ 367 (1) BGB: costs, interest, principal; status, events,
journal) through the invoice store, each conditioned on its version. Either all of it happens or none;
a lost race reads everything again and decides again (it may then be a 422), a replay finds the record.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from receivables import aws, clock, money
from receivables.errors import Conflict, FieldError, InvalidRequest
from receivables.invoicing import store
from receivables.invoicing.model import INVOICE_ENTITY, Invoice
from receivables.invoicing.store import Decision
from receivables.payments import payment_change
from receivables.provider_events import ProviderEvent
from receivables.records import put_new, read
from receivables.tasks import complete_open_tasks_update, task_id_for, task_is_open
from receivables.unapplied import UnappliedMoney, read_unapplied, reduce_unapplied

MAX_ALLOCATIONS = 15  # ≤ 5 writes each plus 3: within one TransactWriteItems (100 entries)
ALLOCATABLE_STATUSES = ("open", "partially_paid", "paid", "uncollectible")  # paid: fees may be open
_ATTEMPTS = 10
_IDS = uuid.UUID("6b0f1c52-3d4e-4a8e-9a55-2f1e0c7d9b31")


class AllocationLine(BaseModel):
    model_config = ConfigDict(extra="forbid")
    invoice_id: str = Field(min_length=1, max_length=200)
    amount: str = Field(min_length=1, max_length=40, description='A decimal string, e.g. "12.34".')


class AllocationRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    allocations: list[AllocationLine] = Field(min_length=1, max_length=MAX_ALLOCATIONS)


@dataclass(frozen=True)
class Part:
    invoice: Invoice
    amount: Decimal


def allocation_id_for(storefront_id: str, money_id: str, idempotency_key: str) -> str:
    return f"alloc_{uuid.uuid5(_IDS, f'{storefront_id}|{money_id}|{idempotency_key}').hex}"


def checked_parts(
    unapplied: UnappliedMoney, lines: Sequence[AllocationLine], invoices: Mapping[str, Invoice | None]
) -> list[Part]:
    """The allocation as parts per invoice, or InvalidRequest naming every bad `allocations[i].…` field.

    `invoices` holds the caller's invoices by id (None: unknown or another storefront's).
    """
    errors: list[FieldError] = []
    parts: list[Part] = []
    seen: set[str] = set()
    total = Decimal(0)
    currency = unapplied.currency
    for index, line in enumerate(lines):
        at = f"allocations[{index}]"
        amount = _amount(line.amount, currency)
        invoice = invoices.get(line.invoice_id)
        if amount is None:
            digits = money.minor_digits(currency)
            errors.append(
                FieldError(f"{at}.amount", f"Input should be a positive amount with ≤ {digits} decimals")
            )
        if invoice is None:
            errors.append(FieldError(f"{at}.invoice_id", f"No invoice {line.invoice_id}."))
            continue
        invoice_error = _invoice_error(unapplied, invoice, line.invoice_id in seen)
        seen.add(line.invoice_id)
        if invoice_error:
            errors.append(FieldError(f"{at}.invoice_id", invoice_error))
            continue
        if amount is None:
            continue
        if amount > invoice.account_amount_due:
            due = money.format_amount(invoice.account_amount_due, currency)
            errors.append(FieldError(f"{at}.amount", f"More than the {due} {currency} due on the invoice."))
            continue
        total += amount
        if total > unapplied.remaining:
            left = money.format_amount(unapplied.remaining, currency)
            errors.append(
                FieldError(
                    f"{at}.amount", f"The allocations add up to more than the {left} {currency} unapplied."
                )
            )
            continue
        parts.append(Part(invoice, amount))
    if errors:
        raise InvalidRequest(errors)
    return parts


def _amount(text: str, currency: str) -> Decimal | None:
    try:
        amount = Decimal(text.strip())
    except InvalidOperation:
        return None
    if not amount.is_finite() or amount <= 0 or amount != money.quantize(amount, currency):
        return None
    return amount


def _invoice_error(unapplied: UnappliedMoney, invoice: Invoice, repeated: bool) -> str | None:
    if repeated:
        return "This invoice is already in the allocation; give it one amount."
    if invoice.currency != unapplied.currency:
        return f"The invoice is in {invoice.currency}, the money in {unapplied.currency}: not converted."
    if invoice.status not in ALLOCATABLE_STATUSES or invoice.account_amount_due <= 0:
        return f"Nothing is due on this invoice ({invoice.status})."
    if unapplied.customer_id and invoice.customer_id != unapplied.customer_id:
        return f"Customer credit of {unapplied.customer_id} pays only that customer's invoices."
    return None


def allocate(
    table: str,
    money_id: str,
    request: AllocationRequest,
    *,
    seller_id: str,
    storefront_id: str,
    allocation_id: str,
    request_sha256: str,
) -> dict[str, Any]:
    """Applies the allocation once and returns what remains unapplied (the stored answer on a replay)."""
    client = aws.client("dynamodb")
    for _ in range(_ATTEMPTS):
        done = read(table, _allocation_key(allocation_id))
        if done is not None:
            if done["request_sha256"] != request_sha256:
                raise Conflict("This Idempotency-Key was already used with a different request body.")
            return dict(done["response"])
        unapplied = read_unapplied(table, money_id, seller_id)
        invoices = {
            line.invoice_id: _own_invoice(table, line.invoice_id, storefront_id, seller_id)
            for line in request.allocations
        }
        parts = checked_parts(unapplied, request.allocations, invoices)
        changes, response = _changes(table, unapplied, parts, allocation_id)
        now = clock.iso(clock.now())
        record = _allocation_key(allocation_id) | {
            "entity": "allocation",
            "id": allocation_id,
            "money_id": unapplied.id,
            "request_sha256": request_sha256,
            "response": response,
            "created_at": now,
            "created_by": storefront_id,
        }
        allocated = sum((p.amount for p in parts), Decimal(0))
        lead = [reduce_unapplied(table, unapplied, allocated), put_new(table, record)]
        task_id = task_id_for("unapplied_payment", unapplied.id)  # the webhook's task for this money
        spent = allocated == unapplied.remaining and unapplied.source == "unapplied_payment"
        if spent and task_is_open(table, task_id):
            lead.append(complete_open_tasks_update(table, task_id, now, storefront_id))
        try:
            store.commit_together(
                table,
                changes,
                lead=lead,
                changed_by=storefront_id,
                change_cause=f"allocation {allocation_id} of {unapplied.id}",
            )
        except client.exceptions.TransactionCanceledException as cancelled:
            reasons = {r.get("Code") for r in cancelled.response.get("CancellationReasons", [])}
            if reasons & {"ConditionalCheckFailed", "TransactionConflict"}:
                continue  # a replay (the record exists), or money or an invoice moved: decide again
            raise
        return response
    raise Conflict(f"The money {money_id} or its invoices kept changing; try again.")


def _allocation_key(allocation_id: str) -> dict[str, str]:
    return {"pk": f"ALLOCATION#{allocation_id}", "sk": "ALLOCATION"}


def _own_invoice(table: str, invoice_id: str, storefront_id: str, seller_id: str) -> Invoice | None:
    item = store.read_item(table, invoice_id)
    if item is None or item.get("entity") != INVOICE_ENTITY or item.get("storefront_id") != storefront_id:
        return None
    if item.get("seller_id", seller_id) != seller_id:
        return None
    return Invoice.from_item(item)


def _changes(
    table: str, unapplied: UnappliedMoney, parts: Sequence[Part], allocation_id: str
) -> tuple[list[tuple[Invoice, Decision]], dict[str, Any]]:
    """Each part as the payment it is (payments.payment_change), marked as allocated from the money."""
    now = clock.iso(clock.now())
    currency = unapplied.currency
    changes: list[tuple[Invoice, Decision]] = []
    lines: list[dict[str, Any]] = []
    for index, part in enumerate(parts):
        reference = f"{allocation_id}-{index}"
        event = ProviderEvent(
            provider=unapplied.provider,
            event_id=reference,
            event_type="allocation",
            kind="payment",
            occurred_at=now,
            invoice_id=part.invoice.id,
            payment_ref=reference,
            amount=part.amount,
            currency=currency,
            method=unapplied.method,
        )
        change = payment_change(table, event, part.invoice.to_item())
        for domain_event in change.events:
            if domain_event.type == "payment.received":
                domain_event.data.update(source=unapplied.source, allocated_from=unapplied.id)
        after = part.invoice.with_attributes(**change.invoice_sets)
        changes.append((part.invoice, Decision(after=after, events=change.events, items=change.items)))
        lines.append(
            {
                "invoice_id": part.invoice.id,
                "number": part.invoice.number,
                "amount": money.format_amount(part.amount, currency),
                "status": after.status,
                "account_amount_due": money.format_amount(after.account_amount_due, currency),
            }
        )
    left = money.format_amount(unapplied.remaining - sum((p.amount for p in parts), Decimal(0)), currency)
    response = {
        "id": unapplied.id,
        "allocation_id": allocation_id,
        "source": unapplied.source,
        "currency": currency,
        "amount": left,
        "unapplied_amount": left,
        "allocations": lines,
    }
    return changes, response
