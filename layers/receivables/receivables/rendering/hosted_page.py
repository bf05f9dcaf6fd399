"""The hosted invoice page (and its small message pages) as accessible HTML, from the PDF's view model."""

from __future__ import annotations

import dataclasses
from datetime import date, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from receivables.documents import InvoiceDocument
from receivables.rendering import formatting as fmt
from receivables.rendering.jinja import template
from receivables.rendering.labels import correction_title, exemption_notes, labels_for
from receivables.rendering.messages import messages_for
from receivables.rendering.summary import address_lines, payment_terms, totals_rows

if TYPE_CHECKING:
    from receivables.hosted_account import InvoiceAccount

PAYABLE_STATUSES = ("open", "partially_paid")


def render_hosted_invoice(
    document: InvoiceDocument,
    status: str,
    flags: dict[str, bool],
    pdf_url: str,
    dispute_url: str,
    can_dispute: bool,
    dispute_state: str | None,
    today: date,
    dispute_window_days: int,
    account: InvoiceAccount,
    credit_note_url: str,
    subscription: dict[str, Any] | None = None,
    pay_now: dict[str, Any] | None = None,
) -> str:
    """The page; `credit_note_url` has a `{id}` field for each credit note's PDF link. A subscription
    period's invoice shows its subscription (`period`, `items`, `next_invoice_date`, `ends_on`).
    `pay_now` offers online payment: `url`, `return_url`, `methods`, `stripe_js`, `nonce` (of the page's
    scripts, as its Content-Security-Policy names it) and `last_failure` (why the last attempt failed)."""
    locale, texts = document.locale, messages_for(document.locale)
    overdue = status in PAYABLE_STATUSES and today > document.due_date
    status_key = "overdue" if overdue else status
    amount_due = account.account_amount_due
    context: dict[str, Any] = {
        "number": document.number,
        "seller": document.seller,
        "status_key": status_key,
        "status_text": texts.get(f"status_{status_key}", status),
        "flags": [texts[f"flag_{name}"] for name, on in sorted(flags.items()) if on],
        "seller_lines": address_lines(document.seller, document),
        "buyer_lines": address_lines(document.buyer, document),
        "issue_date": fmt.format_date(document.issue_date, locale),
        "supply_date": fmt.format_date(document.supply_date, locale),
        "due_date": fmt.format_date(document.due_date, locale),
        "order_reference": document.order_reference,
        "pdf_url": pdf_url,
        "account_url": document.account_url,
        "lines": [
            {
                "position": line.position,
                "sku": line.sku,
                "description": line.description,
                "quantity": fmt.format_decimal(line.quantity, locale),
                "unit_price": fmt.format_money(line.unit_price, document.currency, locale),
                "discount": (
                    fmt.format_percent(line.discount_percent, locale) if line.discount_percent else ""
                ),
                "tax_rate": fmt.format_percent(line.tax_rate, locale),
                "net": fmt.format_money(line.net, document.currency, locale),
            }
            for line in document.lines
        ],
        # The invoice's own totals end at its gross; what happened since is in the account below.
        "totals": totals_rows(dataclasses.replace(document, amount_paid=Decimal(0))),
        "account_rows": account_rows(account, document.currency, locale),
        "credit_notes": [
            {
                "number": note.number,
                "title": correction_title(note.kind, locale),
                "issue_date": fmt.format_date(note.issue_date, locale),
                "amount": fmt.format_money(note.gross, document.currency, locale),
                "pdf_url": credit_note_url.format(id=note.id) if note.has_pdf else None,
            }
            for note in account.credit_notes
        ],
        "refunds": [
            {
                "date": fmt.format_date(refund.occurred_on, locale),
                "amount": fmt.format_money(refund.amount, document.currency, locale),
            }
            for refund in account.refunds
        ],
        "exemption_notes": exemption_notes(document),
        "payment_terms": payment_terms(document),
        "payable": status in PAYABLE_STATUSES and amount_due > 0,
        "amount_due": fmt.format_money(amount_due, document.currency, locale),
        "dispute_url": dispute_url,
        "can_dispute": can_dispute,
        "dispute_state": dispute_state,
        "dispute_last_day": fmt.format_date(
            document.issue_date + timedelta(days=dispute_window_days), locale
        ),
        "subscription": subscription_facts(subscription, locale) if subscription else None,
    }
    context["pay_now"] = None
    if pay_now and pay_now.get("methods") and context["payable"]:
        context["pay_now"] = pay_now | {
            "script_texts": {
                key: texts[f"pay_{key}"]
                for key in ("starting", "processing", "succeeded", "failed", "unavailable")
            }
        }
    return _page("pages/invoice.html.j2", document, context)


