"""The deploy-time self-test's handler (the CDK Trigger's): it invokes the alert function with the
self-test event and fails, naming each failed hop, so that the deployment rolls back; it retries
access denials while IAM propagates, and skips the check while the stack rolls back."""

import json
import subprocess
import sys
from typing import Any

import pytest
from botocore.exceptions import ClientError

from mwalerts import contract, handler
from mwalerts.self_test_check import INVOKE_MAX_SECONDS
from mwalerts.self_test_trigger import (
    ACCESS_DENIED_RETRY_SECONDS,
    ACCESS_DENIED_WINDOW_SECONDS,
    SelfTestError,
)
from mwalerts.self_test_trigger import handler as trigger
from tests.function.local_lambda import FUNCTION_NAME, LocalLambda
from tests.support import ROOT


@pytest.fixture
def function_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(contract.ENV_SELF_TEST_FUNCTION_NAME, FUNCTION_NAME)


@pytest.mark.usefixtures("function_named")
def test_a_passing_self_test_returns_a_short_summary(aws, capsys):
    local = LocalLambda(aws)
    result = trigger({"RequestType": "Create"}, None, lambda_client=local)

    assert result["ok"] is True
    assert result["summary"].startswith(f"Self-test {result['id']} of {FUNCTION_NAME} passed")
    (invocation,) = local.invocations
    assert invocation["FunctionName"] == FUNCTION_NAME
    assert invocation["InvocationType"] == "RequestResponse"
    assert invocation["event"]["source"] == contract.SELF_TEST_SOURCE
    assert len(aws.published()) == 1
    assert '"ok": true' in capsys.readouterr().out


@pytest.mark.usefixtures("function_named")
def test_a_failed_hop_raises_with_the_hop_and_its_error(aws, monkeypatch):
    def denied(**_kwargs: Any) -> Any:
        raise ClientError(
            {"Error": {"Code": "KMSAccessDenied", "Message": "KMS denied the key"}}, "Publish"
        )

    monkeypatch.setattr(aws.clients.sns, "publish", denied)
    clock = Clock()  # an access denial: retried for a while (below), at no real time

    with pytest.raises(SelfTestError) as raised:
        trigger(
            {"RequestType": "Update"},
            None,
            lambda_client=LocalLambda(aws),
            sleep=clock.sleep,
            clock=clock,
        )

    assert str(raised.value) == "Self-test failed: alert topic: KMSAccessDenied: KMS denied the key"


@pytest.mark.usefixtures("function_named")
def test_a_function_error_fails_the_deployment(aws, monkeypatch):
    def broken(*_args: Any, **_kwargs: Any) -> Any:
        raise RuntimeError("boom")

    monkeypatch.setattr(handler, "handle_event", broken)

    with pytest.raises(SelfTestError, match=r"^Self-test failed: invoke: the function failed"):
        trigger({}, None, lambda_client=LocalLambda(aws))


def test_without_the_function_name_it_fails_and_says_why(aws, monkeypatch):
    monkeypatch.delenv(contract.ENV_SELF_TEST_FUNCTION_NAME, raising=False)

    with pytest.raises(SelfTestError, match=contract.ENV_SELF_TEST_FUNCTION_NAME):
        trigger({}, None, lambda_client=LocalLambda(aws))


@pytest.mark.usefixtures("function_named")
def test_without_a_client_it_makes_its_own_with_a_long_read_timeout(aws, monkeypatch):
    made: list[Any] = []

    def client(service: str, *, config: Any) -> LocalLambda:
        made.append((service, config.read_timeout))
        return LocalLambda(aws)

    monkeypatch.setattr("mwalerts.self_test_trigger.boto3.client", client)
    trigger({}, None)

    assert made == [("lambda", 330)]


