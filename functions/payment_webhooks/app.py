"""Payment provider webhooks: the signature is checked on the raw body first, then the event is applied once.

No API key: the HMAC signature is the credential. A bad or stale signature is a 400 and nothing is
recorded; a replayed event is a 200 that changes nothing (docs/decisions/0011-payments.md).
"""

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body, Header
from aws_lambda_powertools.utilities.typing import LambdaContext

from receivables import clock
from receivables.errors import FieldError
from receivables.http import BadRequest, create_api, documented, json_response
from receivables.observability import logger
from receivables.payments import record
from receivables.provider_events import (
    GenericPaymentEvent,
    MalformedEvent,
    ProviderEvent,
    StripeEvent,
    parse_generic,
    parse_stripe,
)
from receivables.seller import load_seller_profile
from receivables.settings import WebhookSettings, load, webhook_secrets
from receivables.webhook_signatures import SignatureInvalid, verify_generic, verify_stripe

app = create_api()


def _raw_body() -> bytes:
    event = app.current_event
    body = event.decoded_body or ""
    return body.encode() if isinstance(body, str) else body


def _apply(parse: Any, body: bytes) -> Response[str]:
    try:
        event: ProviderEvent = parse(body)
    except MalformedEvent as malformed:
        raise BadRequest("The event body is malformed.", malformed.errors) from malformed
    settings = load(WebhookSettings)
    seller = load_seller_profile(settings.seller_profile_parameter)
    outcome = record(settings.table_name, event, seller.seller_id)
    logger.info(
        "provider event",
        extra={
            "provider": event.provider,
            "provider_event_id": event.event_id,
            "event_type": event.event_type,
            "result": outcome.result,
            "invoice_id": outcome.invoice_id,
            "detail": outcome.detail,
        },
    )
    return json_response(200, {"received": True, "result": outcome.result, "invoice_id": outcome.invoice_id})


# The signature is checked on the raw bytes before anything is parsed, so these routes validate nothing
# up front (enable_validation=False): their parameters below only document the request in openapi.json.
WEBHOOK_RESPONSES = documented(200, "Recorded, or a replay of a recorded event (applied once).", 400)


@app.post(
    "/webhooks/stripe",
    summary="Stripe events (Stripe-Signature, 300 s tolerance)",
    tags=["Webhooks"],
    responses=WEBHOOK_RESPONSES,
    enable_validation=False,
)
def stripe_webhook(
    event: Annotated[StripeEvent | None, Body(description="A Stripe event object.")] = None,
    signature: Annotated[
        str | None, Header(alias="Stripe-Signature", description="t=<unix>,v1=<hex HMAC-SHA256>")
    ] = None,
) -> Response[str]:
    body = _raw_body()
    try:
        verify_stripe(
            body, app.current_event.headers.get("stripe-signature"), webhook_secrets("stripe"), _now()
        )
    except SignatureInvalid as invalid:
        raise BadRequest(
            f"Signature rejected: {invalid.reason}.", [FieldError("Stripe-Signature", invalid.reason)]
        ) from None
    return _apply(parse_stripe, body)


@app.post(
    "/webhooks/generic",
    summary="Payments reported by banks and other providers (X-Webhook-Signature)",
    tags=["Webhooks"],
    responses=WEBHOOK_RESPONSES,
    enable_validation=False,
)
def generic_webhook(
    event: Annotated[GenericPaymentEvent | None, Body(description="One payment event.")] = None,
    timestamp: Annotated[str | None, Header(alias="X-Webhook-Timestamp", description="Unix seconds")] = None,
    signature: Annotated[
        str | None,
        Header(alias="X-Webhook-Signature", description='v1=<hex HMAC-SHA256 of "<timestamp>.<raw body>">'),
    ] = None,
) -> Response[str]:
    body = _raw_body()
    headers = app.current_event.headers
    try:
        verify_generic(
            body,
            headers.get("x-webhook-timestamp"),
            headers.get("x-webhook-signature"),
            webhook_secrets("generic"),
            _now(),
        )
    except SignatureInvalid as invalid:
        raise BadRequest(
            f"Signature rejected: {invalid.reason}.", [FieldError("X-Webhook-Signature", invalid.reason)]
        ) from None
    return _apply(parse_generic, body)


def _now() -> int:
    return int(clock.now().timestamp())


@logger.inject_lambda_context(clear_state=True, correlation_id_path="requestContext.requestId")
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
