"""cdk-nag, cfn-guard's AWS Control Tower rules, cfn-lint and the pinned CDK CLI accept what the
app synthesizes (checkov: test_checkov.py)."""

import json
import os
import re
import tarfile
from importlib import resources
from pathlib import Path

import pytest
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sqs as sqs

from maintenance_window_alerts import add_compliance_checks, compliance
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

# The deploy-time self-test's function (selfTestOnDeploy, on by default).
SELF_TEST_FUNCTION_RULES = (
    "AwsSolutions-L1",
    "Serverless-LambdaLatestVersion",
    "Serverless-LambdaDLQ",
    "NIST.800.53.R5-LambdaDLQ",
    "Serverless-LambdaTracing",
    "NIST.800.53.R5-LambdaInsideVPC",
    "NIST.800.53.R5-LambdaConcurrency",
)


GUARD = compliance.CFN_GUARD_PLUGIN
LOG_RETENTION = compliance.CONTROL_TOWER_RULES["ct-cloudwatch-pr-2"]


def findings(outdir: Path, kind: str = "violations") -> set[tuple[str, str, str]]:
    """(plugin, rule, construct path) of each finding the synth's policy validation reported:
    its violations, or its suppressedViolations (those acknowledged)."""
    return {
        (plugin["pluginName"], violation["ruleName"], construct["constructPath"])
        for plugin in validation_report(outdir)["pluginReports"]
        for violation in plugin.get(kind, [])  # no suppressedViolations when none
        for construct in violation["violatingConstructs"]
    }


def test_cdk_nag_and_cfn_guard_find_nothing_unacknowledged(default: Synth, custom: Synth) -> None:
    for synth in (default, custom):  # custom has e-mail subscriptions
        # The synth ran the packs and cfn-guard: nothing they found was left unacknowledged.
        assert findings(synth.outdir) == set()
        # cdk-nag reports nothing it was told to ignore; the CDK lists cfn-guard's as suppressed.
        assert {plugin for plugin, _, _ in findings(synth.outdir, "suppressedViolations")} == {
            GUARD
        }
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
    self_test = "Alerts/SelfTestOnDeploy/Function/Resource"
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
        ("Alerts/StreakTable/Resource", "NIST.800.53.R5-DynamoDBInBackupPlan"),
        *((self_test, rule) for rule in SELF_TEST_FUNCTION_RULES),
        ("Alerts/SelfTestOnDeploy/Role/DefaultPolicy/Resource", "NIST.800.53.R5-IAMNoInlinePolicy"),
        # cfn-guard's AWS Control Tower rules.
        (rule_dlq, f"{GUARD}::sqs_dlq_check"),
        (function_dlq, f"{GUARD}::sqs_dlq_check"),
        (function, f"{GUARD}::lambda_inside_vpc_check"),
        (self_test, f"{GUARD}::lambda_inside_vpc_check"),
        (f"{compliance.TRIGGER_PROVIDER_ID}/Handler", f"{GUARD}::lambda_inside_vpc_check"),
        ("Alerts/FunctionLogs/Resource", f"{GUARD}::{LOG_RETENTION}"),
        ("Alerts/SelfTestOnDeploy/Logs/Resource", f"{GUARD}::{LOG_RETENTION}"),
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
        if plugin["pluginName"] != GUARD  # cdk-nag's packs (cfn-guard checks log groups too)
        for v in plugin["violations"]
        for c in v["violatingConstructs"]
    } == {
        (
            "NIST.800.53.R5-CloudWatchLogGroupEncrypted",
            f"{contract.STACK_NAME}/UnencryptedLogs/Resource",
        )
    }


def test_cfn_guard_fails_synth_on_a_finding_nobody_acknowledged(tmp_path: Path) -> None:
    app, stack = alerts_stack(tmp_path)
    # Kept a month: AWS Control Tower's CT.CLOUDWATCH.PR.2 wants a year. One acknowledged.
    for name in ("Unacknowledged", "Acknowledged"):
        logs.LogGroup(stack, name, retention=logs.RetentionDays.ONE_MONTH)
    compliance.acknowledge(
        stack.node.find_child("Acknowledged").node.default_child,
        "ct-cloudwatch-pr-2",
        "A probe of the test: this finding is acknowledged, so synth must not fail on it.",
    )
    add_compliance_checks(app)

    with pytest.raises(RuntimeError, match="ValidationFailed") as raised:
        app.synth()

    rule = compliance.CONTROL_TOWER_RULES["ct-cloudwatch-pr-2"]
    assert f"Acknowledge with '{GUARD}::{rule}'" in str(raised.value)
    assert {found for found in findings(tmp_path) if found[:2] == (GUARD, rule)} == {
        (GUARD, rule, f"{contract.STACK_NAME}/Unacknowledged/Resource")
    }
    assert (GUARD, rule, f"{contract.STACK_NAME}/Acknowledged/Resource") in findings(
        tmp_path, "suppressedViolations"
    )


def test_each_control_tower_id_names_the_cfn_guard_rule_that_checks_it() -> None:
    # The plugin's package holds its JavaScript, cfn-guard and the rules in one tarball.
    package = resources.files("cdklabs.cdk_validator_cfnguard") / "_jsii"
    (tarball,) = [f for f in package.iterdir() if f.name.endswith(".tgz")]
    with resources.as_file(tarball) as path, tarfile.open(path) as archive:
        rules = {
            Path(member.name).stem: archive.extractfile(member).read().decode()  # type: ignore[union-attr]
            for member in archive.getmembers()
            if member.name.startswith("package/rules/control-tower/cfn-guard/")
            and member.name.endswith(".guard")
        }

    assert len(rules) > 200
    for control, rule in compliance.CONTROL_TOWER_RULES.items():
        assert re.search(rf"^rule {rule} when ", rules[control], re.MULTILINE), control


def test_both_keys_allow_grants_only_for_aws_resources(default: Synth) -> None:
    # AWS Control Tower's CT.KMS.PR.3: deny kms:CreateGrant unless an AWS service asks for it.
    keys = default.template.find_resources("AWS::KMS::Key")

    assert len(keys) == 2
    for key in keys.values():
        statements = key["Properties"]["KeyPolicy"]["Statement"]
        assert {
            "Sid": "DenyGrantsNotForAwsResources",
            "Effect": "Deny",
            "Principal": {"AWS": "*"},
            "Action": "kms:CreateGrant",
            "Resource": "*",
            "Condition": {
                "BoolIfExists": {
                    "kms:GrantIsForAWSResource": "false",
                    "aws:PrincipalIsAWSService": "false",
                }
            },
        } in statements
        # The account still administers the key.
        assert next(s["Action"] for s in statements if s["Effect"] == "Allow") == "kms:*"


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
    # The alert function and the self-test's at deploy time; CDK's own trigger provider is Node.js.
    assert sorted(f["Properties"]["Runtime"] for f in functions) == [
        "nodejs24.x",
        "python3.13",
        "python3.13",
    ]
    assert context_file.exists() == had_context_file  # nothing was looked up
