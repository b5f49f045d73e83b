"""Organization mode: the members are the StackSet's instances in the covered OUs and regions
(moto's Organizations, the fake ListStackInstances), read through their reader roles (moto's
STS); the sweep fans out through the sweep queue (moto's SQS), one place per message."""

import json
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from local_aws.environment import TABLE_NAME, LambdaContext, LocalAws
from local_aws.organization import LocalOrganization, message_bodies
from local_aws.scenario import ACCOUNT, TaskPlan, schedule_event, seed_window_execution
from mwalerts import contract, handler
from mwalerts.errors import InvalidEventError
from mwalerts.membership import MEMBERSHIP_TTL_SECONDS
from mwalerts.self_test import HOP_MEMBER, MEMBERS_TRIED, NO_MEMBER_YET, run_self_test
from mwalerts.sweep_progress import counter_key
from tests.support import emf_documents, log_records

REGIONS = ("us-east-2", "eu-west-1")
UNCOVERED_REGION = "ap-southeast-2"
FAILING = [TaskPlan({"SUCCESS": 40, "FAILED": 2})]
START = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)
SWEEP_TIME = START + timedelta(minutes=30)


class Fleet:
    """Three members (one in a nested OU), an outsider in an uncovered OU."""

    def __init__(self, aws: LocalAws, qualifier: str = "") -> None:
        self.org = LocalOrganization(
            aws,
            units={"prod": None, "web": "prod", "sandbox": None},
            covered=["prod"],
            regions=REGIONS,
            qualifier=qualifier,
        )
        self.members = [
            self.org.add_account("payments", "prod"),
            self.org.add_account("web-1", "web"),  # nested: prod/web
            self.org.add_account("web-2", "web"),
        ]
        self.outsider = self.org.add_account("playground", "sandbox")

    def event_from(self, account: str, region: str, seed: int = 1) -> dict[str, Any]:
        execution = seed_window_execution(self.org.member_ssm(account, region), FAILING, seed=seed)
        return execution.event(account=account, region=region)


@pytest.fixture
def fleet(aws: LocalAws) -> Fleet:
    return Fleet(aws)


def digests(aws: LocalAws) -> list[dict[str, Any]]:
    return [json.loads(json.loads(p["message"])["default"]) for p in aws.published()]


def test_an_event_from_each_member_is_accepted_and_alerted(aws, fleet):
    for seed, account in enumerate(fleet.members, start=1):
        outcome = fleet.org.deliver(fleet.event_from(account, "eu-west-1", seed))
        assert outcome["action"] == "alerted"

    assert [(d["account"], d["region"]) for d in digests(aws)] == [
        (account, "eu-west-1") for account in fleet.members
    ]
    assert [a["RoleArn"] for a in fleet.org.assumed] == [
        f"arn:aws:iam::{account}:role/MaintenanceWindowAlertsReader-eu-west-1"
        for account in fleet.members
    ]


@pytest.mark.parametrize("where", ["outsider", "uncovered-region", "management-account"])
def test_an_event_from_outside_the_organizations_members_is_rejected(aws, fleet, capsys, where):
    account, region = {
        "outsider": (fleet.outsider, "eu-west-1"),
        "uncovered-region": (fleet.members[0], UNCOVERED_REGION),
        "management-account": (ACCOUNT, "eu-west-1"),  # StackSets never deploys there
    }[where]
    event = fleet.event_from(account, region)

    with pytest.raises(InvalidEventError, match=f"account {account} in {region} is not a member"):
        fleet.org.deliver(event)

    assert fleet.org.assumed == []
    assert aws.published() == []
    (document,) = emf_documents(capsys.readouterr().out)
    assert document[contract.METRIC_INVALID_EVENTS] == [1.0]
    # An uncovered region is refused without asking CloudFormation.
    assert fleet.org.stack_sets.lookups() == (0 if where == "uncovered-region" else 1)


def test_an_unseen_member_costs_one_assume_role_and_one_lookup_then_none(aws, fleet):
    member = fleet.members[1]
    fleet.org.deliver(fleet.event_from(member, "us-east-2", seed=1))
    assert (len(fleet.org.assumed), fleet.org.stack_sets.lookups()) == (1, 1)

    fleet.org.deliver(fleet.event_from(member, "us-east-2", seed=2))
    assert (len(fleet.org.assumed), fleet.org.stack_sets.lookups()) == (1, 1)
    assert len(aws.published()) == 2


