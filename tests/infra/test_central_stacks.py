"""Central mode: one monitoring account, its members forward events and lend a read-only role.

A layout of 3 accounts x 2 regions, its central stack in one of them, synthesized once as
`cdk synth` does (cdk-nag's three packs on every stack); every cross-account permission is
asserted exactly. A second, smaller layout trusts an AWS Organization instead of an external ID.
"""

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import Stack
from constructs import IConstruct

from maintenance_window_alerts import (
    MaintenanceWindowAlertsMemberStack,
    MaintenanceWindowAlertsStack,
    add_compliance_checks,
    constants,
    create_stacks,
)
from mwalerts import contract
from tests.infra.synthesis import (
    CDK_JSON_CONTEXT,
    acknowledged,
    arn,
    arn_pattern,
    as_text,
    assert_cdk_nag_passes,
    cfn_lint_findings,
    dead_letter_queue_ids,
    logical_id,
    own_alarm_arns,
    permissions,
    policy_statements,
    ref,
    stack_named,
    unacknowledged,
    validation_report,
)
from tools.render_dashboard import dashboard_body

A, B, C = "111111111111", "222222222222", "333333333333"
ACCOUNTS, REGIONS = (A, B, C), ("eu-west-1", "us-east-1")
CENTRAL_ACCOUNT, CENTRAL_REGION = A, "eu-west-1"  # also a member
EXTERNAL_ID = "mwa-2f6c1e9d"
ORGANIZATION_ID = "o-a1b2c3d4e5"
WINDOW = "mw-0123456789abcdef0"
CENTRAL_BUS_ARN = f"arn:aws:events:eu-west-1:{A}:event-bus/{contract.CENTRAL_BUS_NAME}"
CENTRAL_ROLE_ARN = f"arn:aws:iam::{A}:role/MaintenanceWindowAlertsCentral-eu-west-1"
MEMBER_ROLE_ARNS = [
    f"arn:aws:iam::{account}:role/MaintenanceWindowAlertsReader-{region}"
    for account in ACCOUNTS
    for region in REGIONS
]
LAYOUT = {
    "account": CENTRAL_ACCOUNT,
    "region": CENTRAL_REGION,
    "externalId": EXTERNAL_ID,
    "members": [{"account": account, "regions": list(REGIONS)} for account in ACCOUNTS],
    "alertEmails": ["ops@example.com"],
    "windowAlarms": {f"{B}/us-east-1/{WINDOW}": 3},
    "expectedWindows": {f"{C}/eu-west-1/{WINDOW}": "26h"},
}
# With an organization: no external ID, and no error output in alerts (no GetCommandInvocation).
ORGANIZATION_LAYOUT = {
    "account": A,
    "region": "us-east-1",
    "organizationId": ORGANIZATION_ID,
    "members": [{"account": B, "regions": ["us-east-1"]}, {"account": C, "regions": ["us-west-2"]}],
    "errorDetailsLimit": 0,
}
SSM_READ = [
    "ssm:DescribeMaintenanceWindowExecutionTaskInvocations",
    "ssm:DescribeMaintenanceWindowExecutionTasks",
    "ssm:DescribeMaintenanceWindows",
]
WINDOWS_ARN = arn_pattern("ssm", "maintenancewindow/*")
# The bus admits SSM's window execution events only (EventBridge User Guide, "Example policy:
# Send events to a custom bus in a different account"), and only requests that carry both keys:
# ForAllValues alone is true when a key is absent.
SSM_WINDOW_EVENTS_ONLY = {
    "ForAllValues:StringEquals": {
        "events:source": ["aws.ssm"],
        "events:detail-type": ["Maintenance Window Execution State-change Notification"],
    },
    "Null": {"events:source": "false", "events:detail-type": "false"},
}


@dataclass(frozen=True)
class Fleet:
    central: MaintenanceWindowAlertsStack
    members: dict[tuple[str, str], MaintenanceWindowAlertsMemberStack]
    templates: dict[str, dict[str, Any]]  # by stack name
    outdir: Path

    def template(self, stack: Stack) -> dict[str, Any]:
        return self.templates[stack.stack_name]

    def resources(self, stack: Stack, kind: str) -> dict[str, dict[str, Any]]:
        return {k: v for k, v in self.template(stack)["Resources"].items() if v["Type"] == kind}

    def properties(self, construct: IConstruct) -> dict[str, Any]:
        stack = Stack.of(construct)
        resource = self.template(stack)["Resources"][logical_id(construct)]
        return dict(resource["Properties"])


