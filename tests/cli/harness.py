"""The `mwalerts` command as its tests run it: in-process, in a terminal WIDTH columns wide, on the
in-process AWS of the `aws` fixture (moto for STS, SNS, SQS and CloudWatch, and the fake SSM
maintenance-window execution APIs) behind the same boto3 clients it would use; or with clients it
must not touch; or on a machine with no AWS configuration at all."""

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from botocore.stub import Stubber

from local_aws.environment import FUNCTION_ENVIRONMENT, LocalAws
from local_aws.scenario import REGION, TaskPlan
from mwalerts.clients import aws_session
from mwalerts_cli.aws import Clients
from mwalerts_cli.main import main
from mwalerts_cli.output import Ui

WIDTH = 160
LOG_GROUP = FUNCTION_ENVIRONMENT["ALERT_LOG_GROUP_NAME"]
PATCHING = TaskPlan({"SUCCESS": 233, "FAILED": 5, "TIMED_OUT": 2})
RESTART = TaskPlan({"SUCCESS": 59, "CANCELLED": 1}, "AUTOMATION", "AWS-RestartEC2Instance")
SCRIPT = TaskPlan({"SUCCESS": 240}, "RUN_COMMAND", "AWS-RunShellScript")


class NoAws:
    """Clients a command must not use: any use fails the test (it was to stop before AWS)."""

    def __getattr__(self, name: str) -> Any:
        pytest.fail(f"the command used its AWS clients ({name}) before stopping")


def no_aws() -> Any:
    return NoAws()


def cli_clients(aws: LocalAws, **made: Any) -> Clients:
    """The command's clients: its SSM client is the one the fake answers; the rest is moto."""
    return Clients(
        aws_session(region_name=REGION), ssm=aws.clients.ssm, sns=aws.clients.sns, **made
    )


class Cli:
    """Runs `mwalerts ARGS` on the in-process AWS; returns the exit status, stdout and stderr."""

    def __init__(self, aws: LocalAws, capsys: pytest.CaptureFixture[str]) -> None:
        self._aws = aws
        self._capsys = capsys

    def __call__(self, *argv: str, **made: Any) -> tuple[int, str, str]:
        """`made`: clients of other services to use, e.g. cloudwatch= or cloudformation=."""
        # What earlier steps (the handler's logs) printed is not the command's.
        self._capsys.readouterr()
        code = main(list(argv), clients=cli_clients(self._aws, **made), ui=Ui.plain(WIDTH))
        out, err = self._capsys.readouterr()
        return code, out, err

    def report(self, window_execution_id: str, *options: str) -> tuple[int, str, str]:
        """`mwalerts report --window-execution-id ID OPTIONS`."""
        return self("report", "--window-execution-id", window_execution_id, *options)


def published_digest(aws: LocalAws) -> dict[str, Any]:
    (envelope,) = aws.sqs_messages()
    digest: dict[str, Any] = json.loads(envelope["Message"])
    return digest


def event_file(tmp_path: Path, event: Any, name: str = "event.json") -> str:
    path = tmp_path / name
    path.write_text(event if isinstance(event, str) else json.dumps(event))
    return str(path)


def no_aws_configuration(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A machine with no credentials anywhere in the standard chain."""
    for name in (
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_PROFILE",
        "AWS_DEFAULT_PROFILE",
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
        "AWS_WEB_IDENTITY_TOKEN_FILE",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


def stack_found(
    stub: Stubber, name: str, outputs: Mapping[str, str], status: str = "CREATE_COMPLETE"
) -> None:
    """CloudFormation (stubbed) finds stack `name` with `outputs`, once."""
    stub.add_response(
        "describe_stacks",
        {
            "Stacks": [
                {
                    "StackName": name,
                    "CreationTime": datetime(2026, 11, 1, tzinfo=UTC),
                    "StackStatus": status,
                    "Outputs": [{"OutputKey": k, "OutputValue": v} for k, v in outputs.items()],
                }
            ]
        },
        {"StackName": name},
    )
