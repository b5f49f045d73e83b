"""The fake SSM maintenance-window execution APIs, exercised through real boto3 clients."""

import contextlib
import json
import os
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import boto3
import botocore.endpoint
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError, HTTPClientError, ParamValidationError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from moto import mock_aws
from moto.core.models import patch_client

from local_aws.fake_ssm import DEFAULT_PAGE_SIZE, FakeSsmExecutions
from tests.support import ROOT

if TYPE_CHECKING:
    from mypy_boto3_ssm import SSMClient

API_EXAMPLES = ROOT / "tests" / "data" / "api-examples"
REGION = "us-east-1"
WINDOW_ID = "mw-0123456789abcdef0"
OTHER_WINDOW_ID = "mw-fedcba98765432100"
T0 = datetime(2026, 11, 20, 2, 0, 0, 104_000, tzinfo=UTC)
STATUS_CYCLE = ("SUCCESS", "SUCCESS", "FAILED", "TIMED_OUT", "CANCELLED")
# In a Config, `max_attempts` counts *retries* (botocore.args turns it into total_max_attempts =
# max_attempts + 1); `total_max_attempts` counts the first attempt too.
STANDARD_RETRIES = Config(retries={"mode": "standard", "max_attempts": 5})
ONE_RETRY = Config(retries={"mode": "standard", "max_attempts": 1})
NO_RETRIES = Config(retries={"mode": "standard", "total_max_attempts": 1})


@pytest.fixture(autouse=True)
def _dummy_aws_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)


class _RecordedSleep:
    def __init__(self) -> None:
        self.delays: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.delays.append(seconds)