def synthesize_fleet(outdir: Path, layout: dict[str, Any]) -> Fleet:
    """The whole app as `cdk synth` runs it: cdk.json's context with this central layout."""
    app = cdk.App(context={**CDK_JSON_CONTEXT, "central": layout}, outdir=str(outdir))
    central, *members = create_stacks(app)
    add_compliance_checks(app)
    assembly = app.synth()  # raises on any cdk-nag finding that is not acknowledged
    assert isinstance(central, MaintenanceWindowAlertsStack)
    by_environment = {
        (m.account, m.region): m
        for m in members
        if isinstance(m, MaintenanceWindowAlertsMemberStack)
    }
    assert len(by_environment) == len(members)
    return Fleet(
        central=central,
        members=by_environment,
        templates={s.stack_name: s.template for s in assembly.stacks},
        outdir=outdir,
    )


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> Fleet:
    return synthesize_fleet(tmp_path_factory.mktemp("central"), LAYOUT)


@pytest.fixture(scope="module")
def organization(tmp_path_factory: pytest.TempPathFactory) -> Fleet:
    return synthesize_fleet(tmp_path_factory.mktemp("organization"), ORGANIZATION_LAYOUT)


def attached_statements(fleet: Fleet, stack: Stack, role: IConstruct) -> list[dict[str, Any]]:
    """Every statement of every policy (inline or managed) attached to the role."""
    role_properties = fleet.properties(role)
    assert "ManagedPolicyArns" not in role_properties
    assert "Policies" not in role_properties
    return [
        statement
        for kind in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy")
        for policy in fleet.resources(stack, kind).values()
        if ref(role) in policy["Properties"].get("Roles", [])
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
    ]


def each_member(fleet: Fleet) -> Iterator[tuple[str, str, MaintenanceWindowAlertsMemberStack]]:
    for (account, region), stack in fleet.members.items():
        yield account, region, stack


# --- Stacks ---------------------------------------------------------------------------------


def test_app_has_a_central_stack_and_a_member_stack_per_account_and_region(fleet: Fleet) -> None:
    manifest = json.loads((fleet.outdir / "manifest.json").read_text())["artifacts"]
    central = fleet.central.stack_name
    members = [f"MaintenanceWindowAlerts-Member-{a}-{r}" for a in ACCOUNTS for r in REGIONS]

    assert central == fleet.central.node.id == f"MaintenanceWindowAlerts-Central-{A}-eu-west-1"
    assert list(fleet.templates) == [central, *members]
    assert manifest[central]["environment"] == f"aws://{A}/eu-west-1"
    for account, region, stack in each_member(fleet):
        assert (
            stack.stack_name
            == stack.node.id
            == f"MaintenanceWindowAlerts-Member-{account}-{region}"
        )
        assert manifest[stack.stack_name]["environment"] == f"aws://{account}/{region}"
        # cdk deploy --all deploys the central stack first.
        assert [
            d for d in manifest[stack.stack_name]["dependencies"] if not d.endswith(".assets")
        ] == [central]
    assert sorted(fleet.members) == [(a, r) for a in ACCOUNTS for r in REGIONS]


def test_member_stacks_hold_only_the_forwarding_rule_and_the_reader_role(fleet: Fleet) -> None:
    for _, _, stack in each_member(fleet):
        kinds = sorted(r["Type"] for r in fleet.template(stack)["Resources"].values())

        assert kinds == [
            "AWS::Events::Rule",
            "AWS::IAM::ManagedPolicy",  # the reader role's SSM policy
            "AWS::IAM::Policy",  # the forwarding role's events:PutEvents
            "AWS::IAM::Role",
            "AWS::IAM::Role",
            "AWS::SQS::Queue",
            "AWS::SQS::QueuePolicy",
        ]


def test_only_the_central_stack_runs_the_self_test_at_deploy_time(fleet: Fleet) -> None:
    central = fleet.template(fleet.central)["Resources"].values()

    assert [r["Type"] for r in central].count("Custom::Trigger") == 1
    assert fleet.central.alerts.self_test is not None
    for _, _, stack in each_member(fleet):
        resources = fleet.template(stack)["Resources"].values()
        assert not [
            r for r in resources if r["Type"] in ("Custom::Trigger", "AWS::Lambda::Function")
        ]


