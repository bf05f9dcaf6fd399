"""Subscriptions for storefronts: create (once per Idempotency-Key), read, list, change items, cancel,
pause and resume. Each due period's invoice goes the order's way (receivables.subscriptions.billing)."""

import hashlib
import json
from functools import cache
from typing import Annotated, Any, Literal

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body, Path, Query
from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)
from aws_lambda_powertools.utilities.typing import LambdaContext

from receivables import aws, clock
from receivables.http import API_KEY, IdempotencyKey, create_api, documented, json_response, require_caller
from receivables.observability import logger
from receivables.pagination import DEFAULT_LIMIT, MAX_LIMIT, decode_token, encode_token
from receivables.seller import SellerProfile, load_seller_profile
from receivables.settings import SubscriptionsSettings, load
from receivables.subscriptions import lifecycle, store
from receivables.subscriptions.billing import bill_due_periods
from receivables.subscriptions.requests import Cancellation, SubscriptionChange, SubscriptionRequest
from receivables.tax.lines import decide_for_customer

app = create_api()
SubscriptionId = Annotated[str, Path(max_length=200)]
IDEMPOTENCY = IdempotencyConfig(
    event_key_jmespath="[storefront_id, idempotency_key]",
    payload_validation_jmespath="subscription_sha256",
    raise_on_no_idempotency_key=True,
    expires_after_seconds=24 * 3600,
)


def _seller() -> SellerProfile:
    return load_seller_profile(load(SubscriptionsSettings).seller_profile_parameter)


def _today(seller: SellerProfile) -> Any:
    return clock.now().astimezone(seller.zone).date()


@cache
def _create_once() -> Any:
    persistence = DynamoDBPersistenceLayer(
        table_name=load(SubscriptionsSettings).idempotency_table_name, boto3_client=aws.client("dynamodb")
    )

    def create(request: dict[str, str], subscription: SubscriptionRequest) -> dict[str, str]:
        item = store.create_subscription(
            load(SubscriptionsSettings).table_name,
            subscription,
            request["storefront_id"],
            request["idempotency_key"],
            _today(_seller()),
        )
        return {"id": item["id"]}

    return idempotent_function(
        data_keyword_argument="request", persistence_store=persistence, config=IDEMPOTENCY
    )(create)


