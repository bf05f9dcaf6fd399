"""Changes a customer asks for: cancel (at period end or now), pause, resume, and item changes with
prorations. Each is one version-checked write with its event (store.change); replays change nothing.
"""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from receivables.credit_note_pricing import CreditLineIn, CreditNoteRequest
from receivables.credit_notes import issue_credit_note
from receivables.errors import Conflict
from receivables.invoices import invoice_id_for
from receivables.seller import SellerProfile
from receivables.subscriptions import store
from receivables.subscriptions.billing import period_order_id
from receivables.subscriptions.calendar import Period, period, period_on
from receivables.subscriptions.proration import prorated_amount, proration_lines
from receivables.subscriptions.requests import SubscriptionChange

_IDS = uuid.UUID("a3f1c7d2-5e94-4b60-8d2e-91c0b7f4a215")

Outcome = tuple[dict[str, Any], str | None, list[dict[str, Any]]] | None


def _period(item: dict[str, Any], index: int) -> Period:
    return period(
        date.fromisoformat(item["anchor_date"]), item["interval"], int(item["interval_count"]), index
    )


def invoiced_period_on(item: dict[str, Any], day: date) -> Period | None:
    """The already invoiced period that contains `day`, if any."""
    on = period_on(
        date.fromisoformat(item["anchor_date"]), item["interval"], int(item["interval_count"]), day
    )
    billed = on.start <= day and on.index < int(item["next_period"])
    return on if billed else None


def _require(item: dict[str, Any], *statuses: str) -> None:
    if item["status"] not in statuses:
        raise Conflict(f"Subscription {item['id']} is {item['status']}.")


def cancel(
    table: str, subscription_id: str, at: str, today: date, seller: SellerProfile, actor: str
) -> dict[str, Any]:
    """`period_end`: no renewal after the current period. `now`: ends today; the unused days of the
    invoiced period are credited by a credit note on that period's invoice."""
    credited: list[Period] = []

    def decide(item: dict[str, Any]) -> Outcome:
        if item["status"] == "canceled":
            return None
        last_index = int(item["next_period"]) - 1
        if at == "now":
            ends_on = today
            billed = invoiced_period_on(item, today)
            credited[:] = [billed] if billed is not None else []
        else:
            ends_on = _period(item, last_index).end if last_index >= 0 else today
        after = store.with_next_invoice(store.with_status(item, "canceled"), None) | {
            "cancel_at": at,
            "ends_on": ends_on.isoformat(),
        }
        return after, "subscription.canceled", []

    after = store.change(table, subscription_id, decide)
    if credited and after.get("cancel_at") == "now":
        _credit_unused_time(table, after, credited[0], today, seller, actor)
    return after


def _credit_unused_time(
    table: str, item: dict[str, Any], billed: Period, today: date, seller: SellerProfile, actor: str
) -> None:
    """Credits the days after today of the period's invoice, each line pro rata (the same arithmetic as
    a downgrade's proration). A replay finds the credit note by its deterministic id."""
    unused_days = (billed.end - today).days
    if unused_days <= 0:
        return
    currency = item["currency"]
    lines = [
        CreditLineIn.model_construct(
            description=f"Unused time: {line['description']} ({today + timedelta(days=1)} – {billed.end})",
            quantity=Decimal(1),
            unit_price=amount,
            tax_rate=Decimal(line["tax_rate"]),
        )
        for line in item["items"]
        if (amount := prorated_amount(Decimal(line["net"]), unused_days, billed.days, currency)) > 0
    ]
    if not lines:
        return
    invoice_id = invoice_id_for(period_order_id(item["id"], billed.index))
    request = CreditNoteRequest.model_construct(
        lines=tuple(lines), amount=None, tax_rate=None, reason="Subscription canceled before the period ended"
    )
    note_id = f"cn_{uuid.uuid5(_IDS, f'{item["id"]}|cancel|{billed.index}').hex}"
    issue_credit_note(table, invoice_id, request, seller, note_id, actor)


def pause(table: str, subscription_id: str) -> dict[str, Any]:
    """No invoices while paused: the subscription leaves the due index."""

    def decide(item: dict[str, Any]) -> Outcome:
        if item["status"] == "paused":
            return None
        _require(item, "active")
        return store.with_next_invoice(store.with_status(item, "paused"), None), "subscription.paused", []

    return store.change(table, subscription_id, decide)


def resume(table: str, subscription_id: str, today: date) -> dict[str, Any]:
    """Billing goes on with the first period that starts on or after today: periods that began while
    paused are not billed."""

    def decide(item: dict[str, Any]) -> Outcome:
        if item["status"] == "active":
            return None
        _require(item, "paused")
        index = int(item["next_period"])
        while _period(item, index).start < today:
            index += 1
        after = store.with_status(item, "active") | {"next_period": index}
        return store.with_next_invoice(after, _period(item, index).start), "subscription.resumed", []

    return store.change(table, subscription_id, decide)


def change_items(table: str, subscription_id: str, change: SubscriptionChange, today: date) -> dict[str, Any]:
    """New items from the next period; with `create_prorations`, the rest of the invoiced period is
    credited at the old items and charged at the new ones on the next invoice (proration.py)."""

    def decide(item: dict[str, Any]) -> Outcome:
        _require(item, "active", "paused")
        new_items = store.stored_lines(change.items, item["currency"])
        if new_items == item["items"]:
            return None  # a replayed PATCH: prorating it again would bill the same change twice
        pending = list(item.get("pending_prorations") or [])
        billed = invoiced_period_on(item, today)
        if change.proration == "create_prorations" and billed is not None:
            locale = item["customer"].get("locale", "en")
            pending += proration_lines(item["items"], new_items, billed, today, item["currency"], locale)
        return item | {"items": new_items, "pending_prorations": pending}, "subscription.updated", []

    return store.change(table, subscription_id, decide)
