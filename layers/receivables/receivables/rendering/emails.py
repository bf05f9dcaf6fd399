"""Emails as HTML and plain text from jinja2 templates (compiled once, see jinja.py), and their MIME message.

Templates are language-neutral: the words come from messages.py and labels.py, the values are formatted by
formatting.py.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import formataddr, make_msgid
from typing import TYPE_CHECKING, Any

from receivables.documents import InvoiceDocument
from receivables.rendering.formatting import format_date, format_money
from receivables.rendering.jinja import template
from receivables.rendering.labels import (
    correction_number_label,
    correction_total_label,
    document_title,
    labels_for,
)
from receivables.rendering.messages import messages_for

if TYPE_CHECKING:  # the receipt's figures; the module imports this one lazily
    from receivables.payment_receipts import PaymentReceipt

SMTP_POLICY = SMTP.clone(max_line_length=998)


@dataclass(frozen=True)
class RenderedEmail:
    subject: str
    text: str
    html: str


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str
    content: bytes


def render_email(kind: str, locale: str, subject: str, context: dict[str, Any]) -> RenderedEmail:
    """`<kind>.txt.j2` and `<kind>.html.j2`, both given `texts` (the locale's sentences) and `context`."""
    values = {"texts": messages_for(locale), "labels": labels_for(locale), "locale": locale} | context
    return RenderedEmail(
        subject=subject,
        text=template(f"emails/{kind}.txt.j2").render(values),
        html=template(f"emails/{kind}.html.j2").render(values),
    )


def document_context(document: InvoiceDocument) -> dict[str, Any]:
    """What every email about an invoice shows: the invoice's key figures, formatted for its reader."""
    locale = document.locale
    amount_due = document.amount_due if document.amount_due is not None else document.gross
    return {
        "document": document,
        "number": document.number,
        "customer_name": document.buyer.name,
        "seller": document.seller,
        "issue_date": format_date(document.issue_date, locale),
        "due_date": format_date(document.due_date, locale),
        "total": format_money(document.gross, document.currency, locale),
        "amount_due": format_money(amount_due, document.currency, locale),
        "order_reference": document.order_reference,
        "account_url": document.account_url,  # the customer page, linked in every email's footer
    }


def render_invoice_email(document: InvoiceDocument, hosted_url: str, pay_url: str) -> RenderedEmail:
    texts = messages_for(document.locale)
    context = document_context(document) | {"hosted_url": hosted_url, "pay_url": pay_url}
    subject = texts["invoice_subject"].format(number=document.number, seller=document.seller.name)
    return render_email("invoice", document.locale, subject, context)


def build_mime(
    sender: str,
    recipient: str,
    rendered: RenderedEmail,
    attachments: list[Attachment],
    sender_name: str | None = None,
) -> bytes:
    """A multipart/mixed message: text and HTML as alternatives, then the attachments."""
    # SMTP line endings and RFC 5322's 998-character limit: the default 78 folds long German subjects
    # badly (a doubled space before the encoded word in several clients).
    message = EmailMessage(policy=SMTP_POLICY)
    message["From"] = formataddr((sender_name, sender)) if sender_name else sender
    message["To"] = recipient
    message["Subject"] = rendered.subject
    message["Message-ID"] = make_msgid(domain=sender.rsplit("@", 1)[-1])
    message.set_content(rendered.text)
    message.add_alternative(rendered.html, subtype="html")
    for attachment in attachments:
        maintype, subtype = attachment.content_type.split("/", 1)
        message.add_attachment(
            attachment.content, maintype=maintype, subtype=subtype, filename=attachment.filename
        )
    return message.as_bytes()


def render_payment_email(
    document: InvoiceDocument, receipt: PaymentReceipt, received_on: date | None, hosted_url: str
) -> RenderedEmail:
    """A receipt while something is left to pay, else the confirmation (with the credit kept, if any)."""
    texts, labels, locale = messages_for(document.locale), labels_for(document.locale), document.locale

    def money(amount: Decimal) -> str:
        return format_money(amount, document.currency, locale)

    rows = [
        (labels.invoice_number, document.number, False),
        (texts["invoice_amount"], money(document.gross), False),
        (
            texts["credit_applied_amount" if receipt.from_credit else "paid_amount"],
            money(receipt.received),
            True,
        ),
    ]
    settled = [(texts["settled_fees"], receipt.fees), (texts["settled_interest"], receipt.interest)]
    if any(amount for _, amount in settled):  # § 367 (1) BGB: say what the money went to
        settled.append((texts["settled_principal"], receipt.principal))
        rows += [(label, money(amount), False) for label, amount in settled if amount]
    if receipt.credit:
        rows.append((texts["credit_kept"], money(receipt.credit), False))
    rows.append((labels.amount_due, money(receipt.remaining), receipt.kind == "receipt"))
    values = {"number": document.number, "amount": money(receipt.received)}
    context = document_context(document) | {
        "hosted_url": hosted_url,
        "rows": rows,
        "received": money(receipt.received),
        "received_on": format_date(received_on, locale) if received_on else None,
        "remaining": money(receipt.remaining),
        "credit": money(receipt.credit) if receipt.credit else None,
        "overdue": received_on is not None and received_on > document.due_date,
    }
    context["intro"] = _payment_intro(texts, receipt, context)
    if receipt.from_credit:
        subject = texts["credit_applied_subject"].format(**values)
    else:
        subject = texts["receipt_subject" if receipt.kind == "receipt" else "paid_subject"].format(**values)
    template = "payment_receipt" if receipt.kind == "receipt" else "payment_confirmation"
    return render_email(template, locale, subject, context)


def _payment_intro(texts: Mapping[str, str], receipt: PaymentReceipt, context: dict[str, Any]) -> str:
    """The opening sentence: money received, or the customer's credit set against the invoice."""
    values = {
        "amount": context["received"],
        "number": context["number"],
        "issue_date": context["issue_date"],
        "received_on": context["received_on"],
    }
    if receipt.from_credit:
        paid = " " + texts["credit_applied_paid"] if receipt.kind == "confirmation" else ""
        return texts["credit_applied_intro"].format(**values) + paid
    if receipt.kind == "confirmation":
        return texts["paid_intro"].format(**values)
    return texts["receipt_intro_on" if values["received_on"] else "receipt_intro"].format(**values)


def render_credit_note_email(
    document: InvoiceDocument,
    invoice_number: str,
    remaining: Decimal,
    credit: Decimal,
    hosted_url: str,
    account_url: str | None = None,
) -> RenderedEmail:
    """The credit note (`document`) for its invoice, with what the invoice still asks for afterwards; a
    void's Stornorechnung (document_kind "cancellation") in its own words. Both name the invoice's date."""
    texts, labels, locale = messages_for(document.locale), labels_for(document.locale), document.locale
    words = "cancellation" if document.document_kind == "cancellation" else "credit_note"

    def money(amount: Decimal) -> str:
        return format_money(amount, document.currency, locale)

    rows = [
        (correction_number_label(document), document.number, False),
        (texts[f"{words}_date"], format_date(document.issue_date, locale), False),
        (labels.invoice_number, invoice_number, False),
        (correction_total_label(document), money(document.gross), True),
    ]
    if credit:
        rows.append((texts["credit_kept"], money(credit), False))
    rows.append((texts["still_due_on_invoice"].format(number=invoice_number), money(remaining), False))
    dated = document.corrects_invoice_date
    values = {
        "credit_note": document.number,
        "number": invoice_number,
        "seller": document.seller.name,
        "issue_date": format_date(document.issue_date, locale),
        "invoice_dated": texts["invoice_dated"].format(date=format_date(dated, locale)) if dated else "",
    }
    context = document_context(document) | {
        "hosted_url": hosted_url,
        "account_url": account_url,
        "rows": rows,
        "title": document_title(document),
        "intro": texts[f"{words}_intro"].format(**values),
        "settled": texts[f"{words}_settled"].format(**values),
        "attachment_note": texts[f"{words}_attachment"],
        "credit_note": document.number,
        "invoice_number": invoice_number,
        "reason": document.notes[0] if document.notes else "",
        "remaining": money(remaining) if remaining else None,
        "credit": money(credit) if credit else None,
    }
    subject = texts[f"{words}_subject"].format(**values)
    return render_email("credit_note", locale, subject, context)


@dataclass(frozen=True)
class InstalmentFigures:
    """The instalment a plan reminder is about, and what was paid on the plan so far."""

    number: int
    of: int
    amount: Decimal
    open_amount: Decimal
    due_date: date
    paid_on_plan: Decimal


def render_reminder(
    document: InvoiceDocument,
    template: str,
    hosted_url: str,
    pdf_url: str,
    fee: Decimal,
    fees_total: Decimal,
    instalment: InstalmentFigures | None = None,
) -> RenderedEmail:
    """A reminder of the policy's `template` (courtesy, reminder, final_reminder, ...), with fees shown;
    a plan's reminder names its instalment (number, amount, due date) and what was paid on the plan."""
    texts, locale = messages_for(document.locale), document.locale
    amount_due = document.amount_due if document.amount_due is not None else document.gross
    context = document_context(document) | {
        "template": template,
        "hosted_url": hosted_url,
        "pdf_url": pdf_url,
        "fee": format_money(fee, document.currency, locale) if fee else None,
        "fees_total": format_money(fees_total, document.currency, locale) if fees_total else None,
        "total_with_fees": format_money(amount_due + fees_total, document.currency, locale),
    }
    values = {"number": document.number, "due_date": context["due_date"], "issue_date": context["issue_date"]}
    if instalment is not None:
        figures = {
            "instalment": instalment.number,
            "of": instalment.of,
            "instalment_amount": format_money(instalment.amount, document.currency, locale),
            "instalment_open": format_money(instalment.open_amount, document.currency, locale),
            "instalment_due_date": format_date(instalment.due_date, locale),
            "paid_on_plan": format_money(instalment.paid_on_plan, document.currency, locale),
        }
        values |= figures
        figures["label"] = texts["plan_instalment_label"].format(**figures)
    context["instalment"] = figures if instalment is not None else None
    context["intro"] = texts[f"{template}_intro"].format(**values)
    subject = texts[f"{template}_subject"].format(**values)
    return render_email("reminder", locale, subject, context)


def render_final_notice(
    document: InvoiceDocument, hosted_url: str, plan_url: str, instalments: list[dict[str, Any]]
) -> RenderedEmail:
    texts, locale = messages_for(document.locale), document.locale
    plan = [
        texts["plan_instalment"].format(
            number=i["number"],
            amount=format_money(Decimal(i["amount"]), document.currency, locale),
            due_date=format_date(date.fromisoformat(i["due_date"]), locale),
        )
        for i in instalments
    ]
    context = document_context(document) | {"hosted_url": hosted_url, "plan_url": plan_url, "plan": plan}
    subject = texts["final_notice_subject"].format(number=document.number)
    return render_email("final_notice", locale, subject, context)


def render_dispute_answer(
    document: InvoiceDocument,
    outcome: str,
    note: str,
    account_amount_due: Decimal,
    hosted_url: str,
    pay_by: date | None = None,
    credit_notes: tuple[str, ...] = (),
) -> RenderedEmail:
    """Finance's answer to the customer's dispute: upheld (naming the credit notes it led to, if any) or
    rejected (with the reason and the date to pay by). The note is shown as finance wrote it."""
    texts, labels, locale = messages_for(document.locale), labels_for(document.locale), document.locale
    amount = format_money(account_amount_due, document.currency, locale)
    values = {"number": document.number, "issue_date": format_date(document.issue_date, locale)}
    rows = [(labels.invoice_number, document.number, False), (labels.amount_due, amount, pay_by is None)]
    corrections = ""
    if outcome == "upheld":
        if credit_notes:
            sentence = (
                "dispute_upheld_credit_note" if len(credit_notes) == 1 else "dispute_upheld_credit_notes"
            )
            corrections = texts[sentence].format(credit_notes=", ".join(credit_notes))
        closing = texts["dispute_still_due" if account_amount_due else "dispute_nothing_due"].format(
            amount=amount
        )
    else:
        assert pay_by is not None, "a rejected dispute's answer names the date to pay by"
        # "new due date" only when the answer gave more time than the invoice's own due date
        label = texts["dispute_pay_by" if pay_by > document.due_date else "invoice_due"]
        rows.append((label, format_date(pay_by, locale), True))
        closing = texts["dispute_rejected_pay_by"].format(amount=amount, pay_by=format_date(pay_by, locale))
    subject = texts[f"dispute_{outcome}_subject"].format(**values)
    context = document_context(document) | {
        "subject": subject,
        "intro": texts[f"dispute_{outcome}_intro"].format(**values),
        "note": note,
        "note_label": texts["dispute_rejection_reason" if outcome == "rejected" else "dispute_note"],
        "corrections": corrections,
        "rows": rows,
        "closing_sentence": closing,
        "hosted_url": hosted_url,
        "pay_by": format_date(pay_by, locale) if pay_by else None,
    }
    return render_email("dispute_answer", locale, subject, context)
