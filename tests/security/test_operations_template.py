"""template.yaml's operational promises (docs/decisions/0021): someone is alerted, documents stay unchanged,
the books are backed up beyond PITR, and a deploy never takes the sample seller to production.

Read from the template itself (the SAM resources as written), like tests/security/test_template_policies.py.
"""

from __future__ import annotations

from typing import Any

import pytest

from local_runtime.template import load_yaml
from tests.support import REPOSITORY

ALARM = "AWS::CloudWatch::Alarm"
PRODUCTION_PARAMETERS = ("SellerProfile", "SenderAddress", "PublicBaseUrl")


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    return load_yaml(REPOSITORY / "template.yaml")


def _of_type(template: dict[str, Any], *kinds: str) -> dict[str, dict[str, Any]]:
    return {lid: r for lid, r in template["Resources"].items() if r["Type"] in kinds}


def _refers_to(value: Any, logical_id: str) -> bool:
    """True if the (intrinsic) value names `logical_id` by Ref, GetAtt or inside a Sub."""
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "Ref" and item == logical_id:
                return True
            if key == "Fn::GetAtt" and (item[0] if isinstance(item, list) else str(item).split(".")[0]) == (
                logical_id
            ):
                return True
            if key == "Fn::Sub" and f"${{{logical_id}" in str(item):
                return True
            if _refers_to(item, logical_id):
                return True
    if isinstance(value, list):
        return any(_refers_to(item, logical_id) for item in value)
    return False


def _alarms_with_action(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        lid: alarm
        for lid, alarm in _of_type(template, ALARM).items()
        if {"Ref": "TeamAlertsTopic"} in alarm["Properties"].get("AlarmActions", [])
    }


def _watched(template: dict[str, Any]) -> list[dict[str, Any]]:
    """The dimensions (or metric-math metrics) of every alarm that notifies the team."""
    return [
        {"dimensions": a["Properties"].get("Dimensions", []), "metrics": a["Properties"].get("Metrics", [])}
        for a in _alarms_with_action(template).values()
    ]


@pytest.mark.parametrize(
    "kinds",
    [
        ("AWS::Serverless::Function",),
        ("AWS::SQS::Queue",),
        ("AWS::Serverless::StateMachine",),
        ("AWS::Serverless::HttpApi",),
    ],
    ids=["functions", "queues", "state machines", "HTTP APIs"],
)
def test_every_function_queue_state_machine_and_api_has_an_alarm_that_notifies(
    template: dict[str, Any], kinds: tuple[str, ...]
) -> None:
    resources = _of_type(template, *kinds)
    watched = _watched(template)

    assert resources
    unwatched = [lid for lid in resources if not any(_refers_to(w, lid) for w in watched)]
    assert unwatched == []


def test_every_alarm_notifies_the_team_when_it_fires_and_when_it_clears(template: dict[str, Any]) -> None:
    for logical_id, alarm in _of_type(template, ALARM).items():
        properties = alarm["Properties"]
        assert properties.get("AlarmActions") == [{"Ref": "TeamAlertsTopic"}], logical_id
        assert properties.get("OKActions") == [{"Ref": "TeamAlertsTopic"}], logical_id


def test_failed_and_timed_out_escalations_api_5xx_and_ses_reputation_are_alarmed(
    template: dict[str, Any],
) -> None:
    metrics = {
        (a["Properties"].get("Namespace"), a["Properties"].get("MetricName"))
        for a in _alarms_with_action(template).values()
    }

    assert {
        ("AWS/States", "ExecutionsFailed"),
        ("AWS/States", "ExecutionsTimedOut"),
        ("AWS/ApiGateway", "5xx"),
        ("AWS/SES", "Reputation.BounceRate"),
        ("AWS/SES", "Reputation.ComplaintRate"),
        ("AWS/SQS", "ApproximateNumberOfMessagesVisible"),
        ("AWS/Lambda", "Errors"),
        ("AWS/Lambda", "Throttles"),
    } <= metrics


def test_the_alerts_topic_uses_a_customer_managed_key_cloudwatch_may_use(template: dict[str, Any]) -> None:
    topic = template["Resources"]["TeamAlertsTopic"]["Properties"]
    key_id = topic["KmsMasterKeyId"]["Ref"]
    key = template["Resources"][key_id]

    assert key["Type"] == "AWS::KMS::Key"
    assert key["Properties"]["EnableKeyRotation"] is True
    cloudwatch = [
        s
        for s in key["Properties"]["KeyPolicy"]["Statement"]
        if s["Effect"] == "Allow" and s.get("Principal") == {"Service": "cloudwatch.amazonaws.com"}
    ]
    assert cloudwatch
    assert {"kms:GenerateDataKey", "kms:Decrypt"} <= set(cloudwatch[0]["Action"])


def test_a_dashboard_shows_the_alarms(template: dict[str, Any]) -> None:
    (dashboard,) = _of_type(template, "AWS::CloudWatch::Dashboard").values()
    body = str(dashboard["Properties"]["DashboardBody"])

    for name in ("DeadLetterQueueAlarm", "HttpApi5xxAlarm", "EscalationFailedAlarm", "SesBounceRateAlarm"):
        assert f"${{{name}.Arn}}" in body


def test_documents_are_locked_in_compliance_mode_for_the_retention_parameter(
    template: dict[str, Any],
) -> None:
    bucket = template["Resources"]["DocumentsBucket"]["Properties"]
    parameter = template["Parameters"]["DocumentRetentionYears"]

    assert bucket["ObjectLockEnabled"] is True
    assert bucket["VersioningConfiguration"] == {"Status": "Enabled"}
    lock = bucket["ObjectLockConfiguration"]
    assert lock["ObjectLockEnabled"] == "Enabled"
    retention = {"Mode": "COMPLIANCE", "Years": {"Ref": "DocumentRetentionYears"}}
    assert lock["Rule"]["DefaultRetention"] == retention
    assert parameter["Default"] == 10


