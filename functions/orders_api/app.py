"""Storefront order intake: POST /orders (once per Idempotency-Key) and GET /orders/{order_id}."""

import hashlib
import json
from functools import cache
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body, Path
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)
from aws_lambda_powertools.utilities.typing import LambdaContext

from receivables import aws
from receivables.http import API_KEY, IdempotencyKey, create_api, documented, json_response, require_caller
from receivables.intake import OrderRequest
from receivables.observability import logger, metrics
from receivables.orders import accept_order, get_order
from receivables.pricing import PricedOrder, price_order
from receivables.seller import load_seller_profile
from receivables.settings import OrdersSettings, load
from receivables.tax.lines import decide_order

app = create_api()
IDEMPOTENCY = IdempotencyConfig(
    event_key_jmespath="[storefront_id, idempotency_key]",
    payload_validation_jmespath="order_sha256",
    raise_on_no_idempotency_key=True,
    expires_after_seconds=24 * 3600,
)


@cache
def _accept_once() -> Any:
    """accept_order wrapped in Powertools idempotency (built on first use: it needs a DynamoDB client)."""
    persistence = DynamoDBPersistenceLayer(
        table_name=load(OrdersSettings).idempotency_table_name, boto3_client=aws.client("dynamodb")
    )

    def accept(request: dict[str, str], order: OrderRequest, priced: PricedOrder) -> dict[str, Any]:
        return accept_order(
            load(OrdersSettings).table_name,
            order,
            priced,
            request["storefront_id"],
            request["idempotency_key"],
        )

    return idempotent_function(
        data_keyword_argument="request", persistence_store=persistence, config=IDEMPOTENCY
    )(accept)


@app.post(
    "/orders",
    summary="Accept an order; the invoice follows asynchronously",
    tags=["Orders"],
    security=API_KEY,
    responses=documented(201, "The order was accepted (or replayed).", 400, 401, 403, 409, 415),
)
def create_order(order: Annotated[OrderRequest, Body()], idempotency_key: IdempotencyKey) -> Response[str]:
    caller = require_caller(app, "orders")
    idempotency_key = idempotency_key.strip()
    # The same key with a semantically different order is a conflict; key order and whitespace are not.
    canonical = json.dumps(order.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    # Each line's VAT category and rate are decided here; a rate that differs from the decision is a 422.
    priced = price_order(
        decide_order(order, load_seller_profile(load(OrdersSettings).seller_profile_parameter))
    )
    request = {
        "storefront_id": caller.storefront_id,
        "idempotency_key": idempotency_key,
        "order_sha256": hashlib.sha256(canonical.encode()).hexdigest(),
    }
    created = _accept_once()(request=request, order=order, priced=priced)
    metrics.add_metric(name="OrdersAccepted", unit=MetricUnit.Count, value=1)
    return json_response(201, created, headers={"Location": f"/orders/{created['id']}"})


@app.get(
    "/orders/<order_id>",
    summary="Read an order, with its invoice id once the invoice exists",
    tags=["Orders"],
    security=API_KEY,
    responses=documented(200, "The order.", 401, 403, 404),
)
def read_order(order_id: Annotated[str, Path(max_length=200)]) -> Response[str]:
    caller = require_caller(app, "orders")
    return json_response(200, get_order(load(OrdersSettings).table_name, order_id, caller.storefront_id))


@logger.inject_lambda_context(clear_state=True, correlation_id_path="requestContext.requestId")
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    IDEMPOTENCY.register_lambda_context(context)
    return app.resolve(event, context)
