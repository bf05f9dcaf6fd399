"""template.yaml's stream fan-out, read as AWS would deploy it (docs/decisions/0020-stream-fan-out.md).

DynamoDB Streams serves about two readers per shard before GetRecords throttles, so at most two event
source mappings may read the table's stream; every consumer behind them gets its records through its
own queue, with a dead-letter queue and alarms that reach the team.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from local_runtime.filters import matches
from local_runtime.template import load_yaml
from tests.support import REPOSITORY

TABLE_STREAM = {"Fn::GetAtt": ["ReceivablesTable", "StreamArn"]}


@pytest.fixture(scope="module")
def resources() -> dict[str, Any]:
    resources: dict[str, Any] = load_yaml(REPOSITORY / "template.yaml")["Resources"]
    return resources


def _events(resources: dict[str, Any], kind: str) -> Iterator[tuple[str, dict[str, Any]]]:
    for logical_id, resource in resources.items():
        if resource["Type"] == "AWS::Serverless::Function":
            for event in resource["Properties"].get("Events", {}).values():
                if event["Type"] == kind:
                    yield logical_id, event["Properties"]


def _stream_readers(resources: dict[str, Any]) -> list[str]:
    readers = [fid for fid, props in _events(resources, "DynamoDB") if props["Stream"] == TABLE_STREAM]
    readers += [
        logical_id
        for logical_id, resource in resources.items()
        if resource["Type"] == "AWS::Lambda::EventSourceMapping"
        and resource["Properties"].get("EventSourceArn") == TABLE_STREAM
    ]
    readers += [
        logical_id
        for logical_id, resource in resources.items()
        if resource["Type"] == "AWS::Pipes::Pipe" and resource["Properties"].get("Source") == TABLE_STREAM
    ]
    return readers


def _alarms_on(resources: dict[str, Any], queue: str, metric: str) -> list[dict[str, Any]]:
    return [
        resource["Properties"]
        for resource in resources.values()
        if resource["Type"] == "AWS::CloudWatch::Alarm"
        and resource["Properties"].get("MetricName") == metric
        and {"Name": "QueueName", "Value": {"Fn::GetAtt": [queue, "QueueName"]}}
        in resource["Properties"].get("Dimensions", [])
    ]


def _consumer_queues(resources: dict[str, Any]) -> dict[str, str]:
    """Function -> the queue its SQS event source polls."""
    return {fid: props["Queue"]["Fn::GetAtt"][0] for fid, props in _events(resources, "SQS")}


def test_at_most_two_event_source_mappings_read_the_table_stream(resources: dict[str, Any]) -> None:
    readers = _stream_readers(resources)

    assert 1 <= len(readers) <= 2, readers


def test_the_stream_router_retries_boundedly_bisects_and_keeps_what_it_cannot_route(
    resources: dict[str, Any],
) -> None:
    for function_id, props in _events(resources, "DynamoDB"):
        assert props["FunctionResponseTypes"] == ["ReportBatchItemFailures"], function_id
        assert props["BisectBatchOnFunctionError"] is True, function_id
        assert 0 <= props["MaximumRetryAttempts"] <= 20, function_id
        assert props["DestinationConfig"]["OnFailure"]["Type"] == "SQS", function_id
        (alarm,) = [
            r["Properties"]
            for r in resources.values()
            if r["Type"] == "AWS::CloudWatch::Alarm"
            and r["Properties"]["MetricName"] == "IteratorAge"
            and {"Name": "FunctionName", "Value": {"Ref": function_id}} in r["Properties"]["Dimensions"]
        ]
        assert alarm["AlarmActions"], function_id


def test_every_consumer_queue_has_a_dead_letter_queue_and_alarms_with_an_action(
    resources: dict[str, Any],
) -> None:
    queues = _consumer_queues(resources)

    assert len(queues) >= 9  # the nine consumers that used to read the stream themselves
    for function_id, queue in queues.items():
        props = resources[queue]["Properties"]
        dead_letter_queue = props["RedrivePolicy"]["deadLetterTargetArn"]["Fn::GetAtt"][0]
        assert resources[dead_letter_queue]["Type"] == "AWS::SQS::Queue", function_id
        assert 1 < props["RedrivePolicy"]["maxReceiveCount"] <= 20, function_id
        # FIFO to FIFO: a dead-letter queue must be of its queue's kind
        assert resources[dead_letter_queue]["Properties"].get("FifoQueue") == props.get("FifoQueue")
        (depth,) = _alarms_on(resources, dead_letter_queue, "ApproximateNumberOfMessagesVisible")
        (age,) = _alarms_on(resources, queue, "ApproximateAgeOfOldestMessage")
        for alarm in (depth, age):
            assert alarm["AlarmActions"] == [{"Ref": "TeamAlertsTopic"}], function_id
        assert depth["Threshold"] == 0
        assert depth["ComparisonOperator"] == "GreaterThanThreshold"


def test_every_consumer_takes_partial_batch_responses_and_its_queue_outlasts_a_timeout(
    resources: dict[str, Any],
) -> None:
    for function_id, props in _events(resources, "SQS"):
        queue = resources[props["Queue"]["Fn::GetAtt"][0]]["Properties"]
        timeout = resources[function_id]["Properties"].get("Timeout", 15)
        assert props["FunctionResponseTypes"] == ["ReportBatchItemFailures"], function_id
        assert props["BatchSize"] <= (10 if queue.get("FifoQueue") else 10_000), function_id
        assert queue["VisibilityTimeout"] >= 6 * timeout, function_id


def test_every_consumer_queue_is_subscribed_to_the_fan_out_topic_with_a_body_filter(
    resources: dict[str, Any],
) -> None:
    subscriptions = {
        r["Properties"]["Endpoint"]["Fn::GetAtt"][0]: r["Properties"]
        for r in resources.values()
        if r["Type"] == "AWS::SNS::Subscription"
    }
    for function_id, queue in _consumer_queues(resources).items():
        if queue in _queues_fed_by_a_function(resources):
            continue  # a work queue (the subscription run's fan-out), not a stream consumer's
        subscription = subscriptions[queue]
        topic = resources[subscription["TopicArn"]["Ref"]]["Properties"]
        assert subscription["RawMessageDelivery"] is True, function_id  # the body is the stream record
        assert subscription["FilterPolicyScope"] == "MessageBody", function_id
        assert topic.get("FifoTopic") == resources[queue]["Properties"].get("FifoQueue") is True
        assert _filter_complexity(subscription["FilterPolicy"]) <= 150, function_id
        assert len(_leaf_keys(subscription["FilterPolicy"])) <= 5, function_id


def _queues_fed_by_a_function(resources: dict[str, Any]) -> set[str]:
    """Queues a function sends to itself (sqs:SendMessage), as the daily subscription run does."""
    return {
        statement["Resource"]["Fn::GetAtt"][0]
        for r in resources.values()
        if r["Type"] == "AWS::Serverless::Function"
        for policy in r["Properties"].get("Policies", [])
        if isinstance(policy, dict)
        for statement in policy.get("Statement", [])
        if statement.get("Effect") == "Allow" and statement.get("Action") == "sqs:SendMessage"
    }


def _leaf_keys(policy: dict[str, Any]) -> list[str]:
    found: list[str] = []
    for key, value in policy.items():
        found += _leaf_keys(value) if isinstance(value, dict) else [key]
    return found


def _filter_complexity(policy: dict[str, Any], depth: int = 1) -> int:
    """SNS's measure: the product of each value list's length times its key's nesting depth."""
    total = 1
    for value in policy.values():
        total *= _filter_complexity(value, depth + 1) if isinstance(value, dict) else len(value) * depth
    return total


