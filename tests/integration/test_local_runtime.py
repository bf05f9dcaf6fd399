"""The local runtime's mechanics, proven with real parts from a test overlay template.

The overlay (tests/fixtures/probe/template.yaml) merges over the product's template.yaml: a state
machine whose Lambda task is the product's authorizer, a nightly schedule, and a stream consumer that
reports a poisoned record as failed.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import boto3
import pytest

from tests.support import REPOSITORY


@pytest.fixture(scope="module")
def system(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    from local_runtime.system import LocalSystem
    from receivables import aws

    aws.reset_clients()
    overlay = REPOSITORY / "tests/fixtures/probe/template.yaml"
    running = LocalSystem(
        templates=[REPOSITORY / "template.yaml", overlay], state_dir=tmp_path_factory.mktemp("rt")
    ).start()
    yield running
    running.stop()
    aws.reset_clients()


def _run_probe_machine(system: Any, name: str, api_key: str) -> dict[str, Any]:
    client = boto3.client("stepfunctions")
    arn = next(a for n, a in system.topology.state_machines.items() if n.endswith("ProbeStateMachine"))
    execution = client.start_execution(stateMachineArn=arn, name=name, input=json.dumps({"api_key": api_key}))
    assert system.settle()
    described: dict[str, Any] = client.describe_execution(executionArn=execution["executionArn"])
    assert described["status"] != "RUNNING", described
    return described


def test_a_state_machine_task_runs_our_handler(system: Any) -> None:
    known = _run_probe_machine(system, "known-key", "dev-storefront-key")
    unknown = _run_probe_machine(system, "unknown-key", "not-a-key")

    assert known["status"] == "SUCCEEDED"
    assert json.loads(known["output"]) == {"storefront_id": "local-storefront"}
    assert unknown["status"] == "FAILED"
    assert unknown["error"] == "UnknownKey"


def test_advancing_the_clock_fires_each_due_schedule_once(system: Any) -> None:
    table = system.global_environment()["TABLE_NAME"]
    start = system.clock.now()

    system.advance(timedelta(days=3))

    items = boto3.client("dynamodb").query(
        TableName=table,
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": "SCHEDULEPROBE"}},
    )["Items"]
    fired = [item["sk"]["S"] for item in items]
    assert len(fired) == 3
    assert all(at.endswith("T02:00:00Z") for at in fired)
    assert system.clock.now() - start >= timedelta(days=3)


def test_a_poisoned_record_goes_to_the_dead_letter_queue_and_the_rest_is_delivered(system: Any) -> None:
    table = system.global_environment()["TABLE_NAME"]
    dynamodb, sqs = boto3.client("dynamodb"), boto3.client("sqs")
    for name, poison in (("p1", False), ("p2", True), ("p3", False)):
        dynamodb.put_item(
            TableName=table,
            Item={
                "pk": {"S": name},
                "sk": {"S": "PROBE"},
                "entity": {"S": "probe"},
                "poison": {"BOOL": poison},
            },
        )

    assert system.settle()

    def deliveries(name: str) -> int:
        item = dynamodb.get_item(TableName=table, Key={"pk": {"S": f"SEEN#{name}"}, "sk": {"S": "SEEN"}}).get(
            "Item"
        )
        return int(item["deliveries"]["N"]) if item else 0

    # at least once, as Lambda does: records after a failed one are retried with it
    assert deliveries("p1") >= 1
    assert deliveries("p3") >= 1
    assert deliveries("p2") == 0
    queue = system.resolver.refs["DeadLetterQueue"]
    messages = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10)["Messages"]
    assert len(messages) == 1
    batch = json.loads(messages[0]["Body"])["DDBStreamBatchInfo"]
    assert batch["batchSize"] == 1
    assert batch["streamArn"] == system.resolver.attributes[("ReceivablesTable", "StreamArn")]


def test_a_cancelled_transaction_leaves_no_stream_record_and_later_writes_still_flow(system: Any) -> None:
    table = system.global_environment()["TABLE_NAME"]
    dynamodb = boto3.client("dynamodb")
    dynamodb.put_item(
        TableName=table, Item={"pk": {"S": "taken"}, "sk": {"S": "PROBE"}, "entity": {"S": "other"}}
    )
    with pytest.raises(dynamodb.exceptions.TransactionCanceledException):
        dynamodb.transact_write_items(
            TransactItems=[
                {
                    "Put": {
                        "TableName": table,
                        "Item": {"pk": {"S": "ghost"}, "sk": {"S": "PROBE"}, "entity": {"S": "probe"}},
                    }
                },
                {
                    "Put": {
                        "TableName": table,
                        "Item": {"pk": {"S": "taken"}, "sk": {"S": "PROBE"}},
                        "ConditionExpression": "attribute_not_exists(pk)",
                    }
                },
            ]
        )
    dynamodb.put_item(
        TableName=table, Item={"pk": {"S": "after"}, "sk": {"S": "PROBE"}, "entity": {"S": "probe"}}
    )

    assert system.settle()

    def seen(name: str) -> bool:
        return "Item" in dynamodb.get_item(
            TableName=table, Key={"pk": {"S": f"SEEN#{name}"}, "sk": {"S": "SEEN"}}
        )

    assert not seen("ghost")
    assert "Item" not in dynamodb.get_item(TableName=table, Key={"pk": {"S": "ghost"}, "sk": {"S": "PROBE"}})
    assert seen("after")


def _wait_probe(system: Any, name: str) -> tuple[Any, str]:
    client = boto3.client("stepfunctions")
    arn = next(a for n, a in system.topology.state_machines.items() if n.endswith("WaitProbeStateMachine"))
    return client, client.start_execution(stateMachineArn=arn, name=name, input="{}")["executionArn"]


def _token(system: Any, name: str) -> str | None:
    table = system.global_environment()["TABLE_NAME"]
    item = (
        boto3.client("dynamodb")
        .get_item(TableName=table, Key={"pk": {"S": f"TOKENPROBE#{name}"}, "sk": {"S": "TOKEN"}})
        .get("Item")
    )
    return item["token"]["S"] if item else None


def test_wait_states_and_task_token_timeouts_run_on_simulated_days(system: Any) -> None:
    client, execution = _wait_probe(system, "times-out")
    assert system.settle()

    system.advance(timedelta(days=2, hours=23))
    assert _token(system, "times-out") is None  # still in the three-day Wait
    system.advance(timedelta(hours=2))
    assert _token(system, "times-out") is not None  # asked, waiting for the answer
    assert client.describe_execution(executionArn=execution)["status"] == "RUNNING"
    system.advance(timedelta(days=1, hours=1))

    finished = client.describe_execution(executionArn=execution)
    assert finished["status"] == "SUCCEEDED"
    assert finished["output"] in ('"timed out"', "timed out"), finished


def test_an_answered_task_token_resumes_the_execution(system: Any) -> None:
    client, execution = _wait_probe(system, "answered")
    system.advance(timedelta(days=3, hours=1))
    token = _token(system, "answered")
    assert token

    client.send_task_success(taskToken=token, output=json.dumps({"accepted": True}))
    assert system.settle()

    assert client.describe_execution(executionArn=execution)["status"] == "SUCCEEDED"
