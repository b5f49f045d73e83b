"""Organization mode: every account of the covered OUs, in the covered regions, through a
StackSet of the member resources, with no list of members anywhere.

The issue's example synthesized once as `cdk synth` does (cdk-nag's packs and cfn-guard on the
central template, and on the member template in its own app); and one app of two central-mode
and two organization deployments side by side, to show that qualified names never collide.
"""

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import Stack

from maintenance_window_alerts import (
    MaintenanceWindowAlertsStack,
    SettingsError,
    add_compliance_checks,
    create_stacks,
)
from maintenance_window_alerts.layout import parse_layout
from maintenance_window_alerts.layout_model import KNOWN_REGIONS, Layout
from maintenance_window_alerts.layout_organization import MAX_ORGANIZATIONAL_UNITS
from maintenance_window_alerts.organization import TEMPLATE_BODY_MAX_BYTES
from mwalerts import contract
from tests.infra.synthesis import (
    CDK_JSON_CONTEXT,
    arn,
    arn_pattern,
    as_text,
    cfn_lint_findings,
    logical_id,
    permissions,
    ref,
    unacknowledged,
    validation_report,
)
from tests.support import ROOT
from tools.render_dashboard import dashboard_body

A, B, D = "111111111111", "222222222222", "444444444444"
ORGANIZATION_ID = "o-a1b2c3d4e5"
WINDOW = "mw-0123456789abcdef0"
# The issue's example, as written there.
EXAMPLE = {
    "account": A,
    "region": "eu-west-1",
    "organizationId": ORGANIZATION_ID,
    "organizationalUnits": ["ou-ab12-c3d4e5f6"],
    "regions": ["eu-west-1", "us-east-1"],
    "callAs": "DELEGATED_ADMIN",
    "alertEmails": ["ops@example.com"],
}
WHERE = f"organization ({A}/eu-west-1)"
FUNCTION_ROLE_ARN = f"arn:aws:iam::{A}:role/MaintenanceWindowAlertsCentral-eu-west-1"
BUS_ARN = f"arn:aws:events:eu-west-1:{A}:event-bus/maintenance-window-alerts"


def parse(context: dict[str, Any], base_dir: Path = ROOT) -> Layout:
    return parse_layout({**CDK_JSON_CONTEXT, **context}, base_dir=base_dir)


def example(**overrides: Any) -> dict[str, Any]:
    return {**EXAMPLE, **overrides}


def failure(context: dict[str, Any], base_dir: Path = ROOT) -> str:
    with pytest.raises(SettingsError) as raised:
        parse(context, base_dir)
    return str(raised.value)


# --- The layout -----------------------------------------------------------------------------


def test_the_issues_example_parses_into_an_organization() -> None:
    layout = parse({"organization": json.dumps(EXAMPLE)})  # as -c organization='{...}' passes it

    assert layout.organization is not None
    assert (layout.deployments, layout.central) == ((), None)
    organization = layout.organization
    assert (organization.account, organization.region) == (A, "eu-west-1")
    assert organization.organization_id == ORGANIZATION_ID
    assert organization.organizational_units == ("ou-ab12-c3d4e5f6",)
    assert organization.regions == ("eu-west-1", "us-east-1")
    assert organization.call_as == contract.CALL_AS_DELEGATED_ADMIN
    assert organization.qualifier == ""
    assert organization.sweep_concurrency == contract.DEFAULT_SWEEP_CONCURRENCY == 10
    assert organization.settings.alert_emails == ("ops@example.com",)
    assert organization.stack_set_name == "MaintenanceWindowAlerts-Members"


def test_organization_defaults_and_every_key() -> None:
    layout = parse(
        {
            "organization": {
                **_without("callAs"),  # SELF: the management account
                "organizationalUnits": ["r-ab12", "ou-ab12-c3d4e5f6"],
                "qualifier": "staging",
                "sweepConcurrency": "50",
                "windowAlarms": {f"{B}/us-east-1/{WINDOW}": 2},
            }
        }
    )

    assert layout.organization is not None
    assert layout.organization.call_as == contract.CALL_AS_SELF
    assert layout.organization.organizational_units == ("r-ab12", "ou-ab12-c3d4e5f6")
    assert layout.organization.qualifier == "staging"
    assert layout.organization.sweep_concurrency == 50
    assert layout.organization.stack_id == f"MaintenanceWindowAlerts-Central-staging-{A}-eu-west-1"


def _without(key: str) -> dict[str, Any]:
    return {k: v for k, v in EXAMPLE.items() if k != key}