# --- The central account --------------------------------------------------------------------


def bus_policies(fleet: Fleet) -> list[dict[str, Any]]:
    return [
        p["Properties"]
        for p in fleet.resources(fleet.central, "AWS::Events::EventBusPolicy").values()
    ]


def test_central_bus_admits_ssm_window_events_from_the_member_accounts_only(fleet: Fleet) -> None:
    bus = fleet.central.alerts.event_bus
    assert bus is not None

    assert fleet.properties(bus)["Name"] == contract.CENTRAL_BUS_NAME
    (policy,) = bus_policies(fleet)
    assert policy["EventBusName"] == ref(bus)
    assert policy["Statement"] == {
        "Sid": "cdk-AllowMembersToPutEvents",
        "Effect": "Allow",
        "Principal": {"AWS": [f"arn:aws:iam::{account}:root" for account in ACCOUNTS]},
        "Action": "events:PutEvents",
        "Resource": arn(bus),
        "Condition": SSM_WINDOW_EVENTS_ONLY,
    }


def test_with_an_organization_the_bus_admits_its_accounts_only(organization: Fleet) -> None:
    bus = organization.central.alerts.event_bus
    assert bus is not None

    (policy,) = bus_policies(organization)
    assert policy["Statement"] == {
        "Sid": "cdk-AllowMembersToPutEvents",
        "Effect": "Allow",
        "Principal": {"AWS": "*"},
        "Action": "events:PutEvents",
        "Resource": arn(bus),
        "Condition": {
            "StringEquals": {"aws:PrincipalOrgID": ORGANIZATION_ID},
            **SSM_WINDOW_EVENTS_ONLY,
        },
    }


def test_central_rule_reads_the_central_bus_and_only_the_member_accounts_and_regions_events(
    fleet: Fleet,
) -> None:
    alerts = fleet.central.alerts
    assert alerts.event_bus is not None
    rule = fleet.properties(alerts.rule)
    (target,) = rule["Targets"]

    assert rule["EventBusName"] == ref(alerts.event_bus)
    assert rule["EventPattern"] == {
        "account": list(ACCOUNTS),
        # A member forwarding from a region it is not listed for pages nobody.
        "region": list(REGIONS),
        "source": [contract.EVENT_SOURCE],
        "detail-type": [contract.WINDOW_EXECUTION_DETAIL_TYPE],
        "detail": {"status": list(contract.TERMINAL_STATUSES)},
    }
    assert target["Arn"] == arn(alerts.function)
    assert target["DeadLetterConfig"] == {"Arn": arn(alerts.rule_dead_letter_queue)}
    # The sweep's schedule stays on the default bus (schedules only run there).
    assert "EventBusName" not in fleet.properties(alerts.schedule)


def test_central_function_role_has_its_fixed_name_and_may_assume_exactly_the_member_roles(
    fleet: Fleet,
) -> None:
    role = fleet.central.alerts.function.role
    assert role is not None
    allowed = permissions(attached_statements(fleet, fleet.central, role))

    assert fleet.properties(role)["RoleName"] == contract.central_function_role_name("eu-west-1")
    assert f"arn:aws:iam::{A}:role/{fleet.properties(role)['RoleName']}" == CENTRAL_ROLE_ARN
    assert sorted(allowed["sts:AssumeRole"]) == sorted(MEMBER_ROLE_ARNS)
    assert len(allowed["sts:AssumeRole"]) == len(ACCOUNTS) * len(REGIONS) == 6
    # No SSM permission of its own: it reads every member, this account too, through its role.
    assert not [action for action in allowed if action.startswith("ssm:")]
    (managed,) = fleet.resources(fleet.central, "AWS::IAM::ManagedPolicy").values()
    assert managed["Properties"]["PolicyDocument"]["Statement"] == [
        {"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": MEMBER_ROLE_ARNS}
    ]
    assert fleet.properties(role)["AssumeRolePolicyDocument"]["Statement"] == [
        {
            "Action": "sts:AssumeRole",
            "Effect": "Allow",
            "Principal": {"Service": "lambda.amazonaws.com"},
        }
    ]


