"""The faults the fake injects, as botocore's retries meet them: throttling (a number of calls,
a seeded rate, or a rate limit), server errors, and latency."""

import contextlib
import time

import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from tests.function.fake_ssm.builders import (
    NO_RETRIES,
    ONE_RETRY,
    STANDARD_RETRIES,
    error_code,
    error_message,
    new_client,
    seeded_fake,
)


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


def test_a_fault_for_one_operation_waits_for_a_request_of_that_operation() -> None:
    fake, execution_id, _ = seeded_fake(1)
    ssm = fake.attach(new_client(NO_RETRIES))
    fake.fail_next(1, "AccessDeniedException", "GetMaintenanceWindow")

    ssm.describe_maintenance_window_execution_tasks(WindowExecutionId=execution_id)
    with pytest.raises(ClientError) as error:
        ssm.get_maintenance_window(WindowId="mw-0123456789abcdef0")

    assert error_code(error) == "AccessDeniedException"
    assert [(call.operation, call.error) for call in fake.calls] == [
        ("DescribeMaintenanceWindowExecutionTasks", None),
        ("GetMaintenanceWindow", "AccessDeniedException"),
    ]


def test_a_fault_for_an_operation_the_fake_does_not_answer_is_refused() -> None:
    fake, _, _ = seeded_fake(1)
    with pytest.raises(ValueError, match="no operation 'GetMaintenanceWindows'"):
        fake.fail_next(1, "AccessDeniedException", "GetMaintenanceWindows")


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