@app.post(
    "/subscriptions",
    summary="Start a subscription; each period's invoice is issued on the period's start date",
    tags=["Subscriptions"],
    security=API_KEY,
    responses=documented(201, "The subscription (created or replayed).", 400, 401, 403, 409, 415),
)
def create_subscription(
    subscription: Annotated[SubscriptionRequest, Body()], idempotency_key: IdempotencyKey
) -> Response[str]:
    caller = require_caller(app, "orders")
    canonical = json.dumps(subscription.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    # Each item's VAT is decided like an order line's (decisions/0027): a rate that differs is a 422.
    customer = subscription.customer.model_dump(mode="json")
    items = decide_for_customer(subscription.items, customer, _seller(), "items")
    subscription = subscription.model_copy(update={"items": items})
    request = {
        "storefront_id": caller.storefront_id,
        "idempotency_key": idempotency_key.strip(),
        "subscription_sha256": hashlib.sha256(canonical.encode()).hexdigest(),
    }
    created = _create_once()(request=request, subscription=subscription)
    settings, seller = load(SubscriptionsSettings), _seller()
    # A period that starts today (or started before) is billed now; the daily run would catch up anyway.
    bill_due_periods(settings.table_name, created["id"], _today(seller), seller)
    item = store.get_subscription(settings.table_name, created["id"], caller.storefront_id)
    return json_response(
        201,
        store.public_subscription(item, _today(seller)),
        headers={"Location": f"/subscriptions/{created['id']}"},
    )


@app.get(
    "/subscriptions/<subscription_id>",
    summary="Read a subscription",
    tags=["Subscriptions"],
    security=API_KEY,
    responses=documented(200, "The subscription.", 401, 403, 404),
)
def read_subscription(subscription_id: SubscriptionId) -> Response[str]:
    caller = require_caller(app, "orders")
    item = store.get_subscription(
        load(SubscriptionsSettings).table_name, subscription_id, caller.storefront_id
    )
    return json_response(200, store.public_subscription(item, _today(_seller())))


@app.get(
    "/subscriptions",
    summary="List subscriptions, newest first, by customer and status",
    tags=["Subscriptions"],
    security=API_KEY,
    responses=documented(200, "A page of subscriptions (`items`, `next_token`).", 400, 401, 403),
)
def read_subscriptions(
    customer_id: Annotated[str | None, Query(max_length=200)] = None,
    status: Annotated[Literal["active", "paused", "canceled"] | None, Query()] = None,
    limit: Annotated[int | None, Query(ge=1, le=MAX_LIMIT)] = None,
    next_token: Annotated[str | None, Query(max_length=2000)] = None,
) -> Response[str]:
    caller = require_caller(app, "orders")
    items, last = store.list_subscriptions(
        load(SubscriptionsSettings).table_name,
        caller.storefront_id,
        customer_id,
        status,
        limit or DEFAULT_LIMIT,
        decode_token(next_token),
    )
    today = _today(_seller())
    return json_response(
        200, {"items": [store.public_subscription(i, today) for i in items], "next_token": encode_token(last)}
    )


def _own(subscription_id: str) -> tuple[str, str]:
    caller = require_caller(app, "orders")
    table = load(SubscriptionsSettings).table_name
    store.get_subscription(table, subscription_id, caller.storefront_id)  # another storefront's: 404
    return table, caller.storefront_id


@app.patch(
    "/subscriptions/<subscription_id>",
    summary="Change the items; the rest of the invoiced period is prorated on the next invoice",
    tags=["Subscriptions"],
    security=API_KEY,
    responses=documented(200, "The changed subscription.", 400, 401, 403, 404, 409, 415),
)
def change_subscription(
    subscription_id: SubscriptionId, change: Annotated[SubscriptionChange, Body()]
) -> Response[str]:
    table, storefront_id = _own(subscription_id)
    seller = _seller()
    today = _today(seller)
    customer = store.get_subscription(table, subscription_id, storefront_id)["customer"]
    change = change.model_copy(update={"items": decide_for_customer(change.items, customer, seller, "items")})
    item = lifecycle.change_items(table, subscription_id, change, today)
    return json_response(200, store.public_subscription(item, today))


@app.post(
    "/subscriptions/<subscription_id>/cancel",
    summary="Cancel at the period's end (no renewal) or now (the unused time credited)",
    tags=["Subscriptions"],
    security=API_KEY,
    responses=documented(200, "The canceled subscription.", 400, 401, 403, 404, 409, 415),
)
def cancel_subscription(
    subscription_id: SubscriptionId, cancellation: Annotated[Cancellation, Body()]
) -> Response[str]:
    table, storefront_id = _own(subscription_id)
    seller = _seller()
    today = _today(seller)
    item = lifecycle.cancel(table, subscription_id, cancellation.at, today, seller, storefront_id)
    return json_response(200, store.public_subscription(item, today))


@app.post(
    "/subscriptions/<subscription_id>/pause",
    summary="Pause: no invoices until resumed",
    tags=["Subscriptions"],
    security=API_KEY,
    responses=documented(200, "The paused subscription.", 401, 403, 404, 409),
)
def pause_subscription(subscription_id: SubscriptionId) -> Response[str]:
    table, _ = _own(subscription_id)
    return json_response(
        200, store.public_subscription(lifecycle.pause(table, subscription_id), _today(_seller()))
    )


@app.post(
    "/subscriptions/<subscription_id>/resume",
    summary="Resume: billing goes on with the next period that starts",
    tags=["Subscriptions"],
    security=API_KEY,
    responses=documented(200, "The resumed subscription.", 401, 403, 404, 409),
)
def resume_subscription(subscription_id: SubscriptionId) -> Response[str]:
    table, _ = _own(subscription_id)
    seller = _seller()
    today = _today(seller)
    item = lifecycle.resume(table, subscription_id, today)
    bill_due_periods(table, subscription_id, today, seller)  # a period starting today is billed today
    return json_response(
        200, store.public_subscription(store.read_subscription(table, subscription_id) or item, today)
    )


@logger.inject_lambda_context(clear_state=True, correlation_id_path="requestContext.requestId")
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    IDEMPOTENCY.register_lambda_context(context)
    return app.resolve(event, context)