@pytest.mark.parametrize(
    ("organization", "message"),
    [
        (["ou-ab12-c3d4e5f6"], "organization must be an object"),
        (_without("organizationId"), f"{WHERE}: missing 'organizationId'"),
        (example(organizationId="o-12"), f"{WHERE}: organizationId 'o-12' is not an AWS"),
        (_without("organizationalUnits"), f"{WHERE}: organizationalUnits must be a non-empty"),
        (example(organizationalUnits=[]), f"{WHERE}: organizationalUnits must be a non-empty"),
        (
            example(organizationalUnits=["ou-AB12-c3d4e5f6"]),
            f"{WHERE}: organizationalUnits entry 'ou-AB12-c3d4e5f6' is not an organizational",
        ),
        (
            example(organizationalUnits=["ou-ab12-c3d4e5f6", "ou-ab12-c3d4e5f6"]),
            f"{WHERE}: organizationalUnits lists 'ou-ab12-c3d4e5f6' twice",
        ),
        (
            example(organizationalUnits=[f"ou-ab12-{i:08d}" for i in range(51)]),
            f"{WHERE}: organizationalUnits lists 51 organizational units; a StackSet operation "
            "takes at most 50: list a parent OU (or the root) instead of its children",
        ),
        (_without("regions"), f"{WHERE}: regions must be a non-empty list"),
        (example(regions=["eu-west-9"]), f"{WHERE}: unknown region 'eu-west-9'"),
        (example(regions=["eu-west-1", "eu-west-1"]), "region 'eu-west-1' listed twice"),
        (example(regions=["us-gov-west-1"]), "region 'us-gov-west-1' is in partition aws-us-gov"),
        (
            example(region="cn-north-1"),
            "region 'cn-north-1' is in partition aws-cn; organization mode works in aws, "
            "aws-us-gov",
        ),
        (example(callAs="ADMIN"), f"{WHERE}: callAs 'ADMIN' must be one of 'SELF', "),
        (example(qualifier="Staging"), f"{WHERE}: qualifier 'Staging' must be 1 to 10"),
        (example(qualifier="a-b"), f"{WHERE}: qualifier 'a-b' must be 1 to 10"),
        (example(qualifier=""), f"{WHERE}: qualifier '' must be 1 to 10"),
        (example(sweepConcurrency=1), f"{WHERE}: sweepConcurrency must be a whole number from 2"),
        (example(sweepConcurrency=1001), f"{WHERE}: sweepConcurrency must be a whole number"),
        (example(sweepConcurrency=True), f"{WHERE}: sweepConcurrency must be a whole number"),
        (example(externalId="mwa-2f6c1e"), f"{WHERE}: unknown key 'externalId'"),
        (example(members=[]), f"{WHERE}: unknown key 'members'"),
        (example(alertEmails="nobody"), f"{WHERE}: alertEmails"),
        (
            example(windowAlarms={WINDOW: 2}),
            f"{WHERE}: windowAlarms key '{WINDOW}' must name the account and region",
        ),
        (
            example(expectedWindows={f"{B}/us-west-2/{WINDOW}": "26h"}),
            f"{WHERE}: expectedWindows key '{B}/us-west-2/{WINDOW}': us-west-2 is not a covered "
            "region (regions: eu-west-1, us-east-1)",
        ),
        (
            example(repeatAlerts={"*": "always", WINDOW: "on-change"}),
            f"{WHERE}: repeatAlerts key '{WINDOW}' must name the account and region",
        ),
        (
            example(repeatAlerts={f"{B}/us-west-2/{WINDOW}": "on-change"}),
            f"{WHERE}: repeatAlerts key '{B}/us-west-2/{WINDOW}': us-west-2 is not a covered "
            "region (regions: eu-west-1, us-east-1)",
        ),
    ],
)
def test_invalid_organization_fails_with_a_message_naming_the_entry_and_the_key(
    organization: Any, message: str
) -> None:
    assert message in failure({"organization": organization})


@pytest.mark.parametrize(
    "other",
    [
        {"deployments": [{"account": A, "region": "eu-west-1"}]},
        {"central": {"account": A, "region": "eu-west-1", "externalId": "mwa-2f6c1e"}},
    ],
)
def test_organization_is_exclusive_with_deployments_and_central(
    other: dict[str, Any], tmp_path: Path
) -> None:
    (key,) = other
    (tmp_path / "org.json").write_text(json.dumps({"organization": EXAMPLE}))

    in_context = failure({"organization": EXAMPLE, **other})
    across_file = failure({"configFile": "org.json", **other}, tmp_path)

    for message in (in_context, across_file):
        assert message.startswith(f"{key} and organization are exclusive: set one layout")


