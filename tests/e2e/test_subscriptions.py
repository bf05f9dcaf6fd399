"""Recurring billing through the running system (issue 14; docs/decisions/0026-subscriptions.md).

One scenario on a runtime of its own (it moves the clock 95 days in one jump): four subscriptions are
started, one is canceled at its period's end and one upgraded mid-period; then the clock jumps 95 days, and
each test reads what the jump left behind. The last test replays the daily run three times.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from itertools import pairwise
from typing import Any
from zoneinfo import ZoneInfo

import boto3
import pytest
import requests
from jsonschema import Draft202012Validator

from tests.conftest import RunningSystem, start_runtime
from tests.support import REPOSITORY, load_event

pytestmark = [pytest.mark.e2e, pytest.mark.long_module]
JUMP_DAYS = 95


@dataclass(frozen=True)
class Scenario:
    system: RunningSystem
    today: date  # the seller's day the subscriptions were started
    monthly: dict[str, Any]
    from_31_january: dict[str, Any]
    canceled: dict[str, Any]
    canceled_now: dict[str, Any]
    paused: dict[str, Any]
    upgraded: dict[str, Any]


def _post(system: RunningSystem, path: str, body: object, key: str | None = None) -> dict[str, Any]:
    headers = {"x-api-key": system.api_key} | ({"Idempotency-Key": key} if key else {})
    response = requests.post(system.url(path), json=body, headers=headers, timeout=120)
    assert response.status_code in (200, 201), response.text
    return dict(response.json())


def _subscribe(system: RunningSystem, external_id: str, **fields: Any) -> dict[str, Any]:
    body = load_event("http/create_subscription_body.json") | {"external_id": external_id} | fields
    return _post(system, "/subscriptions", body, key=external_id)


def _invoices(system: RunningSystem, subscription: dict[str, Any]) -> list[dict[str, Any]]:
    """The subscription's invoices, oldest period first."""
    page = system.get_json("/invoices", subscription_id=subscription["id"], limit=100)
    return list(reversed(page["items"]))


@pytest.fixture(scope="module")
def scenario(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Scenario]:
    for system in start_runtime(tmp_path_factory):
        monthly = _subscribe(system, "SUB-MONTHLY")
        today = date.fromisoformat(monthly["current_period"]["start"])  # started today, seller-local
        # The latest 31 January whose third period (31 March) starts within the jump.
        year = today.year if date(today.year, 1, 31) <= today + timedelta(days=36) else today.year - 1
        from_31_january = _subscribe(system, "SUB-31-JAN", start_date=f"{year}-01-31")
        canceled = _subscribe(system, "SUB-CANCELED")
        _post(system, f"/subscriptions/{canceled['id']}/cancel", {"at": "period_end"})
        canceled_now = _subscribe(system, "SUB-CANCELED-NOW")
        _post(system, f"/subscriptions/{canceled_now['id']}/cancel", {"at": "now"})
        paused = _subscribe(system, "SUB-PAUSED", start_date=(today + timedelta(days=1)).isoformat())
        _post(system, f"/subscriptions/{paused['id']}/pause", {})
        # Started 10 days ago (period 0 invoiced at once), upgraded today from 1 x 49.00 to 2 x 49.00.
        upgraded = _subscribe(system, "SUB-UPGRADED", start_date=(today - timedelta(days=10)).isoformat())
        item = load_event("http/create_subscription_body.json")["items"][0]
        response = requests.patch(
            system.url(f"/subscriptions/{upgraded['id']}"),
            json={"items": [item | {"quantity": "2"}]},
            headers={"x-api-key": system.api_key},
            timeout=120,
        )
        assert response.status_code == 200, response.text
        system.advance_days(JUMP_DAYS)
        yield Scenario(system, today, monthly, from_31_january, canceled, canceled_now, paused, upgraded)


