"""template.yaml's security rules, checked on the template as SAM deploys it.

checkov (`make security`) applies AWS's generic rules; these are the project's own: least-privilege IAM
(no wildcard actions, no `Resource: "*"` beyond what AWS offers no finer), private encrypted buckets
reachable only over TLS, data encrypted at rest, and every checkov skip justified where it is made.
SAM's policy templates and event sources add statements and managed policies of their own, so the
IAM rules read the template after SAM's transform (docs/decisions/0017-security-checks.md).
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator
from typing import Any

import pytest

from local_runtime.template import load_yaml
from tests.support import REPOSITORY

# Actions AWS authorises only against "*" (or, for SMS, against no resource at all), with the reason
# each one is granted.
STAR_ONLY_ACTIONS = {
    "sns:Publish": "SMS reminders to a phone number have no ARN; NotResource excludes every topic",
    "ses:PutSuppressedDestination": "the SES account's suppression list has no resource type",
    "sns:CheckIfPhoneNumberIsOptedOut": "the SNS account's SMS opt-out list has no resource type",
} | {
    f"logs:{action}": "Step Functions' log delivery to CloudWatch Logs (vended logs) has no resource level"
    for action in (
        "CreateLogDelivery",
        "GetLogDelivery",
        "UpdateLogDelivery",
        "DeleteLogDelivery",
        "ListLogDeliveries",
        "PutResourcePolicy",
        "DescribeResourcePolicies",
        "DescribeLogGroups",
    )
}
# AWS managed policies SAM attaches, with why each is acceptable.
MANAGED_POLICIES = {
    "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole": (
        "Lambda's own log delivery: logs:CreateLogStream and PutLogEvents (the log groups are the template's)"
    ),
    "arn:aws:iam::aws:policy/AWSXrayWriteOnlyAccess": (
        "Tracing: Active - X-Ray's write and sampling actions exist only with Resource *"
    ),
    "arn:aws:iam::aws:policy/service-role/AWSLambdaDynamoDBExecutionRole": (
        "the stream event source mapping reads with the function's role; a Deny confines it to our stream"
    ),
    "arn:aws:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForBackup": (
        "AWS Backup's own role for taking the table's backups (TableBackupRole); no restore permissions"
    ),
    "arn:aws:iam::aws:policy/service-role/AWSLambdaSQSQueueExecutionRole": (
        "the queue event source mapping receives and deletes with the function's role; a Deny confines it "
        "to the function's own queue"
    ),
}
# SAM policy templates that expand to exactly one action on the one named resource. The others grant more
# than our functions use (DynamoDBCrudPolicy: Scan and batch writes; S3ReadPolicy: every key and the
# listing; SSMParameterReadPolicy: ssm:DescribeParameters on "*"; LambdaInvokePolicy: every function whose
# name starts the same): the template spells out those grants.
SINGLE_PURPOSE_POLICY_TEMPLATES = {
    "SNSPublishMessagePolicy",
    "EventBridgePutEventsPolicy",
    "AWSSecretsManagerGetSecretValuePolicy",
    "StepFunctionsExecutionPolicy",
}
# Resources whose contents are the business's data.
DATA_RESOURCE_TYPES = {
    "AWS::DynamoDB::Table",
    "AWS::S3::Bucket",
    "AWS::SQS::Queue",
    "AWS::SNS::Topic",
    "AWS::StepFunctions::StateMachine",
    "AWS::Serverless::StateMachine",
    "AWS::SecretsManager::Secret",
}
STREAM_READS = {"dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator"}
QUEUE_READS = {"sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"}


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    return load_yaml(REPOSITORY / "template.yaml")


@pytest.fixture(scope="module")
def deployed(template: dict[str, Any]) -> dict[str, Any]:
    return sam_transform(template)


def sam_transform(template: dict[str, Any]) -> dict[str, Any]:
    """The CloudFormation template `sam deploy` creates: policy templates and event permissions expanded."""
    from samtranslator.translator.managed_policy_translator import ManagedPolicyLoader
    from samtranslator.translator.transform import transform

    class NoLookups(ManagedPolicyLoader):  # type: ignore[misc]
        def __init__(self) -> None:  # the template names managed policies by ARN only
            pass

        def load(self) -> dict[str, str]:
            raise AssertionError("a managed policy named without its ARN needs an AWS account to resolve")

    document = copy.deepcopy(template)
    for resource in document["Resources"].values():
        for uri in ("CodeUri", "ContentUri", "DefinitionUri"):
            if uri in resource.get("Properties", {}):
                resource["Properties"][uri] = "s3://bucket/code.zip"  # what `sam package` puts there
    result: dict[str, Any] = transform(document, {}, NoLookups())
    return result


def _listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _statements(document: dict[str, Any]) -> list[dict[str, Any]]:
    return [s for s in _listed(document.get("Statement", [])) if isinstance(s, dict)]


def identity_statements(deployed: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every statement of every IAM role and policy, named by where it comes from."""
    for logical_id, resource in deployed["Resources"].items():
        properties = resource.get("Properties", {})
        if resource["Type"] == "AWS::IAM::Role":
            for policy in properties.get("Policies", []):
                for statement in _statements(policy["PolicyDocument"]):
                    yield f"{logical_id}/{policy['PolicyName']}", statement
        elif resource["Type"] in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
            for statement in _statements(properties["PolicyDocument"]):
                yield logical_id, statement