def test_organization_from_a_config_file_names_the_file_in_messages(tmp_path: Path) -> None:
    (tmp_path / "org.json").write_text(json.dumps({"organization": example(callAs="ME")}))

    assert failure({"configFile": "org.json"}, tmp_path).startswith(
        f"org.json: organization ({A}/eu-west-1): callAs 'ME' must be one of"
    )


def test_central_accepts_a_qualifier_that_goes_into_every_fixed_name() -> None:
    central = {
        "account": A,
        "region": "eu-west-1",
        "organizationId": ORGANIZATION_ID,
        "members": [{"account": B, "regions": ["us-east-1"]}],
        "qualifier": "staging",
    }

    layout = parse({"central": central})

    assert layout.central is not None
    assert layout.central.qualifier == "staging"
    assert layout.central.stack_id == f"MaintenanceWindowAlerts-Central-staging-{A}-eu-west-1"
    assert layout.central.member_stack_id(B, "us-east-1") == (
        f"MaintenanceWindowAlerts-Member-staging-{B}-us-east-1"
    )
    assert "central (111111111111/eu-west-1): qualifier 'STAGING' must be" in failure(
        {"central": {**central, "qualifier": "STAGING"}}
    )


# --- The central stack and its StackSet (the issue's example) ------------------------------


@dataclass(frozen=True)
class OrganizationSynth:
    stack: MaintenanceWindowAlertsStack
    template: dict[str, Any]
    outdir: Path

    def resources(self, kind: str) -> dict[str, dict[str, Any]]:
        return {k: v for k, v in self.template["Resources"].items() if v["Type"] == kind}

    def properties(self, construct: Any) -> dict[str, Any]:
        return dict(self.template["Resources"][logical_id(construct)]["Properties"])

    @property
    def stack_set(self) -> dict[str, Any]:
        (stack_set,) = self.resources("AWS::CloudFormation::StackSet").values()
        return dict(stack_set["Properties"])

    @property
    def member(self) -> dict[str, Any]:
        return dict(json.loads(self.stack_set["TemplateBody"]))

    def member_resource(self, kind: str) -> dict[str, Any]:
        (resource,) = [r for r in self.member["Resources"].values() if r["Type"] == kind]
        return dict(resource)

    @property
    def environment(self) -> dict[str, Any]:
        return dict(self.properties(self.stack.alerts.function)["Environment"]["Variables"])


@pytest.fixture(scope="module")
def org(tmp_path_factory: pytest.TempPathFactory) -> OrganizationSynth:
    outdir = tmp_path_factory.mktemp("organization")
    app = cdk.App(context={**CDK_JSON_CONTEXT, "organization": EXAMPLE}, outdir=str(outdir))
    (stack,) = create_stacks(app)
    add_compliance_checks(app)
    assembly = app.synth()  # raises on any finding that is not acknowledged
    assert isinstance(stack, MaintenanceWindowAlertsStack)
    return OrganizationSynth(stack, assembly.get_stack_artifact(stack.artifact_id).template, outdir)


def test_organization_synthesizes_one_central_stack_with_what_preflight_reads(
    org: OrganizationSynth,
) -> None:
    manifest = json.loads((org.outdir / "manifest.json").read_text())["artifacts"]
    name = f"MaintenanceWindowAlerts-Central-{A}-eu-west-1"
    # In the manifest, or in the file it names (as the CDK CLI and `mwalerts preflight` read it).
    metadata_file = manifest[name].get("additionalMetadataFile")
    by_path = manifest[name].get("metadata") or json.loads((org.outdir / metadata_file).read_text())
    metadata = {
        entry["type"]: entry["data"]
        for entry in by_path[f"/{name}"]
        if entry["type"].startswith("mwalerts:")
    }

    assert org.stack.stack_name == name
    assert [a for a, v in manifest.items() if v["type"] == "aws:cloudformation:stack"] == [name]
    assert manifest[name]["environment"] == f"aws://{A}/eu-west-1"
    assert metadata == {
        contract.TARGET_METADATA: contract.TARGET_FROM_LAYOUT,
        contract.ORGANIZATION_METADATA: {
            "organizationId": ORGANIZATION_ID,
            "callAs": "DELEGATED_ADMIN",
            "stackSetName": "MaintenanceWindowAlerts-Members",
            "organizationalUnits": ["ou-ab12-c3d4e5f6"],
            "regions": ["eu-west-1", "us-east-1"],
        },
    }


