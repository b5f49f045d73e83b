"""The fake answers as the service its botocore model describes: the reference examples round
trip with their types, requests the model forbids are refused with the service's errors (also
those botocore lets through or does not check), and unknown IDs do not exist."""

import json
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from botocore.config import Config
from botocore.exceptions import ClientError, ParamValidationError

from local_aws.fake_ssm import FakeSsmExecutions
from tests.function.fake_ssm.builders import (
    WINDOW_ID,
    error_code,
    error_message,
    new_client,
    seeded_fake,
    uid,
    window_execution,
)
from tests.support import ROOT

API_EXAMPLES = ROOT / "tests" / "data" / "api-examples"


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
