"""API Gateway HTTP API emulation: routes, the Lambda authorizer, payload format 2.0 both ways."""

from __future__ import annotations

import base64
import json
import re
import time
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, unquote

from local_runtime.functions import FunctionFailed, Functions
from local_runtime.provision import Authorizer, Route
from local_runtime.template import ACCOUNT_ID, REGION

_TEXT_TYPES = (
    "text/",
    "application/json",
    "application/problem+json",
    "application/xml",
    "application/x-www-form-urlencoded",
)


@dataclass(frozen=True)
class HttpRequest:
    method: str
    raw_path: str
    raw_query: str
    headers: dict[str, str]  # lower-case names
    body: bytes
    source_ip: str = "127.0.0.1"


@dataclass(frozen=True)
class HttpResponse:
    status: int
    headers: dict[str, str]
    body: bytes
    cookies: tuple[str, ...] = ()


def _json(status: int, body: Any) -> HttpResponse:
    return HttpResponse(status, {"content-type": "application/json"}, json.dumps(body).encode())


@dataclass(frozen=True)
class _CompiledRoute:
    route: Route
    pattern: re.Pattern[str]
    specificity: tuple[int, int]


def _compile(route: Route) -> _CompiledRoute:
    if route.path == "$default":
        return _CompiledRoute(route, re.compile(r".*"), (-1, 0))
    regex, literal = "", 0
    for part in route.path.strip("/").split("/"):
        greedy = re.fullmatch(r"\{(\w+)\+\}", part)
        param = re.fullmatch(r"\{(\w+)\}", part)
        if greedy:
            regex += f"/(?P<{greedy.group(1)}>.+)"
        elif param:
            regex += f"/(?P<{param.group(1)}>[^/]+)"
        else:
            regex += "/" + re.escape(part)
            literal += 1
    return _CompiledRoute(route, re.compile((regex or "/") + "/?"), (literal, len(route.path)))


class Gateway:
    def __init__(self, routes: list[Route], functions: Functions) -> None:
        self._routes = sorted((_compile(r) for r in routes), key=lambda c: c.specificity, reverse=True)
        self._functions = functions

    def handle(self, request: HttpRequest) -> HttpResponse:
        path = request.raw_path
        for compiled in self._routes:
            match = compiled.pattern.fullmatch(path)
            if match and compiled.route.method in (request.method, "ANY"):
                return self._invoke(
                    compiled.route, request, {k: unquote(v) for k, v in match.groupdict().items()}
                )
        return _json(404, {"message": "Not Found"})

    def _invoke(self, route: Route, request: HttpRequest, path_parameters: dict[str, str]) -> HttpResponse:
        route_key = "$default" if route.path == "$default" else f"{route.method} {route.path}"
        event = _v2_event(request, route_key, path_parameters)
        if route.authorizer is not None:
            outcome = self._authorize(route.authorizer, event)
            if isinstance(outcome, HttpResponse):
                return outcome
            event["requestContext"]["authorizer"] = {"lambda": outcome}
        try:
            result = self._functions.invoke(route.function_name, event)
        except FunctionFailed:
            return _json(500, {"message": "Internal Server Error"})
        return _v2_response(result)

    def _authorize(self, authorizer: Authorizer, event: dict[str, Any]) -> dict[str, Any] | HttpResponse:
        headers = event["headers"]
        identity = [headers.get(h) for h in authorizer.identity_headers]
        if authorizer.identity_headers and not all(identity):
            return _json(401, {"message": "Unauthorized"})  # API Gateway answers without calling it
        route = event["routeKey"].replace(" ", "")
        authorizer_event = {
            "version": "2.0",
            "type": "REQUEST",
            "routeArn": f"arn:aws:execute-api:{REGION}:{ACCOUNT_ID}:local/$default/{route}",
            "identitySource": identity,
            "routeKey": event["routeKey"],
            "rawPath": event["rawPath"],
            "rawQueryString": event["rawQueryString"],
            "headers": headers,
            "queryStringParameters": event.get("queryStringParameters"),
            "requestContext": event["requestContext"],
            "pathParameters": event.get("pathParameters"),
        }
        try:
            result = self._functions.invoke(authorizer.function_name, authorizer_event)
        except FunctionFailed:
            return _json(500, {"message": "Internal Server Error"})
        if authorizer.simple_responses:
            allowed, context = bool(result.get("isAuthorized")), result.get("context") or {}
        else:
            statements = result.get("policyDocument", {}).get("Statement", [])
            allowed = bool(statements) and all(s.get("Effect") == "Allow" for s in statements)
            context = result.get("context") or {}
        if not allowed:
            return _json(403, {"message": "Forbidden"})
        return dict(context)


def _v2_event(request: HttpRequest, route_key: str, path_parameters: dict[str, str]) -> dict[str, Any]:
    now = time.time()
    content_type = request.headers.get("content-type", "")
    textual = not request.body or content_type.startswith(_TEXT_TYPES)
    query: dict[str, str] = {}
    for key, value in parse_qsl(request.raw_query, keep_blank_values=True):
        query[key] = f"{query[key]},{value}" if key in query else value
    cookies = [c.strip() for c in request.headers.get("cookie", "").split(";") if c.strip()]
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": route_key,
        "rawPath": request.raw_path,
        "rawQueryString": request.raw_query,
        "headers": {k: v for k, v in request.headers.items() if k != "cookie"},
        "requestContext": {
            "accountId": ACCOUNT_ID,
            "apiId": "local",
            "domainName": request.headers.get("host", "127.0.0.1"),
            "domainPrefix": "local",
            "http": {
                "method": request.method,
                "path": request.raw_path,
                "protocol": "HTTP/1.1",
                "sourceIp": request.source_ip,
                "userAgent": request.headers.get("user-agent", ""),
            },
            "requestId": uuid.uuid4().hex,
            "routeKey": route_key,
            "stage": "$default",
            "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
            "timeEpoch": int(now * 1000),
        },
        "isBase64Encoded": not textual,
    }
    if cookies:
        event["cookies"] = cookies
    if query:
        event["queryStringParameters"] = query
    if path_parameters:
        event["pathParameters"] = path_parameters
    if request.body:
        try:
            text = request.body.decode() if textual else None
        except UnicodeDecodeError:
            text = None  # not UTF-8 after all: API Gateway passes such a body base64-encoded
        event["isBase64Encoded"] = text is None
        event["body"] = text if text is not None else base64.b64encode(request.body).decode()
    return event


def _v2_response(result: Any) -> HttpResponse:
    if not isinstance(result, dict) or "statusCode" not in result:
        # Payload 2.0 infers a 200 JSON response from anything else a handler returns.
        return HttpResponse(200, {"content-type": "application/json"}, json.dumps(result).encode())
    headers = {k.lower(): str(v) for k, v in (result.get("headers") or {}).items()}
    for name, values in (result.get("multiValueHeaders") or {}).items():
        headers[name.lower()] = ", ".join(str(v) for v in values)
    body = result.get("body") or ""
    raw = base64.b64decode(body) if result.get("isBase64Encoded") else str(body).encode()
    return HttpResponse(int(result["statusCode"]), headers, raw, tuple(result.get("cookies") or ()))
