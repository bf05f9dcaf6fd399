"""Creates the template's resources in the emulated account and collects what the runtime drives.

Everything comes from the template: a new function, route, stream or queue consumer, topic
subscription, schedule or state machine there needs no change here. Resource types that only matter
on AWS (log groups, alarms, policies) are accepted and skipped.
"""

from __future__ import annotations

import io
import json
import secrets
import zipfile
from dataclasses import dataclass, field
from typing import Any

import boto3

from local_runtime.bucket_notifications import BucketNotification
from local_runtime.functions import Function, Functions
from local_runtime.template import ACCOUNT_ID, REGION, STACK_NAME, Resolver, Template

_NOT_EMULATED = {
    "AWS::Logs::LogGroup",
    "AWS::KMS::Key",
    "AWS::CloudWatch::Alarm",
    "AWS::SQS::QueuePolicy",
    "AWS::S3::BucketPolicy",
    "AWS::SNS::TopicPolicy",
    "AWS::Lambda::Permission",
    "AWS::IAM::Role",
    "AWS::IAM::Policy",
    "AWS::Serverless::HttpApi",
    "AWS::Serverless::LayerVersion",
    "AWS::CloudWatch::Dashboard",
    "AWS::Backup::BackupVault",
    "AWS::Backup::BackupPlan",
    "AWS::Backup::BackupSelection",
    # read by local_runtime/ses_feedback.py, which emulates the configuration set's event publishing
    "AWS::SES::ConfigurationSet",
    "AWS::SES::ConfigurationSetEventDestination",
}


@dataclass(frozen=True)
class Authorizer:
    function_name: str
    identity_headers: tuple[str, ...]
    simple_responses: bool


@dataclass(frozen=True)
class Route:
    method: str  # upper case, or ANY
    path: str  # /orders/{order_id}
    function_name: str
    authorizer: Authorizer | None


@dataclass(frozen=True)
class StreamSource:
    function_name: str
    stream_arn: str
    batch_size: int
    maximum_retry_attempts: int
    bisect_on_error: bool
    report_item_failures: bool
    on_failure_arn: str | None
    filters: tuple[dict[str, Any], ...]
    starting_position: str


@dataclass(frozen=True)
class QueueSource:
    """An SQS event source mapping: the function polls the queue in batches."""

    function_name: str
    queue_arn: str
    batch_size: int
    report_item_failures: bool

    @property
    def queue_name(self) -> str:
        return self.queue_arn.rsplit(":", 1)[-1]


@dataclass(frozen=True)
class Schedule:
    name: str
    expression: str  # rate(...) or cron(...)
    function_name: str | None
    state_machine_arn: str | None
    payload: Any
    timezone: str = "UTC"  # ScheduleV2's ScheduleExpressionTimezone: cron fields read on that clock


@dataclass
class Topology:
    functions: Functions
    routes: list[Route] = field(default_factory=list)
    stream_sources: list[StreamSource] = field(default_factory=list)
    queue_sources: list[QueueSource] = field(default_factory=list)
    # subscribed endpoint (a queue's ARN) -> the subscription's filter policy
    subscription_filters: dict[str, dict[str, Any]] = field(default_factory=dict)
    schedules: list[Schedule] = field(default_factory=list)
    bucket_notifications: list[BucketNotification] = field(default_factory=list)
    state_machines: dict[str, str] = field(default_factory=dict)
    event_buses: list[str] = field(default_factory=list)
    resolver: Resolver | None = None
    role_arn: str = ""


def physical_name(logical_id: str, limit: int = 64) -> str:
    return f"{STACK_NAME}-{logical_id}"[:limit]


def _arn(service: str, resource: str) -> str:
    return f"arn:aws:{service}:{REGION}:{ACCOUNT_ID}:{resource}"