def test_the_filter_complexity_counts_as_sns_documents_it() -> None:
    # AWS's example: four values three levels deep, three values two levels deep -> 3 x 4 x 2 x 3 = 72
    policy = {"a": {"b": {"c": ["1", "2", "3", "4"]}}, "d": {"e": ["1", "2", "3"]}}

    assert _filter_complexity(policy) == 72


def _subscription_filters(resources: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Function -> the filter policy of the subscription that feeds its queue."""
    by_queue = {
        r["Properties"]["Endpoint"]["Fn::GetAtt"][0]: r["Properties"]["FilterPolicy"]
        for r in resources.values()
        if r["Type"] == "AWS::SNS::Subscription"
    }
    work_queues = _queues_fed_by_a_function(resources)
    return {
        function_id: by_queue[queue]
        for function_id, queue in _consumer_queues(resources).items()
        if queue not in work_queues
    }


def test_each_consumers_sample_events_are_fan_out_messages_its_subscription_lets_through(
    resources: dict[str, Any],
) -> None:
    for function_id, policy in _subscription_filters(resources).items():
        folder = resources[function_id]["Properties"]["CodeUri"].strip("/").rsplit("/", 1)[-1]
        samples = sorted((REPOSITORY / "events" / folder).glob("*.json"))
        assert samples, f"events/{folder}/ has no sample for sam local invoke"
        for sample in samples:
            for message in json.loads(sample.read_text())["Records"]:
                record = json.loads(message["body"])
                assert message["eventSource"] == "aws:sqs", sample
                assert message["attributes"]["MessageGroupId"] == record["dynamodb"]["Keys"]["pk"]["S"]
                assert message["attributes"]["MessageDeduplicationId"] == record["eventID"]
                assert matches(policy, record), f"{sample.name} would never reach {function_id}"


def test_every_record_of_the_routers_sample_reaches_some_consumer(resources: dict[str, Any]) -> None:
    policies = _subscription_filters(resources).values()
    records = json.loads((REPOSITORY / "events/route_stream/table_changes.json").read_text())["Records"]

    assert {r["eventSource"] for r in records} == {"aws:dynamodb"}
    for record in records:
        assert any(matches(policy, record) for policy in policies), record["eventID"]
