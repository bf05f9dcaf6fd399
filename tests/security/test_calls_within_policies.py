"""Least privilege that still works: every AWS call a handler made during the business day
(tests/security/conftest.py) is allowed by that function's IAM policy in template.yaml.

moto enforces no IAM, so a grant narrowed too far - or a new call nobody granted - would only show on
AWS. This evaluates each recorded call (action, resource ARN, condition keys such as
dynamodb:LeadingKeys) against the function role's statements as SAM deploys them, resolved to the local
account's ARNs. Calls without a resource in the request (states:SendTaskSuccess takes a task token) are
checked by action only. The evaluation covers Allow/Deny with Action/NotAction, Resource/NotResource
and the condition operators the template uses; AWS managed policies are left out (handlers make no
CloudWatch Logs or X-Ray calls of their own).
"""

from __future__ import annotations

import fnmatch
import re
from collections import defaultdict
from typing import Any

import pytest

from local_runtime.template import ACCOUNT_ID, REGION, load_yaml
from tests.security.conftest import AwsCall, Day
from tests.security.test_template_policies import sam_transform
from tests.support import REPOSITORY

# A day of business exercises most functions; fewer would mean the flow broke, not that IAM is fine.
MIN_FUNCTIONS_EXERCISED = 20

_TRANSACT_ACTIONS = {
    "Put": "PutItem",
    "Update": "UpdateItem",
    "Delete": "DeleteItem",
    "ConditionCheck": "ConditionCheckItem",
}


def _arn(service: str, resource: str) -> str:
    return f"arn:aws:{service}:{REGION}:{ACCOUNT_ID}:{resource}"


def _pk(key: dict[str, Any] | None) -> list[str]:
    value = (key or {}).get("pk", {}).get("S")
    return [value] if value else []


def _query_leading_key(params: dict[str, Any]) -> list[str]:
    """The partition key value a Query asks for (what dynamodb:LeadingKeys names)."""
    names = params.get("ExpressionAttributeNames", {})
    values = params.get("ExpressionAttributeValues", {})
    index = params.get("IndexName")
    hash_key = f"{index}pk" if index else "pk"
    for name, placeholder in re.findall(r"(#?\w+)\s*=\s*(:\w+)", params["KeyConditionExpression"]):
        if names.get(name, name) == hash_key:
            return [values[placeholder]["S"]]
    raise AssertionError(f"no partition key condition in {params['KeyConditionExpression']!r}")


def requests_of(call: AwsCall) -> list[tuple[str, str | None, dict[str, Any]]]:
    """What IAM authorises for one API call: (action, resource ARN or None, condition context)."""
    p, service, operation = call.params, call.service, call.operation
    if service == "dynamodb":
        if operation == "TransactWriteItems":
            found = []
            for item in p["TransactItems"]:
                ((kind, body),) = item.items()
                key = body.get("Key") or body.get("Item")
                found.append(
                    (
                        f"dynamodb:{_TRANSACT_ACTIONS[kind]}",
                        _arn("dynamodb", f"table/{body['TableName']}"),
                        {"dynamodb:LeadingKeys": _pk(key)},
                    )
                )
            return found
        table = f"table/{p['TableName']}" + (f"/index/{p['IndexName']}" if p.get("IndexName") else "")
        keys = _query_leading_key(p) if operation == "Query" else _pk(p.get("Key") or p.get("Item"))
        return [(f"dynamodb:{operation}", _arn("dynamodb", table), {"dynamodb:LeadingKeys": keys})]
    if service == "s3":
        action = {"HeadObject": "GetObject"}.get(operation, operation)
        return [(f"s3:{action}", f"arn:aws:s3:::{p['Bucket']}/{p['Key']}", {})]
    if service == "ssm":
        return [(f"ssm:{operation}", _arn("ssm", f"parameter{p['Name']}"), {})]
    if service == "secretsmanager":
        return [(f"secretsmanager:{operation}", p["SecretId"], {})]
    if service == "ses":
        sender = re.sub(r".*<(.+)>", r"\1", p["Source"])
        context = {"ses:FromAddress": [sender]}
        # a send through a configuration set is authorised on the set too
        resources = [f"identity/{sender}"] + (
            [f"configuration-set/{p['ConfigurationSetName']}"] if p.get("ConfigurationSetName") else []
        )
        return [(f"ses:{operation}", _arn("ses", resource), context) for resource in resources]
    if service == "sesv2" and operation == "PutSuppressedDestination":
        return [("ses:PutSuppressedDestination", None, {})]  # the account's list: no resource type
    if service == "events":
        return [
            (f"events:{operation}", _arn("events", f"event-bus/{entry['EventBusName']}"), {})
            for entry in p["Entries"]
        ]
    if service == "sns":
        action = {"PublishBatch": "Publish"}.get(operation, operation)  # IAM has no sns:PublishBatch
        return [(f"sns:{action}", p.get("TopicArn") or p.get("TargetArn") or "*", {})]
    if service == "stepfunctions":
        resource = p.get("stateMachineArn") or p.get("executionArn")
        return [(f"states:{operation}", resource, {})]
    raise AssertionError(f"no IAM mapping for {service}:{operation}; add one")


