"""What a team sets up by hand after `sam deploy`, done for the local system: a storefront API key."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from local_runtime.system import LocalSystem

LOCAL_STOREFRONT = "local-storefront"


def seed(system: LocalSystem) -> dict[str, str]:
    from receivables.api_keys import register_api_key

    api_key = os.environ.get("INVOICING_LOCAL_API_KEY", "dev-storefront-key")
    table = system.global_environment()["TABLE_NAME"]
    register_api_key(table, LOCAL_STOREFRONT, frozenset({"orders", "reports", "finance"}), api_key)
    return {"api_key": api_key, "storefront_id": LOCAL_STOREFRONT}