def test_stack_set_is_service_managed_and_deploys_itself_to_every_account_of_the_ous(
    org: OrganizationSynth,
) -> None:
    stack_set = {k: v for k, v in org.stack_set.items() if k not in ("TemplateBody", "Description")}

    assert stack_set == {
        "StackSetName": "MaintenanceWindowAlerts-Members",
        "PermissionModel": "SERVICE_MANAGED",
        # An account that joins a covered OU gets the member resources; one that leaves, loses them.
        "AutoDeployment": {"Enabled": True, "RetainStacksOnAccountRemoval": False},
        "CallAs": "DELEGATED_ADMIN",
        "Capabilities": ["CAPABILITY_NAMED_IAM"],
        "ManagedExecution": {"Active": True},
        "OperationPreferences": {
            "ConcurrencyMode": "SOFT_FAILURE_TOLERANCE",
            "FailureTolerancePercentage": 10,
            "MaxConcurrentPercentage": 25,
            "RegionConcurrencyType": "PARALLEL",
        },
        "StackInstancesGroup": [
            {
                "DeploymentTargets": {"OrganizationalUnitIds": ["ou-ab12-c3d4e5f6"]},
                "Regions": ["eu-west-1", "us-east-1"],
            }
        ],
    }
    # Created once the bus and the role it names exist.
    (resource,) = org.resources("AWS::CloudFormation::StackSet").values()
    role, bus = org.stack.alerts.function.role, org.stack.alerts.event_bus
    assert role is not None
    assert bus is not None
    assert {logical_id(role), logical_id(bus)} <= set(resource["DependsOn"])


def test_member_template_deploys_without_the_cdk_bootstrap(org: OrganizationSynth) -> None:
    member = org.member
    kinds = sorted(r["Type"] for r in member["Resources"].values())

    assert len(org.stack_set["TemplateBody"].encode()) < TEMPLATE_BODY_MAX_BYTES
    assert set(member) == {"Description", "Resources", "Outputs"}  # no Parameters, no Rules
    assert "BootstrapVersion" not in org.stack_set["TemplateBody"]
    assert "cdk-hnb659fds" not in org.stack_set["TemplateBody"]  # no asset, no bootstrap role
    assert "aws:cdk:path" not in org.stack_set["TemplateBody"]
    assert kinds == [
        "AWS::Events::Rule",
        "AWS::IAM::ManagedPolicy",
        "AWS::IAM::Policy",
        "AWS::IAM::Role",
        "AWS::IAM::Role",
        "AWS::SQS::Queue",
        "AWS::SQS::QueuePolicy",
    ]  # no AWS::CDK::Metadata
    assert set(member["Outputs"]) == {
        contract.OUTPUT_FORWARD_DLQ_URL,
        contract.OUTPUT_READER_ROLE_ARN,
    }


def test_member_reader_role_trusts_only_the_central_function_role_within_the_organization(
    org: OrganizationSynth,
) -> None:
    roles = [
        r["Properties"] for r in org.member["Resources"].values() if r["Type"] == "AWS::IAM::Role"
    ]
    (reader,) = [r for r in roles if "RoleName" in r]

    assert as_text(reader["RoleName"]) == 'MaintenanceWindowAlertsReader-{"Ref": "AWS::Region"}'
    assert reader["AssumeRolePolicyDocument"]["Statement"] == [
        {
            "Action": "sts:AssumeRole",
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{A}:root"},
            "Condition": {
                "ArnEquals": {"aws:PrincipalArn": FUNCTION_ROLE_ARN},
                "StringEquals": {"aws:PrincipalOrgID": ORGANIZATION_ID},
            },
        }
    ]


def test_member_forwards_through_its_fixed_rule_and_a_role_only_that_rule_may_use(
    org: OrganizationSynth,
) -> None:
    rule = org.member_resource("AWS::Events::Rule")["Properties"]
    roles = [
        (k, r["Properties"])
        for k, r in org.member["Resources"].items()
        if r["Type"] == "AWS::IAM::Role"
    ]
    ((forward_id, forward),) = [(k, r) for k, r in roles if "RoleName" not in r]
    (target,) = rule["Targets"]

    assert rule["Name"] == "MaintenanceWindowAlertsForward"
    assert target["Arn"] == BUS_ARN
    assert target["RoleArn"] == {"Fn::GetAtt": [forward_id, "Arn"]}
    assert forward["AssumeRolePolicyDocument"]["Statement"] == [
        {
            "Action": "sts:AssumeRole",
            "Effect": "Allow",
            "Principal": {"Service": "events.amazonaws.com"},
            "Condition": {
                "StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}},
                "ArnEquals": {
                    "aws:SourceArn": arn_pattern("events", "rule/MaintenanceWindowAlertsForward")
                },
            },
        }
    ]


