"""Synthesizing the app as `cdk synth` does, and reading what it synthesized.

Shared by the files of tests/infra; the synthesized stacks themselves are the session fixtures of
tests/infra/conftest.py, so the tier synthesizes each once.
"""

import json
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aws_cdk as cdk
from aws_cdk import Stack, Validations
from aws_cdk.assertions import Template
from cdk_nag import AwsSolutionsChecks, NIST80053R5Checks, ServerlessChecks
from cfnlint import api as cfn_lint  # type: ignore[import-untyped]
from constructs import IConstruct

from maintenance_window_alerts import (
    MaintenanceWindowAlertsStack,
    Settings,
    add_compliance_checks,
)
from maintenance_window_alerts import settings as keys
from mwalerts import contract
from tests.support import ROOT

CDK_JSON_CONTEXT = json.loads((ROOT / "cdk.json").read_text())["context"]

# The custom synth: every setting away from its default.
CUSTOM_EMAILS = ["ops@example.com", "oncall@example.org"]
WINDOW_A, WINDOW_B, WINDOW_C = (
    "mw-0123456789abcdef0",
    "mw-0fedcba9876543210",
    "mw-00000000000000abc",
)
# windowAlarms: window -> threshold; expectedWindows: window -> (gap, period, evaluation periods).
WINDOW_THRESHOLDS = {WINDOW_A: 3, WINDOW_B: 1}
GAPS = {WINDOW_A: ("26h", 13 * 3600, 2), WINDOW_B: ("90m", 5400, 1), WINDOW_C: ("7d", 86400, 7)}
# repeatAlerts: one window alerts always, every other one only when a streak changes.
REPEAT_ALERTS = {WINDOW_B: contract.REPEAT_ALWAYS, contract.REPEAT_ALL_WINDOWS: "on-change"}
CHRONIC_THRESHOLD = 3
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
    # As `-c 'repeatAlerts=mw-...=always,*=on-change'` passes it.
    keys.REPEAT_ALERTS: ",".join(f"{window}={mode}" for window, mode in REPEAT_ALERTS.items()),
    keys.RESOLVED_NOTICES: "false",
    keys.CHRONIC_THRESHOLD: str(CHRONIC_THRESHOLD),
}
# An account and a region for the custom synth: ARNs built from pseudo parameters stay so.
CUSTOM_ENV = cdk.Environment(account="123456789012", region="eu-west-1")
FIVE_MINUTES = 300
# (synth, sweep interval in minutes) for the default and the custom settings.
INTERVALS = (("default", 15), ("custom", 60))


def logical_id(construct: IConstruct) -> str:
    """The logical ID of an L2's CloudFormation resource in its stack."""
    cfn = construct.node.default_child
    assert isinstance(cfn, cdk.CfnElement)
    stack = Stack.of(construct)
    return str(stack.resolve(stack.get_logical_id(cfn)))


def ref(construct: IConstruct) -> dict[str, str]:
    return {"Ref": logical_id(construct)}


def arn(construct: IConstruct) -> dict[str, list[str]]:
    return {"Fn::GetAtt": [logical_id(construct), "Arn"]}


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


def stack_named(text: str) -> dict[str, Any]:
    """The template's rendering of <stack name as deployed><text>."""
    return {"Fn::Join": ["", [{"Ref": "AWS::StackName"}, text]]}


def own_alarm_arns(path: str = "Alerts") -> dict[str, Any]:
    """The template's rendering of the ARN pattern of the alarms of the construct at `path` in
    its stack: arn:<partition>:cloudwatch:<region>:<account>:alarm:<stack name>/<path>/*."""
    return {
        "Fn::Join": [
            "",
            [
                "arn:",
                {"Ref": "AWS::Partition"},
                ":cloudwatch:",
                {"Ref": "AWS::Region"},
                ":",
                {"Ref": "AWS::AccountId"},
                ":alarm:",
                {"Ref": "AWS::StackName"},
                f"/{path}/*",
            ],
        ]
    }


def as_text(value: Any) -> str:
    """A template value as text, each intrinsic function as its JSON (so "alarm:*" in an
    Fn::Join shows as it would deployed)."""
    if isinstance(value, dict) and set(value) == {"Fn::Join"}:
        separator, parts = value["Fn::Join"]
        return str(separator).join(as_text(part) for part in parts)
    return value if isinstance(value, str) else json.dumps(value, sort_keys=True)