def test_an_account_moved_into_a_covered_ou_is_a_member_after_the_ttl(aws, fleet):
    org = fleet.org
    first, second = (fleet.event_from(fleet.outsider, "eu-west-1", seed) for seed in (1, 2))
    with pytest.raises(InvalidEventError):
        org.deliver(first)

    org.move(fleet.outsider, "web")
    with pytest.raises(InvalidEventError):  # the "no" is cached for the TTL
        org.deliver(second)
    org.clock.advance(MEMBERSHIP_TTL_SECONDS)
    assert org.deliver(second)["action"] == "alerted"

    org.move(fleet.outsider, "sandbox")
    third = fleet.event_from(fleet.outsider, "eu-west-1", seed=3)
    assert org.deliver(third)["action"] == "alerted"  # the "yes" is cached too
    org.clock.advance(MEMBERSHIP_TTL_SECONDS)
    fourth = fleet.event_from(fleet.outsider, "eu-west-1", seed=4)
    with pytest.raises(InvalidEventError):
        org.deliver(fourth)
    assert org.stack_sets.lookups() == 3


def test_the_reader_role_name_carries_the_qualifier(aws):
    fleet = Fleet(aws, qualifier="staging")
    fleet.org.deliver(fleet.event_from(fleet.members[0], "us-east-2"))

    (assumed,) = fleet.org.assumed
    role = contract.member_role_name("us-east-2", "staging")
    assert assumed["RoleArn"] == f"arn:aws:iam::{fleet.members[0]}:role/{role}"
    assert role == "MaintenanceWindowAlertsReader-staging-us-east-2"
    (call,) = fleet.org.stack_sets.calls
    assert call.params["StackSetName"] == "MaintenanceWindowAlerts-Members-staging"


# -- the sweep, fanned out ---------------------------------------------------------------------


def seed_missed(fleet: Fleet) -> dict[tuple[str, str], str]:
    """One failed execution per place whose event never came: place -> execution ID."""
    return {
        (account, region): seed_window_execution(
            fleet.org.member_ssm(account, region),
            FAILING,
            seed=seed,
            start_time=START,
            window_id=f"mw-{seed:017x}",
        ).window_execution_id
        for seed, (account, region) in enumerate(
            ((a, r) for a in fleet.members for r in REGIONS), start=1
        )
    }


def counter(aws: LocalAws, sweep_id: str) -> dict[str, Any]:
    item = aws.clients.dynamodb.get_item(
        TableName=TABLE_NAME, Key={"id": {"S": counter_key(sweep_id)}}
    )["Item"]
    return {name: item[name]["N"] for name in ("total", "done")}


def heartbeats(printed: str) -> int:
    return sum(
        int(sum(d[contract.METRIC_SWEEP_RUNS]))
        for d in emf_documents(printed)
        if contract.METRIC_SWEEP_RUNS in d
    )


def test_the_schedule_enqueues_one_message_per_place_and_the_sweeps_counter(aws, fleet, capsys):
    outcome = fleet.org.deliver(schedule_event(SWEEP_TIME))

    sweep_id = SWEEP_TIME.isoformat()
    assert outcome == {"action": "enqueued", "sweep": sweep_id, "places": 6}
    bodies = message_bodies(fleet.org.sweep_messages())
    since = (SWEEP_TIME - timedelta(minutes=45)).isoformat()
    assert sorted((b["account"], b["region"]) for b in bodies) == sorted(
        (a, r) for a in fleet.members for r in REGIONS
    )
    assert {(b["sweep"], b["since"]) for b in bodies} == {(sweep_id, since)}
    assert counter(aws, sweep_id) == {"total": "6", "done": "0"}
    printed = capsys.readouterr().out
    (places,) = [d for d in emf_documents(printed) if contract.METRIC_SWEEP_PLACES in d]
    assert places[contract.METRIC_SWEEP_PLACES] == [6.0]
    assert heartbeats(printed) == 0
    assert fleet.org.assumed == []  # the schedule reads no member


def test_the_queue_sweeps_every_place_once_and_sends_one_heartbeat(aws, fleet, capsys):
    missed = seed_missed(fleet)
    fleet.org.deliver(schedule_event(SWEEP_TIME))
    capsys.readouterr()

    responses = [fleet.org.deliver(event) for event in fleet.org.sweep_batches()]

    assert responses == [{"batchItemFailures": []}]  # 6 places: one batch
    assert sorted((d["account"], d["region"]) for d in digests(aws)) == sorted(missed)
    assert sorted(d["windowExecutionId"] for d in digests(aws)) == sorted(missed.values())
    assert counter(aws, SWEEP_TIME.isoformat()) == {"total": "6", "done": "6"}
    assert heartbeats(capsys.readouterr().out) == 1
    assert Counter(a["RoleArn"].split(":")[4] for a in fleet.org.assumed) == dict.fromkeys(
        fleet.members, 2
    )