def test_central_bus_admits_the_organizations_ssm_window_events_only(
    org: OrganizationSynth,
) -> None:
    bus = org.stack.alerts.event_bus
    assert bus is not None
    (policy,) = org.resources("AWS::Events::EventBusPolicy").values()

    assert org.properties(bus)["Name"] == "maintenance-window-alerts"
    assert policy["Properties"]["Statement"] == {
        "Sid": "cdk-AllowMembersToPutEvents",
        "Effect": "Allow",
        "Principal": {"AWS": "*"},
        "Action": "events:PutEvents",
        "Resource": arn(bus),
        "Condition": {
            "StringEquals": {"aws:PrincipalOrgID": ORGANIZATION_ID},
            "ForAllValues:StringEquals": {
                "events:source": ["aws.ssm"],
                "events:detail-type": [contract.WINDOW_EXECUTION_DETAIL_TYPE],
            },
            # ForAllValues is true when a key is absent: both must be in the request.
            "Null": {"events:source": "false", "events:detail-type": "false"},
        },
    }


def test_central_rule_takes_any_account_of_the_bus_but_only_the_covered_regions(
    org: OrganizationSynth,
) -> None:
    pattern = org.properties(org.stack.alerts.rule)["EventPattern"]

    assert pattern["region"] == ["eu-west-1", "us-east-1"]
    assert "account" not in pattern  # no list: the bus admits the organization's accounts


def test_function_environment_says_where_to_look_members_up_and_holds_no_list(
    org: OrganizationSynth,
) -> None:
    environment = org.environment
    sweep = org.stack.alerts.sweep
    assert sweep is not None

    assert environment[contract.ENV_MEMBER_STACK_SET] == "MaintenanceWindowAlerts-Members"
    assert environment[contract.ENV_MEMBER_STACK_SET_CALL_AS] == "DELEGATED_ADMIN"
    assert environment[contract.ENV_MEMBER_REGIONS] == "eu-west-1,us-east-1"
    assert environment[contract.ENV_SWEEP_QUEUE_URL] == ref(sweep.queue)
    assert contract.ENV_MEMBER_ACCOUNTS not in environment
    assert contract.ENV_MEMBER_EXTERNAL_ID not in environment
    assert contract.ENV_NAME_QUALIFIER not in environment  # no qualifier: today's names
    # Memory and timeout as in every mode.
    function = org.properties(org.stack.alerts.function)
    assert (function["MemorySize"], function["Timeout"]) == (512, 300)


def test_function_may_assume_any_member_reader_role_of_the_organization_and_list_the_stack_set(
    org: OrganizationSynth,
) -> None:
    role = org.stack.alerts.function.role
    assert role is not None
    (policy,) = org.resources("AWS::IAM::ManagedPolicy").values()

    assert org.properties(role)["RoleName"] == "MaintenanceWindowAlertsCentral-eu-west-1"
    assert policy["Properties"]["Roles"] == [ref(role)]
    assert policy["Properties"]["PolicyDocument"]["Statement"] == [
        {
            "Action": "sts:AssumeRole",
            "Effect": "Allow",
            # The reader role of each covered region, in any account of the organization.
            "Resource": [
                "arn:aws:iam::*:role/MaintenanceWindowAlertsReader-eu-west-1",
                "arn:aws:iam::*:role/MaintenanceWindowAlertsReader-us-east-1",
            ],
            "Condition": {"StringEquals": {"aws:ResourceOrgID": ORGANIZATION_ID}},
        },
        {
            "Action": "cloudformation:ListStackInstances",
            "Effect": "Allow",
            "Resource": "arn:aws:cloudformation:eu-west-1:*:stackset/"
            "MaintenanceWindowAlerts-Members:*",
        },
        # DELEGATED_ADMIN: what a delegated administrator's callers need.
        {
            "Action": "organizations:ListDelegatedAdministrators",
            "Effect": "Allow",
            "Resource": "*",
        },
    ]
    # No SSM permission of its own: it reads every member through its reader role.
    statements = [
        s
        for p in org.resources("AWS::IAM::Policy").values()
        if ref(role) in p["Properties"]["Roles"]
        for s in p["Properties"]["PolicyDocument"]["Statement"]
    ]
    assert not [a for a in permissions(statements) if a.startswith("ssm:")]


