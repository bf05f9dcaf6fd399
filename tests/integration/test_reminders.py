"""The reminder function on its sample event: catch-up, and the same day's run twice."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

from tests.support import load_event


def _invoke(system: Any, logical_id: str, event: Any) -> Any:
    function = system.topology.functions.by_logical_id(logical_id)
    return system.topology.functions.invoke(function.name, event)


def test_missed_runs_catch_up_with_one_reminder_and_a_second_run_sends_nothing(local_system: Any) -> None:
    created = _invoke(local_system, "OrdersApiFunction", load_event("orders_api/create_order.json"))
    number_of = json.loads(created["body"])["id"]
    assert local_system.settle()
    # ten days past due (terms: 14) without a single run: the clock moves, no schedule fires
    local_system.clock.advance(timedelta(days=24))

    with ThreadPoolExecutor(max_workers=2) as pool:
        runs = list(
            pool.map(
                lambda _: _invoke(local_system, "RemindFunction", load_event("remind/scheduled.json")),
                range(2),
            )
        )
    assert local_system.settle()

    assert sorted(r["reminded"] for r in runs) == [0, 1]
    invoice_id = "inv_" + number_of.removeprefix("ord_")
    invoice = json.loads(
        _invoke(local_system, "InvoicesApiFunction", load_event("invoices_api/get_invoice.json"))["body"]
    )
    assert invoice["id"] == invoice_id
    assert invoice["reminders_sent"] == 1
    reminders = [
        e
        for e in local_system.emails()
        if invoice["number"] in e.subject and "Zahlungserinnerung" in e.subject
    ]
    assert len(reminders) == 1  # +7 is the latest due step: not courtesy, +1 and +7 at once