def name_everything(template: Template, resolver: Resolver) -> None:
    """Registers each resource's Ref and attributes before anything exists (names are deterministic)."""
    for logical_id, resource in template.resources.items():
        kind = resource["Type"]
        props = resource.get("Properties", {})
        refs, attrs = resolver.refs, resolver.attributes
        if kind == "AWS::DynamoDB::Table":
            name = physical_name(logical_id)
            refs[logical_id] = name
            attrs[(logical_id, "Arn")] = _arn("dynamodb", f"table/{name}")
            attrs[(logical_id, "StreamArn")] = None  # set once the table exists (moto picks the label)
        elif kind == "AWS::S3::Bucket":
            name = physical_name(logical_id).lower()
            refs[logical_id] = name
            attrs[(logical_id, "Arn")] = f"arn:aws:s3:::{name}"
            attrs[(logical_id, "DomainName")] = f"{name}.s3.amazonaws.com"
        elif kind == "AWS::SQS::Queue":
            name = resolver.resolve(props.get("QueueName")) or physical_name(logical_id, 80)
            if props.get("FifoQueue") and not name.endswith(".fifo"):
                name = name[:75] + ".fifo"
            refs[logical_id] = f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT_ID}/{name}"
            attrs[(logical_id, "Arn")] = _arn("sqs", name)
            attrs[(logical_id, "QueueName")] = name
            attrs[(logical_id, "QueueUrl")] = refs[logical_id]
        elif kind == "AWS::SNS::Topic":
            name = resolver.resolve(props.get("TopicName")) or physical_name(logical_id, 256)
            if props.get("FifoTopic") and not name.endswith(".fifo"):
                name = name[:251] + ".fifo"
            refs[logical_id] = _arn("sns", name)
            attrs[(logical_id, "TopicArn")] = refs[logical_id]
            attrs[(logical_id, "TopicName")] = name
        elif kind == "AWS::Events::EventBus":
            name = resolver.resolve(props.get("Name")) or physical_name(logical_id)
            refs[logical_id] = name
            attrs[(logical_id, "Arn")] = _arn("events", f"event-bus/{name}")
            attrs[(logical_id, "Name")] = name
        elif kind == "AWS::Events::Rule":
            name = physical_name(logical_id)
            refs[logical_id] = name
            attrs[(logical_id, "Arn")] = _arn("events", f"rule/{name}")
        elif kind in ("AWS::Serverless::Function", "AWS::Lambda::Function"):
            name = props.get("FunctionName") or physical_name(logical_id)
            refs[logical_id] = name
            attrs[(logical_id, "Arn")] = _arn("lambda", f"function:{name}")
        elif kind == "AWS::Serverless::StateMachine":
            name = props.get("Name") or physical_name(logical_id, 80)
            refs[logical_id] = _arn("states", f"stateMachine:{name}")
            attrs[(logical_id, "Arn")] = refs[logical_id]
            attrs[(logical_id, "Name")] = name
        elif kind == "AWS::Serverless::LayerVersion":
            refs[logical_id] = _arn("lambda", f"layer:{physical_name(logical_id)}:1")
        elif kind == "AWS::Serverless::HttpApi":
            refs[logical_id] = "local"
        elif kind == "AWS::SSM::Parameter":
            refs[logical_id] = resolver.resolve(props.get("Name")) or f"/{STACK_NAME}/{logical_id}"
        elif kind == "AWS::SES::EmailIdentity":
            refs[logical_id] = resolver.resolve(props["EmailIdentity"])
        else:
            refs[logical_id] = physical_name(logical_id)


def provision(template: Template, resolver: Resolver) -> Topology:
    name_everything(template, resolver)
    layer_dirs = [
        template.path(lid, r["Properties"]["ContentUri"])
        for lid, r in template.of_type("AWS::Serverless::LayerVersion")
    ]
    role = boto3.client("iam").create_role(RoleName="local-runtime", AssumeRolePolicyDocument="{}")
    topology = Topology(functions=Functions(layer_dirs), resolver=resolver, role_arn=role["Role"]["Arn"])
    wanted = {
        logical_id: resource
        for logical_id, resource in template.resources.items()
        if not resource.get("Condition") or resolver.condition(resource["Condition"])
    }
    # Data and messaging first, functions after: their environment and event sources refer to them.
    for kind, creator in _CREATORS.items():
        for logical_id, resource in wanted.items():
            if resource["Type"] == kind:
                creator(template, resolver, topology, logical_id, resource)
    _connect_dead_letter_queues(resolver, wanted)
    for logical_id, resource in wanted.items():
        kind = resource["Type"]
        if kind not in _CREATORS and kind not in _NOT_EMULATED and kind not in _LATER:
            print(f"local runtime: {kind} ({logical_id}) is not emulated; skipped")
    # State machines and rules refer to functions and tables: create them once those exist.
    for logical_id, resource in template.of_type("AWS::Serverless::StateMachine"):
        _create_state_machine(template, resolver, topology, logical_id, resource)
    for logical_id, resource in template.of_type("AWS::Events::Rule"):
        _create_rule(resolver, topology, logical_id, resource)
    _collect_routes(template, resolver, topology)
    return topology


