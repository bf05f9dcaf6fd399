"""Post a signed generic payment webhook to a running `make run`, as a bank would.

    .venv/bin/python -m tools.pay_locally 2026-000001 42.82 [--currency EUR] [--url http://127.0.0.1:3000]

The secret is the local one (`INVOICING_LOCAL_WEBHOOK_SECRET`, default `local-webhook-secret`); the
timestamp is the runtime's simulated clock, so it works after `POST /_local/clock` too.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import os
import urllib.request
import uuid
from datetime import datetime


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m tools.pay_locally", description=__doc__)
    parser.add_argument("invoice_number")
    parser.add_argument("amount", help='decimal string with the currency\'s digits, e.g. "42.82"')
    parser.add_argument("--currency", default="EUR")
    parser.add_argument("--url", default=f"http://127.0.0.1:{os.environ.get('PORT', '3000')}")
    options = parser.parse_args()

    with urllib.request.urlopen(f"{options.url}/_local/clock") as response:  # noqa: S310 - local runtime
        now = json.loads(response.read())["now"]
    timestamp = str(int(datetime.fromisoformat(now.replace("Z", "+00:00")).timestamp()))
    body = json.dumps(
        {
            "id": f"evt_local_{uuid.uuid4().hex[:12]}",
            "type": "payment.succeeded",
            "invoice_number": options.invoice_number,
            "amount": options.amount,
            "currency": options.currency,
            "method": "bank_transfer",
            "occurred_at": now,
        }
    ).encode()
    secret = os.environ.get("INVOICING_LOCAL_WEBHOOK_SECRET", "local-webhook-secret").encode()
    signature = hmac.new(secret, timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    request = urllib.request.Request(  # noqa: S310 - local runtime
        f"{options.url}/webhooks/generic",
        data=body,
        headers={
            "content-type": "application/json",
            "X-Webhook-Timestamp": timestamp,
            "X-Webhook-Signature": f"v1={signature}",
        },
    )
    with urllib.request.urlopen(request) as response:  # noqa: S310 - local runtime
        print(response.read().decode())


if __name__ == "__main__":
    main()