def policy_statements(template: Mapping[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """(resource type, statement) for every statement of every policy in the template."""
    for resource in template["Resources"].values():
        props = resource.get("Properties", {})
        documents = [
            props.get(field)
            for field in ("PolicyDocument", "KeyPolicy", "AssumeRolePolicyDocument")
        ] + [policy["PolicyDocument"] for policy in props.get("Policies", [])]
        for document in filter(None, documents):
            for statement in document["Statement"]:
                yield resource["Type"], statement


def dead_letter_queue_ids(template: Mapping[str, Any]) -> set[str]:
    """The logical IDs of the queues that something sends what it could not deliver or process
    to: a rule target's dead-letter queue, a function's on-failure destination."""
    resources = template["Resources"].values()
    targets = [
        target.get("DeadLetterConfig", {}).get("Arn")
        for r in resources
        if r["Type"] == "AWS::Events::Rule"
        for target in r["Properties"].get("Targets", [])
    ]
    destinations = [
        r["Properties"].get("DestinationConfig", {}).get("OnFailure", {}).get("Destination")
        for r in resources
        if r["Type"] == "AWS::Lambda::EventInvokeConfig"
    ]
    return {arn["Fn::GetAtt"][0] for arn in [*targets, *destinations] if arn is not None}


def regional(prefix: str) -> dict[str, Any]:
    """The template's rendering of <prefix>.<region>.<URL suffix> (regional service names)."""
    return {
        "Fn::Join": ["", [f"{prefix}.", {"Ref": "AWS::Region"}, ".", {"Ref": "AWS::URLSuffix"}]]
    }


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def permissions(statements: Iterable[dict[str, Any]]) -> dict[str, list[Any]]:
    """Action -> resources, over these statements (all Allow)."""
    allowed: dict[str, list[Any]] = defaultdict(list)
    for statement in statements:
        assert statement["Effect"] == "Allow"
        for action in as_list(statement["Action"]):
            allowed[action] += as_list(statement["Resource"])
    return allowed


@dataclass(frozen=True)
class Synth:
    stack: MaintenanceWindowAlertsStack
    template: Template
    outdir: Path

    @property
    def resources(self) -> dict[str, Any]:
        return dict(self.template.to_json()["Resources"])

    def logical_id(self, construct: IConstruct) -> str:
        return logical_id(construct)

    def ref(self, construct: IConstruct) -> dict[str, str]:
        return ref(construct)

    def arn(self, construct: IConstruct) -> dict[str, list[str]]:
        return arn(construct)

    def properties(self, construct: IConstruct) -> dict[str, Any]:
        return dict(self.resources[self.logical_id(construct)]["Properties"])


def alerts_stack(
    outdir: Path, extra: dict[str, Any] | None = None, env: cdk.Environment | None = None
) -> tuple[cdk.App, MaintenanceWindowAlertsStack]:
    """The app and its one stack as app.py creates them from cdk.json's context (and extra)."""
    app = cdk.App(context={**CDK_JSON_CONTEXT, **(extra or {})}, outdir=str(outdir))
    stack = MaintenanceWindowAlertsStack(
        app, contract.STACK_NAME, settings=Settings.from_scope(app), env=env
    )
    return app, stack


def synthesize(
    outdir: Path, extra: dict[str, Any] | None = None, env: cdk.Environment | None = None
) -> Synth:
    """Synthesize the app as `cdk synth` does: cdk.json's context, compliance packs registered."""
    app, stack = alerts_stack(outdir, extra, env)
    add_compliance_checks(app)
    assembly = app.synth()  # raises on any cdk-nag finding that is not acknowledged
    template = assembly.get_stack_artifact(stack.artifact_id).template
    return Synth(stack, Template.from_json(template), outdir)


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
    return permissions(role_statements(synth))


def package_assets(outdir: Path) -> list[Path]:
    """The staged assets that hold the function's package: one, which the alert function and
    the deploy-time self-test's function share (CDK's trigger provider, a Node.js function, has
    an asset of its own)."""
    return [asset for asset in outdir.glob("asset.*") if (asset / "mwalerts").is_dir()]


def validation_report(outdir: Path) -> dict[str, Any]:
    """What the synth's policy validation (cdk-nag's packs and cfn-guard's Control Tower rules)
    reported: the findings nobody acknowledged, and (as suppressed) those acknowledged."""
    return dict(json.loads((outdir / "validation-report.json").read_text()))


def unacknowledged(report: dict[str, Any]) -> list[tuple[str, str]]:
    """(plugin, rule) of each finding in a validation report that nobody acknowledged."""
    return [
        (plugin["pluginName"], violation["ruleName"])
        for plugin in report["pluginReports"]
        for violation in plugin["violations"]
    ]


def assert_cdk_nag_passes(stack: Stack) -> None:
    """cdk-nag's three packs find nothing unacknowledged in the stack."""
    for pack in (AwsSolutionsChecks(), ServerlessChecks(), NIST80053R5Checks()):
        result = pack.validate_scope(stack)
        assert result.success, (stack.stack_name, [v.rule_name for v in result.violations])


def acknowledged(stack: Stack) -> set[tuple[str, str]]:
    """(construct path in the stack, rule) of every acknowledged cdk-nag finding; each is on a
    CloudFormation resource and says why at some length."""
    found = [
        (construct, rule.removeprefix("Annotation::"), reason)
        for construct in stack.node.find_all()
        for entry in construct.node.metadata
        if entry.type == Validations.ACKNOWLEDGED_RULES_METADATA_KEY
        for rule, reason in entry.data.items()
    ]
    assert all(isinstance(construct, cdk.CfnResource) for construct, _, _ in found)
    assert all(len(reason) > 60 for _, _, reason in found)
    return {
        (construct.node.path.removeprefix(f"{stack.stack_name}/"), rule)
        for construct, rule, _ in found
    }


def cfn_lint_findings(template: Mapping[str, Any]) -> list[str]:
    """cfn-lint's errors and warnings on a template (not its informational matches)."""
    matches = cfn_lint.lint(
        json.dumps(template),
        # W3005: CDK makes a function DependsOn its role although it already GetAtt's it.
        config=cfn_lint.ManualArgs(ignore_checks=["W3005"]),
    )
    return [str(m) for m in matches if not m.rule.id.startswith("I")]
