"""selfTestOnDeploy: the Trigger that runs the self-test inside the deployment, its function
and IAM, when it runs again; the self-test alarm; the e-mail subscriptions (no filter policy)."""

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk.assertions import Template

from maintenance_window_alerts import MaintenanceWindowAlertsStack, constants, create_stacks
from maintenance_window_alerts import function as function_module
from maintenance_window_alerts import settings as keys
from maintenance_window_alerts.self_test import ENV_SELF_TEST_INPUTS
from mwalerts import contract, self_test_check, self_test_trigger
from tests.infra.synthesis import (
    CDK_JSON_CONTEXT,
    CUSTOM_EMAILS,
    WINDOW_A,
    Synth,
    alerts_stack,
    as_text,
    own_alarm_arns,
    permissions,
    stack_named,
)

TRIGGER = "Custom::Trigger"
LAMBDA_MAX_TIMEOUT_SECONDS = 900


def trigger(template: Mapping[str, Any]) -> dict[str, Any]:
    (found,) = [r for r in template["Resources"].values() if r["Type"] == TRIGGER]
    return dict(found)


def self_test_function(synth: Synth) -> dict[str, Any]:
    self_test = synth.stack.alerts.self_test
    assert self_test is not None
    return synth.properties(self_test.function)


def test_trigger_runs_the_self_test_after_the_whole_alert_path_exists(
    default: Synth, custom: Synth
) -> None:
    for synth in (default, custom):
        alerts = synth.stack.alerts
        assert alerts.self_test is not None
        found = trigger(synth.template.to_json())
        # Every resource of these constructs, the subscriptions included: the test message takes
        # the path an alert takes.
        before = [
            alerts.function,
            alerts.topic,
            alerts.table,
            alerts.streak_table,
            *alerts.email_subscriptions,
            *alerts.alarms,
            alerts.self_test_alarm,
        ]

        assert {synth.logical_id(c) for c in before} <= set(found["DependsOn"])
        assert len(alerts.email_subscriptions) == (len(CUSTOM_EMAILS) if synth is custom else 0)
        assert found["Properties"]["InvocationType"] == "RequestResponse"  # waits for the result
        assert found["Properties"]["ExecuteOnHandlerChange"] is True
        # The function's version: a new one whenever the function's configuration changes.
        version = alerts.self_test.function.current_version.node.default_child
        assert isinstance(version, cdk.CfnResource)
        assert found["Properties"]["HandlerArn"] == {"Ref": synth.stack.resolve(version.logical_id)}
        function_timeout = self_test_function(synth)["Timeout"]
        assert int(found["Properties"]["Timeout"]) > function_timeout * 1000
        # Lambda's maximum, which CDK's trigger provider's own function has too.
        assert int(found["Properties"]["Timeout"]) <= LAMBDA_MAX_TIMEOUT_SECONDS * 1000


def test_trigger_function_waits_for_a_whole_check_after_the_access_denied_retries(
    default: Synth,
) -> None:
    function_timeout = self_test_function(default)["Timeout"]

    assert function_timeout > (
        self_test_check.INVOKE_MAX_SECONDS + self_test_trigger.ACCESS_DENIED_WINDOW_SECONDS
    )
    assert function_timeout <= LAMBDA_MAX_TIMEOUT_SECONDS


def test_trigger_function_runs_the_alert_functions_own_asset_with_the_trigger_handler(
    default: Synth, custom: Synth
) -> None:
    for synth in (default, custom):
        alerts = synth.stack.alerts
        alert_function = synth.properties(alerts.function)
        function = self_test_function(synth)

        assert function["Handler"] == contract.SELF_TEST_TRIGGER_HANDLER
        # The same asset (one staging, one upload), runtime, architecture and layer.
        for same in ("Code", "Runtime", "Architectures"):
            assert function[same] == alert_function[same]
        assert function.get("Layers") == alert_function.get("Layers")
        variables = function["Environment"]["Variables"]
        assert variables.keys() == {
            contract.ENV_SELF_TEST_FUNCTION_NAME,
            contract.ENV_SELF_TEST_STACK_ID,
            ENV_SELF_TEST_INPUTS,
        }
        assert variables[contract.ENV_SELF_TEST_FUNCTION_NAME] == synth.ref(alerts.function)
        # To skip the check while the stack rolls back.
        assert variables[contract.ENV_SELF_TEST_STACK_ID] == {"Ref": "AWS::StackId"}
    assert len(list(default.outdir.glob("asset.*"))) == len(
        {r["Properties"]["Code"]["S3Key"] for r in lambda_functions(default)}
    )