def test_central_function_is_told_the_members_and_the_external_id(
    fleet: Fleet, organization: Fleet
) -> None:
    variables = fleet.properties(fleet.central.alerts.function)["Environment"]["Variables"]
    in_organization = organization.properties(organization.central.alerts.function)["Environment"][
        "Variables"
    ]

    assert json.loads(variables[contract.ENV_MEMBER_ACCOUNTS]) == {
        account: list(REGIONS) for account in ACCOUNTS
    }
    assert variables[contract.ENV_MEMBER_EXTERNAL_ID] == EXTERNAL_ID
    assert json.loads(in_organization[contract.ENV_MEMBER_ACCOUNTS]) == {
        B: ["us-east-1"],
        C: ["us-west-2"],
    }
    assert contract.ENV_MEMBER_EXTERNAL_ID not in in_organization


def test_central_dashboard_finds_every_members_windows_by_account_region_and_window(
    fleet: Fleet,
) -> None:
    body = dashboard_body(fleet.template(fleet.central))
    queries = {
        w["properties"]["title"]: w["properties"]["metrics"][0][0]
        for w in body["widgets"]
        if w["type"] == "metric" and "expression" in w["properties"]["metrics"][0][0]
    }
    schema = '{"MaintenanceWindows",Account,Region,WindowId}'
    window = "${PROP('Dim.Account')}/${PROP('Dim.Region')}/${PROP('Dim.WindowId')}"

    assert queries["Executions per window"] == {
        "expression": f"SEARCH('{schema} MetricName=\"WindowExecutions\"', 'Sum', 300)",
        "label": window,
    }
    most = queries["Windows with the most failed invocations (top 10)"]
    assert most["expression"].startswith(f"SORT(SEARCH('{schema} (MetricName=")
    assert most["label"] == f"{window} ${{PROP('MetricName')}}"


def test_central_window_alarms_watch_the_members_window(fleet: Fleet) -> None:
    alerts = fleet.central.alerts
    (window_alarm,) = alerts.window_alarms
    (missed_alarm,) = alerts.missed_window_alarms
    failed = fleet.properties(window_alarm)["Metrics"]
    missed = fleet.properties(missed_alarm)

    def dimensions(account: str, region: str) -> list[dict[str, str]]:
        return [
            {"Name": contract.DIMENSION_ACCOUNT, "Value": account},
            {"Name": contract.DIMENSION_REGION, "Value": region},
            {"Name": contract.DIMENSION_WINDOW_ID, "Value": WINDOW},
        ]

    assert [q["MetricStat"]["Metric"]["Dimensions"] for q in failed if "MetricStat" in q] == [
        dimensions(B, "us-east-1")
    ] * len(contract.DEFAULT_ALERT_STATUSES)
    assert missed["Dimensions"] == dimensions(C, "eu-west-1")
    assert window_alarm.node.id == f"{constants.WINDOW_ALARM_ID_PREFIX}{B}-us-east-1-{WINDOW}"
    # Named for the central stack, as the topic's and the key's policies admit (test_topics.py).
    assert fleet.properties(window_alarm)["AlarmName"] == stack_named(
        f"/Alerts/{window_alarm.node.id}"
    )
    assert {
        as_text(arn)
        for _, statement in policy_statements(fleet.template(fleet.central))
        for condition in statement.get("Condition", {}).values()
        for key, arn in condition.items()
        if key == "aws:SourceArn" and ":alarm:" in as_text(arn)
    } == {as_text(own_alarm_arns())}


def test_central_outputs_name_the_bus_too(fleet: Fleet) -> None:
    alerts = fleet.central.alerts
    assert alerts.event_bus is not None
    outputs = {k: v["Value"] for k, v in fleet.template(fleet.central)["Outputs"].items()}

    assert outputs[contract.OUTPUT_EVENT_BUS_ARN] == arn(alerts.event_bus)
    assert outputs[contract.OUTPUT_TOPIC_ARN] == ref(alerts.topic)


# --- The members ----------------------------------------------------------------------------


def test_member_rule_forwards_ended_executions_to_the_central_bus(fleet: Fleet) -> None:
    for _, _, stack in each_member(fleet):
        rule = fleet.properties(stack.rule)
        (target,) = rule["Targets"]

        assert "EventBusName" not in rule  # the member's default bus, where SSM's events are
        assert rule["EventPattern"] == {
            "source": [contract.EVENT_SOURCE],
            "detail-type": [contract.WINDOW_EXECUTION_DETAIL_TYPE],
            "detail": {"status": list(contract.TERMINAL_STATUSES)},
        }
        assert target["Arn"] == CENTRAL_BUS_ARN  # in the central account and region
        assert target["RoleArn"] == arn(stack.forward_role)
        assert target["DeadLetterConfig"] == {"Arn": arn(stack.dead_letter_queue)}


