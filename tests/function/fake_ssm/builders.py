"""What the fake's tests build: the API's items (window, task and invocation executions with
predictable IDs), a fake seeded with them, boto3 clients to call it, and the errors it returns."""

import uuid
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from local_aws.fake_ssm import FakeSsmExecutions
from mwalerts import errors

if TYPE_CHECKING:
    from mypy_boto3_ssm import SSMClient

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
    return errors.error_code(error.value)


def error_message(error: pytest.ExceptionInfo[ClientError]) -> str:
    return error.value.response["Error"]["Message"]
