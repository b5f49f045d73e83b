"""The STATUS filter of the task and invocation listings: it selects before paging, and any
other key, value or number of filters is refused as the service refuses it."""

from typing import Any

import pytest
from botocore.exceptions import ClientError

from local_aws.fake_ssm import FakeSsmExecutions
from tests.function.fake_ssm.builders import (
    error_code,
    error_message,
    new_client,
    seeded_fake,
    task_execution,
    uid,
    window_execution,
)


@pytest.mark.parametrize(
    "filters",
    [
        [{"Key": "State", "Values": ["FAILED"]}],
        [{"Key": "STATUS", "Values": ["Failed"]}],  # Run Command's spelling, not the window's
        [{"Key": "STATUS", "Values": []}],
        [{"Key": "ExecutedAfter", "Values": ["2026-11-20T00:00:00Z"]}],
    ],
    ids=["unknown-key", "unknown-status", "no-values", "executions-only-key"],
)
def test_filters_other_than_known_status_values_are_rejected(filters: Any) -> None:
    fake, execution_id, task_id = seeded_fake(1)
    ssm = fake.attach(new_client())

    with pytest.raises(ClientError) as tasks_error:
        ssm.describe_maintenance_window_execution_tasks(
            WindowExecutionId=execution_id, Filters=filters
        )
    with pytest.raises(ClientError) as invocations_error:
        ssm.describe_maintenance_window_execution_task_invocations(
            WindowExecutionId=execution_id, TaskId=task_id, Filters=filters
        )

    assert error_code(tasks_error) == error_code(invocations_error) == "ValidationException"


def test_more_than_five_filters_break_the_models_list_maximum() -> None:
    fake, execution_id, _ = seeded_fake(1)
    ssm = fake.attach(new_client())

    with pytest.raises(ClientError) as error:
        ssm.describe_maintenance_window_execution_tasks(
            WindowExecutionId=execution_id, Filters=[{"Key": "STATUS", "Values": ["FAILED"]}] * 6
        )

    assert "'filters'" in error_message(error)
    assert "length less than or equal to 5" in error_message(error)


def test_status_filter_applies_before_paging() -> None:
    fake, execution_id, task_id = seeded_fake(250)  # 50 each of FAILED, TIMED_OUT, CANCELLED
    ssm = fake.attach(new_client())

    pages = list(
        ssm.get_paginator("describe_maintenance_window_execution_task_invocations").paginate(
            WindowExecutionId=execution_id,
            TaskId=task_id,
            Filters=[{"Key": "STATUS", "Values": ["FAILED", "TIMED_OUT"]}],
            PaginationConfig={"PageSize": 30},
        )
    )

    rows = [row for page in pages for row in page["WindowExecutionTaskInvocationIdentities"]]
    assert [len(page["WindowExecutionTaskInvocationIdentities"]) for page in pages] == [
        30,
        30,
        30,
        10,
    ]
    assert {row["Status"] for row in rows} == {"FAILED", "TIMED_OUT"}
    assert len({row["InvocationId"] for row in rows}) == 100


def test_status_filter_on_task_executions() -> None:
    fake = FakeSsmExecutions()
    execution = window_execution(1)
    fake.add_window_execution(execution)
    for number, status in enumerate(["SUCCESS", "FAILED", "SUCCESS", "CANCELLED"]):
        fake.add_task_execution(
            task_execution(execution["WindowExecutionId"], 100 + number, status)
        )
    ssm = fake.attach(new_client())

    tasks = ssm.describe_maintenance_window_execution_tasks(
        WindowExecutionId=execution["WindowExecutionId"],
        Filters=[{"Key": "STATUS", "Values": ["FAILED", "CANCELLED"]}],
    )["WindowExecutionTaskIdentities"]

    assert [task["TaskExecutionId"] for task in tasks] == [uid(101), uid(103)]
