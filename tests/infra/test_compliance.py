"""cdk-nag, cfn-lint and the pinned CDK CLI accept what the app synthesizes."""

import json
import os
from pathlib import Path

import pytest
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sqs as sqs

from maintenance_window_alerts import add_compliance_checks
from mwalerts import contract
from tests.infra.synthesis import (
    CUSTOM_EMAILS,
    Synth,
    acknowledged,
    alerts_stack,
    assert_cdk_nag_passes,
    cfn_lint_findings,
    validation_report,
)
from tests.support import ROOT, run_in_repo


def test_cdk_nag_finds_nothing_unacknowledged(default: Synth, custom: Synth) -> None:
    for synth in (default, custom):  # custom has e-mail subscriptions
        report = validation_report(synth.outdir)
        assert report["pluginReports"] == []  # the synth ran the packs and they found nothing
        assert_cdk_nag_passes(synth.stack)


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
    for synth, acknowledgements in ((default, expected), (custom, expected | subscriptions)):
        assert synth.stack.stack_name == contract.STACK_NAME  # the paths above are relative to it
        assert acknowledged(synth.stack) == acknowledgements


def test_compliance_checks_fail_synth_on_a_finding_nobody_acknowledged(tmp_path: Path) -> None:
    app, stack = alerts_stack(tmp_path)
    sqs.Queue(stack, "Unencrypted")  # no TLS enforcement, no redrive policy
    add_compliance_checks(app)

    with pytest.raises(RuntimeError, match="ValidationFailed") as raised:
        app.synth()

    assert "Acknowledge with 'AwsSolutions::AwsSolutions-SQS4'" in str(raised.value)

    report = validation_report(tmp_path)
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
    app, stack = alerts_stack(tmp_path)
    # Unencrypted logs: a finding of the NIST 800-53 pack, which the other two do not check.
    logs.LogGroup(stack, "UnencryptedLogs", retention=logs.RetentionDays.ONE_MONTH)
    add_compliance_checks(app)

    with pytest.raises(RuntimeError, match="ValidationFailed") as raised:
        app.synth()

    assert "NIST.800.53.R5-CloudWatchLogGroupEncrypted" in str(raised.value)
    report = validation_report(tmp_path)
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
        assert cfn_lint_findings(synth.template.to_json()) == []


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

    result = run_in_repo(
        ["npx", "--no", "cdk", "synth", "--quiet", "--output", str(outdir)],
        env=environment,
        timeout=300,
    )

    assert result.returncode == 0, result.stderr
    template = json.loads((outdir / f"{contract.STACK_NAME}.template.json").read_text())
    functions = [r for r in template["Resources"].values() if r["Type"] == "AWS::Lambda::Function"]
    assert [f["Properties"]["Runtime"] for f in functions] == ["python3.13"]
    assert context_file.exists() == had_context_file  # nothing was looked up
