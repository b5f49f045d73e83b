"""The CDK stack: what it deploys, and that cdk-nag, cfn-lint and the pinned CDK CLI accept it."""

import importlib.metadata
import json
import os
import subprocess
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import Validations
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sqs as sqs
from aws_cdk.assertions import Match, Template
from cdk_nag import AwsSolutionsChecks, NIST80053R5Checks, ServerlessChecks
from cfnlint import api as cfn_lint  # type: ignore[import-untyped]
from constructs import IConstruct

from maintenance_window_alerts import (
    MaintenanceWindowAlerts,
    MaintenanceWindowAlertsStack,
    Settings,
    add_compliance_checks,
    add_outputs,
    constants,
)
from maintenance_window_alerts import settings as keys
from mwalerts import contract
from tests.support import ROOT
from tools.render_dashboard import GRID_WIDTH, dashboard_body

CDK_JSON_CONTEXT = json.loads((ROOT / "cdk.json").read_text())["context"]
CUSTOM_EMAILS = ["ops@example.com", "oncall@example.org"]
WINDOW_A, WINDOW_B, WINDOW_C = (
    "mw-0123456789abcdef0",
    "mw-0fedcba9876543210",
    "mw-00000000000000abc",
)
# windowAlarms: window -> threshold; expectedWindows: window -> (gap, period, evaluation periods).
WINDOW_THRESHOLDS = {WINDOW_A: 3, WINDOW_B: 1}
GAPS = {WINDOW_A: ("26h", 13 * 3600, 2), WINDOW_B: ("90m", 5400, 1), WINDOW_C: ("7d", 86400, 7)}
CUSTOM_CONTEXT = {
    keys.ALERT_STATUSES: "FAILED,TIMED_OUT",  # as `-c alertStatuses=FAILED,TIMED_OUT` passes it
    keys.ALERT_EMAILS: CUSTOM_EMAILS,
    keys.METRICS_NAMESPACE: "Acme/Patching",
    keys.LOG_RETENTION_DAYS: 30,
    keys.SWEEP_INTERVAL_MINUTES: "60",  # as `-c sweepIntervalMinutes=60` passes it
    keys.ERROR_DETAILS_LIMIT: "3",
    keys.CHAT_NOTIFICATIONS: contract.CHAT_SEPARATE_TOPIC,
    keys.WINDOW_ALARMS: WINDOW_THRESHOLDS,
    # As `-c expectedWindows=mw-...=26h,...` passes it.
    keys.EXPECTED_WINDOWS: ",".join(f"{window}={gap}" for window, (gap, _, _) in GAPS.items()),
}
# An account and a region for the custom synth: ARNs built from pseudo parameters stay so.
CUSTOM_ENV = cdk.Environment(account="123456789012", region="eu-west-1")
FIVE_MINUTES = 300
# (synth, sweep interval in minutes) for the default and the custom settings.
INTERVALS = (("default", 15), ("custom", 60))


@dataclass(frozen=True)
class Synth:
    stack: MaintenanceWindowAlertsStack
    template: Template
    outdir: Path

    @property
    def resources(self) -> dict[str, Any]:
        return dict(self.template.to_json()["Resources"])

    def logical_id(self, construct: IConstruct) -> str:
        """The logical ID of an L2's CloudFormation resource."""
        cfn = construct.node.default_child
        assert isinstance(cfn, cdk.CfnElement)
        return str(self.stack.resolve(self.stack.get_logical_id(cfn)))

    def ref(self, construct: IConstruct) -> dict[str, str]:
        return {"Ref": self.logical_id(construct)}

    def arn(self, construct: IConstruct) -> dict[str, list[str]]:
        return {"Fn::GetAtt": [self.logical_id(construct), "Arn"]}

    def properties(self, construct: IConstruct) -> dict[str, Any]:
        return dict(self.resources[self.logical_id(construct)]["Properties"])


def synthesize(
    outdir: Path, extra: dict[str, Any] | None = None, env: cdk.Environment | None = None
) -> Synth:
    """Synthesize the app as `cdk synth` does: cdk.json's context, compliance packs registered."""
    app = cdk.App(context={**CDK_JSON_CONTEXT, **(extra or {})}, outdir=str(outdir))
    stack = MaintenanceWindowAlertsStack(
        app, contract.STACK_NAME, settings=Settings.from_scope(app), env=env
    )
    add_compliance_checks(app)
    assembly = app.synth()  # raises on any cdk-nag finding that is not acknowledged
    template = assembly.get_stack_artifact(stack.artifact_id).template
    return Synth(stack, Template.from_json(template), outdir)


@pytest.fixture(scope="module")
def default(tmp_path_factory: pytest.TempPathFactory) -> Synth:
    return synthesize(tmp_path_factory.mktemp("default"))


@pytest.fixture(scope="module")
def custom(tmp_path_factory: pytest.TempPathFactory) -> Synth:
    return synthesize(tmp_path_factory.mktemp("custom"), CUSTOM_CONTEXT, CUSTOM_ENV)


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def policy_statements(synth: Synth) -> Iterator[tuple[str, dict[str, Any]]]:
    """(resource type, statement) for every statement of every policy in the template."""
    for resource in synth.resources.values():
        props = resource.get("Properties", {})
        documents = [
            props.get(field)
            for field in ("PolicyDocument", "KeyPolicy", "AssumeRolePolicyDocument")
        ] + [policy["PolicyDocument"] for policy in props.get("Policies", [])]
        for document in filter(None, documents):
            for statement in document["Statement"]:
                yield resource["Type"], statement


def role_statements(synth: Synth) -> list[dict[str, Any]]:
    """Every statement of every policy (inline or managed) attached to the function's role."""
    role = synth.stack.alerts.function.role
    assert role is not None
    return [
        statement
        for kind in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy")
        for policy in synth.template.find_resources(kind).values()
        if synth.ref(role) in policy["Properties"]["Roles"]
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
    ]


def role_permissions(synth: Synth) -> dict[str, list[Any]]:
    """Action -> resources, over every policy attached to the function's role."""
    permissions: dict[str, list[Any]] = defaultdict(list)
    for statement in role_statements(synth):
        assert statement["Effect"] == "Allow"
        for action in as_list(statement["Action"]):
            permissions[action] += as_list(statement["Resource"])
    return permissions


def arn_pattern(service: str, resource: str) -> dict[str, Any]:
    """The template's rendering of arn:<partition>:<service>:<region>:<account>:<resource>."""
    return {
        "Fn::Join": [
            "",
            [
                "arn:",
                {"Ref": "AWS::Partition"},
                f":{service}:",
                {"Ref": "AWS::Region"},
                ":",
                {"Ref": "AWS::AccountId"},
                f":{resource}",
            ],
        ]
    }


def regional(prefix: str) -> dict[str, Any]:
    """The template's rendering of <prefix>.<region>.<URL suffix> (regional service names)."""
    return {
        "Fn::Join": ["", [f"{prefix}.", {"Ref": "AWS::Region"}, ".", {"Ref": "AWS::URLSuffix"}]]
    }


ALARM_ARNS = arn_pattern("cloudwatch", "alarm:*")


def dashboard(synth: Synth) -> dict[str, Any]:
    """The dashboard body as JSON; a reference in it reads ${LogicalId} or ${LogicalId.Attr}."""
    return dashboard_body(synth.template.to_json())


def widgets(synth: Synth) -> dict[str, dict[str, Any]]:
    """The dashboard's widgets by title."""
    return {w["properties"]["title"]: w for w in dashboard(synth)["widgets"]}


def placeholder(synth: Synth, construct: IConstruct, attribute: str | None = None) -> str:
    """How the dashboard body names a construct: ${LogicalId} or ${LogicalId.Attribute}."""
    suffix = f".{attribute}" if attribute else ""
    return f"${{{synth.logical_id(construct)}{suffix}}}"


