"""The customer's payment-plan offer behind an unguessable link: view it and accept it.

No API key: the token is the credential. Accepting resumes the waiting escalation (SendTaskSuccess).
"""

from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.utilities.typing import LambdaContext

from receivables.errors import Conflict, NotFound
from receivables.escalation import accept_offer, get_offer
from receivables.http import LinkToken, create_api, page_responses
from receivables.invoices import get_invoice, hosted_url, to_document
from receivables.observability import logger
from receivables.seller import load_seller_profile
from receivables.settings import EscalationSettings, load

app = create_api()
PAGE_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
}


def _page(status: int, body: str) -> Response[str]:
    return Response(
        status_code=status, content_type="text/html; charset=utf-8", body=body, headers=PAGE_HEADERS
    )


def _render(token: str, message: str | None) -> Response[str]:
    from receivables.rendering.hosted_page import render_plan_page

    settings = load(EscalationSettings)
    seller = load_seller_profile(settings.seller_profile_parameter)
    try:
        offer = get_offer(settings.table_name, token)
    except NotFound:
        return _page(404, render_plan_page(None, None, "en", "", "not_found"))
    invoice = get_invoice(settings.table_name, offer["invoice_id"])
    document = to_document(invoice, seller, hosted=hosted_url(settings.public_base_url, invoice))
    state = message or (
        "offer" if offer["state"] == "offered" else "accepted" if offer["state"] == "accepted" else "closed"
    )
    return _page(
        200, render_plan_page(document, offer, document.locale, f"/payment-plans/{token}/accept", state)
    )


@app.get(
    "/payment-plans/<token>",
    summary="The customer's payment-plan offer (HTML)",
    tags=["Customer pages"],
    responses=page_responses(),
)
def view_offer(token: LinkToken) -> Response[str]:
    return _render(token, None)


@app.post(
    "/payment-plans/<token>/accept",
    summary="The customer accepts the offered payment plan (form post)",
    tags=["Customer pages"],
    responses=page_responses(),
)
def accept(token: LinkToken) -> Response[str]:
    try:
        accept_offer(load(EscalationSettings).table_name, token)
    except NotFound:
        return _render(token, None)
    except Conflict:
        return _render(token, "closed")
    return _render(token, "accepted")


@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
