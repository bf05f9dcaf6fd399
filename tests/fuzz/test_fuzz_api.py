"""Schemathesis against the local runtime's HTTP port, for every operation in openapi.json.

Requests carry the seeded API key and, on webhook routes, a valid signature over the exact bytes sent,
so generated input reaches the logic instead of stopping at the door. Checks: never a 5xx, the status
and content type are documented, invalid input is rejected, and every 4xx is a problem document naming
each bad field. After the run, the table holds no half-written record (tests/fuzz/records.py).

`make test` runs a sample (FUZZ_EXAMPLES per operation, default 12); `make fuzz` runs enough for
10,000+ requests and fails if fewer were sent.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import threading
from collections.abc import Iterator
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    status_code_conformance,
)

from local_runtime.openapi import COMMITTED
from tests.fuzz.records import half_written_records

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "12"))
MINIMUM_REQUESTS = int(os.environ.get("FUZZ_MINIMUM_REQUESTS", "0"))
API_KEY = "dev-storefront-key"
SECRETS = {"/webhooks/stripe": "whsec_local", "/webhooks/generic": "local-webhook-secret"}

schema = schemathesis.openapi.from_path(COMMITTED)
schema.config.generation.update(
    modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE],
    max_examples=EXAMPLES,
    database="none",
    with_security_parameters=False,
)
sent = {"requests": 0, "by_status": {}}
_count_lock = threading.Lock()


@pytest.fixture(scope="module")
def runtime(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """The whole system in this process, served on a free port exactly as `make run` serves it."""
    from local_runtime.server import serve
    from local_runtime.system import LocalSystem
    from receivables import aws

    aws.reset_clients()
    port = _free_port()
    system = LocalSystem(
        state_dir=tmp_path_factory.mktemp("fuzz"), public_url=f"http://127.0.0.1:{port}"
    ).start()
    server = serve(system, "127.0.0.1", port)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    system.base_url = f"http://127.0.0.1:{port}"
    yield system
    server.shutdown()
    system.stop()
    aws.reset_clients()


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _signed(path: str, kwargs: dict[str, Any], now: int) -> dict[str, Any]:
    """The webhook request with its body as exact bytes and a valid signature over them."""
    if "json" in kwargs:
        body = json.dumps(kwargs.pop("json")).encode()
    else:
        data = kwargs.pop("data", b"") or b""
        body = data.encode() if isinstance(data, str) else data
    kwargs["data"] = body
    secret = SECRETS[path].encode()
    digest = hmac.new(secret, f"{now}.".encode() + body, hashlib.sha256).hexdigest()
    headers = dict(kwargs.get("headers") or {})
    if path == "/webhooks/stripe":
        headers["Stripe-Signature"] = f"t={now},v1={digest}"
    else:
        headers["X-Webhook-Timestamp"] = str(now)
        headers["X-Webhook-Signature"] = f"v1={digest}"
    kwargs["headers"] = headers
    return kwargs


@schemathesis.check
def problem_details_name_each_field(ctx: Any, response: Any, case: Any) -> bool | None:
    """Every 4xx (but a page's HTML 404) is problem+json; bad input names each field it blames."""
    if not 400 <= response.status_code < 500:
        return None
    content_type = response.headers.get("content-type", [""])[0]
    if content_type.startswith("text/html") and response.status_code == 404:
        return None
    assert content_type.startswith("application/problem+json"), f"{response.status_code} as {content_type}"
    problem = json.loads(response.content)
    assert {"type", "title", "status", "detail"} <= set(problem), problem
    assert problem["status"] == response.status_code
    if response.status_code in (400, 422):
        assert problem.get("errors"), f"a {response.status_code} without errors: {problem}"
        for error in problem["errors"]:
            assert error["field"], problem
            assert error["message"], problem
    return True


CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    negative_data_rejection,
    problem_details_name_each_field,
]


@schema.parametrize()
@settings(deadline=None, suppress_health_check=list(HealthCheck), derandomize=False)
def test_the_api_holds_under_generated_input(case: Any, runtime: Any) -> None:
    # Every request carries the key: without one, API Gateway itself answers 401 before any code of ours
    # runs (docs/decisions/0002-api-key-authorizer.md), and the generated input would never reach the logic.
    kwargs = case.as_transport_kwargs(base_url=runtime.base_url, headers={"x-api-key": API_KEY})
    if case.path in SECRETS:
        kwargs = _signed(case.path, kwargs, int(runtime.clock.now().timestamp()))
    kwargs["allow_redirects"] = False
    response = requests.request(**kwargs, timeout=120)
    with _count_lock:
        sent["requests"] += 1
        sent["by_status"][response.status_code] = sent["by_status"].get(response.status_code, 0) + 1
    if case.method.upper() != case.operation.method.upper():
        # An undocumented method never reaches a function: API Gateway answers it (404, its own body).
        assert response.status_code < 500, response.text
        return
    case.validate_response(response, checks=CHECKS, headers=kwargs.get("headers"), transport_kwargs=kwargs)


def test_nothing_is_half_written_after_the_run(runtime: Any) -> None:
    """Runs after the fuzzing in this module (same worker, file order)."""
    print(f"\nfuzz: {sent['requests']} requests, by status {dict(sorted(sent['by_status'].items()))}")
    assert sent["requests"] >= MINIMUM_REQUESTS
    assert runtime.settle(timeout=600)
    assert half_written_records(runtime) == []