def alarm_metrics(synth: Synth) -> tuple[str, list[dict[str, Any]]]:
    alarm = synth.stack.alerts.alarm
    assert alarm is not None
    queries = synth.properties(alarm)["Metrics"]
    (expression,) = [q for q in queries if "Expression" in q]
    return expression["Expression"], [q["MetricStat"] for q in queries if "MetricStat" in q]


# --- EventBridge rule -----------------------------------------------------------------------


def test_rule_sends_only_ended_window_executions_from_ssm(default: Synth) -> None:
    pattern = default.properties(default.stack.alerts.rule)["EventPattern"]

    assert pattern == {
        "source": [contract.EVENT_SOURCE],
        "detail-type": [contract.WINDOW_EXECUTION_DETAIL_TYPE],
        "detail": {"status": list(contract.TERMINAL_STATUSES)},
    }
    assert not set(contract.NON_TERMINAL_STATUSES) & set(pattern["detail"]["status"])


def test_rule_retries_for_a_day_then_keeps_the_event_in_a_dead_letter_queue(
    default: Synth,
) -> None:
    alerts = default.stack.alerts
    (target,) = default.properties(alerts.rule)["Targets"]

    assert target["Arn"] == default.arn(alerts.function)
    assert target["RetryPolicy"] == {"MaximumEventAgeInSeconds": 86400, "MaximumRetryAttempts": 185}
    assert target["DeadLetterConfig"] == {"Arn": default.arn(alerts.rule_dead_letter_queue)}


# --- Reconciliation sweep -------------------------------------------------------------------


@pytest.fixture(params=INTERVALS, ids=[name for name, _ in INTERVALS])
def synth_and_interval(request: pytest.FixtureRequest) -> tuple[Synth, int]:
    name, minutes = request.param
    return request.getfixturevalue(name), minutes


def test_schedule_sends_the_function_a_sweep_every_interval(
    synth_and_interval: tuple[Synth, int],
) -> None:
    synth, minutes = synth_and_interval
    alerts = synth.stack.alerts
    schedule = synth.properties(alerts.schedule)
    (target,) = schedule["Targets"]

    assert schedule["ScheduleExpression"] == {15: "rate(15 minutes)", 60: "rate(1 hour)"}[minutes]
    assert schedule["State"] == "ENABLED"
    assert target["Arn"] == synth.arn(alerts.function)
    # The scheduled event itself, which the function recognises by its source and detail-type.
    assert not {"Input", "InputPath", "InputTransformer"} & set(target)
    # Retried until the next sweep supersedes it, then kept in the rule dead-letter queue.
    assert target["RetryPolicy"] == {
        "MaximumEventAgeInSeconds": minutes * 60,
        "MaximumRetryAttempts": 185,
    }
    assert target["DeadLetterConfig"] == {"Arn": synth.arn(alerts.rule_dead_letter_queue)}


def test_function_may_be_invoked_by_both_rules_only(default: Synth) -> None:
    alerts = default.stack.alerts
    permissions = default.template.find_resources(
        "AWS::Lambda::Permission",
        {"Properties": {"FunctionName": default.arn(alerts.function)}},
    )

    assert sorted(
        (p["Properties"]["Principal"], json.dumps(p["Properties"]["SourceArn"]))
        for p in permissions.values()
    ) == sorted(
        ("events.amazonaws.com", json.dumps(default.arn(rule)))
        for rule in (alerts.rule, alerts.schedule)
    )


# --- Lambda ---------------------------------------------------------------------------------


def test_function_runs_the_handler_on_python_3_13_arm64_with_tracing(default: Synth) -> None:
    function = default.properties(default.stack.alerts.function)

    assert function["Runtime"] == "python3.13"
    assert function["Architectures"] == ["arm64"]
    assert function["Handler"] == "mwalerts.handler.handler"
    assert function["MemorySize"] == 512
    assert function["Timeout"] == 300
    assert function["TracingConfig"] == {"Mode": "Active"}


def test_function_environment_names_topic_statuses_and_namespace(default: Synth) -> None:
    alerts = default.stack.alerts
    variables = default.properties(alerts.function)["Environment"]["Variables"]

    assert variables == {
        contract.ENV_ALERT_TOPIC_ARN: default.ref(alerts.topic),
        contract.ENV_ALERT_STATUSES: ",".join(contract.DEFAULT_ALERT_STATUSES),
        contract.ENV_METRICS_NAMESPACE: contract.DEFAULT_METRICS_NAMESPACE,
        contract.ENV_IDEMPOTENCY_TABLE: default.ref(alerts.table),
        contract.ENV_SWEEP_LOOKBACK_MINUTES: str(15 * contract.SWEEP_LOOKBACK_PERIODS),
        contract.ENV_ERROR_DETAILS_LIMIT: str(contract.DEFAULT_ERROR_DETAILS_LIMIT),
        contract.ENV_CHAT_NOTIFICATIONS: contract.CHAT_OFF,
        # The function's own log group, for the Logs Insights link in each alert.
        contract.ENV_LOG_GROUP_NAME: default.ref(alerts.log_group),
        "POWERTOOLS_LOG_LEVEL": "INFO",
    }
    assert "POWERTOOLS_SERVICE_NAME" not in variables  # it would add a dimension to every metric
    assert contract.ENV_CHAT_TOPIC_ARN not in variables  # no chat topic unless "separate-topic"


def test_function_environment_follows_the_settings(custom: Synth) -> None:
    alerts = custom.stack.alerts
    assert alerts.chat_topic is not None
    variables = custom.properties(alerts.function)["Environment"]["Variables"]

    assert variables[contract.ENV_ALERT_STATUSES] == "FAILED,TIMED_OUT"
    assert variables[contract.ENV_METRICS_NAMESPACE] == "Acme/Patching"
    assert variables[contract.ENV_SWEEP_LOOKBACK_MINUTES] == str(
        60 * contract.SWEEP_LOOKBACK_PERIODS
    )
    assert variables[contract.ENV_ERROR_DETAILS_LIMIT] == "3"
    assert variables[contract.ENV_CHAT_NOTIFICATIONS] == contract.CHAT_SEPARATE_TOPIC
    assert variables[contract.ENV_CHAT_TOPIC_ARN] == custom.ref(alerts.chat_topic)
    assert variables[contract.ENV_LOG_GROUP_NAME] == custom.ref(alerts.log_group)


def test_default_body_chat_mode_needs_no_second_topic(tmp_path: Path) -> None:
    # Without cdk-nag or the CLI: only what this mode changes.
    app = cdk.App(
        context={**CDK_JSON_CONTEXT, keys.CHAT_NOTIFICATIONS: contract.CHAT_DEFAULT_BODY},
        outdir=str(tmp_path),
    )
    stack = MaintenanceWindowAlertsStack(
        app, contract.STACK_NAME, settings=Settings.from_scope(app)
    )
    template = Template.from_stack(stack)
    (function,) = template.find_resources("AWS::Lambda::Function").values()
    variables = function["Properties"]["Environment"]["Variables"]

    assert stack.alerts.chat_topic is None
    template.resource_count_is("AWS::SNS::Topic", 1)
    assert variables[contract.ENV_CHAT_NOTIFICATIONS] == contract.CHAT_DEFAULT_BODY
    assert contract.ENV_CHAT_TOPIC_ARN not in variables
    assert contract.OUTPUT_CHAT_TOPIC_ARN not in template.find_outputs("*")


def test_powertools_layer_is_resolved_from_the_public_parameter_at_deploy_time(
    default: Synth,
) -> None:
    tested_version = importlib.metadata.version("aws-lambda-powertools")
    parameters = default.template.find_parameters(
        "*",
        {
            "Type": "AWS::SSM::Parameter::Value<String>",
            "Default": f"/aws/service/powertools/python/arm64/python3.13/{tested_version}",
        },
    )

    assert len(parameters) == 1
    assert default.properties(default.stack.alerts.function)["Layers"] == [
        {"Ref": next(iter(parameters))}
    ]


