"""The other operations the function calls: the maintenance windows (listed with the Name and
Enabled filters, or got by ID) and the Run Command invocation behind a failed target."""

import pytest
from botocore.exceptions import ClientError

from local_aws.fake_ssm import FakeSsmExecutions
from tests.function.fake_ssm.builders import new_client, uid


def test_lists_windows_page_by_page_with_name_and_enabled_filters() -> None:
    fake = FakeSsmExecutions()
    for number in range(25):
        fake.add_window(
            {
                "WindowId": f"mw-{number:017x}",
                "Name": "nightly" if number % 5 else "weekly",
                "Enabled": number % 2 == 0,
            }
        )
    ssm = fake.attach(new_client())

    pages = list(
        ssm.get_paginator("describe_maintenance_windows").paginate(
            PaginationConfig={"PageSize": 10}
        )
    )
    weekly = ssm.describe_maintenance_windows(Filters=[{"Key": "Name", "Values": ["weekly"]}])
    enabled = ssm.describe_maintenance_windows(
        Filters=[{"Key": "Enabled", "Values": ["true"]}], MaxResults=100
    )

    assert [len(page["WindowIdentities"]) for page in pages] == [10, 10, 5]
    assert len(weekly["WindowIdentities"]) == 5
    assert all(w["Enabled"] for w in enabled["WindowIdentities"])
    assert len(enabled["WindowIdentities"]) == 13
    with pytest.raises(ClientError, match="ValidationException"):
        ssm.describe_maintenance_windows(Filters=[{"Key": "Owner", "Values": ["me"]}])


def test_gets_a_window_it_lists_and_refuses_an_unknown_one() -> None:
    fake = FakeSsmExecutions()
    fake.add_window(
        {"WindowId": "mw-0123456789abcdef0", "Name": "prod-patching", "Description": "Tuesdays"}
    )
    ssm = fake.attach(new_client())

    window = ssm.get_maintenance_window(WindowId="mw-0123456789abcdef0")

    assert (window["Name"], window["Description"]) == ("prod-patching", "Tuesdays")
    with pytest.raises(ClientError, match="DoesNotExistException"):
        ssm.get_maintenance_window(WindowId="mw-0123456789abcdef1")


def test_gets_the_command_invocation_behind_a_run_command_invocation() -> None:
    fake = FakeSsmExecutions()
    fake.add_command_invocation(
        {
            "CommandId": uid(7),
            "InstanceId": "i-0123456789abcdef0",
            "Status": "Failed",
            "ResponseCode": 100,
            "StandardErrorContent": "E: Could not get lock /var/lib/dpkg/lock-frontend",
        }
    )
    ssm = fake.attach(new_client())

    found = ssm.get_command_invocation(CommandId=uid(7), InstanceId="i-0123456789abcdef0")

    assert found["ResponseCode"] == 100
    assert found["StandardErrorContent"].startswith("E: Could not get lock")
    with pytest.raises(ClientError, match="InvocationDoesNotExist"):
        ssm.get_command_invocation(CommandId=uid(8), InstanceId="i-0123456789abcdef0")
    with pytest.raises(ValueError, match="StandardErrorContent"):
        fake.add_command_invocation(
            {
                "CommandId": uid(9),
                "InstanceId": "i-0123456789abcdef0",
                "StandardErrorContent": "x" * 8001,
            }  # the API returns at most 8,000 characters
        )
