"""The dunning run: find what is due through the sparse index, send each reminder once, start escalations.

Index: an invoice with a pending dunning action carries `gsi2pk = DUNNING#<shard>` and
`gsi2sk = <next action date>#<invoice id>`; nothing else does. A run queries each shard for keys up to
today, so it reads the due invoices and nothing more, however many are stored (docs/decisions/0014).
The policy (dunning.py) decides what is due; catch-up after missed runs sends only the latest due step.

Once-only: each reminder is sent through `sending.send_once` with purpose `reminder#<step>`, whose
record transaction appends the step to the invoice, moves its index entry and books a late fee; two
overlapping runs or a schedule firing twice cannot send it twice. A reminder that charges a fee or
interest carries its letter (reminder_letters.py) as a PDF attachment of that one email, so there is
exactly one letter per reminder step. A customer who chose SMS also gets the step's SMS, scheduled with the
email and sent in their daytime, once (sms_reminders.py). Escalations start a Step Functions
execution named `<invoice id>-level-<n>`: a second start is refused by Step Functions and ignored.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from receivables import aws, clock, dunning, mailer, money, payment_plans
from receivables.customers import current_email, read_customer
from receivables.document_store import PDF
from receivables.dunning_index import SHARDS, index_keys
from receivables.invoices import get_invoice, hosted_url, to_document
from receivables.invoicing import store
from receivables.invoicing.model import Invoice
from receivables.invoicing.store import Decision
from receivables.items import from_item, to_item
from receivables.outbox import new_event
from receivables.records import put_new
from receivables.reminder_letters import letter_filename, reminder_letter
from receivables.seller import SellerProfile
from receivables.sending import send_once
from receivables.sms_reminders import schedule_sms

if TYPE_CHECKING:  # rendering imports jinja2: only the functions that send load it (decisions/0019)
    from receivables.rendering.emails import InstalmentFigures

DUNNABLE = ("open", "partially_paid")


def due_invoices(table: str, today: date) -> Iterator[dict[str, Any]]:
    """Invoices whose next dunning action is due today or earlier: a query per shard, never a scan."""
    client = aws.client("dynamodb")
    for shard in range(SHARDS):
        request: dict[str, Any] = {
            "TableName": table,
            "IndexName": "gsi2",
            "KeyConditionExpression": "gsi2pk = :shard AND gsi2sk <= :until",
            "ExpressionAttributeValues": to_item(
                {":shard": f"DUNNING#{shard}", ":until": f"{today.isoformat()}~"}
            ),
        }
        while True:
            page = client.query(**request)
            yield from (from_item(item) for item in page["Items"])
            if "LastEvaluatedKey" not in page:
                break
            request["ExclusiveStartKey"] = page["LastEvaluatedKey"]


@dataclass(frozen=True)
class RunSettings:
    table: str
    sender: str
    base_url: str
    state_machine_arn: str
    sms_enabled: bool = False
    sms_state_machine_arn: str = ""
    plan_offer_days: int = 14
    write_off_after_days: int = 90


def run(settings: RunSettings, seller: SellerProfile) -> dict[str, int]:
    """One dunning run; returns counts for the log and metrics."""
    today = dunning.local_today(clock.now(), seller.zone)
    counts = {"read": 0, "reminded": 0, "escalated": 0, "rescheduled": 0, "dropped": 0}
    for indexed in due_invoices(settings.table, today):
        counts["read"] += 1
        counts[_process(settings, seller, get_invoice(settings.table, indexed["id"]), today)] += 1
    return counts


def _process(settings: RunSettings, seller: SellerProfile, invoice: dict[str, Any], today: date) -> str:
    plan = invoice.get("payment_plan") or {}
    on_plan = plan and plan.get("state", payment_plans.ACTIVE) == payment_plans.ACTIVE
    if invoice["status"] in DUNNABLE and on_plan and not invoice.get("disputed"):
        return _process_plan(settings, seller, invoice, today)
    if invoice["status"] not in DUNNABLE or invoice.get("in_collections") or invoice.get("escalation"):
        _reindex(settings.table, invoice, None)
        return "dropped"
    if invoice.get("disputed"):
        _reindex(settings.table, invoice, today + timedelta(days=1))  # paused: look again tomorrow
        return "rescheduled"
    policy = dunning.merge_policy(seller.dunning_policy, _customer_overrides(settings.table, invoice))
    due_date = date.fromisoformat(invoice["due_date"])
    sent = list(invoice.get("reminder_steps", []))
    action = dunning.next_action(policy, due_date, sent, escalated=False, today=today)
    if action is None:
        _reindex(settings.table, invoice, None)
        return "dropped"
    if not action.is_due(today):
        _reindex(settings.table, invoice, action.due_on)
        return "rescheduled"
    if action.kind == "escalate":
        start_escalation(settings, invoice, level=1, plan_grace_days=policy.plan_grace_days)
        return "escalated"
    assert action.step_name is not None
    after = dunning.next_action_date(policy, due_date, [*sent, action.step_name], escalated=False)
    send_reminder(settings, seller, invoice, policy, action, after)
    return "reminded"


def _process_plan(settings: RunSettings, seller: SellerProfile, invoice: dict[str, Any], today: date) -> str:
    """An accepted payment plan: each unpaid instalment gets its due-soon notice and, once overdue, its
    reminder, once each (payment_plans.plan_reminders); the state machine ends a plan in default."""
    from receivables.rendering.emails import InstalmentFigures

    policy = dunning.merge_policy(seller.dunning_policy, _customer_overrides(settings.table, invoice))
    standings = payment_plans.standing_of(invoice)
    sent = list(invoice.get("reminder_steps", []))
    due, next_on = payment_plans.plan_reminders(standings, policy.plan_notice_days_before, sent, today)
    if not due:
        _reindex(settings.table, invoice, next_on)
        return "rescheduled" if next_on else "dropped"
    names = [*sent, *(reminder.step_name for reminder in due)]
    _, after = payment_plans.plan_reminders(standings, policy.plan_notice_days_before, names, today)
    paid = payment_plans.paid_on_plan(invoice["payment_plan"]["instalments"], Decimal(invoice["amount_due"]))
    for reminder in due:
        instalment = reminder.instalment
        figures = InstalmentFigures(
            number=instalment.number,
            of=instalment.of,
            amount=instalment.amount,
            open_amount=instalment.open_amount,
            due_date=instalment.due_date,
            paid_on_plan=paid,
        )
        action = dunning.NextAction("reminder", reminder.step_name, reminder.template, instalment.due_date)
        send_reminder(settings, seller, invoice, policy, action, after, instalment=figures)
    return "reminded"


def send_reminder(
    settings: RunSettings,
    seller: SellerProfile,
    invoice: dict[str, Any],
    policy: dunning.DunningPolicy,
    action: dunning.NextAction,
    next_on: date | None,
    instalment: InstalmentFigures | None = None,
) -> str | None:
    from receivables.rendering.emails import build_mime, render_reminder

    assert action.step_name is not None
    step_name = action.step_name
    currency = invoice["currency"]
    step = dunning.step_by_name(policy, step_name)
    amount_due = Decimal(invoice["amount_due"])
    business = bool(invoice["customer"].get("vat_id"))  # without a VAT id: a consumer, the lower claim
    basis = dunning.interest_basis(policy.interest_rate_percent_per_year, business)
    interest = Decimal(0)
    if step and step.interest:
        interest = dunning.statutory_interest(
            amount_due, currency, date.fromisoformat(invoice["due_date"]), clock.today(), basis.rate_percent
        )
    step_fee = dunning.late_fee(step, amount_due, currency) if step else Decimal(0)
    lump = dunning.lump_sum(step, business, currency, amount_due) if step else Decimal(0)
    fee = step_fee + lump + interest
    fees_before = Invoice.from_item(invoice).fees_due  # what earlier reminders charged and is unpaid
    # A reminder that charges anything carries its letter (Mahnung), built from the figures it books.
    letter = reminder_letter(
        invoice, seller.as_party(), step, (step_fee, lump, interest), basis, fees_before, clock.today()
    )

    to = current_email(settings.table, invoice["customer_id"], invoice["customer"]["email"])

    def send() -> str:
        link = hosted_url(settings.base_url, invoice)
        rendered = render_reminder(
            to_document(invoice, seller, hosted=link),
            template=action.template or "reminder",
            hosted_url=link,
            pdf_url=f"{link}/pdf",
            fee=fee,
            fees_total=fees_before + fee,
            instalment=instalment,
        )
        if settings.sms_enabled:
            # before the email: a failed start sends nothing and the run's retry tries both again; the SMS
            # waits for this step to be recorded (sms_reminders), so it never goes without its email
            schedule_sms(
                settings.sms_state_machine_arn,
                settings.table,
                invoice,
                step_name,
                f"{seller.name}: {rendered.subject}",
                seller.zone,
            )
        attachments = []
        if letter is not None:
            from receivables.rendering.emails import Attachment
            from receivables.rendering.reminder_letter_pdf import render_reminder_letter_pdf

            pdf = render_reminder_letter_pdf(letter)  # the same bytes on every retry of this step
            attachments.append(Attachment(letter_filename(letter, step_name), PDF, pdf))
        mime = build_mime(settings.sender, to, rendered, attachments, seller.name)
        return mailer.send_raw(settings.sender, to, mime)

    def record(marks: list[dict[str, Any]], message_id: str, sent_at: str) -> None:
        def decide(current: Invoice) -> Decision:
            reminded = current.with_attributes(
                reminder_steps=[*current.get("reminder_steps", []), step_name],
                last_reminder_at=sent_at,
                reminders_sent=int(current.get("reminders_sent", 0)) + 1,
                late_fees=current.late_fees + fee,
                late_interest=current.late_interest + interest,
            )
            # a plan's reminder is about its instalment's due date, not the invoice's
            due_on = instalment.due_date if instalment else date.fromisoformat(invoice["due_date"])
            event = new_event(
                "invoice.overdue" if due_on < clock.today() else "invoice.reminded",
                {
                    "invoice_id": invoice["id"],
                    "number": invoice["number"],
                    "customer_id": invoice["customer_id"],
                    "step": step_name,
                    "currency": currency,
                    "amount_due": money.format_amount(amount_due, currency),
                    "late_fee": money.format_amount(fee, currency),
                    "due_date": invoice["due_date"],
                    "sent_at": sent_at,
                }
                | (_instalment_data(instalment, currency) if instalment else {}),
            )
            items = list(marks)
            if fee > 0:
                items.append(_fee_put(settings.table, invoice, step_name, fee, sent_at))
            return Decision(after=scheduled(reminded, next_on), events=[event], items=items)

        store.change(
            settings.table,
            invoice["id"],
            decide,
            changed_by="dunning",
            change_cause=f"reminder {step_name} sent",
        )

    purpose = f"reminder#{step_name}"
    return send_once(settings.table, invoice["id"], purpose, send, recipient=to, record_on_invoice=record)


def _instalment_data(instalment: InstalmentFigures, currency: str) -> dict[str, Any]:
    return {
        "instalment": instalment.number,
        "instalment_amount": money.format_amount(instalment.amount, currency),
        "instalment_due_date": instalment.due_date.isoformat(),
    }


def _fee_put(table: str, invoice: dict[str, Any], step: str, fee: Decimal, at: str) -> dict[str, Any]:
    """A late fee is its own document on the customer's account: the issued invoice is never edited."""
    currency = invoice["currency"]
    item = {
        "pk": f"INVOICE#{invoice['id']}",
        "sk": f"FEE#{step}",
        "entity": "late_fee",
        "id": f"fee_{invoice['id'].removeprefix('inv_')}_{step}",
        "invoice_id": invoice["id"],
        "customer_id": invoice["customer_id"],
        "step": step,
        "currency": currency,
        "amount": fee,
        "charged_at": at,
    }
    return put_new(table, item)


