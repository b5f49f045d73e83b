"""Where the app deploys: a stack per account and region from one list, validated before synth.

A bad entry fails synth with a message that names the entry and the problem; no list deploys the
one stack of old into the CLI's account and region.
"""

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest

from maintenance_window_alerts import (
    Central,
    Deployment,
    Layout,
    MaintenanceWindowAlertsMemberStack,
    MaintenanceWindowAlertsStack,
    Member,
    Settings,
    SettingsError,
    create_stacks,
)
from maintenance_window_alerts import settings as keys
from maintenance_window_alerts.layout import parse_layout
from mwalerts import contract
from tests.infra.synthesis import CDK_JSON_CONTEXT
from tests.support import ROOT

A, B, C = "111111111111", "222222222222", "333333333333"
WINDOW = "mw-0123456789abcdef0"
EXTERNAL_ID = "mwa-2f6c1e"


def parse(context: dict[str, Any], base_dir: Path = ROOT) -> Layout:
    """As the app parses cdk.json's context with these values set (or overridden)."""
    return parse_layout({**CDK_JSON_CONTEXT, **context}, base_dir=base_dir)


def entry(account: str = A, region: str = "eu-west-1", **overrides: Any) -> dict[str, Any]:
    return {"account": account, "region": region, **overrides}


def central(**overrides: Any) -> dict[str, Any]:
    return {
        "account": A,
        "region": "eu-west-1",
        "externalId": EXTERNAL_ID,
        "members": [{"account": B, "regions": ["eu-west-1", "us-east-1"]}],
        **overrides,
    }


def failure(context: dict[str, Any], base_dir: Path = ROOT) -> str:
    with pytest.raises(SettingsError) as raised:
        parse(context, base_dir)
    return str(raised.value)


# --- Per-account mode -----------------------------------------------------------------------