def test_powertools_layer_version_is_the_version_the_tests_use() -> None:
    assert importlib.metadata.version("aws-lambda-powertools") == constants.POWERTOOLS_VERSION


def test_function_code_is_the_plain_lambda_source(default: Synth) -> None:
    (asset,) = default.outdir.glob("asset.*")
    files = {str(path.relative_to(asset)) for path in asset.rglob("*") if path.is_file()}

    assert {"mwalerts/handler.py", "mwalerts/__init__.py", "mwalerts/contract.py"} <= files
    assert not [f for f in files if "__pycache__" in f or f.endswith(".pyc")]


def test_function_asset_holds_only_the_function_package_without_caches(tmp_path: Path) -> None:
    """Installed, the package's parent is site-packages: the asset keeps the package alone."""
    source = tmp_path / "site-packages"
    package = constants.FUNCTION_PACKAGE.name
    for name in (
        f"{package}/handler.py",
        f"{package}/sub/mod.py",
        f"{package}/__pycache__/handler.cpython-313.pyc",
        f"{package}/stray.pyc",
        "boto3/__init__.py",
        "maintenance_window_alerts/__init__.py",
        "some_module.py",
    ):
        (source / name).parent.mkdir(parents=True, exist_ok=True)
        (source / name).write_text("")
    (source / package / ".pytest_cache" / "v").mkdir(parents=True)
    app = cdk.App(outdir=str(tmp_path / "out"))
    code = lambda_.Code.from_asset(str(source), exclude=list(constants.LAMBDA_ASSET_EXCLUDE))
    lambda_.Function(
        cdk.Stack(app, "S"), "F", runtime=constants.LAMBDA_RUNTIME, handler="h.h", code=code
    )
    app.synth()

    (asset,) = (tmp_path / "out").glob("asset.*")
    assert sorted(str(p.relative_to(asset)) for p in asset.rglob("*")) == [
        package,
        f"{package}/handler.py",
        f"{package}/sub",
        f"{package}/sub/mod.py",
    ]


def test_failed_async_invocations_retry_twice_then_go_to_the_failure_queue(default: Synth) -> None:
    alerts = default.stack.alerts
    default.template.has_resource_properties(
        "AWS::Lambda::EventInvokeConfig",
        {
            "FunctionName": default.ref(alerts.function),
            "MaximumRetryAttempts": 2,
            "MaximumEventAgeInSeconds": 6 * 3600,
            "DestinationConfig": {
                "OnFailure": {"Destination": default.arn(alerts.function_failure_queue)}
            },
        },
    )


def test_function_logs_to_its_own_log_group_with_the_configured_retention(
    default: Synth, custom: Synth
) -> None:
    for synth, days in ((default, 90), (custom, 30)):
        (log_group_id,) = synth.template.find_resources("AWS::Logs::LogGroup")
        logging = synth.properties(synth.stack.alerts.function)["LoggingConfig"]

        assert logging["LogGroup"] == {"Ref": log_group_id}
        assert synth.resources[log_group_id]["Properties"]["RetentionInDays"] == days


def test_function_logs_are_encrypted_with_the_data_key_and_kept_with_it(default: Synth) -> None:
    data_key = default.stack.alerts.data_key
    (log_group,) = default.template.find_resources("AWS::Logs::LogGroup").values()

    assert log_group["Properties"]["KmsKeyId"] == default.arn(data_key)
    # The logs outlive the stack, so the key that can read them must too.
    assert log_group["DeletionPolicy"] == "Retain"
    assert default.resources[default.logical_id(data_key)]["DeletionPolicy"] == "Retain"
    assert default.properties(data_key)["EnableKeyRotation"] is True


def test_data_key_lets_cloudwatch_logs_use_it_for_this_accounts_log_groups_only(
    default: Synth,
) -> None:
    statements = default.properties(default.stack.alerts.data_key)["KeyPolicy"]["Statement"]
    services = [s for s in statements if "Service" in s.get("Principal", {})]

    assert services == [
        {
            "Sid": "AllowLogsToEncrypt",
            "Effect": "Allow",
            "Principal": {"Service": regional("logs")},
            # The actions AWS documents for a log group's key.
            "Action": sorted(
                [
                    "kms:Encrypt*",
                    "kms:Decrypt*",
                    "kms:ReEncrypt*",
                    "kms:GenerateDataKey*",
                    "kms:Describe*",
                ]
            ),
            "Resource": "*",
            "Condition": {
                "ArnLike": {
                    "kms:EncryptionContext:aws:logs:arn": arn_pattern("logs", "log-group:*")
                }
            },
        }
    ]


# --- SNS, SQS and KMS -----------------------------------------------------------------------


def test_topic_is_encrypted_with_a_rotating_customer_managed_key(default: Synth) -> None:
    alerts = default.stack.alerts

    assert default.properties(alerts.topic)["KmsMasterKeyId"] == default.arn(alerts.key)
    assert default.properties(alerts.key)["EnableKeyRotation"] is True


def test_dead_letter_queues_are_encrypted_and_keep_messages_14_days(default: Synth) -> None:
    alerts = default.stack.alerts
    for queue in (alerts.rule_dead_letter_queue, alerts.function_failure_queue):
        assert default.properties(queue) == {
            "KmsMasterKeyId": default.arn(alerts.key),
            "MessageRetentionPeriod": 14 * 24 * 3600,
        }


def test_topic_and_queues_refuse_requests_without_tls(default: Synth) -> None:
    alerts = default.stack.alerts
    deny_plain_http = Match.array_with(
        [
            Match.object_like(
                {"Effect": "Deny", "Condition": {"Bool": {"aws:SecureTransport": "false"}}}
            )
        ]
    )
    default.template.has_resource_properties(
        "AWS::SNS::TopicPolicy",
        {"Topics": [default.ref(alerts.topic)], "PolicyDocument": {"Statement": deny_plain_http}},
    )
    for queue in (alerts.rule_dead_letter_queue, alerts.function_failure_queue):
        default.template.has_resource_properties(
            "AWS::SQS::QueuePolicy",
            {"Queues": [default.ref(queue)], "PolicyDocument": {"Statement": deny_plain_http}},
        )


def test_key_lets_this_accounts_alarms_and_eventbridge_encrypt(default: Synth) -> None:
    statements = default.properties(default.stack.alerts.key)["KeyPolicy"]["Statement"]
    services = {
        s["Principal"]["Service"]: s for s in statements if "Service" in s.get("Principal", {})
    }

    assert set(services) == {"cloudwatch.amazonaws.com", "events.amazonaws.com"}
    for statement in services.values():
        assert statement["Action"] == ["kms:Decrypt", "kms:GenerateDataKey"]
    alarms = services["cloudwatch.amazonaws.com"]["Condition"]
    assert alarms["StringEquals"] == {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}
    source_arn = alarms["ArnLike"]["aws:SourceArn"]["Fn::Join"][1]
    assert ":cloudwatch:" in source_arn
    assert source_arn[-1] == ":alarm:*"
    # AWS documents EventBridge's statement without source conditions (its KMS requests carry
    # none); the dead-letter queue's own policy admits only this rule (next test).
    assert "Condition" not in services["events.amazonaws.com"]


def test_eventbridge_may_send_to_the_rule_dead_letter_queue_from_these_rules_only(
    default: Synth,
) -> None:
    alerts = default.stack.alerts
    (policy,) = default.template.find_resources(
        "AWS::SQS::QueuePolicy",
        {"Properties": {"Queues": [default.ref(alerts.rule_dead_letter_queue)]}},
    ).values()
    statements = policy["Properties"]["PolicyDocument"]["Statement"]
    allowed = [
        {k: v for k, v in s.items() if k != "Sid"} for s in statements if s["Effect"] == "Allow"
    ]

    assert allowed == [
        {
            "Effect": "Allow",
            "Principal": {"Service": "events.amazonaws.com"},
            "Action": "sqs:SendMessage",
            "Resource": default.arn(alerts.rule_dead_letter_queue),
            "Condition": {"ArnEquals": {"aws:SourceArn": default.arn(rule)}},
        }
        for rule in (alerts.rule, alerts.schedule)
    ]


