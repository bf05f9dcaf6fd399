"""The local HTTP port: the API as API Gateway would serve it, plus the `/_local/` endpoints."""

from __future__ import annotations

import json
import sys
import traceback
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

from local_runtime.gateway import HttpRequest, HttpResponse
from local_runtime.system import LocalSystem


def _json(status: int, body: Any) -> HttpResponse:
    return HttpResponse(status, {"content-type": "application/json"}, json.dumps(body).encode())


def _problem(status: int, detail: str, field: str | None = None) -> HttpResponse:
    body: dict[str, Any] = {
        "type": "/problems/invalid-local-request",
        "title": "Invalid request",
        "status": status,
        "detail": detail,
    }
    if field:
        body["errors"] = [{"field": field, "message": detail}]
    return HttpResponse(status, {"content-type": "application/problem+json"}, json.dumps(body).encode())


def handle_local(system: LocalSystem, request: HttpRequest) -> HttpResponse:
    path = request.raw_path
    if path == "/_local/health" and request.method == "GET":
        healthy = system.healthy()
        return _json(200 if healthy else 503, {"status": "ok" if healthy else "starting"})
    if path == "/_local/emails" and request.method == "GET":
        return _json(200, [e.public() for e in system.emails()])
    if path == "/_local/sms" and request.method == "GET":
        return _json(200, system.sms())
    if path == "/_local/sms/replies" and request.method == "POST":
        return _reply_to_sms(system, request.body)
    if path == "/_local/events" and request.method == "GET":
        return _json(200, system.events())
    if path == "/_local/settle" and request.method == "POST":
        return _json(200, {"settled": system.settle()})
    if path == "/_local/clock" and request.method == "POST":
        return _move_clock(system, request.body)
    if path == "/_local/clock" and request.method == "GET":
        return _json(200, {"now": system.clock.iso(system.clock.now())})
    # Pay now's Stripe stand-in: where it is and its test keys, for tests and for trying it by hand.
    if path == "/_local/stripe" and request.method == "GET":
        return _json(200, system.stripe.public())
    return _json(404, {"message": "Not Found"})


def _reply_to_sms(system: LocalSystem, raw: bytes) -> HttpResponse:
    """`{"from": "+49...", "text": "STOP"}`: the customer's phone answers, as it would to SNS."""
    try:
        body = json.loads(raw or b"{}")
    except ValueError:
        return _problem(400, "The body must be JSON.", "body")
    if not isinstance(body, dict):
        return _problem(422, 'Send {"from": "+4915112345678", "text": "STOP"}.', "body")
    for name in ("from", "text"):
        if not isinstance(body.get(name), str) or not body[name].strip():
            return _problem(422, f"{name} must be a non-empty string.", name)
    return _json(200, {"opted_out": system.reply_to_sms(body["from"].strip(), body["text"])})


def _move_clock(system: LocalSystem, raw: bytes) -> HttpResponse:
    try:
        body = json.loads(raw or b"{}")
    except ValueError:
        return _problem(400, "The body must be JSON.", "body")
    if not isinstance(body, dict):
        return _problem(422, 'Send {"advance_days": N} or {"now": "...Z"}.', "body")
    if "now" in body:
        try:
            target = datetime.fromisoformat(str(body["now"]).replace("Z", "+00:00"))
        except ValueError:
            return _problem(422, "now must be an ISO 8601 instant such as 2026-12-01T09:00:00Z.", "now")
        if target.tzinfo is None:
            return _problem(422, "now needs a time zone, e.g. a trailing Z.", "now")
        step = target - system.clock.now()
    else:
        days = body.get("advance_days")
        if isinstance(days, bool) or not isinstance(days, int | float):
            return _problem(422, "advance_days must be a number of days.", "advance_days")
        step = timedelta(days=days)
    if step < timedelta(0):
        return _problem(422, "The clock only moves forward.", "now" if "now" in body else "advance_days")
    moved = system.advance(step)
    return _json(200, {"now": system.clock.iso(moved)})


def _route(system: LocalSystem, request: HttpRequest) -> HttpResponse:
    if request.raw_path.startswith("/_local/"):
        return handle_local(system, request)
    if request.raw_path == "/openapi.json" and request.method in ("GET", "HEAD"):
        return _json(200, system.openapi())
    return system.gateway.handle(request)


def serve(system: LocalSystem, host: str, port: int) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _handle(self) -> None:
            url = urlsplit(self.path)
            length = int(self.headers.get("content-length") or 0)
            request = HttpRequest(
                method=self.command,
                raw_path=url.path,
                raw_query=url.query,
                headers={k.lower(): v for k, v in self.headers.items()},
                body=self.rfile.read(length) if length else b"",
                source_ip=self.client_address[0],
            )
            try:
                response = _route(system, request)
            except Exception:
                # A storefront's client must get an answer, never a dropped connection: log the cause
                # where `make run` prints, and answer 500 as API Gateway does when an integration fails.
                print(
                    f"local runtime: {request.method} {url.path} failed\n{traceback.format_exc()}",
                    file=sys.stderr,
                    flush=True,
                )
                response = _problem(500, "The local runtime failed on this request; its log shows why.")
            self.send_response(response.status)
            for name, value in response.headers.items():
                self.send_header(name, value)
            for cookie in response.cookies:
                self.send_header("set-cookie", cookie)
            self.send_header("content-length", str(len(response.body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(response.body)

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _handle

        def __getattr__(self, name: str) -> Any:
            # Any other method (TRACE, QUERY, ...) gets the gateway's answer, as on API Gateway.
            if name.startswith("do_"):
                return self._handle
            raise AttributeError(name)

        def log_message(self, format: str, *args: Any) -> None:
            pass  # handlers log through Powertools

    ThreadingHTTPServer.request_queue_size = 128  # bursts of concurrent webhooks and orders, as on AWS
    server = ThreadingHTTPServer((host, port), Handler)
    server.daemon_threads = True
    return server
