"""`make run`: the whole system on http://127.0.0.1:$PORT, until Ctrl-C."""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import sys
import time
from pathlib import Path

from local_runtime.server import serve
from local_runtime.system import REPOSITORY, LocalSystem


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m local_runtime", description=__doc__)
    parser.add_argument("--template", action="append", type=Path, help="template(s); overlays merge in order")
    parser.add_argument("--state-dir", type=Path, default=REPOSITORY / ".local")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "3000")))
    options = parser.parse_args()

    started = time.monotonic()
    shutil.rmtree(options.state_dir, ignore_errors=True)  # each run starts from an empty account
    base = f"http://{options.host}:{options.port}"
    aws_port = int(os.environ.get("AWS_PORT", str(options.port + 1)))
    system = LocalSystem(
        templates=options.template, state_dir=options.state_dir, public_url=base, aws_port=aws_port
    )
    system.start()
    server = serve(system, options.host, options.port)
    system.deliver_stripe_webhooks()  # the port is bound: the Stripe stand-in's webhooks reach it
    state = options.state_dir.resolve()
    print(
        f"""
Receivables is running on emulated AWS (moto), started in {time.monotonic() - started:.1f}s.
  API            {base}   (storefront key: {system.seeded["api_key"]})
  health         {base}/_local/health
  emails sent    {base}/_local/emails   and as .eml files in {state / "outbox"}
  domain events  {base}/_local/events
  documents      {state / "s3"}
  clock          curl -X POST {base}/_local/clock -d '{{"advance_days": 1}}'
  emulated AWS   {system.aws_endpoint}   (e.g. aws --endpoint-url {system.aws_endpoint} s3 ls)
  Stripe         {system.stripe.api_base}   (localstripe; keys: {base}/_local/stripe)
Try:
  curl -s {base}/orders -H 'x-api-key: {system.seeded["api_key"]}' -H 'Idempotency-Key: demo-1' \\
    -H 'content-type: application/json' -d @events/http/create_order_body.json
Ctrl-C stops it; state lives in memory and {state} is cleared on the next start.
""",
        flush=True,
    )
    signal.signal(signal.SIGTERM, _stop_like_ctrl_c)  # a supervisor's stop cleans up like Ctrl-C
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    finally:
        # Everything lives in memory and is discarded: free the ports at once, without waiting for
        # a backlog of deliveries, so the next `make run` can start straight away.
        server.server_close()
        system.stop(grace_seconds=0.5)
        print("Receivables stopped.", flush=True)
        # Tearing down the emulated account object by object takes seconds after heavy use, and
        # nothing in it is kept: end the process now.
        sys.stderr.flush()
        os._exit(0)


def _stop_like_ctrl_c(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


if __name__ == "__main__":
    main()