@pytest.fixture(autouse=True)
def retry_sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The backoff delays botocore chose; they are recorded instead of slept.

    botocore sleeps between attempts in Endpoint._needs_retry with `time.sleep`, through the
    `time` name of botocore.endpoint: replacing that name leaves every other sleep alone.
    """
    recorder = _RecordedSleep()
    monkeypatch.setattr(botocore.endpoint, "time", recorder)
    return recorder.delays


def new_client(config: Config | None = None) -> "SSMClient":
    # A fresh session per client: it registers botocore's BUILTIN_HANDLERS as they are now
    # (moto's stubber included, since this module imports moto).
    return boto3.session.Session(region_name=REGION).client("ssm", config=config)


def uid(number: int) -> str:
    return str(uuid.UUID(int=number))


def window_execution(
    number: int, *, window_id: str = WINDOW_ID, start: datetime = T0, status: str = "SUCCESS"
) -> dict[str, Any]:
    return {
        "WindowId": window_id,
        "WindowExecutionId": uid(number),
        "Status": status,
        "StartTime": start,
        "EndTime": start + timedelta(minutes=15),
    }


def task_execution(
    window_execution_id: str, number: int, status: str = "SUCCESS"
) -> dict[str, Any]:
    return {
        "WindowExecutionId": window_execution_id,
        "TaskExecutionId": uid(number),
        "Status": status,
        "TaskArn": "AWS-RunShellScript",
        "TaskType": "RUN_COMMAND",
        "StartTime": T0,
        "EndTime": T0 + timedelta(minutes=5),
    }


def invocations(task: dict[str, Any], count: int, first: int = 10_000) -> list[dict[str, Any]]:
    return [
        {
            "WindowExecutionId": task["WindowExecutionId"],
            "TaskExecutionId": task["TaskExecutionId"],
            "InvocationId": uid(first + index),
            "ExecutionId": uid(50_000 + index),
            "TaskType": "RUN_COMMAND",
            "Status": STATUS_CYCLE[index % len(STATUS_CYCLE)],
            "StartTime": T0 + timedelta(seconds=index),
            "EndTime": T0 + timedelta(seconds=index, milliseconds=500),
            "WindowTargetId": uid(90_000),
        }
        for index in range(count)
    ]


def seeded_fake(
    invocation_count: int, *, empty_last_token: bool = False
) -> tuple[FakeSsmExecutions, str, str]:
    """A fake holding one window execution with one task of `invocation_count` invocations."""
    fake = FakeSsmExecutions(empty_last_token=empty_last_token)
    execution = window_execution(1)
    fake.add_window_execution(execution)
    task = task_execution(execution["WindowExecutionId"], 2)
    fake.add_task_execution(task, invocations(task, invocation_count))
    return fake, execution["WindowExecutionId"], task["TaskExecutionId"]


def error_code(error: pytest.ExceptionInfo[ClientError]) -> str:
    return error.value.response["Error"]["Code"]


def error_message(error: pytest.ExceptionInfo[ClientError]) -> str:
    return error.value.response["Error"]["Message"]


# -- the reference examples ------------------------------------------------------------------------


def _with_datetimes(item: dict[str, Any]) -> dict[str, Any]:
    return {
        key: datetime.fromtimestamp(value, UTC) if key in ("StartTime", "EndTime") else value
        for key, value in item.items()
    }


def test_reference_examples_round_trip_with_datetime_timestamps() -> None:
    tasks_example = json.loads(
        (API_EXAMPLES / "describe-maintenance-window-execution-tasks.json").read_text()
    )
    invocations_example = json.loads(
        (API_EXAMPLES / "describe-maintenance-window-execution-task-invocations.json").read_text()
    )
    # The Get example's fields are all fields of an invocation identity too.
    get_example = json.loads(
        (API_EXAMPLES / "get-maintenance-window-execution-task-invocation.json").read_text()
    )
    (task,) = [_with_datetimes(item) for item in tasks_example["WindowExecutionTaskIdentities"]]
    (invocation,) = [
        _with_datetimes(item)
        for item in invocations_example["WindowExecutionTaskInvocationIdentities"]
    ]
    other_invocation = _with_datetimes(get_example)
    fake = FakeSsmExecutions()
    for execution_id in (task["WindowExecutionId"], other_invocation["WindowExecutionId"]):
        fake.add_window_execution({"WindowId": WINDOW_ID, "WindowExecutionId": execution_id})
    fake.add_task_execution(task, [invocation])
    fake.add_task_execution(
        {key: other_invocation[key] for key in ("WindowExecutionId", "TaskExecutionId")},
        [other_invocation],
    )
    ssm = fake.attach(new_client())

    tasks = ssm.describe_maintenance_window_execution_tasks(
        WindowExecutionId=task["WindowExecutionId"]
    )
    first = ssm.describe_maintenance_window_execution_task_invocations(
        WindowExecutionId=invocation["WindowExecutionId"], TaskId=invocation["TaskExecutionId"]
    )
    second = ssm.describe_maintenance_window_execution_task_invocations(
        WindowExecutionId=other_invocation["WindowExecutionId"],
        TaskId=other_invocation["TaskExecutionId"],
    )

    assert tasks["WindowExecutionTaskIdentities"] == [task]
    assert first["WindowExecutionTaskInvocationIdentities"] == [invocation]
    assert second["WindowExecutionTaskInvocationIdentities"] == [other_invocation]
    # botocore's parser made the epoch seconds on the wire into datetimes, to the millisecond.
    start = tasks["WindowExecutionTaskIdentities"][0]["StartTime"]
    assert isinstance(start, datetime)
    assert start.timestamp() == tasks_example["WindowExecutionTaskIdentities"][0]["StartTime"]
    assert "NextToken" not in tasks
    headers = tasks["ResponseMetadata"]["HTTPHeaders"]
    assert headers["content-type"] == "application/x-amz-json-1.1"
    assert tasks["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert uuid.UUID(tasks["ResponseMetadata"]["RequestId"])


# -- pagination ------------------------------------------------------------------------------------


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


# -- validation ------------------------------------------------------------------------------------


def test_max_results_500_passes_botocore_but_the_fake_rejects_it() -> None:
    fake, execution_id, task_id = seeded_fake(1)
    ssm = fake.attach(new_client())

    with pytest.raises(ClientError) as error:
        ssm.describe_maintenance_window_execution_task_invocations(
            WindowExecutionId=execution_id, TaskId=task_id, MaxResults=500
        )

    assert error_code(error) == "ValidationException"
    assert error.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert "'maxResults'" in error_message(error)
    assert "less than or equal to 100" in error_message(error)
    assert [call.error for call in fake.calls] == ["ValidationException"]


def test_max_results_5_is_refused_by_botocore_and_by_the_fake() -> None:
    fake, execution_id, _ = seeded_fake(1)
    validated = fake.attach(new_client())
    unvalidated = fake.attach(new_client(Config(parameter_validation=False)))

    # botocore checks minimums client-side: nothing is sent.
    with pytest.raises(ParamValidationError):
        validated.describe_maintenance_window_execution_tasks(
            WindowExecutionId=execution_id, MaxResults=5
        )
    assert fake.calls == []
    # Without botocore's check, the service (the fake) refuses it.
    with pytest.raises(ClientError) as error:
        unvalidated.describe_maintenance_window_execution_tasks(
            WindowExecutionId=execution_id, MaxResults=5
        )
    assert error_code(error) == "ValidationException"
    assert "greater than or equal to 10" in error_message(error)


def test_window_execution_id_of_the_right_length_but_not_a_uuid_is_rejected() -> None:
    fake, _, _ = seeded_fake(1)
    ssm = fake.attach(new_client())

    with pytest.raises(ClientError) as error:
        ssm.describe_maintenance_window_execution_tasks(WindowExecutionId="x" * 36)

    assert error_code(error) == "ValidationException"
    assert "'windowExecutionId'" in error_message(error)
    assert "regular expression pattern" in error_message(error)


def test_missing_task_id_is_caught_by_botocore_and_with_validation_off_by_the_fake() -> None:
    fake, execution_id, _ = seeded_fake(1)
    validated = fake.attach(new_client())
    unvalidated = fake.attach(new_client(Config(parameter_validation=False)))

    with pytest.raises(ParamValidationError, match="TaskId"):
        validated.describe_maintenance_window_execution_task_invocations(  # type: ignore[call-arg]
            WindowExecutionId=execution_id
        )
    assert fake.calls == []
    with pytest.raises(ClientError) as error:
        unvalidated.describe_maintenance_window_execution_task_invocations(  # type: ignore[call-arg]
            WindowExecutionId=execution_id
        )
    assert error_code(error) == "ValidationException"
    assert "Value null at 'taskId'" in error_message(error)


def test_a_member_the_model_does_not_know_is_rejected() -> None:
    fake, execution_id, _ = seeded_fake(1)
    ssm = fake.attach(new_client())

    def add_unknown_member(params: dict[str, Any], **kwargs: Any) -> None:
        # botocore never serialises unknown members, so add one to the serialised body.
        body = json.loads(params["body"])
        params["body"] = json.dumps({**body, "Surprise": 1}).encode()

    ssm.meta.events.register(
        "before-call.ssm.DescribeMaintenanceWindowExecutionTasks", add_unknown_member
    )
    with pytest.raises(ClientError) as error:
        ssm.describe_maintenance_window_execution_tasks(WindowExecutionId=execution_id)

    assert error_code(error) == "ValidationException"
    assert "surprise" in error_message(error)


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


def test_unknown_window_or_task_execution_does_not_exist() -> None:
    fake, execution_id, task_id = seeded_fake(1)
    ssm = fake.attach(new_client())

    with pytest.raises(ssm.exceptions.DoesNotExistException):
        ssm.describe_maintenance_window_execution_tasks(WindowExecutionId=uid(999))
    with pytest.raises(ssm.exceptions.DoesNotExistException):
        ssm.describe_maintenance_window_execution_task_invocations(
            WindowExecutionId=execution_id, TaskId=uid(999)
        )
    # A task execution of a different window execution does not exist in this one either.
    fake.add_window_execution(window_execution(3))
    with pytest.raises(ssm.exceptions.DoesNotExistException) as error:
        ssm.describe_maintenance_window_execution_task_invocations(
            WindowExecutionId=uid(3), TaskId=task_id
        )
    assert error.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


# -- STATUS filter ---------------------------------------------------------------------------------


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


# -- throttling and other faults -------------------------------------------------------------------


def test_standard_retries_absorb_two_throttles(retry_sleeps: list[float]) -> None:
    fake, execution_id, _ = seeded_fake(1)
    ssm = fake.attach(new_client(STANDARD_RETRIES))
    fake.fail_next(2)

    response = ssm.describe_maintenance_window_execution_tasks(WindowExecutionId=execution_id)

    assert len(response["WindowExecutionTaskIdentities"]) == 1
    assert [call.error for call in fake.calls] == [
        "ThrottlingException",
        "ThrottlingException",
        None,
    ]
    assert response["ResponseMetadata"]["RetryAttempts"] == 2
    assert len(retry_sleeps) == 2  # botocore backed off before each retry


@pytest.mark.parametrize(
    ("config", "attempts"), [(ONE_RETRY, 2), (NO_RETRIES, 1)], ids=["max_attempts=1", "total=1"]
)
def test_throttling_surfaces_when_retries_run_out(config: Config, attempts: int) -> None:
    fake, execution_id, _ = seeded_fake(1)
    ssm = fake.attach(new_client(config))
    fake.fail_next(2)

    with pytest.raises(ClientError) as error:
        ssm.describe_maintenance_window_execution_tasks(WindowExecutionId=execution_id)

    assert error_code(error) == "ThrottlingException"
    assert error_message(error) == "Rate exceeded"
    assert error.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert error.value.response["ResponseMetadata"]["RetryAttempts"] == attempts - 1
    assert len(fake.calls) == attempts


def test_injected_internal_server_error_is_a_retried_http_500() -> None:
    fake, execution_id, _ = seeded_fake(1)
    no_retries = fake.attach(new_client(NO_RETRIES))
    retrying = fake.attach(new_client(STANDARD_RETRIES))
    fake.fail_next(2, code="InternalServerError")

    with pytest.raises(no_retries.exceptions.InternalServerError) as error:
        no_retries.describe_maintenance_window_execution_tasks(WindowExecutionId=execution_id)
    retrying.describe_maintenance_window_execution_tasks(WindowExecutionId=execution_id)

    assert error.value.response["ResponseMetadata"]["HTTPStatusCode"] == 500
    assert [call.error for call in fake.calls] == [
        "InternalServerError",
        "InternalServerError",
        None,
    ]


def _throttled_pattern(rate: float, seed: int, calls: int = 40) -> list[bool]:
    fake, execution_id, _ = seeded_fake(1)
    ssm = fake.attach(new_client(NO_RETRIES))
    fake.throttle(rate, seed=seed)
    for _ in range(calls):
        with contextlib.suppress(ClientError):
            ssm.describe_maintenance_window_execution_tasks(WindowExecutionId=execution_id)
    assert {call.error for call in fake.calls} <= {None, "ThrottlingException"}
    return [call.error is not None for call in fake.calls]


def test_throttle_rate_is_reproducible_for_a_seed() -> None:
    pattern = _throttled_pattern(0.3, seed=7)

    assert _throttled_pattern(0.3, seed=7) == pattern
    assert 0 < sum(pattern) < len(pattern)
    assert not any(_throttled_pattern(0.0, seed=7, calls=5))
    assert all(_throttled_pattern(1.0, seed=7, calls=5))


def test_latency_is_spent_on_every_answered_call() -> None:
    fake, execution_id, _ = seeded_fake(1)
    fake.latency = 0.05
    ssm = fake.attach(new_client())

    started = time.monotonic()
    ssm.describe_maintenance_window_execution_tasks(WindowExecutionId=execution_id)
    ssm.describe_maintenance_window_execution_tasks(WindowExecutionId=execution_id)

    assert time.monotonic() - started >= 0.1


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

    threads = [threading.Thread(target=paginate) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert results == [[uid(10_000 + index) for index in range(250)]] * 8
    assert len(fake.calls) == 8 * 3


# -- cooperation with moto -------------------------------------------------------------------------


@pytest.fixture
def moto() -> Iterator[None]:
    with mock_aws():
        yield


@pytest.mark.usefixtures("moto")
def test_moto_alone_does_not_implement_the_execution_apis() -> None:
    # The reason this fake exists; if moto learns these APIs, this test says so.
    with pytest.raises(NotImplementedError):
        new_client().describe_maintenance_window_execution_tasks(WindowExecutionId=uid(1))


@pytest.mark.usefixtures("moto")
def test_inside_mock_aws_moto_answers_other_ssm_operations_on_the_same_client() -> None:
    fake = FakeSsmExecutions()
    ssm = fake.attach(new_client())
    window_id = ssm.create_maintenance_window(
        Name="patching",
        Schedule="cron(0 2 ? * SUN *)",
        Duration=2,
        Cutoff=1,
        AllowUnassociatedTargets=True,
    )["WindowId"]
    fake.add_window_execution(window_execution(1, window_id=window_id))

    ssm.put_parameter(Name="/patching/baseline", Value="pb-0123", Type="String")  # moto's
    parameter = ssm.get_parameter(Name="/patching/baseline")["Parameter"]
    executions = ssm.describe_maintenance_window_executions(WindowId=window_id)["WindowExecutions"]

    assert parameter["Value"] == "pb-0123"
    assert [execution["WindowExecutionId"] for execution in executions] == [uid(1)]
    assert [call.operation for call in fake.calls] == ["DescribeMaintenanceWindowExecutions"]
    # Other clients keep moto exactly as it was.
    with pytest.raises(NotImplementedError):
        new_client().describe_maintenance_window_executions(WindowId=window_id)


@pytest.mark.usefixtures("moto")
def test_moto_stubber_put_back_after_attach_breaks_the_fake_so_attach_comes_last() -> None:
    fake, execution_id, _ = seeded_fake(1)
    ssm = fake.attach(new_client())
    patch_client(ssm)  # registers moto's stubber again, after the fake's dispatcher

    with pytest.raises(NotImplementedError):
        ssm.describe_maintenance_window_execution_tasks(WindowExecutionId=execution_id)


@pytest.mark.filterwarnings("ignore:A test tried to use socket")
def test_without_mock_aws_other_operations_go_to_the_network_untouched() -> None:
    fake, execution_id, _ = seeded_fake(1)
    ssm = fake.attach(new_client(NO_RETRIES))

    tasks = ssm.describe_maintenance_window_execution_tasks(WindowExecutionId=execution_id)
    # botocore sends what the fake does not answer over HTTP, which pytest-socket stops.
    with pytest.raises(HTTPClientError, match="socket"):
        ssm.describe_maintenance_window_targets(WindowId="mw-0123456789abcdef0")

    assert len(tasks["WindowExecutionTaskIdentities"]) == 1
    assert [call.operation for call in fake.calls] == ["DescribeMaintenanceWindowExecutionTasks"]


def test_works_in_a_process_that_never_imports_moto() -> None:
    script = f"""
