"""Warm order intake: calls per second of the real `POST /orders` Lambda handler, AWS stubbed out.

`functions/orders_api/app.py`'s public `lambda_handler` gets the API Gateway v2 event of
`events/orders_api/create_order.json` (authorizer context set, a fresh Idempotency-Key per call) and a
Lambda context, so everything of ours runs: Powertools' resolver (and its validation), the idempotency
wrapper, pydantic parsing, pricing, building the order's transaction, logging and metrics.

AWS is cut off in two places, giving two figures:
- at the SDK method: the handler's DynamoDB client answers every operation `{}` at once. This is our
  handler's own CPU overhead, the figure with the target;
- on the wire: botocore still validates and serialises each request and parses the answer, which is
  answered `{}` at its `before-call` event (as botocore's Stubber does). That is CPU a Lambda pays too.

Beside them, in the same process and in alternating rounds, a plain pydantic handler does the same
validation: `OrderRequest.model_validate` on the same body and `json.dumps` of a response. Each figure is
the best round, timed in process CPU time (the machine may be busy with other work). Target: ours at most
1.5x the plain handler's time per call (`ratio` = ours / plain).
"""

from __future__ import annotations

import importlib.util
import json
import os
import sys
import time
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from bench.isolated import REPOSITORY, Row, run_isolated, smoke

TARGET_RATIO = 1.5
ROUNDS = 7
ROUND_SECONDS = 0.3
ENVIRONMENT = {
    "AWS_DEFAULT_REGION": "eu-central-1",
    "AWS_ACCESS_KEY_ID": "bench",
    "AWS_SECRET_ACCESS_KEY": "bench",
    "TABLE_NAME": "receivables-bench",
    "IDEMPOTENCY_TABLE_NAME": "receivables-bench-idempotency",
    "POWERTOOLS_SERVICE_NAME": "receivables",
    "POWERTOOLS_METRICS_NAMESPACE": "Receivables",
    "POWERTOOLS_LOG_LEVEL": "INFO",  # as deployed (template.yaml LogLevel)
    "POWERTOOLS_TRACE_DISABLED": "true",  # no X-Ray daemon here
    "AWS_LAMBDA_FUNCTION_NAME": "receivables-bench-OrdersApiFunction",
    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "512",
    "SELLER_PROFILE_PARAMETER": "/receivables/bench/seller-profile",
}