def test_a_backup_plan_keeps_the_table_for_ten_years(template: dict[str, Any]) -> None:
    selections = _of_type(template, "AWS::Backup::BackupSelection")
    table_selections = [
        s
        for s in selections.values()
        if {"Fn::GetAtt": ["ReceivablesTable", "Arn"]} in s["Properties"]["BackupSelection"]["Resources"]
    ]

    assert table_selections
    for selection in table_selections:
        plan = template["Resources"][selection["Properties"]["BackupPlanId"]["Ref"]]
        rules = plan["Properties"]["BackupPlan"]["BackupPlanRule"]
        assert max(r["Lifecycle"]["DeleteAfterDays"] for r in rules) >= 3652
        role_id = selection["Properties"]["BackupSelection"]["IamRoleArn"]["Fn::GetAtt"][0]
        role = template["Resources"][role_id]
        assert role["Type"] == "AWS::IAM::Role"
        principal = role["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]["Principal"]
        assert principal == {"Service": "backup.amazonaws.com"}


def test_production_parameters_have_no_default(template: dict[str, Any]) -> None:
    with_default = [name for name in PRODUCTION_PARAMETERS if "Default" in template["Parameters"][name]]

    assert with_default == []


def test_the_api_is_throttled_and_every_public_route_has_its_own_limit(template: dict[str, Any]) -> None:
    api = template["Resources"]["HttpApi"]["Properties"]
    public = {
        f"{event['Properties']['Method'].upper()} {event['Properties']['Path']}"
        for resource in _of_type(template, "AWS::Serverless::Function").values()
        for event in resource["Properties"].get("Events", {}).values()
        if event["Type"] == "HttpApi" and event["Properties"].get("Auth", {}).get("Authorizer") == "NONE"
    }

    assert api["DefaultRouteSettings"] == {
        "ThrottlingBurstLimit": {"Ref": "ApiThrottlingBurstLimit"},
        "ThrottlingRateLimit": {"Ref": "ApiThrottlingRateLimit"},
    }
    assert {"POST /webhooks/stripe", "GET /i/{token}", "POST /payment-plans/{token}/accept"} <= public
    default_rate = template["Parameters"]["ApiThrottlingRateLimit"]["Default"]
    for route in public:
        assert 0 < api["RouteSettings"][route]["ThrottlingRateLimit"] <= default_rate, route


PUBLIC_FUNCTIONS = ["HostedInvoiceFunction", "PaymentPlansFunction", "PaymentWebhooksFunction"]
CREDIT_NOTES_OF_AN_INVOICE = {"Fn::Sub": "${ReceivablesTable.Arn}/index/gsi1"}
RECORDS_OF_A_CUSTOMER = {"Fn::Sub": "${ReceivablesTable.Arn}/index/gsi3"}


@pytest.mark.parametrize("function", PUBLIC_FUNCTIONS)
def test_public_functions_reach_only_their_keys_and_delete_nothing(
    template: dict[str, Any], function: str
) -> None:
    statements = [
        statement
        for policy in template["Resources"][function]["Properties"]["Policies"]
        if isinstance(policy, dict) and "Statement" in policy
        for statement in policy["Statement"]
        if any(str(action).startswith("dynamodb:") for action in _listed(statement["Action"]))
    ]

    assert statements
    for statement in statements:
        assert "dynamodb:DeleteItem" not in _listed(statement["Action"])
        prefixes = statement["Condition"]["ForAllValues:StringLike"]["dynamodb:LeadingKeys"]
        if statement["Resource"] == CREDIT_NOTES_OF_AN_INVOICE and function == "HostedInvoiceFunction":
            # the page lists its invoice's credit notes: gsi1 queried under CREDITNOTES#<invoice> only
            assert (statement["Action"], prefixes) == ("dynamodb:Query", ["CREDITNOTES#*"])
            continue
        if statement["Resource"] == RECORDS_OF_A_CUSTOMER and function == "HostedInvoiceFunction":
            # the customer page lists the customer's invoices and subscriptions: gsi3 under CUSTOMER#<id>
            assert (statement["Action"], prefixes) == ("dynamodb:Query", ["CUSTOMER#*"])
            continue
        assert statement["Resource"] == {"Fn::GetAtt": ["ReceivablesTable", "Arn"]}  # no other index
        assert prefixes
        assert all(p.endswith("#*") and len(p) > 3 for p in prefixes), prefixes


def _listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def test_every_function_that_sends_email_sends_through_the_configuration_set(
    template: dict[str, Any],
) -> None:
    senders = {
        lid: resource
        for lid, resource in _of_type(template, "AWS::Serverless::Function").items()
        if "ses:SendRawEmail" in str(resource["Properties"].get("Policies"))
    }

    assert len(senders) >= 4
    for logical_id, resource in senders.items():
        variables = resource["Properties"]["Environment"]["Variables"]
        assert variables["SES_CONFIGURATION_SET"] == {"Ref": "EmailConfigurationSet"}, logical_id
    destination = template["Resources"]["EmailFeedbackDestination"]["Properties"]["EventDestination"]
    assert set(destination["MatchingEventTypes"]) >= {"bounce", "complaint", "delivery"}
    assert destination["SnsDestination"]["TopicARN"] == {"Ref": "EmailFeedbackTopic"}
