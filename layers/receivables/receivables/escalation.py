"""The steps of the escalation state machine (statemachine/escalation.asl.json), each safe to retry.

Step Functions retries a failed Task and may deliver a task more than once, so every step is written as
"make it so": conditional writes keyed by invoice and level, `send_once` for the final notice.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable, Sequence
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from receivables import aws, clock, mailer, money
from receivables.customers import current_email
from receivables.dunning_index import index_keys
from receivables.errors import Conflict, NotFound
from receivables.invoices import get_invoice, hosted_url, to_document
from receivables.invoicing import store
from receivables.invoicing.ledger import vat_share
from receivables.invoicing.model import Invoice
from receivables.invoicing.store import Decision
from receivables.items import from_item, to_item
from receivables.outbox import DomainEvent, new_event, outbox_put
from receivables.seller import SellerProfile
from receivables.sending import send_once
from receivables.tasks import NewTask, task_put

COLLECTIONS_QUEUE = "receivables-collections"
PLAN_INSTALMENTS = 3
PLAN_INTERVAL_DAYS = 30


def _move_escalation(
    table: str,
    invoice_id: str,
    state: str,
    *,
    fits: Callable[[Invoice], bool] = lambda invoice: True,
    escalation: dict[str, Any] | None = None,
    invoice_values: dict[str, Any] | None = None,
    items: Sequence[dict[str, Any]] = (),
    events: Sequence[DomainEvent] = (),
) -> bool:
    """Moves `escalation.state` (and more) through the invoice store; False when the step was done
    before or no longer fits (a retried Task, a payment that came first)."""

    def decide(invoice: Invoice) -> Decision | None:
        current = invoice.get("escalation")
        if not current or not fits(invoice):
            return None
        moved = dict(current) | {"state": state} | (escalation or {})
        after = invoice.with_attributes(escalation=moved, **(invoice_values or {}))
        return Decision(after=after, events=events, items=items)

    committed = store.change(
        table, invoice_id, decide, changed_by="escalation", change_cause=f"escalation: {state}"
    )
    return committed is not None


def _transact(items: list[dict[str, Any]]) -> bool:
    """True if committed; False if an item's condition says it was done before (a retried step)."""
    client = aws.client("dynamodb")
    try:
        client.transact_write_items(TransactItems=items)
    except client.exceptions.TransactionCanceledException as cancelled:
        reasons = [r.get("Code") for r in cancelled.response.get("CancellationReasons", [])]
        if "ConditionalCheckFailed" in reasons:
            return False
        raise
    return True


def open_escalation(table: str, invoice_id: str, level: int) -> dict[str, str]:
    """A task for collections staff and the `invoice.escalated` event; returns the team alert text."""
    invoice = get_invoice(table, invoice_id)
    currency = invoice["currency"]
    due = money.format_amount(Decimal(invoice["amount_due"]), currency)
    days_overdue = (clock.today() - date.fromisoformat(invoice["due_date"])).days
    summary = (
        f"Invoice {invoice['number']} to {invoice['customer']['name']} is {days_overdue} days overdue "
        f"with {due} {currency} unpaid after {int(invoice.get('reminders_sent', 0))} reminders. "
        "A final notice with a payment-plan offer goes out now; a collections task is open."
    )
    task = NewTask(
        kind="collections",
        title=f"Collect invoice {invoice['number']} ({invoice['customer']['name']}, {due} {currency})",
        queue=COLLECTIONS_QUEUE,
        due_date=clock.today() + timedelta(days=2),
        invoice_id=invoice_id,
        reason=f"escalation level {level}",
    )
    event = new_event(
        "invoice.escalated",
        {
            "invoice_id": invoice_id,
            "number": invoice["number"],
            "customer_id": invoice["customer_id"],
            "level": level,
            "currency": currency,
            "amount_due": due,
            "days_overdue": days_overdue,
        },
    )
    _transact([task_put(table, task, cause_id=f"{invoice_id}#{level}"), outbox_put(table, event)])
    return {"number": invoice["number"], "summary": summary}


def offer_key(token: str) -> dict[str, str]:
    return {"pk": f"PLANOFFER#{token}", "sk": "PLANOFFER"}


def propose_instalments(amount_due: Decimal, currency: str, first_due: date) -> list[dict[str, Any]]:
    """Equal instalments in the currency's minor unit; the last one takes the rounding remainder."""
    share = money.quantize(amount_due / PLAN_INSTALMENTS, currency)
    if share * PLAN_INSTALMENTS > amount_due:
        share -= money.from_minor_units(1, currency)
    amounts = [share] * (PLAN_INSTALMENTS - 1) + [amount_due - share * (PLAN_INSTALMENTS - 1)]
    return [
        {
            "number": n + 1,
            "due_date": (first_due + timedelta(days=PLAN_INTERVAL_DAYS * n)).isoformat(),
            "amount": a,
        }
        for n, a in enumerate(amounts)
    ]