def test_sweep_queue_is_encrypted_tls_only_with_a_dead_letter_queue_and_its_alarm(
    org: OrganizationSynth,
) -> None:
    alerts = org.stack.alerts
    assert alerts.sweep is not None
    queue = org.properties(alerts.sweep.queue)
    dead_letters = alerts.sweep.dead_letter_queue
    key = arn(alerts.key)
    policies = {
        p["Properties"]["Queues"][0]["Ref"]: p["Properties"]["PolicyDocument"]["Statement"]
        for p in org.resources("AWS::SQS::QueuePolicy").values()
    }

    assert queue["KmsMasterKeyId"] == key
    assert queue["RedrivePolicy"] == {
        "deadLetterTargetArn": arn(dead_letters.queue),
        "maxReceiveCount": 3,
    }
    assert queue["VisibilityTimeout"] >= 6 * contract.FUNCTION_TIMEOUT_SECONDS
    assert org.properties(dead_letters.queue)["KmsMasterKeyId"] == key
    for construct in (alerts.sweep.queue, dead_letters.queue):
        assert policies[logical_id(construct)][0]["Condition"] == {
            "Bool": {"aws:SecureTransport": "false"}
        }
    alarm = org.properties(next(a for a in alerts.health_alarms if "SweepDeadLetter" in a.node.id))
    assert alarm["MetricName"] == "ApproximateNumberOfMessagesVisible"
    assert alarm["Dimensions"] == [
        {
            "Name": "QueueName",
            "Value": {"Fn::GetAtt": [logical_id(dead_letters.queue), "QueueName"]},
        }
    ]
    assert "sweep dead-letter queue" in alarm["AlarmDescription"]
    # The on-call finds the queue by its own stack output, not by deriving its URL.
    assert f"stack output {contract.OUTPUT_SWEEP_DLQ_URL}" in alarm["AlarmDescription"]
    assert contract.OUTPUT_SWEEP_QUEUE_URL not in alarm["AlarmDescription"]
    # The message key says what it encrypts: the sweep queue too.
    assert org.properties(alerts.key)["Description"] == (
        "Encrypts the maintenance-window alert topic and its dead-letter queues and the sweep queue"
    )


def test_function_works_through_the_sweep_queue_a_bounded_number_at_once(
    org: OrganizationSynth,
) -> None:
    alerts = org.stack.alerts
    assert alerts.sweep is not None
    (mapping,) = org.resources("AWS::Lambda::EventSourceMapping").values()

    assert mapping["Properties"] == {
        "EventSourceArn": arn(alerts.sweep.queue),
        "FunctionName": ref(alerts.function),
        "BatchSize": 10,
        "ScalingConfig": {"MaximumConcurrency": contract.DEFAULT_SWEEP_CONCURRENCY},
        # One unreachable member is retried alone.
        "FunctionResponseTypes": ["ReportBatchItemFailures"],
    }


def test_outputs_name_the_stack_set_and_the_sweep_queues(org: OrganizationSynth) -> None:
    outputs = org.template["Outputs"]
    sweep = org.stack.alerts.sweep
    assert sweep is not None
    assert org.stack.alerts.event_bus is not None

    assert outputs[contract.OUTPUT_STACK_SET_NAME]["Value"] == "MaintenanceWindowAlerts-Members"
    assert outputs[contract.OUTPUT_SWEEP_QUEUE_URL]["Value"] == ref(sweep.queue)
    assert outputs[contract.OUTPUT_SWEEP_DLQ_URL]["Value"] == ref(sweep.dead_letter_queue.queue)
    # Not one `mwalerts redrive` sends back: the next sweeps cover those places again.
    assert contract.OUTPUT_SWEEP_DLQ_URL not in contract.DEAD_LETTER_QUEUE_OUTPUTS
    assert outputs[contract.OUTPUT_EVENT_BUS_ARN]["Value"] == arn(org.stack.alerts.event_bus)


def test_sweep_alarm_says_why_a_fanned_out_sweep_does_not_count(org: OrganizationSynth) -> None:
    alarm = org.properties(org.stack.alerts.health_alarms.sweep)
    description = alarm["AlarmDescription"]

    assert alarm["MetricName"] == contract.METRIC_SWEEP_RUNS
    for cause in (
        contract.METRIC_SWEEP_PLACES,
        f"a place failed 3 times (metric {contract.METRIC_SWEEP_PLACES_FAILED}",
        f"sweep dead-letter queue (stack output {contract.OUTPUT_SWEEP_DLQ_URL})",
        "a closed or suspended account, which StackSets still lists as SUCCEEDED",
        "the fan-out itself failed",
    ):
        assert cause in description
    assert "in central mode" not in description  # the in-invocation sweep's text
    assert "On-call: 1)" in description


def test_every_alarm_description_fits_cloudwatch(org: OrganizationSynth) -> None:
    for alarm in org.resources("AWS::CloudWatch::Alarm").values():
        assert len(alarm["Properties"]["AlarmDescription"]) <= 1024  # CloudWatch's limit