def _load_handler() -> Callable[[dict[str, Any], Any], dict[str, Any]]:
    path = REPOSITORY / "functions/orders_api/app.py"
    spec = importlib.util.spec_from_file_location("_bench_orders_api", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    handler: Callable[[dict[str, Any], Any], dict[str, Any]] = module.lambda_handler
    return handler


def _stub_dynamodb() -> dict[str, bool]:
    """Answers every operation of the handler's DynamoDB client with an empty success, without a network:
    at the method, or (while the returned switch's "sdk" is True) after botocore has built the request."""
    from botocore.awsrequest import AWSResponse
    from botocore.compat import HTTPHeaders

    from receivables import aws

    def answer(**_: Any) -> tuple[AWSResponse, dict[str, Any]]:
        return AWSResponse("https://dynamodb.invalid", 200, HTTPHeaders(), None), {"ResponseMetadata": {}}

    aws.reset_clients()
    client = aws.client("dynamodb")
    client.meta.events.register("before-call.dynamodb", answer)
    switch = {"sdk": False}
    for method in client.meta.method_to_api_mapping:
        through_sdk = getattr(client, method)

        def stubbed(*args: Any, __through_sdk: Any = through_sdk, **kwargs: Any) -> Any:
            return __through_sdk(*args, **kwargs) if switch["sdk"] else {"ResponseMetadata": {}}

        setattr(client, method, stubbed)
    return switch


def _stub_seller_profile() -> None:
    """The seller profile the handler decides tax with, answered on the wire like a `GetParameter` of
    the dev environment's sample (samconfig.toml); Powertools caches it, as in a warm Lambda."""
    import boto3
    from aws_lambda_powertools.utilities import parameters
    from aws_lambda_powertools.utilities.parameters.constants import DEFAULT_PROVIDERS
    from botocore.awsrequest import AWSResponse
    from botocore.compat import HTTPHeaders

    from local_runtime.template import samconfig_parameter_overrides

    profile = samconfig_parameter_overrides(REPOSITORY / "samconfig.toml")["SellerProfile"]
    name = ENVIRONMENT["SELLER_PROFILE_PARAMETER"]

    def answer(**_: Any) -> tuple[AWSResponse, dict[str, Any]]:
        parameter = {"Name": name, "Type": "String", "Value": profile, "Version": 1}
        return AWSResponse("https://ssm.invalid", 200, HTTPHeaders(), None), {"Parameter": parameter}

    client = boto3.client("ssm", region_name=ENVIRONMENT["AWS_DEFAULT_REGION"])
    client.meta.events.register("before-call.ssm.GetParameter", answer)
    DEFAULT_PROVIDERS["ssm"] = parameters.SSMProvider(boto3_client=client)


def _best_seconds_per_call(
    candidates: dict[str, Callable[[int], None]], rounds: int, round_seconds: float
) -> dict[str, float]:
    """Best seconds per call of each candidate over `rounds` alternating timed rounds."""
    batch = {}
    for name, call in candidates.items():  # calls per round: about round_seconds' worth
        started = time.process_time()
        call(20)
        batch[name] = max(20, int(round_seconds / max(1e-6, (time.process_time() - started) / 20)))
    best = dict.fromkeys(candidates, float("inf"))
    for _ in range(rounds):
        for name, call in candidates.items():
            started = time.process_time()
            call(batch[name])
            best[name] = min(best[name], (time.process_time() - started) / batch[name])
    return best


def measure() -> list[Row]:
    os.environ.update(ENVIRONMENT)
    from local_runtime.functions import LambdaContext
    from receivables.intake import OrderRequest

    switch = _stub_dynamodb()
    _stub_seller_profile()
    handler = _load_handler()
    event = json.loads((REPOSITORY / "events/orders_api/create_order.json").read_text())
    context = LambdaContext(ENVIRONMENT["AWS_LAMBDA_FUNCTION_NAME"], 512, 15)
    counter = iter(range(10**9))

    def ours(calls: int) -> None:
        for _ in range(calls):
            event["headers"]["idempotency-key"] = f"bench-{next(counter)}"
            response = handler(event, context)
        if response["statusCode"] != 201:
            raise RuntimeError(f"the handler answered {response['statusCode']}: {response.get('body')}")

    def ours_with_sdk(calls: int) -> None:
        switch["sdk"] = True
        try:
            ours(calls)
        finally:
            switch["sdk"] = False

    def plain(calls: int) -> None:
        for _ in range(calls):
            data = json.loads(event["body"], parse_float=Decimal)
            order = OrderRequest.model_validate(data)
            json.dumps({"id": "ord_bench", "status": "received", "order": order.model_dump(mode="json")})

    ours_with_sdk(1)  # first calls: lazy imports, client and resolver set-up
    ours(1)
    candidates: dict[str, Callable[[int], None]] = {
        "ours": ours,
        "ours_with_sdk": ours_with_sdk,
        "plain": plain,
    }
    best = _best_seconds_per_call(candidates, *((1, 0.01) if smoke() else (ROUNDS, ROUND_SECONDS)))
    return [
        {
            "name": "intake warm: POST /orders lambda_handler, DynamoDB stubbed at the method",
            "value": round(1 / best["ours"]),
            "unit": "calls/s",
            "target": f"<= {TARGET_RATIO}x plain time",
            "ratio": round(best["ours"] / best["plain"], 2),
            "us_per_call": round(best["ours"] * 1e6),
        },
        {
            "name": "intake warm: same, botocore building the 3 requests (wire stubbed)",
            "value": round(1 / best["ours_with_sdk"]),
            "unit": "calls/s",
            "ratio": round(best["ours_with_sdk"] / best["plain"], 2),
            "us_per_call": round(best["ours_with_sdk"] * 1e6),
        },
        {
            "name": "intake warm: plain pydantic validate + dumps",
            "value": round(1 / best["plain"]),
            "unit": "calls/s",
            "us_per_call": round(best["plain"] * 1e6),
        },
    ]


def run() -> list[Row]:
    return run_isolated(__name__)