def lambda_functions(synth: Synth) -> list[Mapping[str, Any]]:
    return list(synth.template.find_resources("AWS::Lambda::Function").values())


def test_trigger_function_logs_to_its_own_encrypted_log_group(
    default: Synth, custom: Synth
) -> None:
    for synth, days in ((default, 90), (custom, 30)):
        self_test = synth.stack.alerts.self_test
        assert self_test is not None
        log_group_id = self_test_function(synth)["LoggingConfig"]["LogGroup"]["Ref"]
        log_group = synth.resources[log_group_id]["Properties"]

        assert log_group_id != synth.logical_id(synth.stack.alerts.log_group)
        assert log_group == {
            "KmsKeyId": synth.arn(synth.stack.alerts.data_key),
            "RetentionInDays": days,
        }


def test_trigger_function_may_only_invoke_the_alert_function_read_its_stack_and_write_its_logs(
    default: Synth,
) -> None:
    self_test = default.stack.alerts.self_test
    assert self_test is not None
    role = default.properties(self_test.role)
    statements = [
        statement
        for policy in default.template.find_resources("AWS::IAM::Policy").values()
        if default.ref(self_test.role) in policy["Properties"]["Roles"]
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
    ]
    log_group_id = self_test_function(default)["LoggingConfig"]["LogGroup"]["Ref"]

    assert role.keys() == {"AssumeRolePolicyDocument", "Description"}  # no managed policy
    assert not [
        p
        for p in default.template.find_resources("AWS::IAM::ManagedPolicy").values()
        if default.ref(self_test.role) in p["Properties"].get("Roles", [])
    ]
    assert permissions(statements) == {
        # The function itself: not its versions or aliases.
        "lambda:InvokeFunction": [default.arn(default.stack.alerts.function)],
        # Its own stack's status alone, to skip the check during a rollback.
        "cloudformation:DescribeStacks": [{"Ref": "AWS::StackId"}],
        "logs:CreateLogStream": [{"Fn::GetAtt": [log_group_id, "Arn"]}],
        "logs:PutLogEvents": [{"Fn::GetAtt": [log_group_id, "Arn"]}],
    }
    assert all("Condition" not in s for s in statements)


def test_cdks_trigger_provider_may_only_invoke_the_trigger_functions_versions(
    default: Synth,
) -> None:
    self_test = default.stack.alerts.self_test
    assert self_test is not None
    provider = default.stack.node.find_child(constants.TRIGGER_PROVIDER_ID)
    provider_role = provider.node.find_child("Role")
    assert isinstance(provider_role, cdk.CfnResource)
    role = default.resources[default.stack.resolve(provider_role.logical_id)]["Properties"]

    (inline,) = role["Policies"]
    assert inline["PolicyDocument"]["Statement"] == [
        {
            "Effect": "Allow",
            "Action": ["lambda:InvokeFunction"],
            "Resource": [{"Fn::Join": ["", [default.arn(self_test.function), ":*"]]}],
        }
    ]


# --- When the Trigger runs again --------------------------------------------------------------


def handler_arn(
    tmp_path: Path, extra: dict[str, Any] | None = None, *, more_key_policy: bool = False
) -> Any:
    """The Trigger's HandlerArn, a reference to the trigger function's version: CloudFormation
    updates the Trigger (and its provider runs the self-test again) exactly when it changes."""
    _, stack = alerts_stack(tmp_path, extra)
    if more_key_policy:
        stack.alerts.key.add_to_resource_policy(
            iam.PolicyStatement(
                actions=["kms:DescribeKey"],
                principals=[iam.AccountRootPrincipal()],
                resources=["*"],
            )
        )
    return trigger(Template.from_stack(stack).to_json())["Properties"]["HandlerArn"]


def other_code(tmp_path: Path) -> lambda_.Code:
    package = tmp_path / "other-package" / "mwalerts"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text('"""A changed function."""\n')
    return lambda_.Code.from_asset(str(package.parent))


