"""Outbox relay: forwards each committed domain event from the table stream to the event bus."""

from typing import Any

from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from receivables.observability import logger
from receivables.outbox import event_from_outbox_image
from receivables.publishing import publish
from receivables.settings import EventBusSettings, load
from receivables.stream_batch import process_stream_messages


def publish_record(record: DynamoDBRecord) -> None:
    image = record.dynamodb.new_image if record.dynamodb else None
    if not image:
        return
    event = event_from_outbox_image(image)
    publish(load(EventBusSettings).event_bus_name, [event])
    logger.info("published", extra={"event_id": event.id, "event_type": event.type})


@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return process_stream_messages(event, context, publish_record)