def test_forwarding_role_may_only_put_events_on_the_central_bus(fleet: Fleet) -> None:
    for _, _, stack in each_member(fleet):
        role = fleet.properties(stack.forward_role)

        # Only for this account's forwarding rule, of a fixed name (aws:SourceAccount and
        # aws:SourceArn: the confused deputy's guard).
        assert role["AssumeRolePolicyDocument"]["Statement"] == [
            {
                "Action": "sts:AssumeRole",
                "Effect": "Allow",
                "Principal": {"Service": "events.amazonaws.com"},
                "Condition": {
                    "StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}},
                    "ArnEquals": {
                        "aws:SourceArn": arn_pattern(
                            "events", "rule/MaintenanceWindowAlertsForward"
                        )
                    },
                },
            }
        ]
        assert fleet.properties(stack.rule)["Name"] == "MaintenanceWindowAlertsForward"
        assert attached_statements(fleet, stack, stack.forward_role) == [
            {"Action": "events:PutEvents", "Effect": "Allow", "Resource": CENTRAL_BUS_ARN}
        ]


def test_forwarding_dead_letter_queue_is_encrypted_tls_only_and_admits_only_the_rule(
    fleet: Fleet,
) -> None:
    for _, _, stack in each_member(fleet):
        queue = fleet.properties(stack.dead_letter_queue)
        (policy,) = fleet.resources(stack, "AWS::SQS::QueuePolicy").values()
        statements = policy["Properties"]["PolicyDocument"]["Statement"]

        assert queue == {
            "SqsManagedSseEnabled": True,
            "MessageRetentionPeriod": 14 * 86400,
            # No queue may name it as its dead-letter queue (AWS Control Tower ct-sqs-pr-1).
            "RedriveAllowPolicy": {"redrivePermission": "denyAll"},
        }
        assert policy["Properties"]["Queues"] == [ref(stack.dead_letter_queue)]
        assert [{k: v for k, v in s.items() if k != "Sid"} for s in statements] == [
            {
                "Action": "sqs:*",
                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                "Effect": "Deny",
                "Principal": {"AWS": "*"},
                "Resource": arn(stack.dead_letter_queue),
            },
            {
                "Action": "sqs:SendMessage",
                "Condition": {"ArnEquals": {"aws:SourceArn": arn(stack.rule)}},
                "Effect": "Allow",
                "Principal": {"Service": "events.amazonaws.com"},
                "Resource": arn(stack.dead_letter_queue),
            },
        ]


def test_every_queue_of_every_stack_is_a_dead_letter_queue_no_queue_may_redrive_into(
    fleet: Fleet,
) -> None:
    for name, template in fleet.templates.items():
        queues = {
            queue_id: queue
            for queue_id, queue in template["Resources"].items()
            if queue["Type"] == "AWS::SQS::Queue"
        }

        assert dead_letter_queue_ids(template) == set(queues), name
        assert [q["Properties"]["RedriveAllowPolicy"] for q in queues.values()] == [
            {"redrivePermission": "denyAll"}
        ] * len(queues), name


def test_member_reader_role_trusts_only_the_central_function_role_with_the_external_id(
    fleet: Fleet,
) -> None:
    for _, region, stack in each_member(fleet):
        role = fleet.properties(stack.reader_role)

        assert role["RoleName"] == contract.member_role_name(region)
        assert role["AssumeRolePolicyDocument"]["Statement"] == [
            {
                "Action": "sts:AssumeRole",
                "Effect": "Allow",
                # The central account, and in it only the function's role: by a condition, so
                # the member deploys before the central role exists.
                "Principal": {"AWS": f"arn:aws:iam::{A}:root"},
                "Condition": {
                    "ArnEquals": {"aws:PrincipalArn": CENTRAL_ROLE_ARN},
                    "StringEquals": {"sts:ExternalId": EXTERNAL_ID},
                },
            }
        ]
        assert "MaxSessionDuration" not in role  # one hour