def _props(resolver: Resolver, resource: dict[str, Any]) -> dict[str, Any]:
    return dict(resolver.resolve(resource.get("Properties", {})))


def _create_table(
    template: Template, resolver: Resolver, topology: Topology, logical_id: str, resource: dict[str, Any]
) -> None:
    props = _props(resolver, resource)
    name = resolver.refs[logical_id]
    request: dict[str, Any] = {
        "TableName": name,
        "KeySchema": props["KeySchema"],
        "AttributeDefinitions": props["AttributeDefinitions"],
        "BillingMode": props.get("BillingMode", "PAY_PER_REQUEST"),
    }
    if props.get("GlobalSecondaryIndexes"):
        request["GlobalSecondaryIndexes"] = props["GlobalSecondaryIndexes"]
    if "StreamSpecification" in props:
        request["StreamSpecification"] = {"StreamEnabled": True, **props["StreamSpecification"]}
    client = boto3.client("dynamodb")
    table = client.create_table(**request)["TableDescription"]
    resolver.attributes[(logical_id, "StreamArn")] = table.get("LatestStreamArn")
    ttl = props.get("TimeToLiveSpecification")
    if ttl and ttl.get("Enabled"):
        client.update_time_to_live(TableName=name, TimeToLiveSpecification=ttl)


def _create_bucket(
    template: Template, resolver: Resolver, topology: Topology, logical_id: str, resource: dict[str, Any]
) -> None:
    props = _props(resolver, resource)
    name = resolver.refs[logical_id]
    s3 = boto3.client("s3")
    s3.create_bucket(
        Bucket=name,
        CreateBucketConfiguration={"LocationConstraint": REGION},
        ObjectLockEnabledForBucket=bool(props.get("ObjectLockEnabled", False)),
    )
    if props.get("VersioningConfiguration", {}).get("Status") == "Enabled":
        s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    if "Rule" in props.get("ObjectLockConfiguration", {}):
        # Issued documents are immutable here too: a delete or overwrite fails as it would on AWS.
        default = props["ObjectLockConfiguration"]["Rule"]["DefaultRetention"]
        period = {k: int(v) for k, v in default.items() if k in ("Days", "Years")}
        s3.put_object_lock_configuration(
            Bucket=name,
            ObjectLockConfiguration={
                "ObjectLockEnabled": "Enabled",
                "Rule": {"DefaultRetention": {"Mode": default["Mode"], **period}},  # type: ignore[typeddict-item]
            },
        )
    if "BucketEncryption" in props:
        s3.put_bucket_encryption(
            Bucket=name,
            ServerSideEncryptionConfiguration={
                "Rules": [
                    {"ApplyServerSideEncryptionByDefault": rule["ServerSideEncryptionByDefault"]}
                    for rule in props["BucketEncryption"]["ServerSideEncryptionConfiguration"]
                ]
            },
        )


_QUEUE_ATTRIBUTES = (
    "FifoQueue",
    "ContentBasedDeduplication",
    "DeduplicationScope",
    "FifoThroughputLimit",
    "VisibilityTimeout",
    "MessageRetentionPeriod",
)