def test_no_list_deploys_todays_single_stack_to_the_clis_account_and_region(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CDK_DEFAULT_ACCOUNT", A)
    monkeypatch.setenv("CDK_DEFAULT_REGION", "eu-west-1")
    app = cdk.App(context=CDK_JSON_CONTEXT)

    (stack,) = create_stacks(app)

    assert parse({}) == Layout(Settings())
    assert isinstance(stack, MaintenanceWindowAlertsStack)
    assert stack.node.id == stack.stack_name == contract.STACK_NAME == "MaintenanceWindowAlerts"
    assert (stack.account, stack.region) == (A, "eu-west-1")
    assert stack.alerts.settings == Settings()


def test_each_deployment_gets_a_stack_named_by_its_account_and_region() -> None:
    context = {
        keys.ALERT_EMAILS: ["ops@example.com"],
        "deployments": [
            entry(A, "eu-west-1"),
            entry(A, "us-east-1", alertEmails=["us-ops@example.com"]),
            entry(
                B,
                "eu-west-1",
                alertStatuses=["FAILED"],
                windowAlarms={WINDOW: 3},
                expectedWindows={WINDOW: "26h"},
                errorDetailsLimit=0,
            ),
        ],
    }
    app = cdk.App(context={**CDK_JSON_CONTEXT, **context})

    stacks = create_stacks(app)

    assert [(s.node.id, s.stack_name, s.account, s.region) for s in stacks] == [
        (f"MaintenanceWindowAlerts-{a}-{r}",) * 2 + (a, r)
        for a, r in ((A, "eu-west-1"), (A, "us-east-1"), (B, "eu-west-1"))
    ]
    settings = [s.alerts.settings for s in stacks if isinstance(s, MaintenanceWindowAlertsStack)]
    # Each entry's settings over the top-level ones.
    assert settings == [
        Settings(alert_emails=("ops@example.com",)),
        Settings(alert_emails=("us-ops@example.com",)),
        Settings(
            alert_emails=("ops@example.com",),
            alert_statuses=("FAILED",),
            window_alarms={WINDOW: 3},
            expected_windows={WINDOW: "26h"},
            error_details_limit=0,
        ),
    ]


def test_deployments_can_come_from_the_command_line_as_json() -> None:
    # cdk deploy -c 'deployments=[{"account": "...", "region": "..."}]' passes a string.
    layout = parse({"deployments": json.dumps([entry(A, "eu-west-1")])})

    assert layout.deployments == (Deployment(A, "eu-west-1", Settings()),)


@pytest.mark.parametrize(
    ("deployments", "message"),
    [
        (
            [entry(), entry("12345")],
            "deployments[1] (12345/eu-west-1): account '12345' is not a 12-digit AWS account ID "
            '(write it as a string, such as "012345678901": a number loses leading zeros)',
        ),
        (
            [entry(account=11111111111)],  # type: ignore[arg-type]
            "deployments[0] (11111111111/eu-west-1): account 11111111111 is not a 12-digit AWS "
            'account ID (write it as a string, such as "012345678901": a number loses leading '
            "zeros)",
        ),
        (
            [entry(), entry(B), entry(region="eu-west-9")],
            "deployments[2] (111111111111/eu-west-9): unknown region 'eu-west-9': did you mean "
            "'eu-west-1', 'eu-west-2' or 'eu-west-3'?",
        ),
        (
            [entry(region="the moon")],
            "deployments[0] (111111111111/the moon): unknown region 'the moon' (not a region of "
            "aws_cdk.region_info)",
        ),
        (
            [{"account": A}],
            "deployments[0] (111111111111/?): missing 'region' (such as 'eu-west-1')",
        ),
        (
            [{"region": "eu-west-1"}],
            "deployments[0] (?/eu-west-1): missing 'account' (a 12-digit AWS account ID)",
        ),
        (
            [entry(), entry(B), entry()],
            "deployments[2] (111111111111/eu-west-1): duplicate of deployments[0]: one stack per "
            "account and region",
        ),
        (
            [entry(alertEmail="ops@example.com", colour="blue")],
            "deployments[0] (111111111111/eu-west-1): unknown keys 'alertEmail' (did you mean "
            "'alertEmails'?), 'colour'; allowed: account, region, alertStatuses, alertEmails, "
            "metricsNamespace, logRetentionDays, sweepIntervalMinutes, errorDetailsLimit, "
            "chatNotifications, windowAlarms, expectedWindows, powertoolsLayer, selfTestOnDeploy, "
            "repeatAlerts, resolvedNotices, chronicThreshold",
        ),
        (
            [entry(), entry(region="us-east-1", sweepIntervalMinutes=1)],
            "deployments[1] (111111111111/us-east-1): sweepIntervalMinutes 1 is out of range: "
            "choose 5 to 720 minutes",
        ),
        (
            [entry(windowAlarms={f"{A}/eu-west-1/{WINDOW}": 1})],
            f"deployments[0] (111111111111/eu-west-1): windowAlarms key '{A}/eu-west-1/{WINDOW}' "
            "names an account and region, which only central mode does: write the window ID "
            f"alone ({WINDOW})",
        ),
        (
            [f"{A}/eu-west-1"],
            'deployments[0]: must be an object {"account": "...", "region": "...", ...}, got '
            "'111111111111/eu-west-1'",
        ),
        (
            [],
            'deployments must be a non-empty list of {"account": "...", "region": "..."} objects '
            "(leave it out for one stack in the CLI's account and region), got []",
        ),
        (
            '[{"account": ',
            "deployments is not valid JSON: Expecting value: line 1 column 14 (char 13)",
        ),
    ],
    ids=[
        "short-account",
        "account-as-number",
        "unknown-region",
        "unknown-region-no-hint",
        "missing-region",
        "missing-account",
        "duplicate",
        "unknown-keys",
        "bad-override",
        "central-window-key",
        "not-an-object",
        "empty",
        "bad-json",
    ],
)
def test_invalid_deployment_fails_with_a_message_naming_the_entry(
    deployments: Any, message: str
) -> None:
    assert failure({"deployments": deployments}) == message


def test_deployments_and_central_are_exclusive() -> None:
    assert failure({"deployments": [entry()], "central": central()}) == (
        "deployments and central are exclusive: list the accounts and regions that get a stack "
        "of their own in deployments, or a central account and its members in central, not both"
    )


def test_misspelled_layout_key_fails_instead_of_being_ignored() -> None:
    assert failure({"deployment": [entry()]}) == (
        "unknown setting 'deployment': did you mean 'deployments'?"
    )


def test_top_level_settings_fail_as_before_naming_the_key() -> None:
    with pytest.raises(keys.SettingsError, match=r"^alertEmails has invalid email"):
        parse({keys.ALERT_EMAILS: ["nobody"], "deployments": [entry()]})


def test_window_keys_outside_central_mode_name_the_window_alone() -> None:
    assert failure({keys.WINDOW_ALARMS: {f"{A}/eu-west-1/{WINDOW}": 1}}) == (
        f"windowAlarms key '{A}/eu-west-1/{WINDOW}' names an account and region, which only "
        f"central mode does: write the window ID alone ({WINDOW})"
    )


def test_repeat_alerts_outside_central_mode_name_the_window_alone_or_every_window() -> None:
    every_window = {"*": "on-change", WINDOW: "always"}
    layout = parse({keys.REPEAT_ALERTS: every_window, "deployments": [entry()]})

    assert layout.deployments[0].settings.repeat_alerts == every_window
    assert failure({keys.REPEAT_ALERTS: {f"{A}/eu-west-1/{WINDOW}": "on-change"}}) == (
        f"repeatAlerts key '{A}/eu-west-1/{WINDOW}' names an account and region, which only "
        f"central mode does: write the window ID alone ({WINDOW})"
    )
    assert failure({"deployments": [entry(repeatAlerts={f"{A}/eu-west-1/{WINDOW}": "always"})]})


# --- Central mode ---------------------------------------------------------------------------


def test_central_repeat_alerts_name_a_members_window_or_every_window() -> None:
    repeat = {f"{B}/us-east-1/{WINDOW}": "always", "*": "on-change"}
    layout = parse({"central": central(repeatAlerts=repeat)})

    assert layout.central is not None
    assert layout.central.settings.repeat_alerts == repeat


def test_central_environment_budget_counts_repeat_alerts_too() -> None:
    # 52 accounts in 2 regions fit alone (2,143 bytes); with 17 windows in repeatAlerts, not.
    members = [{"account": f"{i:012d}", "regions": ["eu-west-1", "us-east-1"]} for i in range(52)]
    repeat = {f"{i:012d}/eu-west-1/mw-{i:017x}": "on-change" for i in range(17)}

    assert parse({"central": central(members=members)}).central is not None
    assert failure({"central": central(members=members, repeatAlerts=repeat)}) == (
        f"{WHERE}: members, externalId and repeatAlerts take 3,130 bytes of the central "
        "function's environment (MEMBER_ACCOUNTS, MEMBER_EXTERNAL_ID, REPEAT_ALERTS), more than "
        "the 3,000 that Lambda's 4 KB of environment variables leave them: list fewer member "
        "accounts or regions for this central account or name fewer windows in repeatAlerts"
    )


def test_central_layout_lists_its_members_and_the_names_they_share() -> None:
    layout = parse(
        {
            keys.ALERT_EMAILS: ["ops@example.com"],
            "central": central(
                members=[
                    {"account": A, "regions": ["eu-west-1"]},
                    {"account": B, "regions": ["eu-west-1", "us-east-1"]},
                ],
                errorDetailsLimit=0,
                windowAlarms={f"{B}/us-east-1/{WINDOW}": 2},
            ),
        }
    )
    fleet = layout.central
    assert fleet is not None

    assert fleet == Central(
        account=A,
        region="eu-west-1",
        settings=Settings(
            alert_emails=("ops@example.com",),
            error_details_limit=0,
            window_alarms={f"{B}/us-east-1/{WINDOW}": 2},
        ),
        members=(Member(A, ("eu-west-1",)), Member(B, ("eu-west-1", "us-east-1"))),
        external_id=EXTERNAL_ID,
    )
    assert layout.deployments == ()
    assert fleet.stack_id == f"MaintenanceWindowAlerts-Central-{A}-eu-west-1"
    assert fleet.member_stack_id(B, "us-east-1") == f"MaintenanceWindowAlerts-Member-{B}-us-east-1"
    assert list(fleet.member_environments) == [
        (A, "eu-west-1"),
        (B, "eu-west-1"),
        (B, "us-east-1"),
    ]
    assert json.loads(fleet.member_accounts_json) == {
        A: ["eu-west-1"],
        B: ["eu-west-1", "us-east-1"],
    }
    assert fleet.event_bus_arn == (
        f"arn:aws:events:eu-west-1:{A}:event-bus/{contract.CENTRAL_BUS_NAME}"
    )
    assert fleet.function_role_arn == (
        f"arn:aws:iam::{A}:role/{contract.central_function_role_name('eu-west-1')}"
    )
    assert fleet.member_role_arns == [
        f"arn:aws:iam::{account}:role/{contract.member_role_name(region)}"
        for account, region in fleet.member_environments
    ]


def test_central_mode_works_with_an_organization_instead_of_an_external_id() -> None:
    fleet = parse({"central": central(externalId=None, organizationId="o-a1b2c3d4e5")}).central

    assert fleet is not None
    assert (fleet.organization_id, fleet.external_id) == ("o-a1b2c3d4e5", None)


def test_central_partition_follows_its_region() -> None:
    fleet = parse(
        {
            "central": central(
                region="cn-north-1", members=[{"account": B, "regions": ["cn-northwest-1"]}]
            )
        }
    ).central

    assert fleet is not None
    assert fleet.event_bus_arn.startswith("arn:aws-cn:events:cn-north-1:")
    assert fleet.member_role_arns == [
        f"arn:aws-cn:iam::{B}:role/MaintenanceWindowAlertsReader-cn-northwest-1"
    ]


WHERE = f"central ({A}/eu-west-1)"
MEMBER = {"account": B, "regions": ["eu-west-1"]}


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (
            {"externalId": None},
            f"{WHERE}: set externalId (or organizationId): without an organization, the member "
            "roles trust the central function only with the external ID",
        ),
        (
            {"organizationId": "o-1"},
            f"{WHERE}: organizationId 'o-1' is not an AWS Organizations ID: o- and 10 to 32 "
            "lowercase letters or digits, such as o-a1b2c3d4e5",
        ),
        (
            {"externalId": "two words"},
            f"{WHERE}: externalId must be 2 to 1224 characters of letters, digits and "
            "_+=,.@:/- (what STS accepts), got 'two words'",
        ),
        (
            {"externalId": "x"},
            f"{WHERE}: externalId must be 2 to 1224 characters of letters, digits and "
            "_+=,.@:/- (what STS accepts), got 'x'",
        ),
        (
            {"members": []},
            f'{WHERE}: members must be a non-empty list of {{"account": "...", "regions": '
            '["..."]} objects, got []',
        ),
        (
            {"members": [MEMBER, {"account": B, "regions": ["us-east-1"]}]},
            f"central.members[1] ({B}): account listed twice (also central.members[0]): list all "
            "its regions in one entry",
        ),
        (
            {"members": [{"account": B, "regions": ["eu-west-1", "eu-west-1"]}]},
            f"central.members[0] ({B}): region 'eu-west-1' listed twice",
        ),
        (
            {"members": [MEMBER, {"account": C, "regions": ["eu-west-9"]}]},
            f"central.members[1] ({C}): unknown region 'eu-west-9': did you mean 'eu-west-1', "
            "'eu-west-2' or 'eu-west-3'?",
        ),
        (
            {"members": [{"account": B, "regions": []}]},
            f"central.members[0] ({B}): regions must be a non-empty list of regions such as "
            '["eu-west-1", "us-east-1"], got []',
        ),
        (
            {"members": [{"account": "2222", "regions": ["eu-west-1"]}]},
            "central.members[0] (2222): account '2222' is not a 12-digit AWS account ID (write it "
            'as a string, such as "012345678901": a number loses leading zeros)',
        ),
        (
            {"members": [{"account": B, "region": ["eu-west-1"]}]},
            f"central.members[0] ({B}): unknown key 'region' (did you mean 'regions'?); "
            "allowed: account, regions",
        ),
        (
            {"members": [{"account": B, "regions": ["cn-north-1"]}]},
            f"central.members[0] ({B}): region 'cn-north-1' is in partition aws-cn, the central "
            "account's in aws: events and roles cannot cross partitions",
        ),
        (
            {"region": "us-iso-east-1", "members": [{"account": B, "regions": ["us-iso-east-1"]}]},
            f"central ({A}/us-iso-east-1): region 'us-iso-east-1' is in partition aws-iso; "
            "central mode works in aws, aws-cn, aws-us-gov",
        ),
        (
            {"organisationId": "o-a1b2c3d4e5"},
            f"{WHERE}: unknown key 'organisationId' (did you mean 'organizationId'?); allowed: "
            "account, region, members, organizationId, externalId, qualifier, alertStatuses, "
            "alertEmails, metricsNamespace, logRetentionDays, sweepIntervalMinutes, "
            "errorDetailsLimit, chatNotifications, windowAlarms, expectedWindows, powertoolsLayer, "
            "selfTestOnDeploy, repeatAlerts, resolvedNotices, chronicThreshold",
        ),
        (
            {"windowAlarms": {WINDOW: 2}},
            f"{WHERE}: windowAlarms key '{WINDOW}' must name the member account and region of "
            f"the window in central mode: '<account>/<region>/<window ID>', such as "
            f"'{B}/eu-west-1/{WINDOW}'",
        ),
        (
            {"expectedWindows": {f"{C}/eu-west-1/{WINDOW}": "1d"}},
            f"{WHERE}: expectedWindows key '{C}/eu-west-1/{WINDOW}': {C}/eu-west-1 is not a "
            "member account and region (central.members)",
        ),
        (
            {"repeatAlerts": {"*": "always", WINDOW: "on-change"}},
            f"{WHERE}: repeatAlerts key '{WINDOW}' must name the member account and region of "
            f"the window in central mode: '<account>/<region>/<window ID>', such as "
            f"'{B}/eu-west-1/{WINDOW}'",
        ),
        (
            {"repeatAlerts": {f"{C}/eu-west-1/{WINDOW}": "on-change"}},
            f"{WHERE}: repeatAlerts key '{C}/eu-west-1/{WINDOW}': {C}/eu-west-1 is not a "
            "member account and region (central.members)",
        ),
        (
            {"alertStatuses": ["BROKEN"]},
            f"{WHERE}: alertStatuses has unknown status(es) 'BROKEN'; valid: PENDING, "
            "IN_PROGRESS, SUCCESS, FAILED, TIMED_OUT, CANCELLING, CANCELLED, SKIPPED_OVERLAPPING",
        ),
        (
            # 60 accounts in 3 regions: more than Lambda's 4 KB of environment can list.
            {
                "members": [
                    {"account": f"{i:012d}", "regions": ["eu-west-1", "us-east-1", "us-west-2"]}
                    for i in range(60)
                ]
            },
            f"{WHERE}: members and externalId take 3,191 bytes of the central function's "
            "environment (MEMBER_ACCOUNTS, MEMBER_EXTERNAL_ID), more than the 3,000 that "
            "Lambda's 4 KB of environment variables leave them: list fewer member accounts or "
            "regions for this central account",
        ),
    ],
    ids=[
        "no-external-id-or-organization",
        "bad-organization-id",
        "bad-external-id",
        "short-external-id",
        "no-members",
        "member-twice",
        "region-twice",
        "unknown-member-region",
        "no-member-regions",
        "bad-member-account",
        "unknown-member-key",
        "other-partition",
        "unsupported-partition",
        "unknown-central-key",
        "window-without-member",
        "window-of-no-member",
        "repeat-window-without-member",
        "repeat-window-of-no-member",
        "bad-override",
        "too-many-members",
    ],
)
def test_invalid_central_layout_fails_with_a_message_naming_the_entry(
    overrides: dict[str, Any], message: str
) -> None:
    fleet = {k: v for k, v in central(**overrides).items() if v is not None}

    assert failure({"central": fleet}) == message


