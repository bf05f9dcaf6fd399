"""The customer's hosted invoice page: view it, download the PDF, dispute it, pay it. No API key: the
unguessable token in the link is the credential, so responses never leak it (no referrer, no cache)."""

import secrets
from collections.abc import Callable
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body, Form, Path
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, ConfigDict, Field

from receivables import clock, document_store
from receivables.credit_notes import get_credit_note
from receivables.disputes import can_dispute, open_dispute
from receivables.errors import DomainError, NotFound
from receivables.hosted_account import invoice_account
from receivables.http import HTML, LinkToken, create_api, documented, json_response, page_responses
from receivables.invoices import get_invoice_by_token, hosted_url, to_document
from receivables.observability import logger
from receivables.seller import SellerProfile, load_seller_profile
from receivables.settings import HostedPageSettings, load, stripe_keys

app = create_api()
CreditNoteId = Annotated[str, Path(pattern=r"^cn_[0-9a-f]{32}$", description="A credit note of the invoice.")]
PAGE_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
}


def _html(status: int, body: str, headers: dict[str, str] | None = None) -> Response[str]:
    return Response(
        status_code=status,
        content_type="text/html; charset=utf-8",
        body=body,
        headers=PAGE_HEADERS | (headers or {}),
    )


def _pay_now_policy(nonce: str, stripe_api_base: str) -> dict[str, str]:
    """The invoice page's CSP with "Pay now": its own two scripts (by nonce), Stripe.js and the frames and
    requests Stripe.js makes (https://docs.stripe.com/security/guide#content-security-policy)."""
    from receivables.stripe_api import STRIPE_API, js_url

    js = urlsplit(js_url(stripe_api_base))
    js_origin, api_origin = f"{js.scheme}://{js.netloc}", stripe_api_base.rstrip("/")
    frames = f"{js_origin} https://hooks.stripe.com" if api_origin == STRIPE_API else js_origin
    return {
        "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data: "
        f"https://*.stripe.com; script-src 'nonce-{nonce}' {js_origin}; frame-src {frames}; "
        f"connect-src 'self' {api_origin}; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    }


@app.get(
    "/i/<token>",
    summary="The customer's invoice page (HTML, German or English)",
    tags=["Customer pages"],
    responses=page_responses(),
)
def view_invoice(token: LinkToken) -> Response[str]:
    settings = load(HostedPageSettings)
    nonce = secrets.token_urlsafe(16)  # per response: the page's own scripts run, nothing injected does
    response = _linked_page(token, lambda i, s, st: _invoice_page(i, s, st, nonce))
    if settings.stripe_api_keys_arn and response.status_code == 200:
        response.headers.update(_pay_now_policy(nonce, settings.stripe_api_base))
    return response


class PayRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    method: Literal["card", "sepa_debit"] = Field(
        description="card, or sepa_debit (euro invoices); the seller's profile says which are offered."
    )


class PaymentUnavailable(DomainError):
    status = 503
    title = "Payment unavailable"
    type_slug = "payment-unavailable"


@app.post(
    "/i/<token>/pay",
    summary="Pay now: a Stripe PaymentIntent for what the invoice asks today (the page completes it)",
    description="Creates, or returns again for the same invoice, method and amount, a PaymentIntent of "
    "the invoice's account_amount_due. The page confirms it with Stripe.js; the Stripe webhook applies "
    "the money.",
    tags=["Customer pages"],
    responses=documented(200, "The PaymentIntent to confirm with Stripe.js.", 404, 409, 503),
)
def pay_invoice(token: LinkToken, request: Annotated[PayRequest, Body()]) -> Response[str]:
    from receivables import money
    from receivables.pay_now import offered_methods, start_payment
    from receivables.stripe_api import StripeClient, StripeError, StripeNotConfigured

    settings = load(HostedPageSettings)
    seller = load_seller_profile(settings.seller_profile_parameter)
    invoice = get_invoice_by_token(settings.table_name, token)
    try:
        keys = stripe_keys(settings.stripe_api_keys_arn)
    except StripeNotConfigured:
        raise PaymentUnavailable("Paying online is not set up for this invoice.") from None
    offered = offered_methods(seller.payment_methods, invoice["currency"])
    try:
        started = start_payment(
            settings.table_name,
            invoice,
            request.method,
            offered,
            StripeClient(keys, settings.stripe_api_base),
        )
    except StripeError as failed:
        logger.warning("stripe refused", extra={"status": failed.status, "code": failed.code})
        raise PaymentUnavailable("The payment provider is not available; please try again later.") from None
    return json_response(
        200,
        {
            "payment_intent": started.payment_intent,
            "client_secret": started.client_secret,
            "publishable_key": keys.publishable_key,
            "amount": money.format_amount(started.amount, started.currency),
            "currency": started.currency,
        },
        headers={"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"},
    )


def _invoice_page(
    invoice: dict[str, Any], seller: SellerProfile, settings: HostedPageSettings, nonce: str = ""
) -> str:
    from receivables.pay_now import offered_methods
    from receivables.rendering.hosted_page import render_hosted_invoice
    from receivables.stripe_api import js_url

    link = hosted_url(settings.public_base_url, invoice)
    today = clock.now().astimezone(seller.zone).date()
    pay_now = None
    if settings.stripe_api_keys_arn and nonce:
        pay_now = {
            "url": f"{link}/pay",
            "return_url": f"{link}#pay",
            "methods": offered_methods(seller.payment_methods, invoice["currency"]),
            "stripe_js": js_url(settings.stripe_api_base),
            "nonce": nonce,
            "last_failure": _last_failure(settings.table_name, invoice),
        }
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
        pay_now=pay_now,
    )


def _last_failure(table_name: str, invoice: dict[str, Any]) -> str | None:
    """Why the latest online payment attempt failed, if nothing was paid since (declined cards are kept)."""
    from receivables.payment_records import list_invoice_payments

    history = list_invoice_payments(table_name, invoice["id"])
    latest = history[-1] if history else None
    return (
        str(latest.get("reason") or "") or None if latest and latest["entity"] == "failed_payment" else None
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