def test_an_unreachable_member_is_the_only_failure_and_no_heartbeat_is_sent(aws, fleet, capsys):
    missed = seed_missed(fleet)
    unreachable = fleet.members[2]
    fleet.org.refuse(unreachable)
    fleet.org.deliver(schedule_event(SWEEP_TIME))
    messages = fleet.org.sweep_messages()
    capsys.readouterr()

    (response,) = [fleet.org.deliver(event) for event in fleet.org.sweep_batches(messages)]

    failed_ids = {f["itemIdentifier"] for f in response["batchItemFailures"]}
    assert failed_ids == {
        m["MessageId"] for m in messages if json.loads(m["Body"])["account"] == unreachable
    }
    assert len(failed_ids) == 2  # its two regions
    assert sorted(d["windowExecutionId"] for d in digests(aws)) == sorted(
        execution for place, execution in missed.items() if place[0] != unreachable
    )
    printed = capsys.readouterr().out
    assert heartbeats(printed) == 0
    assert counter(aws, SWEEP_TIME.isoformat()) == {"total": "6", "done": "4"}
    failures = [d for d in emf_documents(printed) if contract.METRIC_SWEEP_PLACES_FAILED in d]
    assert [d["account"] for d in failures] == [unreachable, unreachable]


def test_a_suspended_account_and_a_failed_instance_are_admitted_but_not_swept(aws, fleet, capsys):
    # StackSets keeps both instances listed; neither stack can be read, so sweeping them would
    # fail three times each and no sweep would ever send its heartbeat.
    suspended, failing = fleet.members[2], (fleet.members[0], REGIONS[1])
    fleet.org.close(suspended)
    fleet.org.stack_sets.failed = {failing}
    missed = seed_missed(fleet)

    outcome = fleet.org.deliver(schedule_event(SWEEP_TIME))
    responses = [fleet.org.deliver(event) for event in fleet.org.sweep_batches()]

    swept = dict(missed)
    for place in [(suspended, region) for region in REGIONS] + [failing]:
        del swept[place]
    assert outcome["places"] == len(swept) == 3
    assert responses == [{"batchItemFailures": []}]
    assert sorted(d["windowExecutionId"] for d in digests(aws)) == sorted(swept.values())
    printed = capsys.readouterr().out
    assert heartbeats(printed) == 1
    (skipped,) = [r for r in log_records(printed) if "skippedByDetailedStatus" in r]
    assert skipped["skippedByDetailedStatus"] == {"FAILED": 1, "SKIPPED_SUSPENDED_ACCOUNT": 2}
    assert suspended not in {a["RoleArn"].split(":")[4] for a in fleet.org.assumed}
    # An event proves the forwarding rule exists: both are still members for events.
    assert fleet.org.membership.admits(suspended, REGIONS[0])
    assert fleet.org.membership.admits(*failing)


def test_a_message_whose_body_cannot_be_read_is_a_failed_place(aws, fleet, capsys):
    fleet.org.deliver(schedule_event(SWEEP_TIME))
    event = fleet.org.sqs_event(fleet.org.sweep_messages()[:2])
    event["Records"][0]["body"] = '{"sweep": "x"}'
    capsys.readouterr()

    response = fleet.org.deliver(event)

    assert response["batchItemFailures"] == [{"itemIdentifier": event["Records"][0]["messageId"]}]
    printed = capsys.readouterr().out
    (failed,) = [d for d in emf_documents(printed) if contract.METRIC_SWEEP_PLACES_FAILED in d]
    assert failed[contract.METRIC_SWEEP_PLACES_FAILED] == [1.0]
    assert (failed["account"], failed["region"]) == ("unknown", "unknown")
    assert counter(aws, SWEEP_TIME.isoformat())["done"] == "1"  # the other place was swept


def test_a_duplicate_delivery_counts_once(aws, fleet, capsys):
    seed_missed(fleet)
    fleet.org.deliver(schedule_event(SWEEP_TIME))
    messages = fleet.org.sweep_messages()
    capsys.readouterr()

    # SQS delivers at least once: the first message arrives twice, the second time late.
    fleet.org.deliver(fleet.org.sqs_event(messages[:1]))
    fleet.org.deliver(fleet.org.sqs_event(messages[:1]))
    assert counter(aws, SWEEP_TIME.isoformat())["done"] == "1"
    assert heartbeats(capsys.readouterr().out) == 0

    fleet.org.deliver(fleet.org.sqs_event(messages[1:]))
    fleet.org.deliver(fleet.org.sqs_event(messages[-1:]))

    assert counter(aws, SWEEP_TIME.isoformat())["done"] == "6"
    assert heartbeats(capsys.readouterr().out) == 1
    assert len(aws.published()) == 6  # one alert per execution


def test_a_retried_schedule_keeps_the_counter(aws, fleet):
    fleet.org.deliver(schedule_event(SWEEP_TIME))
    messages = fleet.org.sweep_messages()
    fleet.org.deliver(fleet.org.sqs_event(messages[:2]))

    fleet.org.deliver(schedule_event(SWEEP_TIME))  # Lambda retried the schedule event

    assert counter(aws, SWEEP_TIME.isoformat()) == {"total": "6", "done": "2"}