def test_email_subscriptions_come_from_the_settings(default: Synth, custom: Synth) -> None:
    subscriptions = custom.template.find_resources("AWS::SNS::Subscription")

    assert sorted(s["Properties"]["Endpoint"] for s in subscriptions.values()) == sorted(
        CUSTOM_EMAILS
    )
    for subscription in subscriptions.values():
        assert subscription["Properties"]["Protocol"] == "email"
        assert subscription["Properties"]["TopicArn"] == custom.ref(custom.stack.alerts.topic)
    default.template.resource_count_is("AWS::SNS::Subscription", 0)


def test_only_the_function_and_this_accounts_alarms_may_publish_to_the_topic(
    default: Synth,
) -> None:
    alerts = default.stack.alerts
    assert alerts.function.role is not None
    role_arn = default.arn(alerts.function.role)
    (policy,) = default.template.find_resources(
        "AWS::SNS::TopicPolicy", {"Properties": {"Topics": [default.ref(alerts.topic)]}}
    ).values()
    statements = {s["Sid"]: s for s in policy["Properties"]["PolicyDocument"]["Statement"]}
    publish = {"Action": "sns:Publish", "Resource": default.ref(alerts.topic)}

    assert statements["AllowAlarmsToPublish"] == {
        "Sid": "AllowAlarmsToPublish",
        "Effect": "Allow",
        "Principal": {"Service": "cloudwatch.amazonaws.com"},
        "Condition": {
            "StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}},
            "ArnLike": {"aws:SourceArn": ALARM_ARNS},
        },
        **publish,
    }
    assert statements["AllowFunctionToPublish"] == {
        "Sid": "AllowFunctionToPublish",
        "Effect": "Allow",
        "Principal": {"AWS": role_arn},
        **publish,
    }
    # Denied unless from the function's role or from an alarm of this account and region: an IAM
    # principal's request has no aws:SourceArn, so the negated condition holds and it is denied.
    assert statements["DenyPublishByAnyoneElse"] == {
        "Sid": "DenyPublishByAnyoneElse",
        "Effect": "Deny",
        "Principal": "*",
        "Condition": {
            "ArnNotEquals": {"aws:PrincipalArn": role_arn},
            "ArnNotLike": {"aws:SourceArn": ALARM_ARNS},
        },
        **publish,
    }
    assert statements.keys() == {
        "AllowPublishThroughSSLOnly",
        "AllowAlarmsToPublish",
        "AllowFunctionToPublish",
        "DenyPublishByAnyoneElse",
    }


def topic_policy(synth: Synth, topic: IConstruct) -> dict[str, dict[str, Any]]:
    """The statements of a topic's policy, by Sid."""
    (policy,) = synth.template.find_resources(
        "AWS::SNS::TopicPolicy", {"Properties": {"Topics": [synth.ref(topic)]}}
    ).values()
    return {s["Sid"]: s for s in policy["Properties"]["PolicyDocument"]["Statement"]}


def test_chat_topic_exists_only_with_separate_topic_and_is_locked_down_like_the_alert_topic(
    default: Synth, custom: Synth
) -> None:
    assert default.stack.alerts.chat_topic is None
    default.template.resource_count_is("AWS::SNS::Topic", 1)
    alerts = custom.stack.alerts
    chat = alerts.chat_topic
    assert chat is not None
    custom.template.resource_count_is("AWS::SNS::Topic", 2)

    # Encrypted with the rotating message key, like the alert topic.
    assert custom.properties(chat)["KmsMasterKeyId"] == custom.arn(alerts.key)
    # The alert topic's policy, statement for statement: TLS only, and only the function's role
    # and this account's alarms may publish (anyone else is denied).
    alert_policy = json.dumps(topic_policy(custom, alerts.topic))
    chat_policy = topic_policy(custom, chat)
    assert chat_policy == json.loads(
        alert_policy.replace(json.dumps(custom.ref(alerts.topic)), json.dumps(custom.ref(chat)))
    )
    assert set(chat_policy) == {
        "AllowPublishThroughSSLOnly",
        "AllowAlarmsToPublish",
        "AllowFunctionToPublish",
        "DenyPublishByAnyoneElse",
    }
    # The function may publish to both topics; a chat channel configuration subscribes itself.
    assert role_permissions(custom)["sns:Publish"] == [custom.ref(alerts.topic), custom.ref(chat)]
    assert not custom.template.find_resources(
        "AWS::SNS::Subscription", {"Properties": {"TopicArn": custom.ref(chat)}}
    )


# --- DynamoDB -------------------------------------------------------------------------------