def test_with_an_organization_member_roles_trust_the_central_role_from_it(
    organization: Fleet,
) -> None:
    central_role = f"arn:aws:iam::{A}:role/MaintenanceWindowAlertsCentral-us-east-1"
    for _, _, stack in each_member(organization):
        (statement,) = organization.properties(stack.reader_role)["AssumeRolePolicyDocument"][
            "Statement"
        ]

        assert statement["Principal"] == {"AWS": f"arn:aws:iam::{A}:root"}
        assert statement["Condition"] == {
            "ArnEquals": {"aws:PrincipalArn": central_role},
            "StringEquals": {"aws:PrincipalOrgID": ORGANIZATION_ID},
        }


def test_member_reader_role_may_only_read_ssm_in_its_account_and_region(
    fleet: Fleet, organization: Fleet
) -> None:
    for synth, command_output in ((fleet, ["ssm:GetCommandInvocation"]), (organization, [])):
        for _, region, stack in each_member(synth):
            assert stack.region == region  # so AWS::Region below is the member's region

            assert attached_statements(synth, stack, stack.reader_role) == [
                {
                    "Action": [
                        "ssm:DescribeMaintenanceWindowExecutions",
                        "ssm:GetMaintenanceWindow",
                    ],
                    "Effect": "Allow",
                    "Resource": WINDOWS_ARN,
                },
                {
                    # GetCommandInvocation only if alerts quote error output (errorDetailsLimit).
                    "Action": SSM_READ + command_output,
                    "Condition": {"StringEquals": {"aws:RequestedRegion": {"Ref": "AWS::Region"}}},
                    "Effect": "Allow",
                    "Resource": "*",
                },
            ]


def test_member_outputs_name_the_dead_letter_queue_and_the_reader_role(fleet: Fleet) -> None:
    for _, _, stack in each_member(fleet):
        outputs = {k: v["Value"] for k, v in fleet.template(stack)["Outputs"].items()}

        assert outputs == {
            contract.OUTPUT_FORWARD_DLQ_URL: ref(stack.dead_letter_queue),
            contract.OUTPUT_READER_ROLE_ARN: arn(stack.reader_role),
        }


# --- Compliance -----------------------------------------------------------------------------


def all_stacks(fleet: Fleet) -> list[Stack]:
    return [fleet.central, *fleet.members.values()]


def test_cdk_nag_finds_nothing_unacknowledged_in_any_stack(
    fleet: Fleet, organization: Fleet
) -> None:
    for synth in (fleet, organization):
        report = validation_report(synth.outdir)
        # The synth ran the packs and cfn-guard, and they found nothing unacknowledged.
        assert unacknowledged(report) == []
        for stack in all_stacks(synth):
            assert_cdk_nag_passes(stack)


def test_every_member_acknowledgement_is_on_one_resource_and_says_why(fleet: Fleet) -> None:
    windows = "arn:<AWS::Partition>:ssm:<AWS::Region>:<AWS::AccountId>:maintenancewindow/*"
    for _, _, stack in each_member(fleet):
        assert acknowledged(stack) == {
            ("ForwardDeadLetterQueue/Resource", "AwsSolutions-SQS3"),
            ("ForwardDeadLetterQueue/Resource", "Serverless-SQSRedrivePolicy"),
            ("ForwardDeadLetterQueue/Resource", "cdk-validator-cfnguard::sqs_dlq_check"),
            ("ForwardRole/DefaultPolicy/Resource", "NIST.800.53.R5-IAMNoInlinePolicy"),
            ("ReadMaintenanceWindows/Resource", "AwsSolutions-IAM5[Resource::*]"),
            ("ReadMaintenanceWindows/Resource", f"AwsSolutions-IAM5[Resource::{windows}]"),
        }


def test_central_stack_needs_no_acknowledgement_beyond_the_per_account_stacks(
    fleet: Fleet,
) -> None:
    found = acknowledged(fleet.central)

    # Without an SSM policy of its own, its acknowledgements are those of any alerts stack but
    # the SSM policy's; the bus policy, the fixed role name and sts:AssumeRole need none.
    assert not [
        path
        for path, _ in found
        if path.startswith(
            ("Alerts/ReadMaintenanceWindows", "Alerts/CentralBus", "Alerts/AssumeMemberRoles")
        )
    ]
    assert ("Alerts/FunctionRole/DefaultPolicy/Resource", "AwsSolutions-IAM5[Resource::*]") in found


def test_cfn_lint_finds_no_errors_or_warnings_in_any_template(
    fleet: Fleet, organization: Fleet
) -> None:
    for synth in (fleet, organization):
        for name, template in synth.templates.items():
            assert cfn_lint_findings(template) == [], name