def offer_payment_plan(
    table: str,
    invoice_id: str,
    level: int,
    task_token: str,
    sender: str,
    base_url: str,
    seller: SellerProfile,
) -> str:
    """Records the offer with the execution's task token and emails the final notice (once)."""
    from receivables.rendering.emails import build_mime, render_final_notice

    invoice = get_invoice(table, invoice_id)
    existing = (invoice.get("escalation") or {}).get("offer_token")
    token = existing or secrets.token_urlsafe(24)  # 192 bits: the accept link's only credential
    instalments = propose_instalments(
        Decimal(invoice["amount_due"]), invoice["currency"], clock.today() + timedelta(days=7)
    )
    client = aws.client("dynamodb")
    # A retried Task brings a new task token: the offer keeps the newest one.
    client.put_item(
        TableName=table,
        Item=to_item(
            offer_key(token)
            | {
                "entity": "payment_plan_offer",
                "invoice_id": invoice_id,
                "level": level,
                "task_token": task_token,
                "state": "offered",
                "instalments": instalments,
                "offered_at": clock.iso(clock.now()),
            }
        ),
        ConditionExpression="attribute_not_exists(pk) OR #state = :offered",
        ExpressionAttributeNames={"#state": "state"},
        ExpressionAttributeValues=to_item({":offered": "offered"}),
    )
    if not existing:
        _move_escalation(
            table,
            invoice_id,
            "plan_offered",
            fits=lambda current: not current.get("escalation", {}).get("offer_token"),
            escalation={"offer_token": token},
        )
    accept_url = f"{base_url.rstrip('/')}/payment-plans/{token}"

    to = current_email(table, invoice["customer_id"], invoice["customer"]["email"])

    def send() -> str:
        link = hosted_url(base_url, invoice)
        rendered = render_final_notice(
            to_document(invoice, seller, hosted=link),
            hosted_url=link,
            plan_url=accept_url,
            instalments=instalments,
        )
        mime = build_mime(sender, to, rendered, [], seller.name)
        return mailer.send_raw(sender, to, mime)

    send_once(table, invoice_id, f"final-notice#{level}", send, recipient=to)
    return token


def get_offer(table: str, token: str) -> dict[str, Any]:
    response = aws.client("dynamodb").get_item(
        TableName=table, Key=to_item(offer_key(token)), ConsistentRead=True
    )
    if "Item" not in response or not token:
        raise NotFound("This payment plan link is not valid.")
    return from_item(response["Item"])


def accept_offer(table: str, token: str) -> dict[str, Any]:
    """The customer accepts: the offer is claimed once, then the waiting execution resumes."""
    offer = get_offer(table, token)
    client = aws.client("dynamodb")
    try:
        client.update_item(
            TableName=table,
            Key=to_item(offer_key(token)),
            UpdateExpression="SET #state = :accepted, accepted_at = :now",
            ConditionExpression="#state = :offered",
            ExpressionAttributeNames={"#state": "state"},
            ExpressionAttributeValues=to_item(
                {":accepted": "accepted", ":offered": "offered", ":now": clock.iso(clock.now())}
            ),
        )
    except client.exceptions.ConditionalCheckFailedException:
        if offer["state"] == "accepted":
            return offer  # a second click: already accepted
        raise Conflict("This offer is no longer open.") from None
    sfn = aws.client("stepfunctions")
    try:
        sfn.send_task_success(
            taskToken=offer["task_token"], output=json.dumps({"accepted": True, "offer_token": token})
        )
    except (sfn.exceptions.TaskTimedOut, sfn.exceptions.InvalidToken, sfn.exceptions.TaskDoesNotExist):
        client.update_item(
            TableName=table,
            Key=to_item(offer_key(token)),
            UpdateExpression="SET #state = :expired",
            ExpressionAttributeNames={"#state": "state"},
            ExpressionAttributeValues=to_item({":expired": "expired"}),
        )
        raise Conflict("This offer has expired; please contact us.") from None
    return get_offer(table, token)


def create_payment_plan(table: str, invoice_id: str, offer_token: str) -> list[dict[str, Any]]:
    """The accepted instalments go on the invoice; dunning follows them like due dates."""
    offer = get_offer(table, offer_token)
    instalments = offer["instalments"]
    first_due = date.fromisoformat(instalments[0]["due_date"])
    plan = {
        "accepted_at": offer.get("accepted_at") or clock.iso(clock.now()),
        "instalments": instalments,
        "state": "active",  # then `paid` or `defaulted` (payment_plans.check_plan)
    }
    keys = index_keys(invoice_id, first_due + timedelta(days=1))
    invoice = get_invoice(table, invoice_id)
    event = new_event(
        "invoice.payment_plan_created",
        {
            "invoice_id": invoice_id,
            "number": invoice["number"],
            "customer_id": invoice["customer_id"],
            "currency": invoice["currency"],
            "instalments": public_instalments(instalments, invoice["currency"]),
        },
    )
    _move_escalation(
        table,
        invoice_id,
        "payment_plan",
        fits=lambda current: current.get("payment_plan") is None,
        invoice_values={"payment_plan": plan, "gsi2pk": keys["gsi2pk"], "gsi2sk": keys["gsi2sk"]},
        events=[event],
    )
    return public_instalments(instalments, invoice["currency"])