def test_the_trigger_module_imports_without_the_alert_functions_environment():
    # Its Lambda has none of the alert function's variables: importing mwalerts.handler (which
    # reads them at import) would fail its init.
    code = (
        "import os, sys\n"
        "for key in [k for k in os.environ if k.startswith(('ALERT_', 'IDEMPOTENCY_'))]:\n"
        "    del os.environ[key]\n"
        "import mwalerts.self_test_trigger\n"
        "assert 'mwalerts.handler' not in sys.modules, sorted(sys.modules)\n"
        "assert 'aws_lambda_powertools' not in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT, timeout=60)


# --- IAM propagation: access denials are retried for a while -------------------------------------


class Clock:
    """A clock that `sleep` moves on: the retries take no real time."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


class DeniedInvokes:
    """A Lambda client whose first `denials` invokes are refused with `code`."""

    def __init__(self, local: LocalLambda, denials: int, code: str = "AccessDeniedException"):
        self.local = local
        self.denials = denials
        self.code = code
        self.calls = 0

    def invoke(self, **kwargs: Any) -> Any:
        self.calls += 1
        if self.calls <= self.denials:
            raise ClientError(
                {"Error": {"Code": self.code, "Message": "not authorized to perform Invoke"}},
                "Invoke",
            )
        return self.local.invoke(**kwargs)


class RemainingTime:
    def __init__(self, clock: Clock, seconds: float) -> None:
        self.clock = clock
        self.seconds = seconds

    def get_remaining_time_in_millis(self) -> int:
        return int((self.seconds - self.clock.now) * 1000)


@pytest.mark.usefixtures("function_named")
def test_access_denied_twice_then_permitted_passes(aws):
    clock = Clock()
    client = DeniedInvokes(LocalLambda(aws), denials=2)

    result = trigger({}, None, lambda_client=client, sleep=clock.sleep, clock=clock)

    assert result["ok"] is True
    assert client.calls == 3
    assert clock.sleeps == [ACCESS_DENIED_RETRY_SECONDS] * 2


@pytest.mark.usefixtures("function_named")
def test_a_denied_hop_inside_the_function_is_retried_too(aws, monkeypatch):
    publish = aws.clients.sns.publish
    calls: list[int] = []

    def denied_once(**kwargs: Any) -> Any:
        calls.append(1)
        if len(calls) == 1:
            raise ClientError({"Error": {"Code": "KMSAccessDenied", "Message": "no"}}, "Publish")
        return publish(**kwargs)

    monkeypatch.setattr(aws.clients.sns, "publish", denied_once)
    clock = Clock()

    result = trigger({}, None, lambda_client=LocalLambda(aws), sleep=clock.sleep, clock=clock)

    assert result["ok"] is True
    assert len(calls) == 2


@pytest.mark.usefixtures("function_named")
def test_access_denied_beyond_the_window_fails_with_the_last_result(aws):
    clock = Clock()
    client = DeniedInvokes(LocalLambda(aws), denials=1000, code="AccessDenied")

    with pytest.raises(SelfTestError, match=r"^Self-test failed: invoke: AccessDenied: "):
        trigger({}, None, lambda_client=client, sleep=clock.sleep, clock=clock)

    assert clock.now <= ACCESS_DENIED_WINDOW_SECONDS
    # At 0, 5, ..., 90 s.
    assert client.calls == ACCESS_DENIED_WINDOW_SECONDS // ACCESS_DENIED_RETRY_SECONDS + 1


@pytest.mark.usefixtures("function_named")
def test_access_denied_is_not_retried_past_the_functions_own_time(aws):
    clock = Clock()
    client = DeniedInvokes(LocalLambda(aws), denials=1000)
    # Time for one pause and then one more whole check, not for two.
    context = RemainingTime(clock, INVOKE_MAX_SECONDS + ACCESS_DENIED_RETRY_SECONDS + 1)

    with pytest.raises(SelfTestError, match="AccessDeniedException"):
        trigger({}, context, lambda_client=client, sleep=clock.sleep, clock=clock)

    assert client.calls == 2


@pytest.mark.usefixtures("function_named")
def test_a_failure_other_than_access_denied_is_not_retried(aws):
    clock = Clock()
    client = DeniedInvokes(LocalLambda(aws), denials=1, code="ResourceNotFoundException")

    with pytest.raises(SelfTestError, match="ResourceNotFoundException"):
        trigger({}, None, lambda_client=client, sleep=clock.sleep, clock=clock)

    assert client.calls == 1
    assert clock.sleeps == []


@pytest.mark.usefixtures("function_named")
def test_access_denied_with_another_failure_is_not_retried(aws, monkeypatch):
    # The table is gone (no IAM delay explains that), the topic refused: nothing to wait for.
    monkeypatch.setattr(
        aws.clients.sns,
        "publish",
        failing("Publish", "AuthorizationError"),
    )
    monkeypatch.setattr(
        aws.clients.dynamodb, "put_item", failing("PutItem", "ResourceNotFoundException")
    )
    clock = Clock()

    with pytest.raises(SelfTestError, match=r"AuthorizationError.*ResourceNotFoundException"):
        trigger({}, None, lambda_client=LocalLambda(aws), sleep=clock.sleep, clock=clock)

    assert clock.sleeps == []


def failing(operation: str, code: str) -> Any:
    def call(**_kwargs: Any) -> Any:
        raise ClientError({"Error": {"Code": code, "Message": "refused"}}, operation)

    return call


# --- Rolling back: the check is skipped ----------------------------------------------------------

STACK_ID = (
    "arn:aws:cloudformation:eu-west-1:123456789012:stack/MaintenanceWindowAlerts/"
    "0a1b2c3d-0000-1111-2222-333344445555"
)


class StackStatus:
    """A CloudFormation client that knows one stack, in `status` (or fails with `error`)."""

    def __init__(self, status: str = "", error: Exception | None = None) -> None:
        self.status = status
        self.error = error
        self.asked: list[str] = []

    def describe_stacks(self, *, StackName: str) -> dict[str, Any]:  # noqa: N803
        self.asked.append(StackName)
        if self.error is not None:
            raise self.error
        return {"Stacks": [{"StackId": StackName, "StackStatus": self.status}]}


@pytest.fixture
def stack_id(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(contract.ENV_SELF_TEST_STACK_ID, STACK_ID)


@pytest.mark.usefixtures("function_named", "stack_id")
@pytest.mark.parametrize("status", ["UPDATE_ROLLBACK_IN_PROGRESS", "ROLLBACK_IN_PROGRESS"])
def test_while_the_stack_rolls_back_it_skips_the_check_and_says_why(aws, capsys, status):
    local = LocalLambda(aws)
    stacks = StackStatus(status)

    result = trigger({}, None, lambda_client=local, cloudformation_client=stacks)

    assert result["ok"] is True
    assert status in result["skipped"]
    assert stacks.asked == [STACK_ID]
    assert local.invocations == []
    assert aws.published() == []
    (line,) = capsys.readouterr().out.splitlines()
    assert json.loads(line) == {"selfTest": "skipped", "reason": result["skipped"]}


@pytest.mark.usefixtures("function_named", "stack_id")
@pytest.mark.parametrize(
    "status",
    ["UPDATE_IN_PROGRESS", "CREATE_IN_PROGRESS", "UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS"],
)
def test_on_a_normal_deploy_it_runs_the_check(aws, status):
    local = LocalLambda(aws)

    result = trigger({}, None, lambda_client=local, cloudformation_client=StackStatus(status))

    assert result["ok"] is True
    assert "skipped" not in result
    assert len(local.invocations) == 1


@pytest.mark.usefixtures("function_named", "stack_id")
def test_when_the_stacks_status_cannot_be_read_it_runs_the_check(aws, capsys):
    local = LocalLambda(aws)
    refused = ClientError({"Error": {"Code": "AccessDenied", "Message": "no"}}, "DescribeStacks")

    result = trigger(
        {}, None, lambda_client=local, cloudformation_client=StackStatus(error=refused)
    )

    assert result["ok"] is True
    assert len(local.invocations) == 1
    assert "AccessDenied: no" in capsys.readouterr().out
