"""Organization mode's membership: one ListStackInstances call per unseen account-region, cached
for the TTL (yes and no alike); the sweep's places are the deployed instances of every page."""

import json
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from mwalerts import contract, handler
from mwalerts.clients import create_clients
from mwalerts.function_settings import load_settings
from mwalerts.invocation import Invocation
from mwalerts.membership import ListedMembers, StackSetMembers
from mwalerts.sweep_worker import queue_arn
from tests.support import log_records

STACK_SET = "MaintenanceWindowAlerts-Members"
REGIONS = ("eu-west-1", "us-east-1")
A, B, C = "111111111111", "222222222222", "333333333333"


def summary(account: str, region: str, *, deployed: bool = True) -> dict[str, Any]:
    item: dict[str, Any] = {
        "Account": account,
        "Region": region,
        "Status": "CURRENT" if deployed else "OUTDATED",
        "StackInstanceStatus": {"DetailedStatus": "SUCCEEDED" if deployed else "PENDING"},
    }
    if deployed:
        item["StackId"] = f"arn:aws:cloudformation:{region}:{account}:stack/StackSet-x/1"
    return item


class Clock:
    now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def stubbed():
    cloudformation = boto3.client(
        "cloudformation",
        region_name="eu-west-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",  # pragma: allowlist secret
    )
    with Stubber(cloudformation) as stubber:
        yield cloudformation, stubber
        stubber.assert_no_pending_responses()


def members(cloudformation: Any, clock: Clock | None = None) -> StackSetMembers:
    return StackSetMembers(
        lambda: cloudformation,
        stack_set=STACK_SET,
        call_as="DELEGATED_ADMIN",
        regions=REGIONS,
        ttl_seconds=600,
        clock=clock or Clock(),
    )


def expect_lookup(stubber: Stubber, account: str, region: str, found: list[dict]) -> None:
    stubber.add_response(
        "list_stack_instances",
        {"Summaries": found},
        {
            "StackSetName": STACK_SET,
            "CallAs": "DELEGATED_ADMIN",
            "StackInstanceAccount": account,
            "StackInstanceRegion": region,
        },
    )


def test_one_lookup_per_place_then_cached_until_the_ttl(stubbed):
    cloudformation, stubber = stubbed
    clock = Clock()
    membership = members(cloudformation, clock)
    expect_lookup(stubber, A, "eu-west-1", [summary(A, "eu-west-1")])
    expect_lookup(stubber, B, "eu-west-1", [])

    assert membership.admits(A, "eu-west-1")
    assert not membership.admits(B, "eu-west-1")
    clock.now = 599
    assert membership.admits(A, "eu-west-1")  # no call: the stubber has no response left
    assert not membership.admits(B, "eu-west-1")

    clock.now = 600
    expect_lookup(stubber, B, "eu-west-1", [summary(B, "eu-west-1")])
    assert membership.admits(B, "eu-west-1")


def test_an_uncovered_region_or_a_summary_for_another_place_is_not_admitted(stubbed):
    cloudformation, stubber = stubbed
    membership = members(cloudformation)
    expect_lookup(stubber, A, "us-east-1", [summary(B, "us-east-1")])

    assert not membership.admits(A, "ap-south-1")  # no call
    assert not membership.admits(A, "us-east-1")


def test_places_are_the_deployed_instances_in_covered_regions_of_every_page(stubbed):
    cloudformation, stubber = stubbed
    request = {"StackSetName": STACK_SET, "CallAs": "DELEGATED_ADMIN", "MaxResults": 100}
    stubber.add_response(
        "list_stack_instances",
        {
            "Summaries": [summary(A, "eu-west-1"), summary(A, "ap-south-1")],
            "NextToken": "2",
        },
        request,
    )
    stubber.add_response(
        "list_stack_instances",
        {"Summaries": [summary(B, "eu-west-1", deployed=False), summary(B, "us-east-1")]},
        {**request, "NextToken": "2"},
    )

    assert members(cloudformation).places() == [(A, "eu-west-1"), (B, "us-east-1")]


def with_status(account: str, region: str, detailed: str, *, stack: bool) -> dict[str, Any]:
    item = {
        **summary(account, region),
        "Status": "CURRENT" if detailed == "SUCCEEDED" else "OUTDATED",
        "StackInstanceStatus": {"DetailedStatus": detailed},
    }
    if not stack:
        del item["StackId"]
    return item


# (DetailedStatus, has a StackId) -> swept? Only a stack known to exist and be readable is.
SWEPT_BY_STATUS = [
    ("SUCCEEDED", True, True),
    ("RUNNING", True, True),  # an update of the existing stack, in flight
    ("PENDING", True, True),
    ("RUNNING", False, False),  # the first create, not done yet
    ("PENDING", False, False),
    ("FAILED", True, False),  # e.g. a stack left rolled back by a failed create
    ("CANCELLED", True, False),
    ("INOPERABLE", True, False),
    ("SKIPPED_SUSPENDED_ACCOUNT", True, False),
    ("FAILED_IMPORT", True, False),
]


