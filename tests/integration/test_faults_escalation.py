"""A Lambda task failing inside the escalation state machine (statemachine/escalation.asl.json, the
deployed definition, run by moto's interpreter on the simulated clock).

The fault is DynamoDB or SES failing under the task's Lambda function, injected on the product's boto3
client: a short failure is absorbed by the task's Retry; one that outlasts the retries takes the Catch
path, which alerts the team over SNS and fails the execution - no invoice is left escalating silently.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import boto3
import pytest

from local_runtime.faults import inject, mentions
from receivables.reminders import RunSettings, start_escalation
from tests.integration.faults_support import create_order, events_of, invoice_of, table

FAILURE_SUBJECT = "Escalation failed - needs a person"


@pytest.fixture(scope="module")
def team_alerts(local_system: Any) -> str:
    """A queue subscribed to the team-alerts topic, as a person's mail or chat integration would be."""
    sqs, sns = boto3.client("sqs"), boto3.client("sns")
    url = sqs.create_queue(QueueName="fault-tests-team-alerts")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=local_system.resolver.refs["TeamAlertsTopic"], Protocol="sqs", Endpoint=arn)
    return str(url)


def _alerts(queue_url: str) -> list[dict[str, Any]]:
    sqs, alerts = boto3.client("sqs"), []
    while messages := sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", []):
        for message in messages:
            alerts.append(json.loads(message["Body"]))
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
    return alerts


def _escalate(system: Any, external_id: str) -> tuple[dict[str, Any], str]:
    """An issued invoice and its level-1 escalation, started the way the dunning run starts it."""
    order = create_order(system, external_id)
    assert system.settle()
    invoice = invoice_of(system, order)
    environment = system.topology.functions.by_logical_id("RemindFunction").environment
    settings = RunSettings(
        table=table(system),
        sender=environment["SENDER_ADDRESS"],
        base_url=environment["PUBLIC_BASE_URL"],
        state_machine_arn=environment["ESCALATION_STATE_MACHINE_ARN"],
    )
    start_escalation(settings, invoice, level=1)
    arn = settings.state_machine_arn.replace(":stateMachine:", ":execution:") + f":{invoice['id']}-level-1"
    return invoice, arn


def _entered(execution_arn: str) -> list[str]:
    events = boto3.client("stepfunctions").get_execution_history(executionArn=execution_arn, maxResults=1000)
    return [
        e["stateEnteredEventDetails"]["name"] for e in events["events"] if "stateEnteredEventDetails" in e
    ]


def _collections_tasks(system: Any, invoice_id: str) -> list[dict[str, Any]]:
    found = boto3.client("dynamodb").query(
        TableName=table(system),
        IndexName="gsi3",
        KeyConditionExpression="gsi3pk = :pk AND begins_with(gsi3sk, :task)",
        ExpressionAttributeValues={":pk": {"S": f"INVOICE#{invoice_id}"}, ":task": {"S": "TASK#"}},
    )["Items"]
    return [i for i in found if i["kind"]["S"] == "collections"]


def test_a_task_that_keeps_failing_takes_the_catch_path_alerts_the_team_and_fails_the_execution(
    local_system: Any, team_alerts: str
) -> None:
    _alerts(team_alerts)
    sfn = boto3.client("stepfunctions")

    # DynamoDB refuses the collections task's write every time the Lambda task runs
    with inject(
        "dynamodb", "TransactWriteItems", "InternalServerError", when=mentions("invoice.escalated")
    ) as fault:
        invoice, execution = _escalate(local_system, "ESCALATION-FAILS")
        local_system.advance(timedelta(minutes=2))  # the task's retries wait 2, 4, 8 and 16 s
        status = sfn.describe_execution(executionArn=execution)

    assert fault.injected == 1 + 4  # the first attempt and the Retry's MaxAttempts
    assert (status["status"], status.get("error")) == ("FAILED", "EscalationFailed")
    entered = _entered(execution)
    assert entered[-3:] == [
        "Create a collections task",
        "Alert the team about the failure",
        "Escalation failed",
    ]
    assert "Notify the team" not in entered
    alerts = _alerts(team_alerts)
    assert [a["Subject"] for a in alerts] == [FAILURE_SUBJECT]
    assert invoice["id"] in alerts[0]["Message"]
    assert "InternalServerError" in alerts[0]["Message"]
    assert _collections_tasks(local_system, invoice["id"]) == []  # nothing half-done
    assert events_of(local_system, invoice["id"])["invoice.escalated"] == 0


def test_a_task_failing_briefly_is_retried_and_the_escalation_goes_on_as_if_nothing_happened(
    local_system: Any, team_alerts: str
) -> None:
    _alerts(team_alerts)
    sfn = boto3.client("stepfunctions")

    with inject(
        "dynamodb", "TransactWriteItems", "ThrottlingException", times=2, when=mentions("invoice.escalated")
    ) as fault:
        invoice, execution = _escalate(local_system, "ESCALATION-RETRIED")
        local_system.advance(timedelta(minutes=1))

    assert fault.injected == 2
    assert sfn.describe_execution(executionArn=execution)["status"] == "RUNNING"  # waits for the plan answer
    assert _entered(execution)[-3:] == [
        "Create a collections task",
        "Notify the team",
        "Offer a payment plan",
    ]
    assert [a["Subject"] for a in _alerts(team_alerts)] == [f"Invoice {invoice['number']} escalated"]
    assert len(_collections_tasks(local_system, invoice["id"])) == 1
    assert events_of(local_system, invoice["id"])["invoice.escalated"] == 1
    final_notices = [
        e for e in local_system.emails() if invoice["number"] in e.subject and "Ratenzahlung" in e.subject
    ]
    assert len(final_notices) == 1
    sfn.stop_execution(executionArn=execution, error="TestDone")


def test_ses_refusing_the_final_notice_once_is_retried_by_the_task_and_the_notice_goes_out_once(
    local_system: Any, team_alerts: str
) -> None:
    _alerts(team_alerts)
    sfn = boto3.client("stepfunctions")

    with inject(
        "ses", "SendRawEmail", "Throttling", times=1, message="Maximum sending rate exceeded."
    ) as fault:
        invoice, execution = _escalate(local_system, "ESCALATION-SES")
        local_system.advance(timedelta(minutes=1))

    # the refused send gave its claim back, so the task's retry (2 s later) could send the notice
    assert fault.injected == 1
    assert sfn.describe_execution(executionArn=execution)["status"] == "RUNNING"
    assert _entered(execution).count("Offer a payment plan") == 1
    subjects = [a["Subject"] for a in _alerts(team_alerts)]
    assert subjects == [f"Invoice {invoice['number']} escalated"]  # no failure alert
    final_notices = [
        e for e in local_system.emails() if invoice["number"] in e.subject and "Ratenzahlung" in e.subject
    ]
    assert len(final_notices) == 1
    sfn.stop_execution(executionArn=execution, error="TestDone")