def resource_policy_statements(deployed: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    documents = {
        "AWS::S3::BucketPolicy": "PolicyDocument",
        "AWS::SQS::QueuePolicy": "PolicyDocument",
        "AWS::SNS::TopicPolicy": "PolicyDocument",
        "AWS::KMS::Key": "KeyPolicy",
    }
    for logical_id, resource in deployed["Resources"].items():
        if resource["Type"] in documents:
            for statement in _statements(resource["Properties"][documents[resource["Type"]]]):
                yield logical_id, statement


def _mentions(value: Any) -> set[str]:
    """The logical ids a (possibly intrinsic) value refers to."""
    if isinstance(value, dict):
        found: set[str] = set()
        for key, item in value.items():
            if key == "Ref" and isinstance(item, str):
                found.add(item)
            elif key == "Fn::GetAtt":
                found.add(item[0] if isinstance(item, list) else str(item).split(".")[0])
            elif key == "Fn::Sub":
                text, variables = (item, {}) if isinstance(item, str) else (item[0], item[1])
                names = {name.split(".")[0] for name in re.findall(r"\$\{([^}!]+)\}", text)}
                found |= (names - variables.keys()) | _mentions(variables)
            else:
                found |= _mentions(item)
        return found
    if isinstance(value, list):
        return {name for item in value for name in _mentions(item)}
    return set()


def test_no_allow_statement_grants_a_wildcard_action(deployed: dict[str, Any]) -> None:
    wildcards = [
        (where, action)
        for where, statement in [*identity_statements(deployed), *resource_policy_statements(deployed)]
        if statement["Effect"] == "Allow" and not _is_key_administration(where, statement, deployed)
        for action in _listed(statement.get("Action", []))
        + (["NotAction"] if "NotAction" in statement else [])
        if "*" in action or action == "NotAction"
    ]

    assert wildcards == []


def _is_key_administration(where: str, statement: dict[str, Any], deployed: dict[str, Any]) -> bool:
    """KMS's default key policy: the account (not a function) administers the key through IAM. Without
    it a key cannot be managed at all; "*" in a key policy means that key only."""
    if deployed["Resources"].get(where, {}).get("Type") != "AWS::KMS::Key":
        return False
    principal = statement.get("Principal", {}).get("AWS", {})
    return bool(principal == {"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"})


def test_data_resources_are_granted_named_actions_only(deployed: dict[str, Any]) -> None:
    data = {lid for lid, r in deployed["Resources"].items() if r["Type"] in DATA_RESOURCE_TYPES}
    granted = [
        (where, statement)
        for where, statement in [*identity_statements(deployed), *resource_policy_statements(deployed)]
        if statement["Effect"] == "Allow" and _mentions(statement.get("Resource")) & data
    ]

    assert granted, "no statement names a data resource: the check would be empty"
    for where, statement in granted:
        assert "NotAction" not in statement, where
        assert all("*" not in action for action in _listed(statement["Action"])), where


def test_resource_star_only_for_actions_aws_authorises_no_finer(deployed: dict[str, Any]) -> None:
    for where, statement in identity_statements(deployed):
        if statement["Effect"] != "Allow":
            continue
        unbounded = "*" in _listed(statement.get("Resource", [])) or "NotResource" in statement
        if unbounded:
            actions = set(_listed(statement["Action"]))
            assert actions <= STAR_ONLY_ACTIONS.keys(), (where, actions)
        if "NotResource" in statement:
            # the one such grant: SMS to phone numbers, every topic excluded
            assert statement["NotResource"] == {"Fn::Sub": "arn:${AWS::Partition}:sns:*:*:*"}, where


def test_policy_templates_are_only_the_single_purpose_ones(template: dict[str, Any]) -> None:
    used = {
        name
        for resource in template["Resources"].values()
        if resource["Type"] in ("AWS::Serverless::Function", "AWS::Serverless::StateMachine")
        for policy in _listed(resource["Properties"].get("Policies", []))
        if isinstance(policy, dict) and "Statement" not in policy
        for name in policy
    }

    assert used <= SINGLE_PURPOSE_POLICY_TEMPLATES


def test_only_the_expected_managed_policies_are_attached(deployed: dict[str, Any]) -> None:
    attached = {
        arn
        for resource in deployed["Resources"].values()
        if resource["Type"] == "AWS::IAM::Role"
        for arn in resource["Properties"].get("ManagedPolicyArns", [])
    }

    assert attached <= MANAGED_POLICIES.keys()


def test_stream_readers_read_only_this_tables_stream(deployed: dict[str, Any]) -> None:
    readers = {
        logical_id: resource
        for logical_id, resource in deployed["Resources"].items()
        if resource["Type"] == "AWS::IAM::Role"
        and MANAGED_POLICIES.keys() & set(resource["Properties"].get("ManagedPolicyArns", []))
        and any("DynamoDBExecutionRole" in arn for arn in resource["Properties"]["ManagedPolicyArns"])
    }

    assert readers
    for logical_id in readers:
        denials = [
            statement
            for where, statement in identity_statements(deployed)
            if where.startswith(f"{logical_id}/") and statement["Effect"] == "Deny"
        ]
        assert any(
            set(_listed(s["Action"])) >= STREAM_READS
            and s.get("NotResource") == {"Fn::Sub": "${ReceivablesTable.Arn}/stream/*"}
            for s in denials
        ), logical_id


def test_queue_readers_read_only_their_own_queue(template: dict[str, Any], deployed: dict[str, Any]) -> None:
    queues_of = {
        logical_id: [
            event["Properties"]["Queue"]["Fn::GetAtt"][0]
            for event in resource["Properties"].get("Events", {}).values()
            if event["Type"] == "SQS"
        ]
        for logical_id, resource in template["Resources"].items()
        if resource["Type"] == "AWS::Serverless::Function"
    }
    readers = {logical_id: queues for logical_id, queues in queues_of.items() if queues}

    assert readers
    for logical_id, (queue,) in readers.items():
        role = f"{logical_id}Role"
        assert any(
            "SQSQueueExecutionRole" in a
            for a in deployed["Resources"][role]["Properties"]["ManagedPolicyArns"]
        )
        denials = [
            statement
            for where, statement in identity_statements(deployed)
            if where.startswith(f"{role}/") and statement["Effect"] == "Deny"
        ]
        assert any(
            set(_listed(s["Action"])) >= QUEUE_READS
            and s.get("NotResource") == {"Fn::GetAtt": [queue, "Arn"]}
            for s in denials
        ), logical_id


def test_email_is_sent_only_from_the_sender_address(deployed: dict[str, Any]) -> None:
    senders = [
        (where, statement)
        for where, statement in identity_statements(deployed)
        if {"ses:SendEmail", "ses:SendRawEmail"} & set(_listed(statement.get("Action", [])))
    ]

    assert senders
    for where, statement in senders:
        # identity/* because in the SES sandbox the recipients' identities are authorised too
        assert statement["Condition"] == {"StringEquals": {"ses:FromAddress": {"Ref": "SenderAddress"}}}, (
            where
        )


def test_each_secret_is_readable_by_the_one_function_that_uses_it(deployed: dict[str, Any]) -> None:
    readers = {
        (where.split("/")[0], frozenset(_mentions(statement["Resource"])))
        for where, statement in identity_statements(deployed)
        if "secretsmanager:GetSecretValue" in _listed(statement.get("Action", []))
    }

    assert readers == {
        ("PaymentWebhooksFunctionRole", frozenset({"StripeWebhookSecret"})),
        ("PaymentWebhooksFunctionRole", frozenset({"GenericWebhookSecret"})),
        # Pay now: the seller's Stripe API keys, for the hosted page only (decisions/0037).
        ("HostedInvoiceFunctionRole", frozenset({"StripeApiKeys"})),
    }


def _buckets(template: dict[str, Any]) -> list[str]:
    return [lid for lid, r in template["Resources"].items() if r["Type"] == "AWS::S3::Bucket"]


def test_every_bucket_denies_requests_without_tls(template: dict[str, Any]) -> None:
    policies = {
        next(iter(_mentions(r["Properties"]["Bucket"]))): r["Properties"]["PolicyDocument"]
        for r in template["Resources"].values()
        if r["Type"] == "AWS::S3::BucketPolicy"
    }

    assert "DocumentsBucket" in _buckets(template)
    for bucket in _buckets(template):
        denials = [
            s
            for s in _statements(policies[bucket])
            if s["Effect"] == "Deny"
            and s.get("Principal") == "*"
            and "s3:*" in _listed(s["Action"])
            and s.get("Condition") == {"Bool": {"aws:SecureTransport": "false"}}
        ]
        assert len(denials) == 1, bucket
        covered = _listed(denials[0]["Resource"])
        assert {"Fn::GetAtt": [bucket, "Arn"]} in covered, bucket  # the bucket (listing, policy)
        assert {"Fn::Sub": f"${{{bucket}.Arn}}/*"} in covered, bucket  # every object


def test_every_bucket_blocks_public_access_and_encrypts(template: dict[str, Any]) -> None:
    for bucket in _buckets(template):
        properties = template["Resources"][bucket]["Properties"]
        assert properties["PublicAccessBlockConfiguration"] == {
            "BlockPublicAcls": True,
            "BlockPublicPolicy": True,
            "IgnorePublicAcls": True,
            "RestrictPublicBuckets": True,
        }, bucket
        assert properties["OwnershipControls"]["Rules"] == [{"ObjectOwnership": "BucketOwnerEnforced"}], (
            bucket
        )
        rules = properties["BucketEncryption"]["ServerSideEncryptionConfiguration"]
        assert {r["ServerSideEncryptionByDefault"]["SSEAlgorithm"] for r in rules} <= {"AES256", "aws:kms"}, (
            bucket
        )
        assert properties["VersioningConfiguration"] == {"Status": "Enabled"}, bucket


def test_documents_bucket_access_is_logged(template: dict[str, Any]) -> None:
    logging = template["Resources"]["DocumentsBucket"]["Properties"]["LoggingConfiguration"]

    assert logging["DestinationBucketName"] == {"Ref": "AccessLogsBucket"}


def test_data_at_rest_is_encrypted_and_recoverable(template: dict[str, Any]) -> None:
    for logical_id, resource in template["Resources"].items():
        properties, kind = resource.get("Properties", {}), resource["Type"]
        if kind == "AWS::DynamoDB::Table":
            assert properties["SSESpecification"] == {"SSEEnabled": True}, logical_id
            assert properties["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
        elif kind == "AWS::SQS::Queue":
            assert properties.get("SqsManagedSseEnabled") is True or "KmsMasterKeyId" in properties, (
                logical_id
            )
        elif kind == "AWS::SNS::Topic":
            assert "KmsMasterKeyId" in properties, logical_id
        elif kind == "AWS::Logs::LogGroup":
            assert properties["KmsKeyId"] == {"Fn::GetAtt": ["LogsKey", "Arn"]}, logical_id
            assert properties["RetentionInDays"] == {"Ref": "LogRetentionDays"}, logical_id
        elif kind == "AWS::KMS::Key":
            assert properties["EnableKeyRotation"] is True, logical_id


def test_every_function_logs_json_into_the_keyed_retained_group(template: dict[str, Any]) -> None:
    # Globals' LoggingConfig instead of a log group per function (docs/decisions/0021); the group's key and
    # retention are checked with the other log groups in test_data_at_rest_is_encrypted_and_recoverable.
    logging = template["Globals"]["Function"]["LoggingConfig"]
    overridden = [
        lid
        for lid, r in template["Resources"].items()
        if r["Type"] == "AWS::Serverless::Function" and "LoggingConfig" in r["Properties"]
    ]

    assert logging["LogFormat"] == "JSON"
    group = template["Resources"][logging["LogGroup"]["Ref"]]
    assert group["Type"] == "AWS::Logs::LogGroup"
    assert overridden == []


def test_api_access_logs_never_record_the_path(template: dict[str, Any]) -> None:
    # hosted-page and payment-plan tokens are path segments; the route key names the route only
    log_format = template["Resources"]["HttpApi"]["Properties"]["AccessLogSettings"]["Format"]

    assert "$context.routeKey" in log_format
    assert not re.search(r"\$context\.(path|resourcePath|requestOverride|identity\.apiKey)", log_format)


def test_every_checkov_skip_says_why(template: dict[str, Any]) -> None:
    skips = [
        (logical_id, skip)
        for logical_id, resource in template["Resources"].items()
        for skip in resource.get("Metadata", {}).get("checkov", {}).get("skip", [])
    ]

    assert skips
    for logical_id, skip in skips:
        assert re.fullmatch(r"CKV2?_AWS_\d+", skip["id"]), logical_id
        assert len(skip.get("comment", "")) >= 30, (logical_id, skip["id"])
