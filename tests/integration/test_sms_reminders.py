"""The reminder SMS on the sample events, in-process: scheduled once by overlapping runs, sent once by a
retried task, and not at all for an invoice settled before 08:00 (docs/decisions/0035)."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import boto3

from receivables.invoices import get_invoice
from tests.support import load_event

BERLIN = ZoneInfo("Europe/Berlin")
SAMPLE_PHONE = "+4915112345678"  # events/accounting_api/update_customer.json


def _invoke(system: Any, logical_id: str, event: Any) -> Any:
    function = system.topology.functions.by_logical_id(logical_id)
    return system.topology.functions.invoke(function.name, event)


def _order(system: Any, external_id: str) -> str:
    """The sample order under another external id; returns its invoice id."""
    event = load_event("orders_api/create_order.json")
    body = json.loads(event["body"]) | {"external_id": external_id}
    event["body"] = json.dumps(body)
    event["headers"] = event["headers"] | {"idempotency-key": f"order-{external_id}"}
    created = _invoke(system, "OrdersApiFunction", event)
    assert created["statusCode"] == 201, created
    assert system.settle()
    return "inv_" + str(json.loads(created["body"])["id"]).removeprefix("ord_")


def _to_seven_in_berlin_after(system: Any, days: int) -> None:
    """The clock to 07:00 in Berlin, `days` days on: when the daily run fires (no schedule fires here)."""
    now = system.clock.now()
    day = (now + timedelta(days=days)).astimezone(BERLIN).date()
    target = datetime(day.year, day.month, day.day, 7, tzinfo=BERLIN)
    system.clock.advance(target - now)


def _run_dunning(system: Any) -> dict[str, int]:
    counts: dict[str, int] = _invoke(system, "RemindFunction", load_event("remind/scheduled.json"))
    return counts


def _sms_for(system: Any, invoice_id: str) -> list[dict[str, str]]:
    """The SMS sent about this invoice: to the sample phone, with the invoice's own pay link."""
    token = get_invoice(system.global_environment()["TABLE_NAME"], invoice_id)["hosted_token"]
    return [sms for sms in system.sms() if sms["to"] == SAMPLE_PHONE and sms["text"].endswith(f"/i/{token}")]


def _input_of(execution: dict[str, Any]) -> Any:
    return json.loads(
        boto3.client("stepfunctions").describe_execution(executionArn=execution["executionArn"])["input"]
    )


def _sms_executions(system: Any, invoice_id: str) -> list[dict[str, Any]]:
    arn = system.resolver.refs["SmsReminderStateMachine"]
    executions = boto3.client("stepfunctions").list_executions(stateMachineArn=arn)["executions"]
    return [dict(e) for e in executions if e["name"].startswith(f"sms-{invoice_id}-")]


def test_overlapping_runs_start_one_sms_and_a_retried_task_sends_it_once_at_8(local_system: Any) -> None:
    # given the sample customer chose SMS, and an invoice of theirs is ten days overdue at 07:00
    invoice_id = _order(local_system, "SMS-ONCE")
    patched = _invoke(
        local_system, "AccountingApiFunction", load_event("accounting_api/update_customer.json")
    )
    assert patched["statusCode"] == 200, patched
    _to_seven_in_berlin_after(local_system, days=24)

    # when two runs overlap
    with ThreadPoolExecutor(max_workers=2) as pool:
        runs = list(pool.map(lambda _: _run_dunning(local_system), range(2)))
    assert local_system.settle()

    # then one reminder, one SMS execution, waiting: nothing is sent at 07:00 (the runtime's own schedule
    # may have fired the 07:00 run meanwhile: a third overlapping run)
    assert sum(r["reminded"] for r in runs) <= 1
    assert get_invoice(local_system.global_environment()["TABLE_NAME"], invoice_id)["reminders_sent"] == 1
    (execution,) = _sms_executions(local_system, invoice_id)
    assert _sms_for(local_system, invoice_id) == []

    # when 08:00 comes, and the task is run once more (a retry after a lost reply)
    local_system.advance(timedelta(hours=1, minutes=1))
    again = _invoke(local_system, "SendSmsReminderFunction", _input_of(execution))

    # then exactly one SMS with this invoice's pay link went, at 08:00
    (sms,) = _sms_for(local_system, invoice_id)
    assert again == {"outcome": "already_sent"}
    sent_at = datetime.fromisoformat(sms["sent_at"].replace("Z", "+00:00")).astimezone(BERLIN)
    assert (sent_at.hour, sent_at.minute) == (8, 0)


def test_an_invoice_voided_before_8_gets_no_sms(local_system: Any) -> None:
    # given the customer (SMS chosen by the test above, or now) has an invoice reminded at 07:00
    invoice_id = _order(local_system, "SMS-VOIDED")
    _invoke(local_system, "AccountingApiFunction", load_event("accounting_api/update_customer.json"))
    _to_seven_in_berlin_after(local_system, days=24)
    _run_dunning(local_system)  # (or the runtime's own 07:00 run, whichever comes first)
    assert local_system.settle()
    assert len(_sms_executions(local_system, invoice_id)) == 1

    # when it is voided at 07:30
    local_system.clock.advance(timedelta(minutes=30))
    void = load_event("accounting_api/void_invoice.json")
    void["rawPath"] = f"/invoices/{invoice_id}/void"
    void["pathParameters"] = {"invoice_id": invoice_id}
    voided = _invoke(local_system, "AccountingApiFunction", void)
    assert voided["statusCode"] == 200, voided
    local_system.advance(timedelta(hours=1))

    # then its SMS execution looked again at 08:00 and sent nothing
    assert _sms_for(local_system, invoice_id) == []
    (execution,) = _sms_executions(local_system, invoice_id)
    output = boto3.client("stepfunctions").describe_execution(executionArn=execution["executionArn"])
    assert (output["status"], json.loads(output["output"])["sms"]) == (
        "SUCCEEDED",
        {"outcome": "no_longer_owed"},
    )
