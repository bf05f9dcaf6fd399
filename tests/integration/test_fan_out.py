"""The table stream's router on the emulated account: every record reaches exactly the queues whose
subscription filters take it, in its item's message group, once; what it could not publish it hands
back to the stream mapping (docs/decisions/0020-stream-fan-out.md).

The sample records name an order this account does not hold, so each test takes what reached the
queues off them before any consumer polls (`deliveries_held`).
"""

from __future__ import annotations

import json
from typing import Any

import boto3

from local_runtime.faults import deliveries_held, inject
from local_runtime.filters import matches
from tests.integration.faults_support import invoke
from tests.support import load_event


def _take_all(system: Any) -> dict[str, list[dict[str, Any]]]:
    """Every message waiting in each consumer's queue, by consumer function, taken off the queue."""
    sqs, taken = boto3.client("sqs"), {}
    for source in system.topology.queue_sources:
        url = sqs.get_queue_url(QueueName=source.queue_name)["QueueUrl"]
        messages: list[dict[str, Any]] = []
        while page := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, AttributeNames=["All"]).get(
            "Messages", []
        ):
            messages += page
            for message in page:
                sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
        taken[source.function_name] = messages
    return taken


def test_each_record_reaches_exactly_the_queues_whose_filter_takes_it_once(local_system: Any) -> None:
    sample = load_event("route_stream/table_changes.json")

    with deliveries_held(local_system):  # no consumer polls meanwhile
        response = invoke(local_system, "RouteStreamFunction", sample)
        again = invoke(local_system, "RouteStreamFunction", sample)  # a retried batch: deduplicated
        arrived = _take_all(local_system)

    assert response == again == {"batchItemFailures": []}
    filters = local_system.topology.subscription_filters
    for source in local_system.topology.queue_sources:
        if source.queue_arn not in filters:
            continue  # a work queue a function fills (the subscription run's), not fed by the stream
        expected = [r for r in sample["Records"] if matches(filters[source.queue_arn], r)]
        messages = arrived[source.function_name]
        assert [json.loads(m["Body"]) for m in messages] == expected, source.function_name
        assert [m["Attributes"]["MessageGroupId"] for m in messages] == [
            r["dynamodb"]["Keys"]["pk"]["S"] for r in expected
        ]
    assert sum(len(m) for m in arrived.values()) > len(sample["Records"])  # some reach several queues


def test_a_refused_publish_hands_the_whole_batch_back_to_the_stream_in_order(local_system: Any) -> None:
    sample = load_event("route_stream/table_changes.json")

    with deliveries_held(local_system):
        with inject("sns", "PublishBatch", "ThrottledException", times=1) as fault:
            response = invoke(local_system, "RouteStreamFunction", sample)
        arrived = _take_all(local_system)

    assert fault.injected == 1
    assert [f["itemIdentifier"] for f in response["batchItemFailures"]] == [
        r["dynamodb"]["SequenceNumber"] for r in sample["Records"]
    ]
    assert not any(arrived.values())
