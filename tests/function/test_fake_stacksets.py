"""The fake ListStackInstances (local_aws.fake_stacksets) answers as CloudFormation documents:
every account under the covered OUs (nested ones too) but the management account, per region;
paged with NextToken, filtered, in the shape of botocore's model."""

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from local_aws.fake_stacksets import FakeStackSets
from local_aws.scenario import ACCOUNT

REGIONS = ["eu-west-1", "us-east-1"]
NAME = "MaintenanceWindowAlerts-Members"


@pytest.fixture
def org():
    with mock_aws():
        organizations = boto3.client("organizations", region_name="us-east-1")
        organizations.create_organization(FeatureSet="ALL")
        root = organizations.list_roots()["Roots"][0]["Id"]

        def unit(name, parent):
            return organizations.create_organizational_unit(ParentId=parent, Name=name)[
                "OrganizationalUnit"
            ]["Id"]

        def account(name, parent):
            made = organizations.create_account(AccountName=name, Email=f"{name}@example.com")
            account_id = made["CreateAccountStatus"]["AccountId"]
            organizations.move_account(
                AccountId=account_id, SourceParentId=root, DestinationParentId=parent
            )
            return account_id

        prod = unit("prod", root)
        nested = unit("web", prod)
        other = unit("other", root)
        accounts = {
            "prod": account("prod", prod),
            "nested": account("nested", nested),
            "other": account("other", other),
        }
        yield {"root": root, "prod": prod, "other": other, "accounts": accounts}


def client(fake):
    return fake.attach(boto3.client("cloudformation", region_name="eu-west-1"))


def listed(cloudformation, **params):
    pages = cloudformation.get_paginator("list_stack_instances").paginate(
        StackSetName=NAME, **params
    )
    return [(s["Account"], s["Region"]) for page in pages for s in page["Summaries"]]


def test_an_ou_covers_its_nested_ous_and_not_the_others(org):
    cloudformation = client(FakeStackSets(NAME, [org["prod"]], REGIONS))
    accounts = org["accounts"]

    assert sorted(listed(cloudformation)) == sorted(
        (accounts[name], region) for name in ("prod", "nested") for region in REGIONS
    )


def test_the_root_covers_every_account_but_the_management_account(org):
    cloudformation = client(FakeStackSets(NAME, [org["root"]], REGIONS))

    found = {account for account, _ in listed(cloudformation)}
    assert found == set(org["accounts"].values())
    assert ACCOUNT not in found


def test_pages_follow_next_token_with_max_results(org):
    fake = FakeStackSets(NAME, [org["root"]], REGIONS)
    cloudformation = client(fake)

    everything = listed(cloudformation, PaginationConfig={"PageSize": 4})

    assert len(everything) == 6
    assert len(set(everything)) == 6
    assert [len(call.params) for call in fake.calls][:1] == [2]  # name and MaxResults
    assert len(fake.calls) == 2
    with pytest.raises(ClientError, match="ValidationError"):
        cloudformation.list_stack_instances(StackSetName=NAME, MaxResults=101)


def test_the_account_region_and_status_filters_apply(org):
    fake = FakeStackSets(NAME, [org["root"]], REGIONS)
    cloudformation = client(fake)
    other = org["accounts"]["other"]
    fake.pending = {(other, "us-east-1")}

    one = cloudformation.list_stack_instances(
        StackSetName=NAME, StackInstanceAccount=other, StackInstanceRegion="us-east-1"
    )["Summaries"]
    assert [(s["Account"], s["Region"], s["Status"]) for s in one] == [
        (other, "us-east-1", "OUTDATED")
    ]
    assert "StackId" not in one[0]
    pending = listed(cloudformation, Filters=[{"Name": "DETAILED_STATUS", "Values": "PENDING"}])
    assert pending == [(other, "us-east-1")]
    assert fake.lookups() == 1


def test_another_stack_set_or_call_as_is_not_found(org):
    cloudformation = client(FakeStackSets(NAME, [org["root"]], REGIONS, call_as="SELF"))

    for params in ({"StackSetName": "Other"}, {"StackSetName": NAME, "CallAs": "DELEGATED_ADMIN"}):
        with pytest.raises(cloudformation.exceptions.StackSetNotFoundException):
            cloudformation.list_stack_instances(**params)


def test_answers_are_validated_against_botocores_model(org, monkeypatch):
    fake = FakeStackSets(NAME, [org["root"]], REGIONS)
    cloudformation = client(fake)
    summary = fake.summaries()[0]
    monkeypatch.setattr(fake, "summaries", lambda: [{**summary, "Status": 42}])

    with pytest.raises(Exception, match="Status"):
        cloudformation.list_stack_instances(StackSetName=NAME)


def test_a_suspended_accounts_instances_stay_listed_flagged_skipped(org):
    # As StackSets does (since June 2023): the account's operations are skipped, not FAILED,
    # and its instances (their stacks still there) are not removed.
    fake = FakeStackSets(NAME, [org["root"]], REGIONS)
    cloudformation = client(fake)
    closed = org["accounts"]["other"]
    boto3.client("organizations", region_name="us-east-1").close_account(AccountId=closed)

    summaries = cloudformation.list_stack_instances(StackSetName=NAME, StackInstanceAccount=closed)[
        "Summaries"
    ]

    assert [(s["Region"], s["Status"]) for s in summaries] == [(r, "OUTDATED") for r in REGIONS]
    assert {s["StackInstanceStatus"]["DetailedStatus"] for s in summaries} == {
        "SKIPPED_SUSPENDED_ACCOUNT"
    }
    assert all(s["StackId"] for s in summaries)
    assert len(listed(cloudformation)) == 6  # every instance still listed


def test_a_test_can_mark_an_instance_failed(org):
    fake = FakeStackSets(NAME, [org["root"]], REGIONS)
    cloudformation = client(fake)
    prod = org["accounts"]["prod"]
    fake.failed = {(prod, "eu-west-1")}

    failed = listed(cloudformation, Filters=[{"Name": "DETAILED_STATUS", "Values": "FAILED"}])

    assert failed == [(prod, "eu-west-1")]
    (summary,) = cloudformation.list_stack_instances(
        StackSetName=NAME, StackInstanceAccount=prod, StackInstanceRegion="eu-west-1"
    )["Summaries"]
    assert (summary["Status"], bool(summary["StackId"])) == ("OUTDATED", True)
    assert summary["StatusReason"]
