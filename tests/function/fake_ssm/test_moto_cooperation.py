"""The fake and moto on one client: moto answers the SSM operations the fake does not, the fake
needs no moto at all, and attaching is safe to repeat but refused on a second fake or another
service's client."""

import sys
from collections.abc import Iterator

import boto3
import pytest
from botocore.exceptions import HTTPClientError
from moto import mock_aws
from moto.core.models import patch_client

from local_aws.fake_ssm import FakeSsmExecutions
from tests.function.fake_ssm.builders import (
    NO_RETRIES,
    REGION,
    WINDOW_ID,
    new_client,
    seeded_fake,
    uid,
    window_execution,
)
from tests.support import run_in_repo


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
    result = run_in_repo([sys.executable, "-c", script], timeout=60)

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