def test_central_must_be_an_object() -> None:
    assert failure({"central": [central()]}).startswith(
        'central must be an object {"account", "region", "members", ...}, got [{'
    )


# --- configFile -----------------------------------------------------------------------------


def test_config_file_holds_the_same_layout_as_the_context(tmp_path: Path) -> None:
    (tmp_path / "fleet.json").write_text(json.dumps({"central": central()}))

    assert parse({"configFile": "fleet.json"}, tmp_path) == parse({"central": central()})


def test_config_file_errors_name_the_file_and_the_entry(tmp_path: Path) -> None:
    (tmp_path / "fleet.json").write_text(
        json.dumps({"deployments": [entry(), entry(region="eu-west-9")]})
    )

    assert failure({"configFile": "fleet.json"}, tmp_path) == (
        "fleet.json: deployments[1] (111111111111/eu-west-9): unknown region 'eu-west-9': did "
        "you mean 'eu-west-1', 'eu-west-2' or 'eu-west-3'?"
    )


@pytest.mark.parametrize(
    ("content", "context", "message"),
    [
        (
            None,
            {},
            "configFile 'fleet.json' cannot be read (No such file or directory); a relative "
            "path is relative to the directory of cdk.json",
        ),
        (
            "{",
            {},
            "configFile 'fleet.json' is not valid JSON: Expecting property name enclosed "
            "in double quotes: line 1 column 2 (char 1)",
        ),
        (
            "[]",
            {},
            "configFile 'fleet.json' must hold a JSON object with deployments, central or "
            "organization",
        ),
        (
            json.dumps({"deployments": [entry()], "alertEmails": ["ops@example.com"]}),
            {},
            "configFile 'fleet.json': unknown key 'alertEmails'; allowed: deployments, central, "
            "organization",
        ),
        (
            json.dumps({"deployments": [entry()]}),
            {"deployments": [entry(B)]},
            "deployments is set both in configFile 'fleet.json' and in cdk.json or -c: set it in "
            "one place",
        ),
    ],
    ids=["missing", "bad-json", "not-an-object", "unknown-key", "set-twice"],
)
def test_invalid_config_file_fails_naming_it(
    tmp_path: Path, content: str | None, context: dict[str, Any], message: str
) -> None:
    if content is not None:
        (tmp_path / "fleet.json").write_text(content)

    assert failure({"configFile": "fleet.json", **context}, tmp_path) == message