def scheduled(invoice: Invoice, on: date | None) -> Invoice:
    """The invoice with its next dunning action on `on` (in the sparse index), or off the schedule."""
    if on is None:
        return invoice.without("gsi2pk", "gsi2sk", "next_reminder_at")
    return invoice.with_attributes(**index_keys(invoice.id, on), next_reminder_at=on.isoformat())


def _reindex(table: str, invoice: dict[str, Any], on: date | None) -> None:
    """Moves (or removes) the invoice's index entry, unless the invoice changed meanwhile."""

    def decide(current: Invoice) -> Decision | None:
        if current.version != invoice["version"]:
            return None  # the next run reads it again with its new state
        return Decision(after=scheduled(current, on))

    store.change(table, invoice["id"], decide, changed_by="dunning", change_cause="dunning rescheduled")


def _customer_overrides(table: str, invoice: dict[str, Any]) -> dict[str, Any] | None:
    customer = _customer(table, invoice)
    overrides = customer.get("dunning_overrides") if customer else None
    return dict(overrides) if overrides else None


def _customer(table: str, invoice: dict[str, Any]) -> dict[str, Any] | None:
    return read_customer(table, invoice["customer_id"])


def start_escalation(
    settings: RunSettings,
    invoice: dict[str, Any],
    level: int,
    plan_grace_days: int = dunning.DunningPolicy().plan_grace_days,
) -> None:
    """Starts the escalation once per invoice and level, then takes the invoice out of the dunning index.
    The plan's grace period is the customer's policy as of now: an accepted plan keeps it."""
    client = aws.client("stepfunctions")
    name = f"{invoice['id']}-level-{level}"
    execution_arn = settings.state_machine_arn.replace(":stateMachine:", ":execution:") + f":{name}"
    execution_input = {
        "invoice_id": invoice["id"],
        "level": level,
        "timeouts": {
            "plan_offer_seconds": settings.plan_offer_days * 86400,
            "write_off_seconds": settings.write_off_after_days * 86400,
        },
        "plan_grace_days": plan_grace_days,
    }
    with contextlib.suppress(client.exceptions.ExecutionAlreadyExists):  # an earlier or overlapping run
        client.start_execution(
            stateMachineArn=settings.state_machine_arn, name=name, input=json.dumps(execution_input)
        )
    started = {
        "level": level,
        "execution_arn": execution_arn,
        "started_at": clock.iso(clock.now()),
        "state": "running",
    }

    def decide(current: Invoice) -> Decision:
        escalated = current.with_attributes(escalation=current.get("escalation") or started)
        return Decision(after=scheduled(escalated, None))

    store.change(
        settings.table,
        invoice["id"],
        decide,
        changed_by="dunning",
        change_cause=f"escalation level {level} started",
    )
