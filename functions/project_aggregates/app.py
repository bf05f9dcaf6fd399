"""Stream consumer: projects each committed money event into the reporting aggregates, once per event id."""

from typing import Any

from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import (
    DynamoDBRecord,
    DynamoDBRecordEventName,
)
from aws_lambda_powertools.utilities.typing import LambdaContext

from receivables.observability import logger
from receivables.outbox import OUTBOX_ENTITY, event_from_outbox_image
from receivables.reporting import project_event
from receivables.seller import load_seller_profile
from receivables.settings import AggregatesSettings, load
from receivables.stream_batch import process_stream_messages


def project_record(record: DynamoDBRecord) -> None:
    image = record.dynamodb.new_image if record.dynamodb else None
    # The stream filter lets only outbox INSERTs through; a replayed batch may carry anything.
    if (
        record.event_name != DynamoDBRecordEventName.INSERT
        or not image
        or image.get("entity") != OUTBOX_ENTITY
    ):
        return
    event = event_from_outbox_image(image)
    settings = load(AggregatesSettings)
    zone = load_seller_profile(settings.seller_profile_parameter).zone
    projected = project_event(settings.table_name, event, zone)
    logger.info(
        "projected" if projected else "not projected (already counted or not reported)",
        extra={"event_id": event.id, "event_type": event.type},
    )


@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return process_stream_messages(event, context, project_record)