def test_dashboard_shows_the_sweeps_account_regions_beside_its_runs(
    org: OrganizationSynth,
) -> None:
    widgets = dashboard_body(org.template)["widgets"]
    (runs,) = [w for w in widgets if w["properties"]["title"].startswith("Reconciliation sweep")]
    row = sorted((w for w in widgets if w["y"] == runs["y"]), key=lambda w: w["x"])
    fan_out = row[-1]

    assert fan_out["properties"]["title"] == "Sweep fan-out: account-regions queued and failed"
    assert [m[1] for m in fan_out["properties"]["metrics"]] == [
        contract.METRIC_SWEEP_PLACES,
        contract.METRIC_SWEEP_PLACES_FAILED,
    ]
    # Counted over the sweep's interval, as its runs are.
    assert [m[-1]["period"] for m in fan_out["properties"]["metrics"]] == [
        runs["properties"]["metrics"][0][-1]["period"]
    ] * 2
    assert row[-2] is runs  # right next to the sweep's runs
    # Four to the row, which still fills the grid.
    assert [w["width"] for w in row] == [6, 6, 6, 6]
    assert [w["x"] for w in row] == [0, 6, 12, 18]


def test_stack_set_waits_for_the_bus_and_its_policy(org: OrganizationSynth) -> None:
    # The member template names the bus: members forward to it only once it admits them.
    (stack_set_id,) = org.resources("AWS::CloudFormation::StackSet")
    (policy_id,) = org.resources("AWS::Events::EventBusPolicy")
    bus = org.stack.alerts.event_bus
    assert bus is not None

    assert {policy_id, logical_id(bus)} <= set(org.template["Resources"][stack_set_id]["DependsOn"])


def test_deploy_time_self_test_runs_after_the_stack_set(org: OrganizationSynth) -> None:
    (trigger_id,) = org.resources("Custom::Trigger")
    stack_set = org.stack.alerts.stack_set
    assert stack_set is not None
    stack_set_id = org.stack.resolve(org.stack.get_logical_id(stack_set))

    assert stack_set_id in org.template["Resources"][trigger_id]["DependsOn"]


def test_compliance_checks_find_nothing_unacknowledged(org: OrganizationSynth) -> None:
    # The member template's own app ran the same checks (member_template raises on a finding).
    assert unacknowledged(validation_report(org.outdir)) == []


def test_cfn_lint_finds_nothing_in_the_central_or_the_member_template(
    org: OrganizationSynth,
) -> None:
    # Errors and warnings alike; only W3005 (CDK's DependsOn beside a GetAtt) is left aside.
    assert cfn_lint_findings(org.template) == []
    assert cfn_lint_findings(org.member) == []


# --- Side by side: qualifiers ---------------------------------------------------------------

MEMBERS = [{"account": B, "regions": ["eu-west-1", "us-east-1"]}]
CENTRAL = {
    "account": A,
    "region": "eu-west-1",
    "organizationId": ORGANIZATION_ID,
    "members": MEMBERS,
}
# The staging organization's is large: as many OUs as a StackSet operation takes, every region
# of the partition.
MANY_OUS = [f"ou-ab12-{index:08d}" for index in range(MAX_ORGANIZATIONAL_UNITS)]
ALL_REGIONS = [r for r, partition in KNOWN_REGIONS.items() if partition == "aws"]
ORGANIZATIONS = (
    example(account=D),
    example(account=D, qualifier="staging", organizationalUnits=MANY_OUS, regions=ALL_REGIONS),
)


@dataclass(frozen=True)
class SideBySide:
    centrals: tuple[list[Stack], list[Stack]]  # production, staging: central stack then members
    organizations: tuple[MaintenanceWindowAlertsStack, MaintenanceWindowAlertsStack]
    templates: dict[str, dict[str, Any]]

    def fixed_names(self, stacks: list[Stack]) -> set[str]:
        """Every physical name the stacks fix: their own, roles', buses', rules', StackSets' (and
        those of the StackSet's member template)."""
        names = {s.stack_name for s in stacks}
        for stack in stacks:
            names |= set(_fixed_names(self.templates[stack.stack_name]))
        return names


def _fixed_names(template: dict[str, Any]) -> Iterator[str]:
    for resource in template["Resources"].values():
        props = resource.get("Properties", {})
        for key in ("RoleName", "StackSetName"):
            if key in props:
                yield as_text(props[key])
        if resource["Type"] in ("AWS::Events::EventBus", "AWS::Events::Rule") and "Name" in props:
            yield as_text(props["Name"])
        if "TemplateBody" in props:
            yield from _fixed_names(json.loads(props["TemplateBody"]))