def subscription_facts(subscription: dict[str, Any], locale: str) -> list[tuple[str, str]]:
    """(label, value) rows: the invoiced period, the items, and the next invoice or the end."""
    texts = messages_for(locale)

    def day(value: str) -> str:
        return fmt.format_date(date.fromisoformat(value), locale)

    period = subscription["period"]
    rows = [
        (texts["subscription_period"], f"{day(period['start'])} – {day(period['end'])}"),
        (
            texts["subscription_items"],
            ", ".join(
                f"{fmt.format_decimal(item['quantity'], locale)} × {item['description']}"
                for item in subscription["items"]
            ),
        ),
    ]
    if subscription.get("next_invoice_date"):
        rows.append((texts["subscription_next_invoice"], day(subscription["next_invoice_date"])))
    elif subscription.get("ends_on"):
        rows.append((texts["subscription_ends"], day(subscription["ends_on"])))
    return rows


def account_rows(account: InvoiceAccount, currency: str, locale: str) -> list[tuple[str, str, bool]]:
    """(label, signed amount, emphasised): total − paid + refunded − credited = due, then the fees."""
    texts = messages_for(locale)

    def money(amount: Decimal) -> str:
        return fmt.format_money(amount, currency, locale)

    rows = [(texts["sum_total"], money(account.total), False)]
    if account.paid:
        rows.append((texts["sum_paid"], money(-account.paid), False))
    if account.refunded:
        rows.append((texts["sum_refunded"], "+" + money(account.refunded), False))
    if account.credited:
        rows.append((texts["sum_credited"], money(-account.credited), False))
    if account.cancelled:
        rows.append((texts["sum_cancelled"], money(-account.cancelled), False))
    if not account.fees_charged:
        return [*rows, (texts["sum_due"], money(account.amount_due), True)]
    rows.append((texts["sum_invoice_due"], money(account.amount_due), False))
    rows.append((texts["sum_fees"], "+" + money(account.fees_charged), False))
    if account.fees_paid:
        rows.append((texts["sum_fees_paid"], money(-account.fees_paid), False))
    return [*rows, (texts["sum_due"], money(account.account_amount_due), True)]


def render_message_page(
    document: InvoiceDocument | None, locale: str, kind: str, back_url: str | None
) -> str:
    """A short page: `dispute_received` after the form, `not_found` for an unknown link."""
    texts = messages_for(locale)
    number = document.number if document else ""
    context = {
        "heading": texts[f"{kind}_title"],
        "message": texts[kind].format(number=number),
        "back_url": back_url,
        "seller": document.seller if document else None,
    }
    return _page("pages/message.html.j2", document, context, locale)


def _page(name: str, document: InvoiceDocument | None, context: dict[str, Any], locale: str = "") -> str:
    return render_page(name, locale or (document.locale if document else "en"), context)


def render_page(name: str, locale: str, context: dict[str, Any]) -> str:
    """A page template under pages/, given the locale's sentences and labels besides `context`."""
    values = {"texts": messages_for(locale), "labels": labels_for(locale), "locale": locale} | context
    return template(name).render(values)


def render_plan_page(
    document: InvoiceDocument | None, offer: dict[str, Any] | None, locale: str, accept_url: str, state: str
) -> str:
    """The payment-plan offer (`offer`), or what became of it (`accepted`, `closed`, `not_found`)."""
    if document is None or offer is None:
        return render_message_page(None, locale, "not_found", back_url=None)
    texts = messages_for(locale)
    instalments = [
        texts["plan_instalment"].format(
            number=i["number"],
            amount=fmt.format_money(Decimal(i["amount"]), document.currency, locale),
            due_date=fmt.format_date(date.fromisoformat(i["due_date"]), locale),
        )
        for i in offer["instalments"]
    ]
    amount_due = document.amount_due if document.amount_due is not None else document.gross
    context = {
        "heading": texts["plan_page_title"].format(number=document.number),
        "seller": document.seller,
        "state": state,
        "instalments": instalments,
        "amount_due": fmt.format_money(amount_due, document.currency, locale),
        "accept_url": accept_url,
        "back_url": document.hosted_url,
        "number": document.number,
    }
    return _page("pages/plan.html.j2", document, context, locale)
