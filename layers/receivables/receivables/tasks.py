"""Follow-up tasks for the finance team: created with invoices, disputes and escalations."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any

from receivables import aws, clock
from receivables.errors import Conflict, NotFound
from receivables.items import from_item, to_item

FOLLOW_UP_QUEUE = "receivables-follow-up"
DISPUTES_QUEUE = "receivables-disputes"
FINANCE_QUEUE = "receivables-finance"  # money that needs a person: unapplied payments, currency mismatches
_IDS = uuid.UUID("0f3b9a7e-52a1-4c5e-9d0b-6a1f2c3d4e5f")


@dataclass(frozen=True)
class NewTask:
    kind: str  # follow_up, dispute, collections, unapplied_payment, ...
    title: str
    queue: str
    due_date: date
    invoice_id: str | None
    reason: str  # what caused it, for the audit trail

    def task_id(self, cause_id: str) -> str:
        """Stable per cause, so a redelivered cause creates the same task, not a second one."""
        return task_id_for(self.kind, cause_id)


def task_id_for(kind: str, cause_id: str) -> str:
    return f"tsk_{uuid.uuid5(_IDS, f'{kind}|{cause_id}').hex}"


def task_key(task_id: str) -> dict[str, str]:
    return {"pk": f"TASK#{task_id}", "sk": "TASK"}


def task_put(table_name: str, task: NewTask, cause_id: str) -> dict[str, Any]:
    """A TransactWriteItems `Put` creating the task beside the change that caused it."""
    task_id = task.task_id(cause_id)
    item = task_key(task_id) | {
        "entity": "task",
        "id": task_id,
        "kind": task.kind,
        "title": task.title,
        "queue": task.queue,
        "status": "open",
        "due_date": task.due_date.isoformat(),
        "invoice_id": task.invoice_id,
        "reason": task.reason,
        "created_at": clock.iso(clock.now()),
        "gsi1pk": "TASKS#open",
        "gsi1sk": f"{task.due_date.isoformat()}#{task_id}",
    }
    if task.invoice_id:  # an invoice's tasks, to close them when it is paid
        item |= {"gsi3pk": f"INVOICE#{task.invoice_id}", "gsi3sk": f"TASK#{task_id}"}
    return {
        "Put": {
            "TableName": table_name,
            "Item": to_item(item),
            "ConditionExpression": "attribute_not_exists(pk)",
        }
    }


def public_task(item: dict[str, Any]) -> dict[str, Any]:
    keys = (
        "id",
        "kind",
        "title",
        "queue",
        "status",
        "due_date",
        "invoice_id",
        "reason",
        "problem",
        "created_at",
        "completed_at",
    )
    return {key: item.get(key) for key in keys}


def list_tasks(
    table_name: str, status: str, limit: int, start: dict[str, Any] | None
) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    request: dict[str, Any] = {
        "TableName": table_name,
        "IndexName": "gsi1",
        "KeyConditionExpression": "gsi1pk = :pk",
        "ExpressionAttributeValues": {":pk": {"S": f"TASKS#{status}"}},
        "Limit": limit,
    }
    if start:
        request["ExclusiveStartKey"] = start
    page = aws.client("dynamodb").query(**request)
    return [public_task(from_item(i)) for i in page["Items"]], page.get("LastEvaluatedKey")


def complete_task(
    table_name: str, task_id: str, completed_by: str, note: str | None = None
) -> dict[str, Any]:
    """Open → completed, once; completing a completed task is a conflict, an unknown one not found."""
    client = aws.client("dynamodb")
    now = clock.iso(clock.now())
    try:
        response = client.update_item(
            TableName=table_name,
            Key=to_item(task_key(task_id)),
            UpdateExpression=(
                "SET #status = :done, completed_at = :now, completed_by = :by, note = :note, gsi1pk = :gsi"
            ),
            ConditionExpression="attribute_exists(pk) AND #status = :open",
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues=to_item(
                {
                    ":done": "completed",
                    ":open": "open",
                    ":now": now,
                    ":by": completed_by,
                    ":note": note or "",
                    ":gsi": "TASKS#completed",
                }
            ),
            ReturnValues="ALL_NEW",
            ReturnValuesOnConditionCheckFailure="ALL_OLD",
        )
    except client.exceptions.ConditionalCheckFailedException as failed:
        if "Item" not in failed.response:
            raise NotFound(f"No task {task_id}.") from failed
        raise Conflict(f"Task {task_id} is already completed.") from failed
    return public_task(from_item(response["Attributes"]))


def complete_open_tasks_update(table_name: str, task_id: str, now: str, by: str) -> dict[str, Any]:
    """A TransactWriteItems `Update` closing one open task (used when its cause resolves itself)."""
    return {
        "Update": {
            "TableName": table_name,
            "Key": to_item(task_key(task_id)),
            "UpdateExpression": "SET #status = :done, completed_at = :now, completed_by = :by, gsi1pk = :gsi",
            "ConditionExpression": "#status = :open",
            "ExpressionAttributeNames": {"#status": "status"},
            "ExpressionAttributeValues": to_item(
                {":done": "completed", ":open": "open", ":now": now, ":by": by, ":gsi": "TASKS#completed"}
            ),
        }
    }


def open_tasks_of_invoice(table_name: str, invoice_id: str) -> list[dict[str, Any]]:
    page = aws.client("dynamodb").query(
        TableName=table_name,
        IndexName="gsi3",
        KeyConditionExpression="gsi3pk = :pk AND begins_with(gsi3sk, :task)",
        FilterExpression="#status = :open",
        ExpressionAttributeNames={"#status": "status"},
        ExpressionAttributeValues=to_item(
            {":pk": f"INVOICE#{invoice_id}", ":task": "TASK#", ":open": "open"}
        ),
    )
    return [from_item(i) for i in page["Items"]]


def note_problem_on_invoice_tasks(table_name: str, invoice_id: str, problem: str) -> int:
    """Writes what keeps the invoice from going out onto its open tasks, where finance works; the same
    note again changes nothing. Returns how many tasks carry it."""
    noted = 0
    for task in open_tasks_of_invoice(table_name, invoice_id):
        try:
            aws.client("dynamodb").update_item(
                TableName=table_name,
                Key=to_item(task_key(task["id"])),
                UpdateExpression="SET problem = :problem",
                ConditionExpression="attribute_exists(pk) AND #status = :open",
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues=to_item({":problem": problem, ":open": "open"}),
            )
            noted += 1
        except aws.client("dynamodb").exceptions.ConditionalCheckFailedException:
            continue  # completed meanwhile: nothing to tell on it
    return noted


def task_is_open(table_name: str, task_id: str) -> bool:
    response = aws.client("dynamodb").get_item(
        TableName=table_name, Key=to_item(task_key(task_id)), ConsistentRead=True
    )
    return from_item(response.get("Item", {})).get("status") == "open"


# Tasks a payment in full makes pointless. Disputes and unapplied money still need a person.
CLOSED_BY_PAYMENT = frozenset({"follow_up", "collections"})


def close_open_tasks_of_invoice(table_name: str, invoice_id: str, by: str) -> int:
    """Completes the invoice's open follow-up and collections tasks (their cause went away); repeatable."""
    client = aws.client("dynamodb")
    closed = 0
    for task in open_tasks_of_invoice(table_name, invoice_id):
        if task["kind"] not in CLOSED_BY_PAYMENT:
            continue
        now = clock.iso(clock.now())
        try:
            client.transact_write_items(
                TransactItems=[complete_open_tasks_update(table_name, task["id"], now, by)]
            )
            closed += 1
        except client.exceptions.TransactionCanceledException:
            continue  # completed meanwhile by someone else
    return closed
