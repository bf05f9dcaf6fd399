"""The customer page (`GET /c/{token}`) as accessible HTML: invoices, payments, credit notes and
subscriptions, each formatted for the customer's language."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

from receivables.customer_account import MAX_INVOICES
from receivables.rendering import formatting as fmt
from receivables.rendering.hosted_page import PAYABLE_STATUSES, render_page
from receivables.rendering.messages import messages_for

if TYPE_CHECKING:
    from receivables.customer_account import AccountSubscription, CustomerAccount
    from receivables.documents import Seller


def render_customer_page(account: CustomerAccount, seller: Seller, base_url: str, today: date) -> str:
    """`base_url` is the public address the hosted pages live under (links to each invoice's page)."""
    locale, texts = account.locale, messages_for(account.locale)
    base = base_url.rstrip("/")

    def money(amount: Any, currency: str) -> str:
        return fmt.format_money(amount, currency, locale)

    def day(value: date | None) -> str:
        return fmt.format_date(value, locale) if value else ""

    invoices = []
    for invoice in account.invoices:
        overdue = invoice.status in PAYABLE_STATUSES and today > invoice.due_date
        status_key = "overdue" if overdue else invoice.status
        invoices.append(
            {
                "number": invoice.number,
                "url": f"{base}/i/{invoice.hosted_token}",
                "issue_date": day(invoice.issue_date),
                "due_date": day(invoice.due_date),
                "total": money(invoice.total, invoice.currency),
                "open": money(invoice.account_amount_due, invoice.currency),
                "status_key": status_key,
                "status_text": texts.get(f"status_{status_key}", invoice.status),
            }
        )
    context = {
        "heading": texts["customer_page_title"].format(seller=seller.name),
        "intro": texts["customer_page_intro"].format(name=account.name),
        "seller": seller,
        "open_totals": [
            money(amount, currency) for currency, amount in sorted(account.open_by_currency.items())
        ],
        "invoices": invoices,
        "latest_only": len(account.invoices) >= MAX_INVOICES,
        "movements": [
            {
                "date": day(m.occurred_on),
                "kind": texts[f"movement_{m.kind}"],
                "invoice": m.invoice_number,
                "amount": money(m.amount if m.kind == "payment" else -m.amount, m.currency),
            }
            for m in account.movements
        ],
        "credit_notes": [
            {
                "number": note.number,
                "date": day(note.issue_date),
                "invoice": note.invoice_number,
                "amount": money(note.gross, note.currency),
                "pdf_url": f"{base}/i/{note.invoice_token}/credit-notes/{note.id}/pdf"
                if note.has_pdf
                else None,
            }
            for note in account.credit_notes
        ],
        "subscriptions": [_subscription_row(s, texts, locale, day) for s in account.subscriptions],
    }
    return render_page("pages/customer.html.j2", locale, context)


def _subscription_row(subscription: AccountSubscription, texts: Any, locale: str, day: Any) -> dict[str, str]:
    count = subscription.interval_count
    interval = (
        texts[f"interval_{subscription.interval}"]
        if count == 1
        else texts[f"interval_{subscription.interval}s"].format(count=count)
    )
    items = ", ".join(
        f"{fmt.format_decimal(item['quantity'], locale)} × {item['description']}"
        for item in subscription.items
    )
    next_or_end = day(subscription.next_invoice_date) if subscription.next_invoice_date else ""
    if not next_or_end and subscription.ends_on:
        next_or_end = f"{texts['subscription_ends']} {day(subscription.ends_on)}"
    return {
        "what": items,
        "interval": interval,
        "status": texts.get(f"subscription_status_{subscription.status}", subscription.status),
        "next": next_or_end,
    }