def _matches(patterns: Any, value: str) -> bool:
    return any(
        fnmatch.fnmatchcase(value.lower(), str(p).lower())
        for p in (patterns if isinstance(patterns, list) else [patterns])
    )


def _condition_holds(condition: dict[str, Any], context: dict[str, list[str]]) -> bool:
    for operator, tests in condition.items():
        for key, expected in tests.items():
            expected = expected if isinstance(expected, list) else [expected]
            values = context.get(key)
            if operator.startswith("ForAllValues:"):
                like = operator.endswith("Like")
                if values and not all(
                    any(fnmatch.fnmatchcase(v, e) if like else v == e for e in expected) for v in values
                ):
                    return False
            elif operator in ("StringEquals", "ArnEquals"):
                if not values or not all(v in expected for v in values):
                    return False
            elif operator in ("StringLike", "ArnLike"):
                if not values or not all(any(fnmatch.fnmatchcase(v, e) for e in expected) for v in values):
                    return False
            else:
                raise AssertionError(f"condition operator {operator} is not evaluated here; add it")
    return True


def allowed(
    statements: list[dict[str, Any]], action: str, resource: str | None, context: dict[str, Any]
) -> bool:
    verdict = False
    for statement in statements:
        if "Action" in statement and not _matches(statement["Action"], action):
            continue
        if "NotAction" in statement and _matches(statement["NotAction"], action):
            continue
        if resource is not None:
            if "Resource" in statement and not _matches(statement["Resource"], resource):
                continue
            if "NotResource" in statement and _matches(statement["NotResource"], resource):
                continue
        if not _condition_holds(statement.get("Condition", {}), context):
            continue
        if statement["Effect"] == "Deny":
            return False
        verdict = True
    return verdict


@pytest.fixture(scope="module")
def policies(local_system: Any) -> dict[str, list[dict[str, Any]]]:
    """Each function's statements (by its code directory), resolved to the local account's ARNs."""
    template = load_yaml(REPOSITORY / "template.yaml")
    deployed = sam_transform(template)
    by_dir: dict[str, list[dict[str, Any]]] = {}
    for logical_id, resource in template["Resources"].items():
        if resource["Type"] != "AWS::Serverless::Function":
            continue
        function_dir = resource["Properties"]["CodeUri"].strip("/").split("/")[-1]
        role = deployed["Resources"][f"{logical_id}Role"]["Properties"]
        statements = [s for policy in role.get("Policies", []) for s in policy["PolicyDocument"]["Statement"]]
        by_dir[function_dir] = local_system.resolver.resolve(statements)
    return by_dir


def test_every_call_a_handler_made_is_allowed_by_its_policy(
    business_day: Day, policies: dict[str, list[dict[str, Any]]]
) -> None:
    denied: dict[str, set[str]] = defaultdict(set)
    for call in business_day.calls:
        for action, resource, context in requests_of(call):
            if not allowed(policies[call.function_dir], action, resource, context):
                denied[call.function_dir].add(f"{action} on {resource} {context or ''}".strip())

    assert not denied, dict(denied)


def test_the_day_exercised_most_functions(
    business_day: Day, policies: dict[str, list[dict[str, Any]]]
) -> None:
    exercised = {call.function_dir for call in business_day.calls}

    assert len(exercised) >= MIN_FUNCTIONS_EXERCISED, sorted(set(policies) - exercised)


def test_the_evaluation_refuses_what_the_policies_do_not_grant(
    policies: dict[str, list[dict[str, Any]]],
) -> None:
    # a scan of the whole table, another table's stream, the journal exports for the invoice renderer
    table = _arn("dynamodb", "table/receivables-local-ReceivablesTable")
    assert not allowed(policies["orders_api"], "dynamodb:Scan", table, {})
    assert not allowed(
        policies["issue_invoice"], "dynamodb:GetRecords", _arn("dynamodb", "table/other/stream/2026"), {}
    )
    assert not allowed(
        policies["authorizer"], "dynamodb:GetItem", table, {"dynamodb:LeadingKeys": ["INVOICE#x"]}
    )
    assert not allowed(
        policies["render_invoice"],
        "s3:GetObject",
        "arn:aws:s3:::receivables-local-documentsbucket/exports/x",
        {},
    )
