"""Central mode: one function handles the windows of many member accounts and regions, reading
each member's SSM with the credentials of that member's reader role."""

import json
import os
from collections import Counter
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import botocore.session
import pytest
from botocore.exceptions import ClientError

from local_aws.environment import LambdaContext, LocalAws
from local_aws.fake_ssm import FakeSsmExecutions
from local_aws.scenario import TaskPlan, schedule_event, seed_window_execution
from mwalerts import contract, handler
from mwalerts.clients import MemberClients, member_ssm_client
from mwalerts.errors import InvalidEventError, SweepIncompleteError
from mwalerts.function_settings import load_settings
from mwalerts.invocation import Invocation
from mwalerts.service import handle_event
from tests.support import emf_documents, log_records

MEMBER_A, MEMBER_B, OUTSIDER = "111111111111", "222222222222", "333333333333"
MEMBERS = {MEMBER_A: ("us-east-2", "eu-west-1"), MEMBER_B: ("us-east-2",)}
EXTERNAL_ID = "maintenance-window-alerts-central"
FAILING = [TaskPlan({"SUCCESS": 40, "FAILED": 2})]


class Members:
    """A fake SSM per member account and region, and a record of the roles assumed."""

    def __init__(self, aws: LocalAws) -> None:
        self.fakes = {
            (account, region): FakeSsmExecutions()
            for account, regions in MEMBERS.items()
            for region in regions
        }
        self.sts = boto3.client("sts", region_name="us-east-2")
        self.assumed: list[dict[str, Any]] = []
        self.sts.meta.events.register(
            "provide-client-params.sts.AssumeRole", lambda params, **_: self.assumed.append(params)
        )
        self.clients = MemberClients(
            aws.clients, external_id=EXTERNAL_ID, sts=self.sts, make_ssm=self.member_ssm
        )

    def member_ssm(self, region: str, credentials: dict[str, str]) -> Any:
        # Whose credentials are these? moto's STS answers as AWS would: the assumed role's account.
        keys: Any = credentials
        identity = boto3.client("sts", region_name=region, **keys).get_caller_identity()
        fake = self.fakes[(identity["Account"], region)]
        return fake.attach(member_ssm_client(region, credentials))


@pytest.fixture
def members(aws: LocalAws) -> Members:
    return Members(aws)


def deliver(aws: LocalAws, members: Members, event: dict[str, Any]) -> dict[str, Any]:
    settings = handler.settings.model_copy(
        update={"members": MEMBERS, "member_external_id": EXTERNAL_ID}
    )
    context: Any = LambdaContext()
    invocation = Invocation(settings, aws.clients, handler.metrics, context, members.clients)
    return vars(handle_event(event, invocation))


def digests(aws: LocalAws) -> list[dict[str, Any]]:
    return [json.loads(json.loads(p["message"])["default"]) for p in aws.published()]


def test_events_from_two_members_are_read_with_their_own_roles(aws, members):
    in_a = seed_window_execution(members.fakes[(MEMBER_A, "eu-west-1")], FAILING, seed=1)
    in_b = seed_window_execution(members.fakes[(MEMBER_B, "us-east-2")], FAILING, seed=2)

    deliver(aws, members, in_a.event(account=MEMBER_A, region="eu-west-1"))
    deliver(aws, members, in_b.event(account=MEMBER_B, region="us-east-2"))

    assert [(d["account"], d["region"]) for d in digests(aws)] == [
        (MEMBER_A, "eu-west-1"),
        (MEMBER_B, "us-east-2"),
    ]
    assert [a["RoleArn"] for a in members.assumed] == [
        f"arn:aws:iam::{MEMBER_A}:role/MaintenanceWindowAlertsReader-eu-west-1",
        f"arn:aws:iam::{MEMBER_B}:role/MaintenanceWindowAlertsReader-us-east-2",
    ]
    assert {a["ExternalId"] for a in members.assumed} == {EXTERNAL_ID}
    # Each member's SSM answered for its own windows only.
    for place, execution in (((MEMBER_A, "eu-west-1"), in_a), ((MEMBER_B, "us-east-2"), in_b)):
        asked = {c.params.get("WindowExecutionId") for c in members.fakes[place].calls}
        assert asked - {None} == {execution.window_execution_id}