@pytest.mark.parametrize(("detailed", "stack", "swept"), SWEPT_BY_STATUS)
def test_the_sweep_covers_an_instance_only_when_its_stack_is_readable(
    stubbed, capsys, detailed, stack, swept
):
    cloudformation, stubber = stubbed
    stubber.add_response(
        "list_stack_instances",
        {
            "Summaries": [
                summary(A, "eu-west-1"),
                with_status(B, "eu-west-1", detailed, stack=stack),
            ]
        },
        {"StackSetName": STACK_SET, "CallAs": "DELEGATED_ADMIN", "MaxResults": 100},
    )

    places = members(cloudformation).places()

    assert places == [(A, "eu-west-1"), (B, "eu-west-1")] if swept else [(A, "eu-west-1")]
    skipped = [r for r in log_records(capsys.readouterr().out) if "skippedByDetailedStatus" in r]
    assert [r["skippedByDetailedStatus"] for r in skipped] == ([] if swept else [{detailed: 1}])


def test_the_sweep_logs_the_instances_it_skips_in_one_line_of_counts(stubbed, capsys):
    cloudformation, stubber = stubbed
    request = {"StackSetName": STACK_SET, "CallAs": "DELEGATED_ADMIN", "MaxResults": 100}
    first = [with_status(A, r, "SKIPPED_SUSPENDED_ACCOUNT", stack=True) for r in REGIONS]
    stubber.add_response("list_stack_instances", {"Summaries": first, "NextToken": "2"}, request)
    second = [with_status(B, "eu-west-1", "FAILED", stack=True), summary(B, "us-east-1")]
    stubber.add_response(
        "list_stack_instances", {"Summaries": second}, {**request, "NextToken": "2"}
    )

    assert members(cloudformation).places() == [(B, "us-east-1")]
    (record,) = [r for r in log_records(capsys.readouterr().out) if "skippedByDetailedStatus" in r]
    assert record["skippedByDetailedStatus"] == {"FAILED": 1, "SKIPPED_SUSPENDED_ACCOUNT": 2}
    assert A not in json.dumps(record)  # counts only


@pytest.mark.parametrize("detailed", ["SKIPPED_SUSPENDED_ACCOUNT", "FAILED", "PENDING"])
def test_an_event_is_admitted_from_any_listed_instance_whatever_its_status(stubbed, detailed):
    # An event from the account proves its forwarding rule exists: only the sweep is picky.
    cloudformation, stubber = stubbed
    expect_lookup(stubber, A, "eu-west-1", [with_status(A, "eu-west-1", detailed, stack=False)])

    assert members(cloudformation).admits(A, "eu-west-1")


def test_the_self_tests_sample_is_readable_places_of_one_page_one_per_account_first(stubbed):
    cloudformation, stubber = stubbed
    page = [
        summary(A, "eu-west-1"),
        summary(A, "us-east-1"),
        with_status(B, "eu-west-1", "FAILED", stack=True),
        summary(B, "us-east-1"),
        summary(C, "ap-south-1"),  # not a covered region
        summary(C, "eu-west-1"),
    ]
    request = {"StackSetName": STACK_SET, "CallAs": "DELEGATED_ADMIN", "MaxResults": 100}
    for _ in range(2):
        stubber.add_response("list_stack_instances", {"Summaries": page, "NextToken": "2"}, request)

    assert members(cloudformation).sample(5) == [
        (A, "eu-west-1"),
        (B, "us-east-1"),
        (C, "eu-west-1"),
        (A, "us-east-1"),
    ]
    assert members(cloudformation).sample(2) == [(A, "eu-west-1"), (B, "us-east-1")]


def test_central_mode_lists_its_members():
    listed = ListedMembers({A: ("eu-west-1", "us-east-1"), B: ("eu-west-1",)})

    assert listed.admits(A, "us-east-1")
    assert not listed.admits(B, "us-east-1")
    assert listed.places() == [(A, "eu-west-1"), (A, "us-east-1"), (B, "eu-west-1")]


@pytest.mark.parametrize(
    ("url", "arn"),
    [
        (
            "https://sqs.eu-west-1.amazonaws.com/111111111111/sweep",
            "arn:aws:sqs:eu-west-1:111111111111:sweep",
        ),
        (
            "https://sqs.us-gov-west-1.amazonaws.com/111111111111/sweep",
            "arn:aws-us-gov:sqs:us-gov-west-1:111111111111:sweep",
        ),
    ],
)
def test_the_sweep_queues_arn_from_its_url(url, arn):
    assert queue_arn(url) == arn


def test_organization_mode_keeps_the_answers_for_the_containers_next_invocations():
    settings = load_settings(
        {
            contract.ENV_ALERT_TOPIC_ARN: "arn:aws:sns:eu-west-1:111111111111:alerts",
            contract.ENV_IDEMPOTENCY_TABLE: "alerts-idempotency",
            contract.ENV_MEMBER_STACK_SET: STACK_SET,
            contract.ENV_MEMBER_STACK_SET_CALL_AS: "DELEGATED_ADMIN",
            contract.ENV_MEMBER_REGIONS: ",".join(REGIONS),
            contract.ENV_SWEEP_QUEUE_URL: "https://sqs.eu-west-1.amazonaws.com/111111111111/q",
        }
    )
    clients = create_clients(
        region_name="eu-west-1",
        credentials={"aws_access_key_id": "testing", "aws_secret_access_key": "testing"},
    )
    with Stubber(clients.cloudformation) as stubber:
        expect_lookup(stubber, A, "us-east-1", [summary(A, "us-east-1")])

        for _ in range(3):  # one lookup, then the container's cached answer
            membership = Invocation(settings, clients, handler.metrics).membership
            assert membership is not None
            assert membership.admits(A, "us-east-1")
            assert not membership.admits(A, "ap-south-1")  # not a StackSet region: no call
        stubber.assert_no_pending_responses()
