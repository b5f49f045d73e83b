"""Seeding the fake: items must have the shape the API returns, in the order the API relates
them, and are copied in."""

from datetime import datetime
from typing import Any

import pytest

from local_aws.fake_ssm import FakeSsmExecutions
from tests.function.fake_ssm.builders import (
    WINDOW_ID,
    invocations,
    new_client,
    task_execution,
    uid,
    window_execution,
)


@pytest.mark.parametrize(
    ("change", "complaint"),
    [
        ({"Status": "Failed"}, "enum"),
        ({"StartTime": datetime(2026, 1, 1)}, "timezone-aware"),  # naive: the point
        ({"StartTime": 1487692834.723}, "timezone-aware"),
        ({"WindowExecutionId": "518d5565-5969-4cca-8f0e-EXAMPLE"}, "WindowExecutionId"),
        ({"TaskType": "SHELL"}, "TaskType"),
        ({"StatusDetails": "x" * 251}, "length less than or equal to 250"),
        ({"Satus": "SUCCESS"}, "no Satus"),
        ({"TaskExecutionId": None}, "TaskExecutionId is required"),
    ],
)
def test_seeded_task_executions_must_match_the_output_shape(
    change: dict[str, Any], complaint: str
) -> None:
    fake = FakeSsmExecutions()
    fake.add_window_execution(window_execution(1))

    with pytest.raises(ValueError, match=complaint):
        fake.add_task_execution({**task_execution(uid(1), 2), **change})


def test_seeding_a_task_needs_its_window_execution_first_and_matching_invocations() -> None:
    fake = FakeSsmExecutions()
    task = task_execution(uid(1), 2)
    stray = invocations(task_execution(uid(1), 3), 1)

    with pytest.raises(ValueError, match="add_window_execution"):
        fake.add_task_execution(task)
    fake.add_window_execution(window_execution(1))
    with pytest.raises(ValueError, match="another task"):
        fake.add_task_execution(task, stray)
    fake.add_task_execution(task, invocations(task, 2))
    with pytest.raises(ValueError, match="already added"):
        fake.add_task_execution(task)


def test_seeded_items_are_copied_so_later_changes_do_not_leak_in() -> None:
    fake = FakeSsmExecutions()
    execution = window_execution(1)
    fake.add_window_execution(execution)
    execution["Status"] = "FAILED"
    ssm = fake.attach(new_client())

    rows = ssm.describe_maintenance_window_executions(WindowId=WINDOW_ID)["WindowExecutions"]

    assert rows[0]["Status"] == "SUCCESS"