# --- The app --------------------------------------------------------------------------------


def test_central_layout_creates_the_central_stack_then_a_member_stack_per_account_and_region() -> (
    None
):
    app = cdk.App(context={**CDK_JSON_CONTEXT, "central": central()})

    stacks = create_stacks(app)

    central_stack, *members = stacks
    assert isinstance(central_stack, MaintenanceWindowAlertsStack)
    assert (central_stack.stack_name, central_stack.account, central_stack.region) == (
        f"MaintenanceWindowAlerts-Central-{A}-eu-west-1",
        A,
        "eu-west-1",
    )
    assert [(m.stack_name, m.account, m.region) for m in members] == [
        (f"MaintenanceWindowAlerts-Member-{B}-{r}", B, r) for r in ("eu-west-1", "us-east-1")
    ]
    for member in members:
        assert isinstance(member, MaintenanceWindowAlertsMemberStack)
        assert member.dependencies == [central_stack]  # cdk deploy --all: central first


def test_app_exits_with_the_message_naming_the_entry(tmp_path: Path) -> None:
    # As `cdk synth -c 'deployments=[...]'` runs it: the CLI passes the context as JSON.
    context = {**CDK_JSON_CONTEXT, "deployments": [entry(), entry(region="eu-west-9")]}
    result = subprocess.run(
        [sys.executable, "app.py"],
        cwd=ROOT,
        env={
            **os.environ,
            "CDK_CONTEXT_JSON": json.dumps(context),
            "CDK_OUTDIR": str(tmp_path),
            "JSII_SILENCE_WARNING_UNTESTED_NODE_VERSION": "1",
        },
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1] == (
        "Invalid setting in cdk.json, -c or configFile: deployments[1] "
        "(111111111111/eu-west-9): unknown region 'eu-west-9': did you mean 'eu-west-1', "
        "'eu-west-2' or 'eu-west-3'?"
    )
    assert not list(tmp_path.glob("*.template.json"))