def test_a_members_credentials_are_reused_until_they_near_expiry(aws, members):
    fake = members.fakes[(MEMBER_A, "us-east-2")]
    runs = [seed_window_execution(fake, FAILING, seed=n) for n in (1, 2)]
    for run in runs:
        deliver(aws, members, run.event(account=MEMBER_A, region="us-east-2"))

    assert len(members.assumed) == 1
    credentials = members.clients._credentials[(MEMBER_A, "us-east-2")]
    members.clients._credentials[(MEMBER_A, "us-east-2")] = replace(
        credentials,
        expiration=datetime.now(UTC) + timedelta(minutes=4),  # inside the renewal margin
    )
    third = seed_window_execution(fake, FAILING, seed=3)
    deliver(aws, members, third.event(account=MEMBER_A, region="us-east-2"))
    assert len(members.assumed) == 2


@pytest.mark.parametrize(
    ("account", "region"),
    [(OUTSIDER, "us-east-2"), (MEMBER_B, "eu-west-1")],
    ids=["unlisted-account", "unlisted-region"],
)
def test_an_event_from_outside_the_members_is_rejected_clearly(
    aws, members, capsys, account, region
):
    execution = seed_window_execution(members.fakes[(MEMBER_A, "us-east-2")], FAILING)
    with pytest.raises(InvalidEventError, match=f"account {account} in {region} is not a member"):
        deliver(aws, members, execution.event(account=account, region=region))

    printed = capsys.readouterr().out
    assert members.assumed == []
    assert aws.published() == []
    (document,) = emf_documents(printed)
    assert document["InvalidEvents"] == [1.0]
    assert any(r["message"] == "Rejected event" for r in log_records(printed))


def test_metrics_say_which_member_ran_the_window(aws, members, capsys):
    execution = seed_window_execution(members.fakes[(MEMBER_B, "us-east-2")], FAILING)
    deliver(aws, members, execution.event(account=MEMBER_B, region="us-east-2"))

    (document,) = [d for d in emf_documents(capsys.readouterr().out) if "WindowExecutions" in d]
    assert document["_aws"]["CloudWatchMetrics"][0]["Dimensions"] == [
        [],
        [contract.DIMENSION_ACCOUNT, contract.DIMENSION_REGION, contract.DIMENSION_WINDOW_ID],
    ]
    assert (document["Account"], document["Region"]) == (MEMBER_B, "us-east-2")


def test_the_sweep_sweeps_every_member_and_region(aws, members):
    start = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)
    places = list(members.fakes)  # A in us-east-2 and eu-west-1, B in us-east-2
    missed = [
        seed_window_execution(
            members.fakes[place],
            FAILING,
            seed=seed,
            start_time=start,
            window_id=f"mw-{seed:017x}",
        )
        for seed, place in enumerate(places, start=1)
    ]
    outcome = deliver(aws, members, schedule_event(start + timedelta(minutes=30)))

    assert sorted(outcome["recovered"]) == sorted(m.window_execution_id for m in missed)
    swept = Counter(a["RoleArn"].split(":")[4] for a in members.assumed)
    assert swept == {MEMBER_A: 2, MEMBER_B: 1}  # A in two regions, B in one
    assert sorted((d["account"], d["region"]) for d in digests(aws)) == sorted(places)


def test_a_member_whose_role_cannot_be_assumed_is_skipped_without_a_heartbeat(aws, members, capsys):
    # As while member stacks roll out after the central one: B's role does not exist yet.
    def refuse_b(params: dict[str, Any], **_: Any) -> None:
        if f":{MEMBER_B}:" in params["RoleArn"]:
            raise ClientError(
                {"Error": {"Code": "AccessDenied", "Message": "not authorized to assume"}},
                "AssumeRole",
            )

    members.sts.meta.events.register("provide-client-params.sts.AssumeRole", refuse_b)
    start = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)
    missed = seed_window_execution(
        members.fakes[(MEMBER_A, "us-east-2")], FAILING, seed=1, start_time=start
    )
    capsys.readouterr()

    outcome = deliver(aws, members, schedule_event(start + timedelta(minutes=30)))

    assert outcome["recovered"] == [missed.window_execution_id]  # A is swept all the same
    assert outcome["unreachable"] == [f"{MEMBER_B}/us-east-2"]
    out = capsys.readouterr().out
    sweeps = [d for d in emf_documents(out) if contract.METRIC_SWEEP_RECOVERED in d]
    assert len(sweeps) == 1
    assert contract.METRIC_SWEEP_RUNS not in sweeps[0]  # no heartbeat: the sweep alarm will tell
    (warning,) = [r for r in log_records(out) if "reader role" in r.get("message", "")]
    assert (warning["account"], warning["region"]) == (MEMBER_B, "us-east-2")