import sys
from datetime import UTC, datetime
import boto3
from local_aws.fake_ssm import FakeSsmExecutions
fake = FakeSsmExecutions()
fake.add_window_execution({{"WindowId": "{WINDOW_ID}", "WindowExecutionId": "{uid(1)}",
                           "StartTime": datetime(2026, 1, 1, tzinfo=UTC)}})
ssm = fake.attach(boto3.session.Session(region_name="{REGION}").client("ssm"))
executions = ssm.describe_maintenance_window_executions(WindowId="{WINDOW_ID}")["WindowExecutions"]
print(len(executions), type(executions[0]["StartTime"]).__name__, "moto" in sys.modules)
"""
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["1", "datetime", "False"]


def test_attaching_again_changes_nothing_and_a_second_fake_is_refused() -> None:
    fake, execution_id, _ = seeded_fake(1)
    ssm = fake.attach(fake.attach(new_client()))

    ssm.describe_maintenance_window_execution_tasks(WindowExecutionId=execution_id)

    assert len(fake.calls) == 1
    with pytest.raises(ValueError, match="already attached"):
        FakeSsmExecutions().attach(ssm)


def test_attach_refuses_a_client_of_another_service() -> None:
    sns = boto3.session.Session(region_name=REGION).client("sns")

    with pytest.raises(TypeError):
        FakeSsmExecutions().attach(sns)


# -- DescribeMaintenanceWindowExecutions -----------------------------------------------------------


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


# -- seeding ---------------------------------------------------------------------------------------


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


def test_a_rate_limit_throttles_only_what_exceeds_it() -> None:
    fake, execution_id, _ = seeded_fake(1)
    ssm = fake.attach(new_client(NO_RETRIES))
    fake.rate_limit(per_second=0.001, burst=3)  # three calls, then nothing for a long while

    results = []
    for _ in range(5):
        try:
            ssm.describe_maintenance_window_execution_tasks(WindowExecutionId=execution_id)
            results.append("ok")
        except ClientError as error:
            results.append(error.response["Error"]["Code"])

    assert results == ["ok", "ok", "ok", "ThrottlingException", "ThrottlingException"]


def test_gets_a_window_execution_with_its_task_ids() -> None:
    fake, execution_id, task_id = seeded_fake(2)
    ssm = fake.attach(new_client())

    execution = ssm.get_maintenance_window_execution(WindowExecutionId=execution_id)

    assert execution["WindowExecutionId"] == execution_id
    assert execution["TaskIds"] == [task_id]
    with pytest.raises(ClientError, match="DoesNotExistException"):
        ssm.get_maintenance_window_execution(WindowExecutionId=uid(999))
