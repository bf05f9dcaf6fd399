"""HTTP API Lambda authorizer: resolves the x-api-key header to a storefront and its scopes."""

from typing import Any

from aws_lambda_powertools.utilities.data_classes import event_source
from aws_lambda_powertools.utilities.data_classes.api_gateway_authorizer_event import (
    APIGatewayAuthorizerEventV2,
)
from aws_lambda_powertools.utilities.typing import LambdaContext

from receivables.api_keys import find_api_key
from receivables.observability import logger
from receivables.settings import TableSettings, load


@logger.inject_lambda_context(clear_state=True)
@event_source(data_class=APIGatewayAuthorizerEventV2)
def lambda_handler(event: APIGatewayAuthorizerEventV2, context: LambdaContext) -> dict[str, Any]:
    settings = load(TableSettings)
    record = find_api_key(settings.table_name, event.headers.get("x-api-key") or "")
    if record is None or not record.active:
        # Let the function answer 401 as problem+json: HTTP APIs can only turn a denial into 403
        # (docs/decisions/0002-api-key-authorizer.md). An empty storefront_id is never trusted.
        logger.info("unknown or revoked API key", extra={"route": event.route_key})
        return {"isAuthorized": True, "context": {"storefront_id": "", "scopes": ""}}
    return {
        "isAuthorized": True,
        "context": {"storefront_id": record.storefront_id, "scopes": " ".join(sorted(record.scopes))},
    }
