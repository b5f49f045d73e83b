"""The fake pages as the service does: MaxResults pages (10 without it), a NextToken for every
page but the last, only tokens it issued for the same request, and every item exactly once, also
to paginations that run at the same time."""

from typing import Any

import pytest
from botocore.exceptions import ClientError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from local_aws.fake_ssm import DEFAULT_PAGE_SIZE
from tests.function.concurrency import run_in_threads
from tests.function.fake_ssm.builders import error_code, new_client, seeded_fake, uid


@pytest.mark.parametrize("empty_last_token", [False, True], ids=["no-token", "empty-token"])
def test_max_results_100_pages_250_invocations_as_100_100_50(empty_last_token: bool) -> None:
    fake, execution_id, task_id = seeded_fake(250, empty_last_token=empty_last_token)
    ssm = fake.attach(new_client())
    pages = []
    kwargs: dict[str, Any] = {}
    while True:
        page = ssm.describe_maintenance_window_execution_task_invocations(
            WindowExecutionId=execution_id, TaskId=task_id, MaxResults=100, **kwargs
        )
        pages.append(page)
        if not page.get("NextToken"):
            break
        kwargs = {"NextToken": page["NextToken"]}

    assert [len(p["WindowExecutionTaskInvocationIdentities"]) for p in pages] == [100, 100, 50]
    if empty_last_token:
        assert pages[-1]["NextToken"] == ""
    else:
        assert "NextToken" not in pages[-1]
    assert [call.params.get("MaxResults") for call in fake.calls] == [100, 100, 100]
    tokens = [call.params.get("NextToken") for call in fake.calls]
    assert tokens[0] is None
    assert len(set(tokens)) == 3


@pytest.mark.parametrize("empty_last_token", [False, True], ids=["no-token", "empty-token"])
def test_paginator_yields_all_250_invocations_exactly_once(empty_last_token: bool) -> None:
    fake, execution_id, task_id = seeded_fake(250, empty_last_token=empty_last_token)
    ssm = fake.attach(new_client())

    pages = list(
        ssm.get_paginator("describe_maintenance_window_execution_task_invocations").paginate(
            WindowExecutionId=execution_id, TaskId=task_id, PaginationConfig={"PageSize": 100}
        )
    )

    ids = [
        row["InvocationId"]
        for page in pages
        for row in page["WindowExecutionTaskInvocationIdentities"]
    ]
    assert ids == [uid(10_000 + index) for index in range(250)]
    assert len(fake.calls) == 3
    assert all(call.params["MaxResults"] == 100 and call.error is None for call in fake.calls)


def test_without_max_results_pages_hold_the_assumed_default_of_10() -> None:
    fake, execution_id, task_id = seeded_fake(25)
    ssm = fake.attach(new_client())

    page = ssm.describe_maintenance_window_execution_task_invocations(
        WindowExecutionId=execution_id, TaskId=task_id
    )

    assert len(page["WindowExecutionTaskInvocationIdentities"]) == DEFAULT_PAGE_SIZE == 10
    assert page["NextToken"]


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(count=st.integers(0, 260), page_size=st.integers(10, 100))
def test_any_page_size_yields_every_invocation_once_in_the_fewest_calls(
    count: int, page_size: int
) -> None:
    fake, execution_id, task_id = seeded_fake(count)
    ssm = fake.attach(new_client())

    pages = ssm.get_paginator("describe_maintenance_window_execution_task_invocations").paginate(
        WindowExecutionId=execution_id, TaskId=task_id, PaginationConfig={"PageSize": page_size}
    )
    ids = [
        row["InvocationId"]
        for page in pages
        for row in page["WindowExecutionTaskInvocationIdentities"]
    ]

    assert ids == [uid(10_000 + index) for index in range(count)]
    assert len(fake.calls) == max(1, -(-count // page_size))


def test_next_token_the_fake_never_issued_is_rejected() -> None:
    fake, execution_id, task_id = seeded_fake(30)
    ssm = fake.attach(new_client())
    issued = ssm.describe_maintenance_window_execution_task_invocations(
        WindowExecutionId=execution_id, TaskId=task_id
    )["NextToken"]

    with pytest.raises(ClientError) as invented:
        ssm.describe_maintenance_window_execution_task_invocations(
            WindowExecutionId=execution_id, TaskId=task_id, NextToken="invented"
        )
    with pytest.raises(ClientError) as empty:
        ssm.describe_maintenance_window_execution_task_invocations(
            WindowExecutionId=execution_id, TaskId=task_id, NextToken=""
        )
    with pytest.raises(ClientError) as other_request:
        ssm.describe_maintenance_window_execution_task_invocations(
            WindowExecutionId=execution_id,
            TaskId=task_id,
            NextToken=issued,
            Filters=[{"Key": "STATUS", "Values": ["FAILED"]}],
        )

    assert error_code(invented) == error_code(empty) == error_code(other_request)
    assert error_code(invented) == "ValidationException"


def test_concurrent_paginations_from_threads_each_see_every_invocation() -> None:
    fake, execution_id, task_id = seeded_fake(250)
    ssm = fake.attach(new_client())
    results: list[list[str]] = []

    def paginate() -> None:
        pages = ssm.get_paginator(
            "describe_maintenance_window_execution_task_invocations"
        ).paginate(
            WindowExecutionId=execution_id, TaskId=task_id, PaginationConfig={"PageSize": 100}
        )
        ids = [
            row["InvocationId"]
            for page in pages
            for row in page["WindowExecutionTaskInvocationIdentities"]
        ]
        results.append(ids)

    run_in_threads(paginate, 8)

    assert results == [[uid(10_000 + index) for index in range(250)]] * 8
    assert len(fake.calls) == 8 * 3
