"""Daily subscription run: one message per subscription with a period due, read from the sparse index.

It only fans out; billing happens in bill_subscription, one subscription per message, so the run stays
short however many are due and a failure retries one subscription, not the run (decisions/0026).
"""

import json
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from receivables import aws, clock
from receivables.observability import logger, metrics
from receivables.seller import load_seller_profile
from receivables.settings import SubscriptionRunSettings, load
from receivables.subscriptions.billing import due_subscription_ids

_BATCH = 10  # SendMessageBatch's limit


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, int]:
    settings = load(SubscriptionRunSettings)
    today = clock.now().astimezone(load_seller_profile(settings.seller_profile_parameter).zone).date()
    ids = list(due_subscription_ids(settings.table_name, today))
    sqs = aws.client("sqs")
    for start in range(0, len(ids), _BATCH):
        entries = [
            {"Id": str(n), "MessageBody": json.dumps({"subscription_id": i, "today": today.isoformat()})}
            for n, i in enumerate(ids[start : start + _BATCH])
        ]
        failed = sqs.send_message_batch(QueueUrl=settings.billing_queue_url, Entries=entries).get("Failed")
        if failed:  # the whole run is retried by the scheduler; billing is idempotent
            raise RuntimeError(f"{len(failed)} subscriptions could not be queued")
    metrics.add_metric(name="SubscriptionsDue", unit=MetricUnit.Count, value=len(ids))
    logger.info("subscription run", extra={"due": len(ids), "scheduled_for": event.get("time")})
    return {"due": len(ids)}