def test_any_other_failure_to_reach_a_member_fails_the_sweep(aws, members):
    def throttle_b(params: dict[str, Any], **_: Any) -> None:
        if f":{MEMBER_B}:" in params["RoleArn"]:
            raise ClientError(
                {"Error": {"Code": "Throttling", "Message": "slow down"}}, "AssumeRole"
            )

    members.sts.meta.events.register("provide-client-params.sts.AssumeRole", throttle_b)
    start = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)

    with pytest.raises(SweepIncompleteError, match=f"{MEMBER_B}/us-east-2"):
        deliver(aws, members, schedule_event(start))


def test_the_functions_own_wiring_assumes_the_member_role_once_per_container(aws, monkeypatch):
    # No test seam: settings read from the environment the stack sets, the container's member
    # clients (mwalerts.clients.member_clients) and their STS client, against moto's STS.
    environment = {
        **os.environ,
        contract.ENV_MEMBER_ACCOUNTS: json.dumps({MEMBER_A: ["us-east-2"]}),
        contract.ENV_MEMBER_EXTERNAL_ID: EXTERNAL_ID,
    }
    settings = load_settings(environment)
    assumed: list[dict[str, Any]] = []

    def record(params: dict[str, Any], **_: Any) -> None:
        assumed.append(params)

    # Every client made from now on (the member clients make their STS client on first use).
    monkeypatch.setattr(
        botocore.session.Session,
        "create_client",
        _recording(botocore.session.Session.create_client, record),
    )
    first = Invocation(settings, aws.clients, handler.metrics, LambdaContext())
    second = Invocation(settings, aws.clients, handler.metrics, LambdaContext())

    ssm = first.clients_for(MEMBER_A, "us-east-2").ssm
    assert second.clients_for(MEMBER_A, "us-east-2").ssm is ssm  # the next invocation reuses it

    assert [(a["RoleArn"], a["ExternalId"]) for a in assumed] == [
        (f"arn:aws:iam::{MEMBER_A}:role/{contract.member_role_name('us-east-2')}", EXTERNAL_ID)
    ]
    credentials = ssm._request_signer._credentials.get_frozen_credentials()
    identity = boto3.client(
        "sts",
        region_name="us-east-2",
        aws_access_key_id=credentials.access_key,
        aws_secret_access_key=credentials.secret_key,
        aws_session_token=credentials.token,
    ).get_caller_identity()
    assert identity["Account"] == MEMBER_A  # the SSM client reads as the member's role
    assert first.clients_for(MEMBER_A, "us-east-2").sns is aws.clients.sns  # alerts stay central


def _recording(create_client: Any, record: Any) -> Any:
    def create(self: Any, service_name: str, *args: Any, **kwargs: Any) -> Any:
        client = create_client(self, service_name, *args, **kwargs)
        if service_name == "sts":
            client.meta.events.register("provide-client-params.sts.AssumeRole", record)
        return client

    return create


def test_a_qualified_central_deployment_assumes_the_qualified_reader_role(aws, monkeypatch):
    # A second central deployment (staging) for the same members: its own reader role names.
    environment = {
        **os.environ,
        contract.ENV_MEMBER_ACCOUNTS: json.dumps({MEMBER_A: ["us-east-2"]}),
        contract.ENV_NAME_QUALIFIER: "staging",
    }
    assumed: list[dict[str, Any]] = []
    monkeypatch.setattr(
        botocore.session.Session,
        "create_client",
        _recording(
            botocore.session.Session.create_client, lambda params, **_: assumed.append(params)
        ),
    )
    invocation = Invocation(load_settings(environment), aws.clients, handler.metrics)

    invocation.clients_for(MEMBER_A, "us-east-2")

    assert [a["RoleArn"] for a in assumed] == [
        f"arn:aws:iam::{MEMBER_A}:role/MaintenanceWindowAlertsReader-staging-us-east-2"
    ]
