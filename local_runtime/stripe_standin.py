"""A stateful Stripe for the local system: localstripe (PyPI) in a subprocess of its own.

It serves the Stripe API our "Pay now" calls, a Stripe.js stand-in at /js.stripe.com/v3/, and signs and
sends webhooks to `/webhooks/stripe` as Stripe does. A subprocess, not a thread: localstripe keeps its
objects in module globals and an asyncio loop, which did not share one process with moto and the tests
reliably (docs/decisions/0037-stripe-pay-now.md).

Run as `python -m local_runtime.stripe_standin --parent <pid>`, it adapts localstripe for many copies on
one machine and for settling, and sends PaymentIntents with the fields Stripe sends:
- its store stays in memory (localstripe pickles every write to /tmp/localstripe.pickle, one file that
  parallel copies overwrote and read back);
- `GET /_config/in_flight` counts webhooks scheduled but not yet delivered, so the runtime's settle can
  wait for them instead of guessing how long localstripe's one-second delivery delay takes;
- it binds 127.0.0.1 on a port the OS picks and prints it, so no port is guessed;
- it exits when its parent (the runtime) is gone, so a killed runtime leaves nothing behind;
- its Stripe.js gains the Payment Element and `confirmPayment` for cards, which the page uses.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import Any

SECRET_KEY = "sk_test_local"  # noqa: S105 - the stand-in's, which accepts any sk_ key
PUBLISHABLE_KEY = "pk_test_local"
WEBHOOK_ID = "receivables"


@dataclass
class StripeStandIn:
    """The running stand-in, as the runtime (or a test) controls it."""

    process: subprocess.Popen[bytes]
    api_base: str
    secret_key: str = SECRET_KEY
    publishable_key: str = PUBLISHABLE_KEY

    @classmethod
    def start(cls, timeout: float = 60.0) -> StripeStandIn:
        process = subprocess.Popen(  # noqa: S603 - our own module, with this interpreter
            [sys.executable, "-m", "local_runtime.stripe_standin", "--parent", str(os.getpid())],
            stdout=subprocess.PIPE,
            stderr=None,  # its errors show where the runtime's own log goes
            stdin=subprocess.DEVNULL,
        )
        assert process.stdout is not None
        line = process.stdout.readline().decode().strip()  # "port <n>", or nothing when it failed
        process.stdout.close()
        if not line.startswith("port "):
            process.kill()
            process.wait()
            raise RuntimeError(f"the Stripe stand-in did not start (said {line!r}); its stderr says why")
        standin = cls(process=process, api_base=f"http://127.0.0.1:{int(line.split()[1])}")
        standin._wait_until_ready(timeout)
        return standin

    def _wait_until_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while True:
            try:
                self.in_flight()
                return
            except OSError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError("the Stripe stand-in did not answer") from None
                time.sleep(0.02)  # a readiness probe: the port is bound, the server is starting

    def register_webhook(self, url: str, secret: str) -> None:
        """Every event goes to `url`, signed with `secret` (the Stripe-Signature header Stripe sends)."""
        form = urllib.parse.urlencode({"url": url, "secret": secret}).encode()
        url = f"{self.api_base}/_config/webhooks/{WEBHOOK_ID}"
        request = urllib.request.Request(url, data=form)  # noqa: S310 - the local stand-in
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - the local stand-in
            response.read()

    def follow_clock(self, offset_seconds: float) -> None:
        """Stripe's "now" becomes the runtime's simulated one (real time + `offset_seconds`)."""
        body = json.dumps({"offset_seconds": offset_seconds}).encode()
        url, headers = f"{self.api_base}/_config/clock", {"content-type": "application/json"}
        request = urllib.request.Request(url, data=body, headers=headers)  # noqa: S310 - the local stand-in
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - the local stand-in
            response.read()

    def in_flight(self) -> int:
        with urllib.request.urlopen(f"{self.api_base}/_config/in_flight", timeout=10) as response:  # noqa: S310
            return int(json.loads(response.read())["in_flight"])

    def wait_for_webhooks(self, timeout: float = 120.0) -> bool:
        """True once every webhook scheduled so far has been answered by its endpoint."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.in_flight() == 0:
                return True
            time.sleep(0.02)
        return False

    def public(self) -> dict[str, str]:
        return {
            "api_base": self.api_base,
            "secret_key": self.secret_key,
            "publishable_key": self.publishable_key,
        }

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


# localstripe's Stripe.js has no Payment Element; the hosted page uses it. Appended to localstripe's script
# (whose LOCALSTRIPE_BASE_API and Stripe() it extends): a card number field and confirmPayment for cards.
PAYMENT_ELEMENT_JS = """
;(function () {
  var localStripe = Stripe;
  Stripe = function (publishableKey) {
    var stripe = localStripe(publishableKey);
    stripe.elements = function (options) {
      var clientSecret = (options || {}).clientSecret, field = null;
      return {
        _clientSecret: clientSecret,
        _cardNumber: function () { return field ? field.value.replace(/\\s+/g, "") : ""; },
        create: function () {
          return {
            mount: function (target) {
              var host = typeof target === "string" ? document.querySelector(target) : target;
              field = document.createElement("input");
              field.id = "localstripe-card-number";
              field.setAttribute("aria-label", "Card number");
              host.appendChild(field);
            }
          };
        }
      };
    };
    stripe.confirmPayment = async function (params) {
      var elements = params.elements;
      var response = await fetch(LOCALSTRIPE_BASE_API + "/_config/confirm_payment", {
        method: "POST",  // no content-type: a simple request, as localstripe's own calls (no preflight)
        body: JSON.stringify({key: publishableKey, client_secret: elements._clientSecret,
                              card_number: elements._cardNumber()})
      });
      var body = await response.json().catch(function () { return {}; });
      if (response.status !== 200 || body.error) {
        return {error: body.error || {message: "localstripe answered " + response.status}};
      }
      return {paymentIntent: body};
    };
    return stripe;
  };
})();
"""