def _create_queue(
    template: Template, resolver: Resolver, topology: Topology, logical_id: str, resource: dict[str, Any]
) -> None:
    props = _props(resolver, resource)
    attributes: dict[Any, str] = {n: _attribute_text(props[n]) for n in _QUEUE_ATTRIBUTES if n in props}
    boto3.client("sqs").create_queue(
        QueueName=resolver.attributes[(logical_id, "QueueName")], Attributes=attributes
    )


def _connect_dead_letter_queues(resolver: Resolver, wanted: dict[str, dict[str, Any]]) -> None:
    """Redrive policies, once every queue exists (a queue may name a dead-letter queue defined later)."""
    sqs = boto3.client("sqs")
    for logical_id, resource in wanted.items():
        if resource["Type"] != "AWS::SQS::Queue":
            continue
        redrive = _props(resolver, resource).get("RedrivePolicy")
        if redrive:
            sqs.set_queue_attributes(
                QueueUrl=sqs.get_queue_url(QueueName=resolver.attributes[(logical_id, "QueueName")])[
                    "QueueUrl"
                ],
                Attributes={"RedrivePolicy": json.dumps(redrive)},
            )


def _attribute_text(value: Any) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


def _create_topic(
    template: Template, resolver: Resolver, topology: Topology, logical_id: str, resource: dict[str, Any]
) -> None:
    props = _props(resolver, resource)
    attributes = {
        name: _attribute_text(props[name])
        for name in ("FifoTopic", "ContentBasedDeduplication")
        if name in props
    }
    boto3.client("sns").create_topic(
        Name=resolver.attributes[(logical_id, "TopicName")], Attributes=attributes
    )


def _create_subscription(
    template: Template, resolver: Resolver, topology: Topology, logical_id: str, resource: dict[str, Any]
) -> None:
    """moto delivers to subscribed queues itself, filter policy included (see moto_hooks)."""
    props = _props(resolver, resource)
    attributes = {
        "RawMessageDelivery": _attribute_text(props.get("RawMessageDelivery", False)),
    }
    if "FilterPolicy" in props:
        policy = props["FilterPolicy"]
        policy = json.loads(policy) if isinstance(policy, str) else policy
        topology.subscription_filters[props["Endpoint"]] = policy
        attributes["FilterPolicy"] = json.dumps(policy)
        attributes["FilterPolicyScope"] = props.get("FilterPolicyScope", "MessageAttributes")
    boto3.client("sns").subscribe(
        TopicArn=props["TopicArn"],
        Protocol=props["Protocol"],
        Endpoint=props["Endpoint"],
        Attributes=attributes,
    )


def _create_bus(
    template: Template, resolver: Resolver, topology: Topology, logical_id: str, resource: dict[str, Any]
) -> None:
    name = resolver.refs[logical_id]
    boto3.client("events").create_event_bus(Name=name)
    topology.event_buses.append(name)


def _verify_identity(
    template: Template, resolver: Resolver, topology: Topology, logical_id: str, resource: dict[str, Any]
) -> None:
    # The emulated account has verified what the template asks SES to verify (DNS is not emulated).
    identity = resolver.refs[logical_id]
    ses = boto3.client("ses")
    if "@" in identity:
        ses.verify_email_identity(EmailAddress=identity)
    else:
        ses.verify_domain_identity(Domain=identity)


def _create_parameter(
    template: Template, resolver: Resolver, topology: Topology, logical_id: str, resource: dict[str, Any]
) -> None:
    props = _props(resolver, resource)
    name = resolver.refs[logical_id]
    boto3.client("ssm").put_parameter(
        Name=name, Value=str(props["Value"]), Type=props.get("Type", "String"), Overwrite=True
    )


def _create_secret(
    template: Template, resolver: Resolver, topology: Topology, logical_id: str, resource: dict[str, Any]
) -> None:
    props = _props(resolver, resource)
    # GenerateSecretString: a random value, as CloudFormation would create
    value = props.get("SecretString") or secrets.token_urlsafe(36)
    created = boto3.client("secretsmanager").create_secret(
        Name=props.get("Name") or physical_name(logical_id), SecretString=value
    )
    resolver.refs[logical_id] = created["ARN"]


