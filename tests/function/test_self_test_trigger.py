"""The deploy-time self-test's handler (the CDK Trigger's): it invokes the alert function with the
self-test event and fails, naming each failed hop, so that the deployment rolls back."""

import subprocess
import sys
from typing import Any

import pytest
from botocore.exceptions import ClientError

from mwalerts import contract, handler
from mwalerts.self_test_trigger import SelfTestError
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

    with pytest.raises(SelfTestError) as raised:
        trigger({"RequestType": "Update"}, None, lambda_client=LocalLambda(aws))

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