# ------------------------------------------------------------------------------ the subprocess
def _payment_intents_as_stripe_sends_them(resources: Any) -> None:  # pragma: no cover - the subprocess
    """localstripe's PaymentIntents lack two fields Stripe always sends and our webhook handler reads:
    `amount_received` (what was captured: all of it once succeeded, as Pay now captures automatically)
    and `payment_method_types` (which it accepts on create but forgets)."""
    intent = resources.PaymentIntent
    created = intent.__init__

    def remember_methods(self: Any, *args: Any, payment_method_types: Any = None, **kwargs: Any) -> None:
        created(self, *args, **kwargs)
        self._payment_method_types = list(payment_method_types or ["card"])

    intent.__init__ = remember_methods
    intent.payment_method_types = property(lambda self: self._payment_method_types)
    intent.amount_received = property(lambda self: self.amount if self.status == "succeeded" else 0)


def _serve(parent: int) -> None:  # pragma: no cover - runs in the subprocess
    import asyncio
    import socket

    from aiohttp import web
    from localstripe import errors, resources, server, webhooks

    resources.Store.dump_to_disk = lambda self: None
    _payment_intents_as_stripe_sends_them(resources)
    in_flight = 0

    async def deliver(event: Any) -> None:
        nonlocal in_flight
        try:
            await webhooks._send_webhook(event)
        finally:
            in_flight -= 1

    deliveries: set[asyncio.Future[None]] = set()  # referenced until done, or the loop may drop them

    def schedule_webhook(event: Any) -> None:
        nonlocal in_flight
        in_flight += 1  # counted before the API call that caused it answers
        delivery = asyncio.ensure_future(deliver(event))
        deliveries.add(delivery)
        delivery.add_done_callback(deliveries.discard)

    resources.schedule_webhook = schedule_webhook  # resources imported the name itself

    async def count_in_flight(request: web.Request) -> web.Response:
        return web.json_response({"in_flight": in_flight})

    async def watch_parent(app: web.Application) -> None:
        async def watch() -> None:
            while os.getppid() == parent:
                await asyncio.sleep(0.5)
            os._exit(0)  # the runtime is gone: so is its Stripe

        app["watch_parent"] = asyncio.ensure_future(watch())

    class ShiftedTime:
        """`time` as localstripe reads it, following the runtime's simulated clock: events are created,
        and webhooks signed, at the runtime's "now", which its signature check compares them with."""

        offset = 0.0

        def __getattr__(self, name: str) -> Any:
            return getattr(time, name)

        def time(self) -> float:
            return time.time() + self.offset

    shifted = ShiftedTime()
    resources.time = shifted

    async def follow_clock(request: web.Request) -> web.Response:
        shifted.offset = float((await request.json())["offset_seconds"])
        return web.json_response({"offset_seconds": shifted.offset})

    async def confirm_payment(request: web.Request) -> web.Response:
        """What Stripe.js's confirmPayment does for a card typed into the Payment Element: the page holds
        only the publishable key and the client secret, which must match the PaymentIntent's."""
        body = await request.json()
        secret = str(body.get("client_secret", ""))
        intent = resources.PaymentIntent._api_retrieve(secret.split("_secret_")[0])
        if not str(body.get("key", "")).startswith("pk_") or secret != intent.client_secret:
            raise errors.UserError(401, "Unauthorized")
        card = {"number": str(body.get("card_number", "")), "exp_month": 12, "exp_year": 2030, "cvc": "123"}
        method = resources.PaymentMethod._api_create(type="card", card=card)
        if intent.latest_charge is not None and intent.latest_charge.status == "failed":
            intent.latest_charge = None  # a new card after a declined one: Stripe lets the customer retry
        intent.payment_method = method.id
        confirmed = resources.PaymentIntent._api_confirm(id=intent.id)
        return web.json_response(confirmed._export())

    async def stripe_js(request: web.Request, handler: Any) -> web.StreamResponse:
        response: web.StreamResponse = await handler(request)
        if request.path == "/js.stripe.com/v3/" and isinstance(response, web.Response) and response.text:
            return web.Response(
                text=response.text + PAYMENT_ELEMENT_JS, content_type="application/javascript"
            )
        return response

    server.app.middlewares.append(web.middleware(stripe_js))
    server.app.router.add_post("/_config/confirm_payment", confirm_payment)
    server.app.router.add_post("/_config/clock", follow_clock)
    server.app.router.add_get("/_config/in_flight", count_in_flight)
    server.app.on_startup.append(watch_parent)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    print(f"port {sock.getsockname()[1]}", flush=True)
    sys.stdout = sys.stderr  # the parent reads one line; anything else printed goes to the log
    web.run_app(server.app, sock=sock, access_log=None, print=None, handle_signals=True)


if __name__ == "__main__":  # pragma: no cover
    import argparse

    parser = argparse.ArgumentParser(prog="python -m local_runtime.stripe_standin", description=__doc__)
    parser.add_argument("--parent", type=int, required=True, help="exit when this process is gone")
    _serve(parser.parse_args().parent)
