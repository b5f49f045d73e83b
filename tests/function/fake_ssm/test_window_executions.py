"""A window's executions (DescribeMaintenanceWindowExecutions, GetMaintenanceWindowExecution):
paged, selected by start time with the ISO 8601 filters, and refused for malformed IDs."""

from datetime import timedelta
from typing import Any

import pytest
from botocore.exceptions import ClientError

from local_aws.fake_ssm import FakeSsmExecutions
from tests.function.fake_ssm.builders import (
    OTHER_WINDOW_ID,
    T0,
    WINDOW_ID,
    error_code,
    error_message,
    new_client,
    seeded_fake,
    uid,
    window_execution,
)


@pytest.fixture
def hourly_executions() -> FakeSsmExecutions:
    """25 hourly executions of WINDOW_ID from T0, and 3 of another window."""
    fake = FakeSsmExecutions()
    for hour in range(25):
        fake.add_window_execution(window_execution(hour + 1, start=T0 + timedelta(hours=hour)))
    for number in range(3):
        fake.add_window_execution(window_execution(100 + number, window_id=OTHER_WINDOW_ID))
    return fake


def test_window_executions_page_through_one_windows_executions(
    hourly_executions: FakeSsmExecutions,
) -> None:
    ssm = hourly_executions.attach(new_client())

    pages = list(
        ssm.get_paginator("describe_maintenance_window_executions").paginate(
            WindowId=WINDOW_ID, PaginationConfig={"PageSize": 10}
        )
    )

    assert [len(page["WindowExecutions"]) for page in pages] == [10, 10, 5]
    rows = [row for page in pages for row in page["WindowExecutions"]]
    assert [row["WindowExecutionId"] for row in rows] == [uid(n + 1) for n in range(25)]
    assert all(row["WindowId"] == WINDOW_ID for row in rows)
    assert rows[3]["StartTime"] == T0 + timedelta(hours=3)


def test_executed_after_and_before_select_by_start_time_inclusively(
    hourly_executions: FakeSsmExecutions,
) -> None:
    ssm = hourly_executions.attach(new_client())
    after = (T0 + timedelta(hours=2)).isoformat()
    before = (T0 + timedelta(hours=13)).isoformat()

    rows = ssm.describe_maintenance_window_executions(
        WindowId=WINDOW_ID,
        Filters=[
            {"Key": "ExecutedAfter", "Values": [after]},
            {"Key": "ExecutedBefore", "Values": [before]},
        ],
        MaxResults=100,
    )["WindowExecutions"]
    # The documented example format: UTC with a Z.
    after_only = ssm.describe_maintenance_window_executions(
        WindowId=WINDOW_ID, Filters=[{"Key": "ExecutedAfter", "Values": ["2026-11-21T00:00:00Z"]}]
    )["WindowExecutions"]

    assert [row["WindowExecutionId"] for row in rows] == [uid(n + 1) for n in range(2, 14)]
    assert [row["WindowExecutionId"] for row in after_only] == [uid(n + 1) for n in range(22, 25)]


@pytest.mark.parametrize(
    "filters",
    [
        [{"Key": "ExecutedAfter", "Values": ["yesterday"]}],
        [{"Key": "STATUS", "Values": ["FAILED"]}],
    ],
    ids=["not-iso-8601", "status-key"],
)
def test_window_execution_filters_other_than_iso_times_are_rejected(
    hourly_executions: FakeSsmExecutions, filters: Any
) -> None:
    ssm = hourly_executions.attach(new_client())

    with pytest.raises(ClientError) as error:
        ssm.describe_maintenance_window_executions(WindowId=WINDOW_ID, Filters=filters)

    assert error_code(error) == "ValidationException"


def test_window_executions_of_an_unknown_window_are_an_empty_list(
    hourly_executions: FakeSsmExecutions,
) -> None:
    ssm = hourly_executions.attach(new_client())

    response = ssm.describe_maintenance_window_executions(WindowId="mw-00000000000000000")

    assert response["WindowExecutions"] == []
    assert "NextToken" not in response


def test_malformed_window_id_is_rejected(hourly_executions: FakeSsmExecutions) -> None:
    ssm = hourly_executions.attach(new_client())

    with pytest.raises(ClientError) as error:
        ssm.describe_maintenance_window_executions(WindowId="mw-0123456789ABCDEF0")  # upper case

    assert "'windowId'" in error_message(error)


def test_gets_a_window_execution_with_its_task_ids() -> None:
    fake, execution_id, task_id = seeded_fake(2)
    ssm = fake.attach(new_client())

    execution = ssm.get_maintenance_window_execution(WindowExecutionId=execution_id)

    assert execution["WindowExecutionId"] == execution_id
    assert execution["TaskIds"] == [task_id]
    with pytest.raises(ClientError, match="DoesNotExistException"):
        ssm.get_maintenance_window_execution(WindowExecutionId=uid(999))
