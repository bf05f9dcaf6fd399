"""The table stream's only reader: publishes each record to the fan-out topic, where every consumer's
queue takes what its filter asks for (docs/decisions/0020-stream-fan-out.md)."""

from typing import Any

from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.typing import LambdaContext

from receivables.observability import logger
from receivables.settings import load
from receivables.stream_fanout import FanOutSettings, route_records


@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    records = event.get("Records", [])
    retry = route_records(load(FanOutSettings).fan_out_topic_arn, records)
    logger.info("routed", extra={"records": len(records), "left_to_retry": len(retry)})
    return {"batchItemFailures": [{"itemIdentifier": sequence} for sequence in retry]}