def _create_function(
    template: Template, resolver: Resolver, topology: Topology, logical_id: str, resource: dict[str, Any]
) -> None:
    props = template.function_properties(logical_id)
    name = resolver.refs[logical_id]
    code_dir = template.path(logical_id, props["CodeUri"])
    variables = resolver.resolve(props.get("Environment", {}).get("Variables", {}))
    environment = {key: str(value) for key, value in variables.items()} | {
        "AWS_LAMBDA_FUNCTION_NAME": name,
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(props.get("MemorySize", 128)),
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "_HANDLER": props["Handler"],
    }
    function = Function(
        logical_id=logical_id,
        name=name,
        code_dir=code_dir,
        handler=props["Handler"],
        environment=environment,
        memory_mb=int(props.get("MemorySize", 128)),
        timeout_seconds=int(props.get("Timeout", 3)),
    )
    topology.functions.add(function)
    # Registered with moto's Lambda too, so Step Functions tasks and lambda:Invoke reach the handler.
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("README", "code runs in the local runtime")
    boto3.client("lambda").create_function(
        FunctionName=name,
        Runtime=props.get("Runtime", "python3.13"),
        Role=topology.role_arn,
        Handler=props["Handler"],
        Code={"ZipFile": archive.getvalue()},
        Timeout=function.timeout_seconds,
    )
    for event_name, event in props.get("Events", {}).items():
        _add_event_source(resolver, topology, name, event_name, event)


def _add_event_source(
    resolver: Resolver, topology: Topology, function_name: str, event_name: str, event: dict[str, Any]
) -> None:
    kind = event["Type"]
    props = resolver.resolve(event.get("Properties", {}))
    if kind == "DynamoDB":
        if props.get("Enabled", True) is False:
            return
        filters = tuple(json.loads(f["Pattern"]) for f in props.get("FilterCriteria", {}).get("Filters", []))
        topology.stream_sources.append(
            StreamSource(
                function_name=function_name,
                stream_arn=props["Stream"],
                batch_size=int(props.get("BatchSize", 100)),
                maximum_retry_attempts=int(props.get("MaximumRetryAttempts", -1)),
                bisect_on_error=bool(props.get("BisectBatchOnFunctionError", False)),
                report_item_failures="ReportBatchItemFailures" in props.get("FunctionResponseTypes", []),
                on_failure_arn=props.get("DestinationConfig", {}).get("OnFailure", {}).get("Destination"),
                filters=filters,
                starting_position=props.get("StartingPosition", "LATEST"),
            )
        )
    elif kind == "SQS":
        if props.get("Enabled", True) is False:
            return
        topology.queue_sources.append(
            QueueSource(
                function_name=function_name,
                queue_arn=props["Queue"],
                batch_size=int(props.get("BatchSize", 10)),
                report_item_failures="ReportBatchItemFailures" in props.get("FunctionResponseTypes", []),
            )
        )
    elif kind in ("Schedule", "ScheduleV2"):
        expression = props.get("Schedule") or props.get("ScheduleExpression")
        enabled = props.get("Enabled", True) and props.get("State", "ENABLED") == "ENABLED"
        if enabled:
            payload = json.loads(props["Input"]) if "Input" in props else None
            timezone = props.get("ScheduleExpressionTimezone", "UTC")
            topology.schedules.append(
                Schedule(f"{function_name}/{event_name}", expression, function_name, None, payload, timezone)
            )
    elif kind == "S3":
        topology.bucket_notifications.append(BucketNotification.from_event(function_name, props))
    # HttpApi events are collected with their API's authorizers in _collect_routes.