def test_a_monthly_subscription_has_an_invoice_for_each_period_the_clock_jumped_over(
    scenario: Scenario,
) -> None:
    invoices = _invoices(scenario.system, scenario.monthly)

    # then periods 0-3 were invoiced, each dated to its period's start, the periods back to back
    assert len(invoices) == 4, [i["period"] for i in invoices]
    assert [i["subscription_id"] for i in invoices] == [scenario.monthly["id"]] * 4
    assert invoices[0]["period"]["start"] == scenario.today.isoformat()
    assert [i["issue_date"] for i in invoices] == [i["period"]["start"] for i in invoices]
    for previous, following in pairwise(invoices):
        day_after = date.fromisoformat(previous["period"]["end"]) + timedelta(days=1)
        assert following["period"]["start"] == day_after.isoformat()
    first, end = invoices[0], date.fromisoformat(invoices[0]["period"]["end"])
    assert first["lines"][0]["description"] == (
        f"Pro plan – Leistungszeitraum {scenario.today:%d.%m.%Y}–{end:%d.%m.%Y}"
    )
    assert all(i["email_sent_at"] for i in invoices)  # the order's path: numbered, rendered, emailed
    subscription = scenario.system.get_json(f"/subscriptions/{scenario.monthly['id']}")
    last_end = date.fromisoformat(invoices[-1]["period"]["end"])
    assert subscription["next_invoice_date"] == (last_end + timedelta(days=1)).isoformat()

    # and the customer's invoice page shows the subscription: its items and when the next invoice comes
    page = requests.get(invoices[-1]["hosted_url"], timeout=120)
    assert page.status_code == 200, page.text
    assert "Ihr Abonnement" in page.text
    assert "1 × Pro plan" in page.text
    assert "Nächste Rechnung" in page.text


def test_a_subscription_from_31_january_bills_the_end_of_february_and_31_march(scenario: Scenario) -> None:
    invoices = _invoices(scenario.system, scenario.from_31_january)

    year = int(scenario.from_31_january["start_date"][:4])
    february = 29 if year % 4 == 0 and (year % 100 != 0 or year % 400 == 0) else 28
    assert [i["period"]["start"] for i in invoices[:3]] == [
        f"{year}-01-31",
        f"{year}-02-{february}",
        f"{year}-03-31",
    ]
    assert invoices[0]["period"]["end"] == f"{year}-02-{february - 1}"
    # the periods that had passed when it was created were billed at once, in order, numbered in a row
    missed = [
        i for i in invoices if i["issue_date"] < scenario.today.isoformat() and i["number"][:4] == str(year)
    ]
    sequences = [int(i["number"].split("-")[1]) for i in missed]
    assert sequences == list(range(sequences[0], sequences[0] + len(sequences))) if sequences else True


def test_cancel_stops_renewals_pause_stops_invoices_and_cancel_now_credits_the_unused_days(
    scenario: Scenario,
) -> None:
    system = scenario.system
    # canceled at the period's end: the first period's invoice and nothing more
    (invoice,) = _invoices(system, scenario.canceled)
    subscription = system.get_json(f"/subscriptions/{scenario.canceled['id']}")
    assert (subscription["status"], subscription["next_invoice_date"]) == ("canceled", None)
    assert subscription["ends_on"] == invoice["period"]["end"]

    # paused before its first period: nothing while paused; resumed, it goes on with the next period
    assert _invoices(system, scenario.paused) == []
    resumed = _post(system, f"/subscriptions/{scenario.paused['id']}/resume", {})
    assert resumed["status"] == "active"
    assert resumed["next_invoice_date"] >= (scenario.today + timedelta(days=JUMP_DAYS)).isoformat()

    # canceled now on the first day: a credit note for the period's other days, each line pro rata
    (invoice,) = _invoices(system, scenario.canceled_now)
    start, end = date.fromisoformat(invoice["period"]["start"]), date.fromisoformat(invoice["period"]["end"])
    days = (end - start).days + 1
    cent = Decimal("0.01")
    net = (Decimal("49.00") * (days - 1) / days).quantize(cent, ROUND_HALF_UP)
    gross = net + (net * Decimal("0.19")).quantize(cent, ROUND_HALF_UP)
    assert invoice["amount_credited"] == f"{gross}"