def test_a_sweep_of_no_place_sends_its_heartbeat_at_once(aws, capsys):
    org = LocalOrganization(aws, units={"empty": None}, regions=REGIONS)

    assert org.deliver(schedule_event(SWEEP_TIME))["places"] == 0
    assert heartbeats(capsys.readouterr().out) == 1


def test_a_message_from_another_queue_is_refused(aws, fleet, capsys):
    fleet.org.deliver(schedule_event(SWEEP_TIME))
    event = fleet.org.sqs_event(fleet.org.sweep_messages()[:1])
    event["Records"][0]["eventSourceARN"] = f"arn:aws:sqs:us-east-2:{ACCOUNT}:another"
    capsys.readouterr()

    response = fleet.org.deliver(event)

    assert response["batchItemFailures"] == [{"itemIdentifier": event["Records"][0]["messageId"]}]
    (document,) = emf_documents(capsys.readouterr().out)
    assert document[contract.METRIC_INVALID_EVENTS] == [1.0]
    assert fleet.org.assumed == []


# -- the self-test's member hop ------------------------------------------------------------------


def member_hop(fleet: Fleet) -> Any:
    result = run_self_test("a1b2c3", fleet.org.invocation(LambdaContext()))
    (hop,) = [hop for hop in result.hops if hop.hop == HOP_MEMBER]
    return result, hop


def test_the_self_test_reads_one_member_through_its_reader_role(aws, fleet):
    result, hop = member_hop(fleet)

    assert result.ok
    assert hop.ok
    assert f"of {fleet.members[0]} in {REGIONS[0]}" in hop.detail
    (assumed,) = fleet.org.assumed
    assert assumed["RoleArn"].split(":")[4] == fleet.members[0]


def test_the_self_test_passes_before_any_member_is_deployed(aws, fleet):
    fleet.org.stack_sets.pending = {(a, r) for a in fleet.members for r in REGIONS}

    result, hop = member_hop(fleet)

    assert result.ok
    assert hop.ok
    assert NO_MEMBER_YET in hop.detail
    assert fleet.org.assumed == []


def test_the_self_test_passes_when_one_member_refuses_and_the_next_can_be_read(aws, fleet):
    # One account that cannot be read (suspended, an SCP) must not fail every deploy.
    refusing, readable = fleet.members[:2]
    fleet.org.refuse(refusing)

    result, hop = member_hop(fleet)

    assert result.ok
    assert hop.ok
    assert f"of {readable} in {REGIONS[0]}" in hop.detail
    assert f"could not read {refusing} in {REGIONS[0]} (AccessDenied)" in hop.detail
    assert [a["RoleArn"].split(":")[4] for a in fleet.org.assumed] == [refusing, readable]


def test_the_self_test_fails_when_every_member_tried_refuses(aws, fleet):
    for account in fleet.members:
        fleet.org.refuse(account)

    result, hop = member_hop(fleet)

    assert not result.ok
    assert not hop.ok
    tried = [a["RoleArn"].split(":")[4] for a in fleet.org.assumed]
    assert len(tried) == MEMBERS_TRIED  # of the 6 places: one per account first, then the rest
    assert tried[:3] == fleet.members
    assert hop.detail.startswith(f"could not read any of the {MEMBERS_TRIED} member(s) tried: ")
    assert hop.detail.count("(AccessDenied)") == MEMBERS_TRIED
    assert "the first: AccessDenied: not authorized to assume" in hop.detail


def test_the_self_test_does_not_try_a_suspended_or_failed_instance(aws, fleet):
    fleet.org.close(fleet.members[0])
    fleet.org.stack_sets.failed = {(fleet.members[1], REGIONS[0])}

    _, hop = member_hop(fleet)

    assert hop.ok
    assert f"of {fleet.members[1]} in {REGIONS[1]}" in hop.detail
    assert "could not read" not in hop.detail
    (assumed,) = fleet.org.assumed
    assert assumed["RoleArn"] == (
        f"arn:aws:iam::{fleet.members[1]}:role/MaintenanceWindowAlertsReader-{REGIONS[1]}"
    )


def test_without_a_sweep_queue_an_sqs_event_is_refused(aws, fleet, context, capsys):
    fleet.org.deliver(schedule_event(SWEEP_TIME))
    event = fleet.org.sqs_event(fleet.org.sweep_messages()[:1])
    capsys.readouterr()

    with pytest.raises(InvalidEventError, match="no sweep queue"):
        handler.handler(event, context, aws.clients)  # per-account mode's settings

    (document,) = emf_documents(capsys.readouterr().out)
    assert document[contract.METRIC_INVALID_EVENTS] == [1.0]