def _create_state_machine(
    template: Template, resolver: Resolver, topology: Topology, logical_id: str, resource: dict[str, Any]
) -> None:
    props = _props(resolver, resource)
    if "DefinitionUri" in props:
        definition = template.path(logical_id, props["DefinitionUri"]).read_text()
    else:
        definition = json.dumps(props["Definition"])
    for key, value in props.get("DefinitionSubstitutions", {}).items():
        definition = definition.replace("${" + key + "}", str(value))
    arn = resolver.refs[logical_id]
    name = resolver.attributes[(logical_id, "Name")]
    boto3.client("stepfunctions").create_state_machine(
        name=name, definition=definition, roleArn=topology.role_arn, type=props.get("Type", "STANDARD")
    )
    topology.state_machines[name] = arn
    for event_name, event in props.get("Events", {}).items():
        event_props = resolver.resolve(event.get("Properties", {}))
        if event["Type"] in ("Schedule", "ScheduleV2") and event_props.get("Enabled", True):
            expression = event_props.get("Schedule") or event_props.get("ScheduleExpression")
            payload = json.loads(event_props["Input"]) if "Input" in event_props else None
            topology.schedules.append(Schedule(f"{name}/{event_name}", expression, None, arn, payload))


def _create_rule(resolver: Resolver, topology: Topology, logical_id: str, resource: dict[str, Any]) -> None:
    props = _props(resolver, resource)
    events = boto3.client("events")
    name = resolver.refs[logical_id]
    bus = props.get("EventBusName", "default")
    if "ScheduleExpression" in props:
        for target in props.get("Targets", []):
            function = next((f for f in topology.functions if f.arn == target["Arn"]), None)
            payload = json.loads(target["Input"]) if "Input" in target else None
            topology.schedules.append(
                Schedule(
                    name,
                    props["ScheduleExpression"],
                    function.name if function else None,
                    None if function else target["Arn"],
                    payload,
                )
            )
        return
    events.put_rule(Name=name, EventBusName=bus, EventPattern=json.dumps(props["EventPattern"]))
    # moto delivers to SQS and SNS targets itself.
    targets = [
        {"Id": t["Id"], "Arn": t["Arn"]}
        for t in props.get("Targets", [])
        if ":sqs:" in t["Arn"] or ":sns:" in t["Arn"]
    ]
    if targets:
        events.put_targets(Rule=name, EventBusName=bus, Targets=targets)


def _collect_routes(template: Template, resolver: Resolver, topology: Topology) -> None:
    apis: dict[str, dict[str, Any]] = {
        lid: _props(resolver, r) for lid, r in template.of_type("AWS::Serverless::HttpApi")
    }
    for logical_id, _resource in template.of_type("AWS::Serverless::Function"):
        props = template.function_properties(logical_id)
        for event in props.get("Events", {}).values():
            if event["Type"] != "HttpApi":
                continue
            event_props = event.get("Properties", {})
            api_id = (
                event_props.get("ApiId", {}).get("Ref")
                if isinstance(event_props.get("ApiId"), dict)
                else None
            )
            api = apis.get(api_id or "", next(iter(apis.values()), {}))
            auth = api.get("Auth", {})
            authorizer_name = event_props.get("Auth", {}).get("Authorizer", auth.get("DefaultAuthorizer"))
            authorizer = None
            if authorizer_name and authorizer_name != "NONE":
                spec = auth["Authorizers"][authorizer_name]
                function_name = next(f.name for f in topology.functions if f.arn == spec["FunctionArn"])
                authorizer = Authorizer(
                    function_name=function_name,
                    identity_headers=tuple(h.lower() for h in spec.get("Identity", {}).get("Headers", [])),
                    simple_responses=bool(spec.get("EnableSimpleResponses", False)),
                )
            topology.routes.append(
                Route(
                    method=str(event_props.get("Method", "ANY")).upper(),
                    path=event_props.get("Path", "$default"),
                    function_name=resolver.refs[logical_id],
                    authorizer=authorizer,
                )
            )


_CREATORS = {
    "AWS::DynamoDB::Table": _create_table,
    "AWS::S3::Bucket": _create_bucket,
    "AWS::SQS::Queue": _create_queue,
    "AWS::SNS::Topic": _create_topic,
    "AWS::SNS::Subscription": _create_subscription,
    "AWS::Events::EventBus": _create_bus,
    "AWS::SES::EmailIdentity": _verify_identity,
    "AWS::SSM::Parameter": _create_parameter,
    "AWS::SecretsManager::Secret": _create_secret,
    "AWS::Serverless::Function": _create_function,
}

_LATER = {"AWS::Serverless::StateMachine", "AWS::Events::Rule"}
