"""The customer's hosted invoice page: view it, download the PDF, dispute it. No API key: the
unguessable token in the link is the credential, so responses never leak it (no referrer, no cache)."""

from collections.abc import Callable
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Form, Path
from aws_lambda_powertools.utilities.typing import LambdaContext

from receivables import clock, document_store
from receivables.credit_notes import get_credit_note
from receivables.disputes import can_dispute, open_dispute
from receivables.errors import NotFound
from receivables.hosted_account import invoice_account
from receivables.http import HTML, LinkToken, create_api, documented, page_responses
from receivables.invoices import get_invoice_by_token, hosted_url, to_document
from receivables.observability import logger
from receivables.seller import SellerProfile, load_seller_profile
from receivables.settings import HostedPageSettings, load

app = create_api()
CreditNoteId = Annotated[str, Path(pattern=r"^cn_[0-9a-f]{32}$", description="A credit note of the invoice.")]
PAGE_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
}


def _html(status: int, body: str) -> Response[str]:
    return Response(
        status_code=status, content_type="text/html; charset=utf-8", body=body, headers=PAGE_HEADERS
    )


@app.get(
    "/i/<token>",
    summary="The customer's invoice page (HTML, German or English)",
    tags=["Customer pages"],
    responses=page_responses(),
)
def view_invoice(token: LinkToken) -> Response[str]:
    return _linked_page(token, _invoice_page)


def _invoice_page(invoice: dict[str, Any], seller: SellerProfile, settings: HostedPageSettings) -> str:
    from receivables.rendering.hosted_page import render_hosted_invoice

    link = hosted_url(settings.public_base_url, invoice)
    today = clock.now().astimezone(seller.zone).date()
    return render_hosted_invoice(
        to_document(invoice, seller, hosted=link),
        status=invoice["status"],
        flags={
            "disputed": bool(invoice.get("disputed")),
            "in_collections": bool(invoice.get("in_collections")),
        },
        pdf_url=f"{link}/pdf",
        dispute_url=f"{link}/dispute",
        can_dispute=can_dispute(invoice, seller.dispute_window_days, today),
        dispute_state=(invoice.get("dispute") or {}).get("state"),
        today=today,
        dispute_window_days=seller.dispute_window_days,
        account=invoice_account(settings.table_name, invoice, seller.zone),
        credit_note_url=f"{link}/credit-notes/{{id}}/pdf",
        subscription=_subscription_of(settings.table_name, invoice),
    )


@app.get(
    "/c/<token>",
    summary="The customer's page: all their invoices, payments, credit notes and subscriptions (HTML)",
    description="The token is that of any of the customer's invoice links; every email carries it.",
    tags=["Customer pages"],
    responses=page_responses(),
)
def view_customer(token: LinkToken) -> Response[str]:
    return _linked_page(token, _customer_page)


def _customer_page(invoice: dict[str, Any], seller: SellerProfile, settings: HostedPageSettings) -> str:
    from receivables.customer_account import customer_account
    from receivables.rendering.customer_page import render_customer_page

    account = customer_account(settings.table_name, invoice, seller.zone)
    today = clock.now().astimezone(seller.zone).date()
    return render_customer_page(account, seller.as_party(), settings.public_base_url, today)


def _linked_page(
    token: str, render: Callable[[dict[str, Any], SellerProfile, HostedPageSettings], str]
) -> Response[str]:
    """The page a link opens, drawn from the link's invoice; an unknown link is a page saying so."""
    from receivables.rendering.hosted_page import render_message_page

    settings = load(HostedPageSettings)
    seller = load_seller_profile(settings.seller_profile_parameter)
    try:
        invoice = get_invoice_by_token(settings.table_name, token)
    except NotFound:
        locale = _preferred_locale(app.current_event.headers.get("accept-language", ""))
        return _html(404, render_message_page(None, locale, "not_found", back_url=None))
    return _html(200, render(invoice, seller, settings))


def _preferred_locale(accept_language: str) -> str:
    """German for browsers that ask for it first, English otherwise (the page has no invoice to go by)."""
    return "de" if accept_language.strip().lower().startswith("de") else "en"


@app.get(
    "/i/<token>/pdf",
    summary="Redirects to the invoice PDF (a short-lived link)",
    tags=["Customer pages"],
    responses=documented(302, "Redirect to the PDF.", 404, ok_content_types=()),
)
def download_pdf(token: LinkToken) -> Response[str]:
    settings = load(HostedPageSettings)
    invoice = get_invoice_by_token(settings.table_name, token)
    if not invoice.get("pdf_key"):
        raise NotFound("The PDF is being prepared; try again in a minute.")
    url = document_store.presigned_url(
        settings.documents_bucket, invoice["pdf_key"], f"{invoice['number']}.pdf"
    )
    return Response(status_code=302, body="", headers={"Location": url} | PAGE_HEADERS)


@app.get(
    "/i/<token>/credit-notes/<credit_note_id>/pdf",
    summary="Redirects to the PDF of one of the invoice's credit notes (a short-lived link)",
    tags=["Customer pages"],
    responses=documented(302, "Redirect to the PDF.", 404, ok_content_types=()),
)
def download_credit_note_pdf(token: LinkToken, credit_note_id: CreditNoteId) -> Response[str]:
    settings = load(HostedPageSettings)
    invoice = get_invoice_by_token(settings.table_name, token)
    note = get_credit_note(settings.table_name, credit_note_id)
    if note is None or note["invoice_id"] != invoice["id"]:  # only the link's own invoice's notes
        raise NotFound("No such credit note for this invoice.")
    if not note.get("pdf_key"):
        raise NotFound("The PDF is being prepared; try again in a minute.")
    url = document_store.presigned_url(settings.documents_bucket, note["pdf_key"], f"{note['number']}.pdf")
    return Response(status_code=302, body="", headers={"Location": url} | PAGE_HEADERS)


@app.post(
    "/i/<token>/dispute",
    summary="The customer disputes the invoice from its page (form post)",
    tags=["Customer pages"],
    responses=documented(200, "The confirmation page.", 404, 409, 415, ok_content_types=(HTML,)),
)
def dispute_invoice(
    token: LinkToken,
    reason: Annotated[str | None, Form(max_length=2000, description="Why the invoice is disputed.")] = None,
) -> Response[str]:
    from receivables.rendering.hosted_page import render_message_page

    settings = load(HostedPageSettings)
    seller = load_seller_profile(settings.seller_profile_parameter)
    invoice = get_invoice_by_token(settings.table_name, token)
    open_dispute(
        settings.table_name,
        invoice,
        reason or "",
        seller.dispute_window_days,
        "hosted_page",
    )
    link = hosted_url(settings.public_base_url, invoice)
    document = to_document(invoice, seller, hosted=link)
    return _html(200, render_message_page(document, document.locale, "dispute_received", back_url=link))


@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)


def _subscription_of(table_name: str, invoice: dict[str, Any]) -> dict[str, Any] | None:
    """What the page shows of the subscription a period's invoice bills (its current items and dates)."""
    if not invoice.get("subscription_id"):
        return None
    from receivables.subscriptions.store import read_subscription

    subscription = read_subscription(table_name, invoice["subscription_id"])
    if subscription is None:
        return None
    return {
        "period": invoice["period"],
        "items": subscription["items"],
        "next_invoice_date": subscription.get("next_invoice_date"),
        "ends_on": subscription.get("ends_on"),
    }