def test_idempotency_table_is_on_demand_keyed_by_id_and_expires_records(default: Synth) -> None:
    table = default.properties(default.stack.alerts.table)

    assert table["BillingMode"] == "PAY_PER_REQUEST"
    assert table["KeySchema"] == [
        {"AttributeName": contract.IDEMPOTENCY_PARTITION_KEY, "KeyType": "HASH"}
    ]
    assert table["AttributeDefinitions"] == [
        {"AttributeName": contract.IDEMPOTENCY_PARTITION_KEY, "AttributeType": "S"}
    ]
    assert table["TimeToLiveSpecification"] == {
        "AttributeName": contract.IDEMPOTENCY_TTL_ATTRIBUTE,
        "Enabled": True,
    }
    assert table["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}


def test_idempotency_table_is_encrypted_with_the_rotating_data_key(default: Synth) -> None:
    alerts = default.stack.alerts

    assert default.properties(alerts.table)["SSESpecification"] == {
        "SSEEnabled": True,
        "SSEType": "KMS",
        "KMSMasterKeyId": default.arn(alerts.data_key),
    }
    assert default.properties(alerts.data_key)["EnableKeyRotation"] is True
    assert default.logical_id(alerts.data_key) != default.logical_id(alerts.key)
    # A 15-day cache of what was alerted on: deleted with the stack.
    assert default.resources[default.logical_id(alerts.table)]["DeletionPolicy"] == "Delete"


# --- IAM ------------------------------------------------------------------------------------


def test_function_role_has_exactly_the_permissions_it_needs(default: Synth) -> None:
    alerts = default.stack.alerts
    key, topic, queue = alerts.key, alerts.topic, alerts.function_failure_queue
    (log_group_id,) = default.template.find_resources("AWS::Logs::LogGroup")
    log_group = {"Fn::GetAtt": [log_group_id, "Arn"]}

    assert role_permissions(default) == {
        # The two SSM actions with a resource type (maintenancewindow): this account's and
        # region's windows ...
        "ssm:DescribeMaintenanceWindowExecutions": [arn_pattern("ssm", "maintenancewindow/*")],
        "ssm:GetMaintenanceWindow": [arn_pattern("ssm", "maintenancewindow/*")],
        # ... the others support no resource-level permissions.
        "ssm:DescribeMaintenanceWindows": ["*"],
        "ssm:DescribeMaintenanceWindowExecutionTasks": ["*"],
        "ssm:DescribeMaintenanceWindowExecutionTaskInvocations": ["*"],
        "ssm:GetCommandInvocation": ["*"],
        # Exactly the item actions Powertools' idempotency layer calls, on the table only.
        **{
            f"dynamodb:{action}": [default.arn(alerts.table)]
            for action in ("GetItem", "PutItem", "UpdateItem", "DeleteItem")
        },
        "sns:Publish": [default.ref(topic)],
        "sqs:SendMessage": [default.arn(queue)],
        "sqs:GetQueueAttributes": [default.arn(queue)],
        "sqs:GetQueueUrl": [default.arn(queue)],
        # The message key (topic and queue), and the data key (the table, through DynamoDB).
        "kms:Decrypt": [default.arn(key), default.arn(alerts.data_key)],
        "kms:Encrypt": [default.arn(key)],
        "kms:GenerateDataKey*": [default.arn(key)],
        "kms:ReEncrypt*": [default.arn(key)],
        "logs:CreateLogStream": [log_group],
        "logs:PutLogEvents": [log_group],
        # X-Ray supports no resource-level permissions.
        "xray:PutTraceSegments": ["*"],
        "xray:PutTelemetryRecords": ["*"],
    }


def test_ssm_read_policy_scopes_windows_with_pseudo_parameters_in_any_environment(
    custom: Synth,
) -> None:
    # The custom synth has an account and a region; the ARN still reads them at deploy time, so
    # the policy (and the ID of its acknowledged cdk-nag finding) is the same everywhere.
    (policy,) = custom.template.find_resources("AWS::IAM::ManagedPolicy").values()
    statements = policy["Properties"]["PolicyDocument"]["Statement"]

    assert [(s["Action"], s["Resource"], s.get("Condition")) for s in statements] == [
        (
            ["ssm:DescribeMaintenanceWindowExecutions", "ssm:GetMaintenanceWindow"],
            arn_pattern("ssm", "maintenancewindow/*"),
            None,
        ),
        (
            [
                "ssm:DescribeMaintenanceWindowExecutionTaskInvocations",
                "ssm:DescribeMaintenanceWindowExecutionTasks",
                "ssm:DescribeMaintenanceWindows",
                "ssm:GetCommandInvocation",
            ],
            "*",
            # "*" narrowed to this region's SSM.
            {"StringEquals": {"aws:RequestedRegion": {"Ref": "AWS::Region"}}},
        ),
    ]
    assert "eu-west-1" not in json.dumps(policy)


def test_function_may_not_read_command_output_when_alerts_quote_none(tmp_path: Path) -> None:
    # Without cdk-nag or the CLI: only what errorDetailsLimit 0 changes.
    app = cdk.App(context={**CDK_JSON_CONTEXT, keys.ERROR_DETAILS_LIMIT: 0}, outdir=str(tmp_path))
    stack = MaintenanceWindowAlertsStack(
        app, contract.STACK_NAME, settings=Settings.from_scope(app)
    )
    (policy,) = Template.from_stack(stack).find_resources("AWS::IAM::ManagedPolicy").values()
    actions = [a for s in policy["Properties"]["PolicyDocument"]["Statement"] for a in s["Action"]]

    assert "ssm:GetCommandInvocation" not in actions
    assert "ssm:DescribeMaintenanceWindowExecutionTaskInvocations" in actions


def test_function_may_use_the_data_key_only_through_dynamodb(default: Synth) -> None:
    data_key = default.arn(default.stack.alerts.data_key)

    assert [s for s in role_statements(default) if data_key in as_list(s["Resource"])] == [
        {
            "Effect": "Allow",
            # DynamoDB decrypts the table key on the caller's behalf; it generates it itself.
            "Action": "kms:Decrypt",
            "Resource": data_key,
            "Condition": {"StringEquals": {"kms:ViaService": regional("dynamodb")}},
        }
    ]


def test_function_role_has_no_aws_managed_or_inline_policies(default: Synth) -> None:
    role = default.stack.alerts.function.role
    assert role is not None
    properties = default.properties(role)

    assert "ManagedPolicyArns" not in properties  # no AWSLambdaBasicExecutionRole
    assert "Policies" not in properties
    assert "RoleName" not in properties  # a fixed name only in central mode
    # The one managed policy is this construct's own SSM read policy.
    (managed,) = default.template.find_resources("AWS::IAM::ManagedPolicy").values()
    assert managed["Properties"]["Roles"] == [default.ref(role)]


def test_no_policy_allows_a_wildcard_action(default: Synth) -> None:
    allowed = [(kind, s) for kind, s in policy_statements(default) if s["Effect"] == "Allow"]
    wildcards = [
        (kind, statement)
        for kind, statement in allowed
        if any(a == "*" or a.endswith(":*") for a in as_list(statement["Action"]))
    ]

    # The only ones are KMS's default key policies of both keys: each delegates the key's use to
    # this account's IAM.
    assert len(wildcards) == 2
    for kind, statement in wildcards:
        assert kind == "AWS::KMS::Key"
        assert statement["Action"] == "kms:*"
        assert statement["Principal"]["AWS"]["Fn::Join"][1][-1] == ":root"
    assert len(allowed) > 10  # the check above saw the policies


# --- CloudWatch -----------------------------------------------------------------------------


def test_alarm_sums_the_fleet_wide_metrics_of_the_alert_statuses(
    default: Synth, custom: Synth
) -> None:
    for synth, namespace, statuses in (
        (default, contract.DEFAULT_METRICS_NAMESPACE, contract.DEFAULT_ALERT_STATUSES),
        (custom, "Acme/Patching", ("FAILED", "TIMED_OUT")),
    ):
        expression, metrics = alarm_metrics(synth)

        assert expression == " + ".join(f"m{i}" for i in range(len(statuses)))
        assert metrics == [
            {
                # No dimensions: the series summed over all windows.
                "Metric": {"Namespace": namespace, "MetricName": contract.STATUS_METRICS[status]},
                "Period": FIVE_MINUTES,
                "Stat": "Sum",
            }
            for status in statuses
        ]


def test_alarm_fires_on_one_failed_invocation_and_notifies_the_topic(default: Synth) -> None:
    alerts = default.stack.alerts
    assert alerts.alarm is not None
    alarm = default.properties(alerts.alarm)

    assert alarm["Threshold"] == 0
    assert alarm["ComparisonOperator"] == "GreaterThanThreshold"
    assert alarm["EvaluationPeriods"] == 1
    assert alarm["TreatMissingData"] == "notBreaching"
    assert alarm["AlarmActions"] == [default.ref(alerts.topic)]
    assert "On-call:" in alarm["AlarmDescription"]


def health_alarm(synth: Synth, name: str) -> dict[str, Any]:
    alarms = synth.stack.alerts.health_alarms
    alarm = {
        "errors": alarms.errors,
        "throttles": alarms.throttles,
        "rule_dlq": alarms.dead_letters[0],
        "function_dlq": alarms.dead_letters[1],
        "sweep": alarms.sweep,
    }[name]
    return synth.properties(alarm)


@pytest.mark.parametrize(
    ("name", "namespace", "metric", "statistic", "dimension"),
    [
        ("errors", "AWS/Lambda", "Errors", "Sum", "function"),
        ("throttles", "AWS/Lambda", "Throttles", "Sum", "function"),
        ("rule_dlq", "AWS/SQS", "ApproximateNumberOfMessagesVisible", "Maximum", "rule_dlq"),
        ("function_dlq", "AWS/SQS", "ApproximateNumberOfMessagesVisible", "Maximum", "fn_dlq"),
    ],
)
def test_health_alarm_fires_on_the_first_error_throttle_or_dead_letter(
    default: Synth, name: str, namespace: str, metric: str, statistic: str, dimension: str
) -> None:
    alerts = default.stack.alerts
    alarm = health_alarm(default, name)
    dimensions = {
        "function": [{"Name": "FunctionName", "Value": default.ref(alerts.function)}],
        "rule_dlq": [
            {
                "Name": "QueueName",
                "Value": {
                    "Fn::GetAtt": [default.logical_id(alerts.rule_dead_letter_queue), "QueueName"]
                },
            }
        ],
        "fn_dlq": [
            {
                "Name": "QueueName",
                "Value": {
                    "Fn::GetAtt": [default.logical_id(alerts.function_failure_queue), "QueueName"]
                },
            }
        ],
    }[dimension]

    assert (alarm["Namespace"], alarm["MetricName"], alarm["Dimensions"]) == (
        namespace,
        metric,
        dimensions,
    )
    assert (alarm["Statistic"], alarm["Period"], alarm["EvaluationPeriods"]) == (
        statistic,
        FIVE_MINUTES,
        1,
    )
    assert (alarm["ComparisonOperator"], alarm["Threshold"]) == ("GreaterThanThreshold", 0)
    assert alarm["TreatMissingData"] == "notBreaching"
    assert alarm["AlarmActions"] == [default.ref(alerts.topic)]
    assert "On-call:" in alarm["AlarmDescription"]
    if name.endswith("dlq") or name == "errors":
        assert "`make redrive`" in alarm["AlarmDescription"]


def test_sweep_alarm_fires_when_no_sweep_completed_in_two_intervals(
    synth_and_interval: tuple[Synth, int],
) -> None:
    synth, minutes = synth_and_interval
    alarm = health_alarm(synth, "sweep")

    assert alarm["Namespace"] == synth.stack.alerts.settings.metrics_namespace
    assert alarm["MetricName"] == contract.METRIC_SWEEP_RUNS
    assert "Dimensions" not in alarm  # the fleet-wide series
    assert (alarm["Statistic"], alarm["Period"], alarm["EvaluationPeriods"]) == (
        "Sum",
        2 * minutes * 60,
        1,
    )
    assert alarm["Period"] % 60 == 0
    assert alarm["Period"] <= 86400  # CloudWatch's limit for one evaluation
    assert (alarm["ComparisonOperator"], alarm["Threshold"]) == ("LessThanThreshold", 1)
    # A sweep that does not run emits nothing: no data is the failure.
    assert alarm["TreatMissingData"] == "breaching"
    assert alarm["AlarmActions"] == [synth.ref(synth.stack.alerts.topic)]
    assert f"every {minutes} minutes" in alarm["AlarmDescription"]


def alarms_by_id(synth: Synth, prefix: str) -> dict[str, dict[str, Any]]:
    """Window ID -> properties of the alarms whose construct id is prefix + window ID."""
    return {
        a.node.id.removeprefix(prefix): synth.properties(a)
        for a in synth.stack.alerts.alarms
        if a.node.id.startswith(prefix)
    }


def test_window_alarm_fires_when_that_windows_failed_invocations_reach_its_threshold(
    default: Synth, custom: Synth
) -> None:
    alarms = alarms_by_id(custom, constants.WINDOW_ALARM_ID_PREFIX)

    assert alarms.keys() == WINDOW_THRESHOLDS.keys()
    for window_id, alarm in alarms.items():
        queries = alarm["Metrics"]
        (expression,) = [q for q in queries if "Expression" in q]
        # The alert statuses' metrics of this window (FAILED,TIMED_OUT here), summed like the
        # fleet-wide alarm's.
        assert expression["Expression"] == "m0 + m1"
        assert [q["MetricStat"] for q in queries if "MetricStat" in q] == [
            {
                "Metric": {
                    "Namespace": "Acme/Patching",
                    "MetricName": metric,
                    "Dimensions": [{"Name": contract.DIMENSION_WINDOW_ID, "Value": window_id}],
                },
                "Period": FIVE_MINUTES,
                "Stat": "Sum",
            }
            for metric in (
                contract.METRIC_INVOCATIONS_FAILED,
                contract.METRIC_INVOCATIONS_TIMED_OUT,
            )
        ]
        assert alarm["Threshold"] == WINDOW_THRESHOLDS[window_id]
        assert alarm["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
        assert alarm["EvaluationPeriods"] == 1
        assert alarm["TreatMissingData"] == "notBreaching"
        assert alarm["AlarmActions"] == [custom.ref(custom.stack.alerts.topic)]
        assert window_id in alarm["AlarmDescription"]
        assert f"{WINDOW_THRESHOLDS[window_id]} or more" in alarm["AlarmDescription"]
    assert default.stack.alerts.window_alarms == ()


def test_missed_window_alarm_fires_when_no_execution_ended_within_the_gap(
    default: Synth, custom: Synth
) -> None:
    alarms = alarms_by_id(custom, constants.MISSED_WINDOW_ALARM_ID_PREFIX)

    assert alarms.keys() == GAPS.keys()
    for window_id, alarm in alarms.items():
        gap, period, periods = GAPS[window_id]
        assert (alarm["Namespace"], alarm["MetricName"], alarm["Dimensions"]) == (
            "Acme/Patching",
            contract.METRIC_WINDOW_EXECUTIONS,
            [{"Name": contract.DIMENSION_WINDOW_ID, "Value": window_id}],
        )
        assert alarm["Statistic"] == "Sum"
        # Periods that together are exactly the gap; all of them must breach.
        assert (alarm["Period"], alarm["EvaluationPeriods"], alarm["DatapointsToAlarm"]) == (
            period,
            periods,
            periods,
        )
        # CloudWatch's limits (PutMetricAlarm): whole minutes, at most 7 days in all, and at
        # most a day in all for periods under an hour.
        assert alarm["Period"] % 60 == 0
        assert alarm["Period"] * alarm["EvaluationPeriods"] <= 7 * 86400
        assert alarm["Period"] >= 3600 or alarm["Period"] * alarm["EvaluationPeriods"] <= 86400
        # A period with an execution has Sum >= 1; one without has no data, which breaches.
        assert (alarm["ComparisonOperator"], alarm["Threshold"]) == ("LessThanThreshold", 1)
        assert alarm["TreatMissingData"] == "breaching"
        assert alarm["AlarmActions"] == [custom.ref(custom.stack.alerts.topic)]
        assert f"{window_id} has not completed an execution in {gap}" in alarm["AlarmDescription"]
    assert default.stack.alerts.missed_window_alarms == ()


def test_every_alarm_notifies_the_topic_and_says_what_to_do(default: Synth, custom: Synth) -> None:
    # Failed invocations, errors, throttles, 2 queues, sweep; and per-window and missed-window.
    for synth, count in ((default, 6), (custom, 6 + len(WINDOW_THRESHOLDS) + len(GAPS))):
        alarms = synth.template.find_resources("AWS::CloudWatch::Alarm")

        assert len(alarms) == len(synth.stack.alerts.alarms) == count
        for alarm in alarms.values():
            assert alarm["Properties"]["AlarmActions"] == [synth.ref(synth.stack.alerts.topic)]
            description = alarm["Properties"]["AlarmDescription"]
            assert "On-call: 1)" in description or "On-call: look" in description
            assert len(description) <= 1024  # CloudWatch's limit


def test_dashboard_rows_fill_the_24_unit_grid(default: Synth, custom: Synth) -> None:
    for synth in (default, custom):
        rows: dict[int, list[dict[str, Any]]] = defaultdict(list)
        for widget in dashboard(synth)["widgets"]:
            rows[widget["y"]].append(widget)

        tops = sorted(rows)
        for top, below in zip(tops, [*tops[1:], None], strict=True):
            row = sorted(rows[top], key=lambda w: w["x"])
            # Side by side, from the left edge to the right one, all of one height ...
            assert [w["x"] for w in row] == [
                sum(w["width"] for w in row[:i]) for i in range(len(row))
            ]
            assert sum(w["width"] for w in row) == GRID_WIDTH
            assert len({w["height"] for w in row}) == 1
            # ... and the next row starts right below.
            assert below is None or below == top + row[0]["height"]


def test_dashboard_lists_the_windows_with_the_most_failed_invocations(
    default: Synth, custom: Synth
) -> None:
    title = "Windows with the most failed invocations (top 10)"
    for synth, namespace, terms in (
        (
            default,
            contract.DEFAULT_METRICS_NAMESPACE,
            '(MetricName="InvocationsFailed" OR MetricName="InvocationsTimedOut" '
            'OR MetricName="InvocationsCancelled")',
        ),
        (
            custom,
            "Acme/Patching",
            '(MetricName="InvocationsFailed" OR MetricName="InvocationsTimedOut")',
        ),
    ):
        table = widgets(synth)[title]
        ((query,),) = table["properties"]["metrics"]

        # A SEARCH over the WindowId dimension finds windows created after the deployment;
        # SORT keeps the ten with the highest sum over the dashboard's time range.
        assert query["expression"] == (
            f"SORT(SEARCH('{{\"{namespace}\",{contract.DIMENSION_WINDOW_ID}}} {terms}', "
            f"'Sum', {FIVE_MINUTES}), SUM, DESC, 10)"
        )
        assert query["label"] == "${PROP('Dim.WindowId')} ${PROP('MetricName')}"
        assert table["properties"]["view"] == "table"
        assert table["properties"]["table"]["summaryColumns"] == ["SUM"]
        assert table["properties"]["table"]["showTimeSeriesData"] is False


def test_dashboard_failure_rate_is_the_alert_statuses_share_of_all_invocations(
    default: Synth, custom: Synth
) -> None:
    for synth, namespace, statuses in (
        (default, contract.DEFAULT_METRICS_NAMESPACE, contract.DEFAULT_ALERT_STATUSES),
        (custom, "Acme/Patching", ("FAILED", "TIMED_OUT")),
    ):
        graph = widgets(synth)["Failure rate, all windows (%)"]["properties"]
        (expression, *inputs) = graph["metrics"]
        failed = [f"m{i}" for i in range(len(statuses))]

        assert expression[0]["expression"] == f"100 * ({' + '.join(failed)}) / total"
        assert inputs == [
            [namespace, metric, {"id": query_id, "visible": False, "stat": "Sum"}]
            for query_id, metric in [
                *zip(failed, (contract.STATUS_METRICS[s] for s in statuses), strict=True),
                ("total", contract.METRIC_INVOCATIONS),
            ]
        ]
        assert graph["yAxis"]["left"]["min"] == 0


def test_dashboard_finds_every_window_by_search(default: Synth, custom: Synth) -> None:
    for synth, namespace in (
        (default, contract.DEFAULT_METRICS_NAMESPACE),
        (custom, "Acme/Patching"),
    ):
        graphs = widgets(synth)
        for title, metric, statistic in (
            ("Executions per window", contract.METRIC_WINDOW_EXECUTIONS, "Sum"),
            (
                "Window execution duration (max, seconds)",
                contract.METRIC_WINDOW_EXECUTION_DURATION,
                "Maximum",
            ),
        ):
            ((query,),) = graphs[title]["properties"]["metrics"]

            assert query["expression"] == (
                f'SEARCH(\'{{"{namespace}",{contract.DIMENSION_WINDOW_ID}}} '
                f"MetricName=\"{metric}\"', '{statistic}', {FIVE_MINUTES})"
            )
            assert query["label"] == "${PROP('Dim.WindowId')}"


def test_dashboard_lists_the_latest_failed_invocations_from_the_functions_logs(
    default: Synth,
) -> None:
    table = widgets(default)["Latest failed invocations"]
    log_group = placeholder(default, default.stack.alerts.log_group)

    assert table["type"] == "log"
    assert table["properties"]["view"] == "table"
    # The query the alerts link to, on the function's own log group, newest first.
    assert table["properties"]["query"] == (
        f"SOURCE '{log_group}' | {contract.FAILED_INVOCATIONS_QUERY}\n| limit 50"
    )
    assert table["width"] == GRID_WIDTH


def test_dashboard_shows_the_state_of_every_alarm(default: Synth, custom: Synth) -> None:
    for synth in (default, custom):
        status = widgets(synth)["Alarms (those in alarm first)"]
        alarms = synth.stack.alerts.alarms

        assert status["type"] == "alarm"
        assert sorted(status["properties"]["alarms"]) == sorted(
            placeholder(synth, alarm, "Arn") for alarm in alarms
        )
        assert len(alarms) == len(synth.template.find_resources("AWS::CloudWatch::Alarm"))
        assert status["properties"]["sortBy"] == "stateUpdatedTimestamp"  # alarming ones first
        assert status["height"] >= 1 + 2 * -(-len(alarms) // 4)  # room for every tile


def test_dashboard_shows_fleet_wide_invocations_the_function_and_the_sweep(
    default: Synth, custom: Synth
) -> None:
    for synth, minutes in ((default, 15), (custom, 60)):
        graphs = {t: w["properties"].get("metrics") for t, w in widgets(synth).items()}
        namespace = synth.stack.alerts.settings.metrics_namespace
        function = graphs["Alert function: errors, throttles and duration"]
        not_alerted = graphs["Events not alerted on: dead letters, invalid events"]
        sweep = graphs["Reconciliation sweep: runs and executions it recovered"]

        assert [line[:2] for line in graphs["Invocations by status, all windows"]] == [
            [namespace, metric] for metric in contract.STATUS_METRICS.values()
        ]
        assert [line[1] for line in function] == ["Errors", "Throttles", "Duration"]
        assert [line[1] for line in not_alerted] == [
            "ApproximateNumberOfMessagesVisible",
            "ApproximateNumberOfMessagesVisible",
            contract.METRIC_INVALID_EVENTS,
        ]
        assert [line[:2] for line in sweep] == [
            [namespace, metric]
            for metric in (contract.METRIC_SWEEP_RUNS, contract.METRIC_SWEEP_RECOVERED)
        ]
        assert [line[-1]["period"] for line in sweep] == [minutes * 60] * 2


# --- Outputs --------------------------------------------------------------------------------


def test_outputs_name_the_topics_function_dashboard_and_queues(
    default: Synth, custom: Synth
) -> None:
    for synth in (default, custom):
        alerts = synth.stack.alerts
        outputs = {k: v["Value"] for k, v in synth.template.find_outputs("*").items()}
        # The chat topic's ARN only when there is one (chatNotifications "separate-topic").
        chat = (
            {}
            if alerts.chat_topic is None
            else {contract.OUTPUT_CHAT_TOPIC_ARN: synth.ref(alerts.chat_topic)}
        )

        assert outputs == {
            contract.OUTPUT_TOPIC_ARN: synth.ref(alerts.topic),
            contract.OUTPUT_FUNCTION_NAME: synth.ref(alerts.function),
            contract.OUTPUT_DASHBOARD_NAME: synth.ref(alerts.dashboard),
            contract.OUTPUT_RULE_DLQ_URL: synth.ref(alerts.rule_dead_letter_queue),
            contract.OUTPUT_FUNCTION_DLQ_URL: synth.ref(alerts.function_failure_queue),
            **chat,
        }
    assert contract.OUTPUT_CHAT_TOPIC_ARN in custom.template.find_outputs("*")


def test_construct_works_in_any_stack_of_a_users_own_app(tmp_path: Path) -> None:
    """No cdk.json, no feature flags, not our stack: the construct alone passes cdk-nag, and
    add_outputs gives its stack the outputs the operator command reads (redrive --stack)."""
    app = cdk.App(outdir=str(tmp_path))
    stack = cdk.Stack(app, "TheirStack")
    alerts = MaintenanceWindowAlerts(
        stack, "Alerts", settings=Settings(alert_emails=("ops@example.com",))
    )
    add_compliance_checks(app)
    outputs_of_the_construct_alone = [
        c for c in stack.node.children if isinstance(c, cdk.CfnOutput)
    ]
    add_outputs(alerts)

    template = app.synth().get_stack_artifact(stack.artifact_id).template  # raises on a finding
    report = json.loads((tmp_path / "validation-report.json").read_text())
    outputs = {k: v["Value"] for k, v in template["Outputs"].items()}

    def ref(construct: IConstruct) -> dict[str, str]:
        cfn = construct.node.default_child
        assert isinstance(cfn, cdk.CfnElement)
        return {"Ref": str(stack.resolve(stack.get_logical_id(cfn)))}

    assert report["pluginReports"] == []
    assert outputs_of_the_construct_alone == []
    assert outputs == {
        contract.OUTPUT_TOPIC_ARN: ref(alerts.topic),
        contract.OUTPUT_FUNCTION_NAME: ref(alerts.function),
        contract.OUTPUT_DASHBOARD_NAME: ref(alerts.dashboard),
        contract.OUTPUT_RULE_DLQ_URL: ref(alerts.rule_dead_letter_queue),
        contract.OUTPUT_FUNCTION_DLQ_URL: ref(alerts.function_failure_queue),
    }
    assert {*contract.DEAD_LETTER_QUEUE_OUTPUTS, contract.OUTPUT_FUNCTION_NAME} <= set(outputs)


# --- Compliance, linting and the CLI --------------------------------------------------------


def test_cdk_nag_finds_nothing_unacknowledged(default: Synth, custom: Synth) -> None:
    for synth in (default, custom):  # custom has e-mail subscriptions
        report = json.loads((synth.outdir / "validation-report.json").read_text())
        assert report["pluginReports"] == []  # the synth ran the packs and they found nothing
        for pack in (AwsSolutionsChecks(), ServerlessChecks(), NIST80053R5Checks()):
            result = pack.validate_scope(synth.stack)
            assert result.success, [v.rule_name for v in result.violations]


def test_every_acknowledgement_is_on_one_resource_and_says_why(
    default: Synth, custom: Synth
) -> None:
    rule_dlq, function_dlq = (
        "Alerts/RuleDeadLetterQueue/Resource",
        "Alerts/FunctionFailureQueue/Resource",
    )
    default_policy = "Alerts/FunctionRole/DefaultPolicy/Resource"
    ssm_read, function = "Alerts/ReadMaintenanceWindows/Resource", "Alerts/Function/Resource"
    windows = "arn:<AWS::Partition>:ssm:<AWS::Region>:<AWS::AccountId>:maintenancewindow/*"
    expected = {
        (rule_dlq, "AwsSolutions-SQS3"),
        (rule_dlq, "Serverless-SQSRedrivePolicy"),
        (function_dlq, "AwsSolutions-SQS3"),
        (function_dlq, "Serverless-SQSRedrivePolicy"),
        (ssm_read, "AwsSolutions-IAM5[Resource::*]"),
        (ssm_read, f"AwsSolutions-IAM5[Resource::{windows}]"),
        (default_policy, "AwsSolutions-IAM5[Resource::*]"),
        (default_policy, "AwsSolutions-IAM5[Action::kms:GenerateDataKey*]"),
        (default_policy, "AwsSolutions-IAM5[Action::kms:ReEncrypt*]"),
        (default_policy, "NIST.800.53.R5-IAMNoInlinePolicy"),
        (function, "AwsSolutions-L1"),
        (function, "Serverless-LambdaLatestVersion"),
        (function, "Serverless-LambdaDLQ"),
        (function, "NIST.800.53.R5-LambdaDLQ"),
        (function, "NIST.800.53.R5-LambdaInsideVPC"),
        (function, "NIST.800.53.R5-LambdaConcurrency"),
        ("Alerts/IdempotencyTable/Resource", "NIST.800.53.R5-DynamoDBInBackupPlan"),
    }  # fmt: skip
    subscriptions = {
        (f"Alerts/AlertTopic/{email}/Resource", "Serverless-SNSRedrivePolicy")
        for email in CUSTOM_EMAILS
    }
    for synth, acknowledged in ((default, expected), (custom, expected | subscriptions)):
        found = [
            (construct, rule.removeprefix("Annotation::"), reason)
            for construct in synth.stack.node.find_all()
            for entry in construct.node.metadata
            if entry.type == Validations.ACKNOWLEDGED_RULES_METADATA_KEY
            for rule, reason in entry.data.items()
        ]

        assert all(isinstance(construct, cdk.CfnResource) for construct, _, _ in found)
        assert all(len(reason) > 60 for _, _, reason in found)
        assert {
            (construct.node.path.removeprefix(f"{contract.STACK_NAME}/"), rule)
            for construct, rule, _ in found
        } == acknowledged


def test_compliance_checks_fail_synth_on_a_finding_nobody_acknowledged(tmp_path: Path) -> None:
    app = cdk.App(context=CDK_JSON_CONTEXT, outdir=str(tmp_path))
    stack = MaintenanceWindowAlertsStack(
        app, contract.STACK_NAME, settings=Settings.from_scope(app)
    )
    sqs.Queue(stack, "Unencrypted")  # no TLS enforcement, no redrive policy
    add_compliance_checks(app)

    with pytest.raises(RuntimeError, match="ValidationFailed") as raised:
        app.synth()

    assert "Acknowledge with 'AwsSolutions::AwsSolutions-SQS4'" in str(raised.value)

    report = json.loads((tmp_path / "validation-report.json").read_text())
    violations = {
        v["ruleName"]: {c["constructPath"] for c in v["violatingConstructs"]}
        for plugin in report["pluginReports"]
        for v in plugin["violations"]
    }
    assert {"AwsSolutions-SQS3", "AwsSolutions-SQS4", "Serverless-SQSRedrivePolicy"} <= set(
        violations
    )
    assert set().union(*violations.values()) == {f"{contract.STACK_NAME}/Unencrypted/Resource"}


def test_nist_pack_runs_on_every_synth(tmp_path: Path) -> None:
    app = cdk.App(context=CDK_JSON_CONTEXT, outdir=str(tmp_path))
    stack = MaintenanceWindowAlertsStack(
        app, contract.STACK_NAME, settings=Settings.from_scope(app)
    )
    # Unencrypted logs: a finding of the NIST 800-53 pack, which the other two do not check.
    logs.LogGroup(stack, "UnencryptedLogs", retention=logs.RetentionDays.ONE_MONTH)
    add_compliance_checks(app)

    with pytest.raises(RuntimeError, match="ValidationFailed") as raised:
        app.synth()

    assert "NIST.800.53.R5-CloudWatchLogGroupEncrypted" in str(raised.value)
    report = json.loads((tmp_path / "validation-report.json").read_text())
    assert {
        (v["ruleName"], c["constructPath"])
        for plugin in report["pluginReports"]
        for v in plugin["violations"]
        for c in v["violatingConstructs"]
    } == {
        (
            "NIST.800.53.R5-CloudWatchLogGroupEncrypted",
            f"{contract.STACK_NAME}/UnencryptedLogs/Resource",
        )
    }


def test_cfn_lint_finds_no_errors_or_warnings(default: Synth, custom: Synth) -> None:
    for synth in (default, custom):
        matches = cfn_lint.lint(
            json.dumps(synth.template.to_json()),
            # W3005: CDK makes a function DependsOn its role although it already GetAtt's it.
            config=cfn_lint.ManualArgs(ignore_checks=["W3005"]),
        )

        assert [str(m) for m in matches if not m.rule.id.startswith("I")] == []


def test_pinned_cdk_cli_synthesizes_offline(tmp_path: Path) -> None:
    outdir = tmp_path / "cdk.out"
    no_credentials = tmp_path / "no-aws-config"
    environment = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "CDK_"))},
        "PATH": os.pathsep.join(
            [str(ROOT / ".venv" / "bin"), str(ROOT / "node_modules" / ".bin"), os.environ["PATH"]]
        ),
        "JSII_SILENCE_WARNING_UNTESTED_NODE_VERSION": "1",
        "CDK_DISABLE_CLI_TELEMETRY": "true",
        "CDK_DISABLE_VERSION_CHECK": "true",
        "AWS_EC2_METADATA_DISABLED": "true",
        # No credentials to find, so the CLI does not ask STS for an account.
        "AWS_CONFIG_FILE": str(no_credentials),
        "AWS_SHARED_CREDENTIALS_FILE": str(no_credentials),
    }
    context_file = ROOT / "cdk.context.json"
    had_context_file = context_file.exists()

    result = subprocess.run(
        ["npx", "--no", "cdk", "synth", "--quiet", "--output", str(outdir)],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )

    assert result.returncode == 0, result.stderr
    template = json.loads((outdir / f"{contract.STACK_NAME}.template.json").read_text())
    functions = [r for r in template["Resources"].values() if r["Type"] == "AWS::Lambda::Function"]
    assert [f["Properties"]["Runtime"] for f in functions] == ["python3.13"]
    assert context_file.exists() == had_context_file  # nothing was looked up