def public_instalments(instalments: list[dict[str, Any]], currency: str) -> list[dict[str, Any]]:
    return [
        {
            "number": int(i["number"]),
            "due_date": i["due_date"],
            "amount": money.format_amount(Decimal(i["amount"]), currency),
        }
        for i in instalments
    ]


def send_to_collections(table: str, invoice_id: str, level: int) -> bool:
    invoice = get_invoice(table, invoice_id)
    if invoice["status"] not in ("open", "partially_paid") or invoice.get("disputed"):
        return False
    task = NewTask(
        kind="collections_handover",
        title=f"Hand invoice {invoice['number']} to the collection agency",
        queue=COLLECTIONS_QUEUE,
        due_date=clock.today() + timedelta(days=3),
        invoice_id=invoice_id,
        reason=(
            "payment plan defaulted"
            if (invoice.get("payment_plan") or {}).get("state") == "defaulted"
            else "payment plan not accepted in time"
        ),
    )
    event = new_event(
        "invoice.sent_to_collections",
        {
            "invoice_id": invoice_id,
            "number": invoice["number"],
            "customer_id": invoice["customer_id"],
            "currency": invoice["currency"],
            "amount_due": money.format_amount(Decimal(invoice["amount_due"]), invoice["currency"]),
            "level": level,
        },
    )
    _move_escalation(
        table,
        invoice_id,
        "collections",
        fits=lambda current: not current.in_collections,
        invoice_values={"in_collections": True},
        items=[task_put(table, task, cause_id=f"{invoice_id}#handover#{level}")],
        events=[event],
    )
    return True


def write_off(table: str, invoice_id: str) -> None:
    """Marks a still-unpaid invoice uncollectible (Stripe's term); a later payment still pays it."""
    invoice = get_invoice(table, invoice_id)
    event = new_event(
        "invoice.written_off",
        {
            "invoice_id": invoice_id,
            "number": invoice["number"],
            "customer_id": invoice["customer_id"],
            "currency": invoice["currency"],
            "amount_written_off": money.format_amount(Decimal(invoice["amount_due"]), invoice["currency"]),
            # § 17 (2) UStG: the output tax on the uncollectible gross is corrected (decisions/0023)
            "tax_breakdown": vat_share(Invoice.from_item(invoice), Decimal(invoice["amount_due"])),
        },
    )
    _move_escalation(
        table,
        invoice_id,
        "written_off",
        fits=lambda current: (
            current.version == invoice["version"] and current.status in ("open", "partially_paid")
        ),
        invoice_values={"status": "uncollectible"},
        events=[event],
    )


def stop_for(table: str, invoice: dict[str, Any], reason: str) -> bool:
    """Ends a running escalation at once (payment or dispute); True if one was running."""
    escalation = invoice.get("escalation") or {}
    arn = escalation.get("execution_arn")
    # On a plan the state machine looks at the plan itself (payment_plans.check_plan) and ends settled.
    if not arn or escalation.get("state") in ("stopped", "payment_plan", "plan_paid", "written_off"):
        return False
    sfn = aws.client("stepfunctions")
    try:
        running = bool(sfn.describe_execution(executionArn=arn)["status"] == "RUNNING")
        if running:
            sfn.stop_execution(executionArn=arn, error="InvoiceSettled", cause=reason)
    except sfn.exceptions.ExecutionDoesNotExist:
        running = False
    _move_escalation(table, invoice["id"], "stopped", escalation={"stopped_because": reason})
    return running


def escalation_view(table: str, invoice: dict[str, Any]) -> dict[str, Any]:
    """`GET /invoices/{id}/escalation`: the current state and the execution's history."""
    escalation = invoice.get("escalation")
    if not escalation:
        return {"invoice_id": invoice["id"], "state": "none", "history": []}
    sfn = aws.client("stepfunctions")
    arn = escalation["execution_arn"]
    history: list[dict[str, Any]] = []
    status = None
    try:
        status = sfn.describe_execution(executionArn=arn)["status"]
        events = sfn.get_execution_history(executionArn=arn, maxResults=1000)["events"]
        for event in events:
            details = event.get("stateEnteredEventDetails")
            if details:
                history.append({"state": details["name"], "entered_at": clock.iso(event["timestamp"])})
    except sfn.exceptions.ExecutionDoesNotExist:
        pass
    plan = invoice.get("payment_plan")
    return {
        "invoice_id": invoice["id"],
        "level": int(escalation.get("level", 1)),
        "state": escalation.get("state"),
        "execution_status": status,
        "started_at": escalation.get("started_at"),
        "in_collections": bool(invoice.get("in_collections")),
        "payment_plan": (
            {
                "accepted_at": plan["accepted_at"],
                "state": plan.get("state", "active"),
                "instalments": public_instalments(plan["instalments"], invoice["currency"]),
            }
            if plan
            else None
        ),
        "history": history,
    }
