"""Queue consumer: bills one subscription's due periods, in order, exactly once (decisions/0026)."""

import json
from datetime import date
from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from receivables import clock
from receivables.observability import logger
from receivables.seller import load_seller_profile
from receivables.settings import SellerSettings, load
from receivables.subscriptions.billing import bill_due_periods

processor = BatchProcessor(event_type=EventType.SQS)


def bill(record: SQSRecord) -> None:
    message = json.loads(record.body)
    settings = load(SellerSettings)
    seller = load_seller_profile(settings.seller_profile_parameter)
    # The later of the run's day and today: a message that waited past midnight bills that day too.
    today = max(date.fromisoformat(message["today"]), clock.now().astimezone(seller.zone).date())
    issued = bill_due_periods(settings.table_name, message["subscription_id"], today, seller)
    logger.info(
        "subscription billed",
        extra={"subscription_id": message["subscription_id"], "invoices": [i.number for i in issued]},
    )


@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(event=event, record_handler=bill, processor=processor, context=context)
