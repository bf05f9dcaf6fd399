"""The sparse "next dunning action" index: only invoices with a pending dunning action carry its keys.

`gsi2pk = DUNNING#<shard>`, `gsi2sk = <date>#<invoice id>`; the reminder run queries each shard up to
today (reminders.due_invoices), so it reads what is due and nothing else.
"""

from __future__ import annotations

import hashlib
from datetime import date
from typing import Any

from receivables import dunning

SHARDS = 4  # spreads index writes over partitions; a run reads every shard


def index_keys(invoice_id: str, on: date) -> dict[str, str]:
    shard = int(hashlib.sha256(invoice_id.encode()).hexdigest(), 16) % SHARDS
    return {"gsi2pk": f"DUNNING#{shard}", "gsi2sk": f"{on.isoformat()}#{invoice_id}"}


def first_action_fields(invoice_id: str, due_date: date, policy: dunning.DunningPolicy) -> dict[str, Any]:
    """The dunning fields a new invoice starts with (none when the policy never acts)."""
    first = dunning.next_action_date(policy, due_date, [], escalated=False)
    if first is None:
        return {}
    return {"next_reminder_at": first.isoformat()} | index_keys(invoice_id, first)