@pytest.fixture(scope="module")
def side_by_side(tmp_path_factory: pytest.TempPathFactory) -> SideBySide:
    app = cdk.App(context=CDK_JSON_CONTEXT, outdir=str(tmp_path_factory.mktemp("side-by-side")))
    centrals = tuple(
        create_stacks(app, parse({"central": {**CENTRAL, **extra}}))
        for extra in ({}, {"qualifier": "staging"})
    )
    organizations = tuple(
        create_stacks(app, parse({"organization": organization}))[0]
        for organization in ORGANIZATIONS
    )
    assembly = app.synth()
    assert all(isinstance(o, MaintenanceWindowAlertsStack) for o in organizations)
    return SideBySide(
        (centrals[0], centrals[1]),
        (organizations[0], organizations[1]),  # type: ignore[arg-type]
        {s.stack_name: s.template for s in assembly.stacks},
    )


def test_two_central_deployments_for_the_same_members_share_no_physical_name(
    side_by_side: SideBySide,
) -> None:
    production, staging = (side_by_side.fixed_names(s) for s in side_by_side.centrals)

    assert production.isdisjoint(staging)
    assert {
        f"MaintenanceWindowAlerts-Central-{A}-eu-west-1",
        f"MaintenanceWindowAlerts-Member-{B}-us-east-1",
        "MaintenanceWindowAlertsCentral-eu-west-1",
        "MaintenanceWindowAlertsReader-us-east-1",
        "MaintenanceWindowAlertsForward",
        "maintenance-window-alerts",
    } <= production  # no qualifier: today's names
    assert {
        f"MaintenanceWindowAlerts-Central-staging-{A}-eu-west-1",
        f"MaintenanceWindowAlerts-Member-staging-{B}-us-east-1",
        "MaintenanceWindowAlertsCentral-staging-eu-west-1",
        "MaintenanceWindowAlertsReader-staging-us-east-1",
        "MaintenanceWindowAlertsForward-staging",
        "maintenance-window-alerts-staging",
    } <= staging
    central_staging = side_by_side.centrals[1][0]
    assert isinstance(central_staging, MaintenanceWindowAlertsStack)
    function = side_by_side.templates[central_staging.stack_name]["Resources"][
        logical_id(central_staging.alerts.function)
    ]
    assert function["Properties"]["Environment"]["Variables"][contract.ENV_NAME_QUALIFIER] == (
        "staging"
    )


def test_two_organization_deployments_share_no_physical_name(side_by_side: SideBySide) -> None:
    production, staging = (side_by_side.fixed_names([s]) for s in side_by_side.organizations)

    assert production.isdisjoint(staging)
    assert {
        "MaintenanceWindowAlerts-Members-staging",
        'MaintenanceWindowAlertsReader-staging-{"Ref": "AWS::Region"}',
        "MaintenanceWindowAlertsForward-staging",
        "MaintenanceWindowAlertsCentral-staging-eu-west-1",
    } <= staging


def test_many_ous_and_regions_synthesize_and_keep_the_function_environment_small(
    side_by_side: SideBySide,
) -> None:
    large = side_by_side.organizations[1]
    template = side_by_side.templates[large.stack_name]
    variables = template["Resources"][logical_id(large.alerts.function)]["Properties"][
        "Environment"
    ]["Variables"]
    (stack_set,) = [
        r["Properties"]
        for r in template["Resources"].values()
        if r["Type"] == "AWS::CloudFormation::StackSet"
    ]

    assert stack_set["StackInstancesGroup"][0]["DeploymentTargets"] == {
        "OrganizationalUnitIds": MANY_OUS
    }
    assert stack_set["StackInstancesGroup"][0]["Regions"] == ALL_REGIONS
    # Lambda's 4 KB for all variables: the covered regions are the only list, and short.
    assert len(json.dumps(variables)) < 2048
    assert variables[contract.ENV_MEMBER_REGIONS] == ",".join(ALL_REGIONS)
    # A reader role ARN per region still fits one managed policy (IAM: 6,144 characters
    # without whitespace).
    (policy,) = [
        r["Properties"]["PolicyDocument"]
        for r in template["Resources"].values()
        if r["Type"] == "AWS::IAM::ManagedPolicy"
    ]
    (assume,) = [s for s in policy["Statement"] if s["Action"] == "sts:AssumeRole"]
    assert assume["Resource"] == [
        f"arn:aws:iam::*:role/MaintenanceWindowAlertsReader-staging-{r}" for r in ALL_REGIONS
    ]
    assert len(json.dumps(policy, separators=(",", ":"))) < 6144