def test_trigger_runs_again_when_the_functions_code_configuration_or_key_change(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = handler_arn(tmp_path / "first")
    configuration = handler_arn(tmp_path / "configuration", {keys.ERROR_DETAILS_LIMIT: 3})
    key = handler_arn(tmp_path / "key", more_key_policy=True)
    monkeypatch.setattr(function_module, "source_code", lambda: other_code(tmp_path))
    code = handler_arn(tmp_path / "code")

    assert len({as_text(arn) for arn in (first, configuration, key, code)}) == 4


def test_trigger_does_not_run_again_for_other_changes(tmp_path: Path) -> None:
    first = handler_arn(tmp_path / "first")
    again = handler_arn(tmp_path / "again")
    # Alarms, the dashboard and the sweep's schedule are not the alert path the self-test checks.
    others = handler_arn(
        tmp_path / "others",
        {keys.WINDOW_ALARMS: {WINDOW_A: 5}, keys.EXPECTED_WINDOWS: {WINDOW_A: "26h"}},
    )

    assert first == again == others


# --- Turned off, and where it is ----------------------------------------------------------------


def test_self_test_on_deploy_off_leaves_out_every_trigger_resource(tmp_path: Path) -> None:
    _, stack = alerts_stack(tmp_path, {keys.SELF_TEST_ON_DEPLOY: "false"})  # as -c passes it
    template = Template.from_stack(stack).to_json()
    logical_ids = " ".join(template["Resources"])

    assert stack.alerts.self_test is None
    assert TRIGGER not in {r["Type"] for r in template["Resources"].values()}
    assert "SelfTestOnDeploy" not in logical_ids
    assert "AWSCDKTrigger" not in logical_ids  # CDK's provider neither
    functions = [r for r in template["Resources"].values() if r["Type"] == "AWS::Lambda::Function"]
    assert len(functions) == 1
    # The self-test alarm stays: `mwalerts selftest` uses it.
    assert contract.OUTPUT_SELF_TEST_ALARM_NAME in template["Outputs"]


# Parsing the setting: tests/infra/test_stack_settings.py.


def test_each_deployment_has_its_trigger_unless_its_settings_turn_it_off() -> None:
    deployments = [
        {"account": "111111111111", "region": "eu-west-1"},
        {"account": "222222222222", "region": "eu-west-1", keys.SELF_TEST_ON_DEPLOY: "false"},
    ]
    app = cdk.App(context={**CDK_JSON_CONTEXT, "deployments": deployments})

    first, second = create_stacks(app)

    assert isinstance(first, MaintenanceWindowAlertsStack)
    assert isinstance(second, MaintenanceWindowAlertsStack)
    assert first.alerts.self_test is not None
    assert second.alerts.self_test is None


# --- The e-mail subscriptions and the self-test alarm ---------------------------------------------


def test_email_subscriptions_have_no_filter_policy(custom: Synth) -> None:
    subscriptions = custom.template.find_resources("AWS::SNS::Subscription")

    assert len(subscriptions) == len(CUSTOM_EMAILS)
    for subscription in subscriptions.values():
        properties = subscription["Properties"]
        assert properties["Protocol"] == "email"
        # No filter policy, on purpose: CloudWatch alarm notifications carry no message
        # attributes, and SNS matches no attribute-less message against an attribute filter
        # policy, not even {"selfTest": [{"exists": false}]} ("exists": false needs at least one
        # attribute: https://docs.aws.amazon.com/sns/latest/dg/attribute-key-matching.html).
        # A filter here would drop every alarm mail; moto's matcher lets them through, so no
        # function test would notice. Mailboxes get the self-test's marked message instead.
        assert "FilterPolicy" not in properties
        assert "FilterPolicyScope" not in properties


def test_self_test_alarm_never_breaches_by_itself_and_notifies_the_topic_only(
    default: Synth, custom: Synth
) -> None:
    for synth in (default, custom):
        alerts = synth.stack.alerts
        alarm = synth.properties(alerts.self_test_alarm)
        admitted = as_text(own_alarm_arns()).split(":alarm:")[1].removesuffix("*")

        assert alarm["AlarmName"] == stack_named(f"/Alerts/{constants.SELF_TEST_ALARM_ID}")
        assert as_text(alarm["AlarmName"]).startswith(admitted)  # the topic and key admit it
        assert alarm["AlarmActions"] == [synth.ref(alerts.topic)]
        assert "OKActions" not in alarm  # one notification per self-test
        assert "InsufficientDataActions" not in alarm
        assert alarm["MetricName"] == contract.METRIC_SELF_TESTS
        assert alarm["Namespace"] == alerts.settings.metrics_namespace
        assert "Dimensions" not in alarm
        # A count is never below 0, and no data is no breach.
        assert (alarm["ComparisonOperator"], alarm["Threshold"]) == ("LessThanThreshold", 0)
        assert alarm["TreatMissingData"] == "notBreaching"
        assert alerts.self_test_alarm not in alerts.alarms  # not on the dashboard
        outputs = synth.template.find_outputs(contract.OUTPUT_SELF_TEST_ALARM_NAME)
        assert outputs[contract.OUTPUT_SELF_TEST_ALARM_NAME]["Value"] == synth.ref(
            alerts.self_test_alarm
        )