def test_a_bad_subscription_is_a_problem_naming_each_field(scenario: Scenario) -> None:
    body = load_event("http/create_subscription_body.json") | {"interval": "week"}
    body["items"] = [body["items"][0] | {"unit_price": "1.234"}]
    body["customer"] = body["customer"] | {"email": "not-an-address"}
    response = requests.post(
        scenario.system.url("/subscriptions"),
        json=body,
        headers={"x-api-key": scenario.system.api_key, "Idempotency-Key": "SUB-BAD"},
        timeout=120,
    )

    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert {e["field"] for e in response.json()["errors"]} == {
        "interval",
        "items[0].unit_price",
        "customer.email",
    }


def test_a_mid_period_upgrade_is_prorated_to_the_cent_on_the_next_invoice(scenario: Scenario) -> None:
    invoices = _invoices(scenario.system, scenario.upgraded)
    first, second = invoices[0], invoices[1]
    start, end = date.fromisoformat(first["period"]["start"]), date.fromisoformat(first["period"]["end"])

    # the upgrade day counts: remaining = end - today + 1 of the period's days
    days, remaining = (end - start).days + 1, (end - scenario.today).days + 1
    cent = Decimal("0.01")
    credit = (Decimal("49.00") * remaining / days).quantize(cent, ROUND_HALF_UP)
    charge = (Decimal("98.00") * remaining / days).quantize(cent, ROUND_HALF_UP)
    assert [line["net"] for line in second["lines"]] == ["98.00", f"-{credit}", f"{charge}"]
    assert Decimal(second["net"]) == Decimal("98.00") - credit + charge
    assert [line["net"] for line in first["lines"]] == ["49.00"]


def test_replaying_the_daily_run_three_times_issues_nothing_twice(scenario: Scenario) -> None:
    # given a subscription that starts tomorrow, and the clock at 03:30 UTC tomorrow: before the daily
    # run (06:00 on the seller's clock, Europe/Berlin), the period is due and not yet invoiced
    system = scenario.system
    now = datetime.fromisoformat(requests.get(system.url("/_local/clock"), timeout=120).json()["now"])
    tomorrow = now.astimezone(ZoneInfo("Europe/Berlin")).date() + timedelta(days=1)
    due = _subscribe(system, "SUB-REPLAYED", start_date=tomorrow.isoformat())
    moved = requests.post(system.url("/_local/clock"), json={"now": f"{tomorrow}T03:30:00Z"}, timeout=600)
    assert moved.status_code == 200, moved.text
    assert _invoices(system, due) == []

    # when the daily run is delivered three times
    lambda_client = boto3.client("lambda", **system.emulated_aws())
    (function,) = [
        f["FunctionName"]
        for f in lambda_client.list_functions()["Functions"]
        if f["FunctionName"].endswith("BillSubscriptionsFunction")
    ]
    scheduled = json.dumps(load_event("bill_subscriptions/scheduled.json")).encode()
    for _ in range(3):
        response = lambda_client.invoke(FunctionName=function, Payload=scheduled)
        assert "FunctionError" not in response
    system.settle()

    # then its period has one invoice, and the other subscriptions none more
    (invoice,) = _invoices(system, due)
    assert (invoice["issue_date"], invoice["period"]["start"]) == (tomorrow.isoformat(), tomorrow.isoformat())
    assert len(_invoices(system, scenario.monthly)) == 4
    assert len(_invoices(system, scenario.canceled)) == 1


def test_the_subscription_events_and_invoice_issued_match_their_schemas(scenario: Scenario) -> None:
    events = requests.get(scenario.system.url("/_local/events"), timeout=120).json()
    ours = [e["detail"] for e in events if e["detail-type"].startswith("subscription.")]
    issued = [
        e["detail"]
        for e in events
        if e["detail-type"] == "invoice.issued" and e["detail"]["data"].get("subscription_id")
    ]

    assert {e["type"] for e in ours} == {
        "subscription.created",
        "subscription.updated",
        "subscription.canceled",
        "subscription.paused",
        "subscription.resumed",
    }
    assert issued
    for detail in ours + issued:
        schema = json.loads((REPOSITORY / "schemas" / "events" / f"{detail['type']}.schema.json").read_text())
        assert not [error.message for error in Draft202012Validator(schema).iter_errors(detail)], detail
