"""`mwalerts redrive` (also `python -m mwalerts_cli.redrive`): the stack it works on, found in
the credentials' account and region whatever the layout or given with --stack, and its errors.
Draining the queues is tested in test_redrive.py."""

import json
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from local_aws.environment import LocalAws
from local_aws.scenario import ACCOUNT, REGION, seed_window_execution
from mwalerts import contract
from mwalerts_cli import redrive
from mwalerts_cli.main import main
from mwalerts_cli.output import Ui
from tests.cli.harness import (
    PATCHING,
    WIDTH,
    cli_clients,
    no_aws,
    no_aws_configuration,
    stack_found,
)


def dead_letter_stack(aws: LocalAws, *messages: dict[str, Any]) -> dict[str, str]:
    """The alerts stack's outputs: two dead-letter queues (the rule's holding `messages`) and
    the function."""
    sqs = boto3.client("sqs", region_name=REGION)
    urls = {
        key: sqs.create_queue(QueueName=key)["QueueUrl"]
        for key in contract.DEAD_LETTER_QUEUE_OUTPUTS
    }
    for message in messages:
        sqs.send_message(
            QueueUrl=urls[contract.OUTPUT_RULE_DLQ_URL], MessageBody=json.dumps(message)
        )
    return {**urls, contract.OUTPUT_FUNCTION_NAME: "maintenance-window-alerts"}


def stack_missing(stub: Stubber, name: str) -> None:
    stub.add_client_error(
        "describe_stacks",
        service_error_code="ValidationError",
        service_message=f"Stack with id {name} does not exist",
        http_status_code=400,
        expected_params={"StackName": name},
    )


STACK_CANDIDATES = [
    contract.STACK_NAME,
    f"MaintenanceWindowAlerts-{ACCOUNT}-{REGION}",
    f"MaintenanceWindowAlerts-Central-{ACCOUNT}-{REGION}",
]


def test_redrive_is_a_command_too(aws, cli):
    execution = seed_window_execution(aws.ssm, [PATCHING])
    outputs = dead_letter_stack(aws, execution.event())
    cloudformation = boto3.client("cloudformation", region_name=REGION)
    stub = Stubber(cloudformation)
    stack_found(stub, contract.STACK_NAME, outputs)

    with stub:
        code, out, _ = cli("redrive", "--dry-run", "--max", "1", cloudformation=cloudformation)

    assert code == 0
    detail_type = contract.WINDOW_EXECUTION_DETAIL_TYPE
    assert f"would redrive {detail_type} {execution.window_execution_id}" in out
    assert out.endswith("0 redriven, 0 failed, 0 unreadable (left in their queues)\n")


@pytest.mark.parametrize(
    "found", range(len(STACK_CANDIDATES)), ids=["single", "deployments", "central"]
)
def test_redrive_finds_the_stack_of_each_layout_in_the_credentials_account_and_region(
    aws, cli, found
):
    outputs = dead_letter_stack(aws)
    cloudformation = boto3.client("cloudformation", region_name=REGION)
    stub = Stubber(cloudformation)
    for name in STACK_CANDIDATES[:found]:
        stack_missing(stub, name)
    stack_found(stub, STACK_CANDIDATES[found], outputs)

    with stub:
        code, out, err = cli("redrive", "--dry-run", cloudformation=cloudformation)
        stub.assert_no_pending_responses()

    assert (code, err) == (0, "")
    assert out.splitlines()[0] == (
        f"Stack {STACK_CANDIDATES[found]} (found in account {ACCOUNT} / region {REGION}; "
        "--stack chooses another)"
    )


def test_redrive_without_a_stack_found_lists_the_names_tried_with_status_2(cli):
    cloudformation = boto3.client("cloudformation", region_name=REGION)
    stub = Stubber(cloudformation)
    for name in STACK_CANDIDATES:
        stack_missing(stub, name)

    with stub:
        code, out, err = cli("redrive", cloudformation=cloudformation)

    assert (code, out) == (2, "")
    assert err == (
        f"mwalerts: error: no alerts stack in account {ACCOUNT} / region {REGION}: tried "
        f"{', '.join(STACK_CANDIDATES)}. Pass --stack NAME (and --profile and --region of the "
        "account and region it is deployed in).\n"
    )


def test_redrive_uses_the_stack_given_and_nothing_else(aws, cli):
    outputs = dead_letter_stack(aws)
    cloudformation = boto3.client("cloudformation", region_name=REGION)
    stub = Stubber(cloudformation)
    stack_found(stub, "Alerts", outputs)

    with stub:
        code, out, _ = cli(
            "redrive", "--stack", "Alerts", cloudformation=cloudformation, sts=no_aws()
        )

    assert code == 0
    assert out.splitlines()[0] == "Stack Alerts"


@pytest.mark.parametrize("entry", ["mwalerts redrive", "python -m mwalerts_cli.redrive"])
@pytest.mark.parametrize(
    ("stack", "code", "message"),
    [
        # Discovery stops at an error that is not "does not exist": AWS did not answer.
        (None, "AccessDenied", "User is not authorized to perform cloudformation:DescribeStacks"),
        (None, "ValidationError", "1 validation error detected"),
        ("Alerts", "ValidationError", "Stack with id Alerts does not exist"),
    ],
)
def test_redrive_reports_aws_errors_as_every_command_does_with_status_1(
    aws, capsys, entry, stack, code, message
):
    cloudformation = boto3.client("cloudformation", region_name=REGION)
    stub = Stubber(cloudformation)
    stub.add_client_error("describe_stacks", service_error_code=code, service_message=message)
    argv = ["--stack", stack] if stack else []
    clients = cli_clients(aws, cloudformation=cloudformation)

    with stub:
        capsys.readouterr()
        if entry == "mwalerts redrive":
            status = main(["redrive", *argv], clients=clients, ui=Ui.plain(WIDTH))
        else:
            status = redrive.main(argv, clients=clients)

    out, err = capsys.readouterr()
    assert status == 1
    assert out == ""
    assert err == f"mwalerts: error: DescribeStacks failed: {code}: {message}\n"


def test_redrive_of_a_stack_without_queues_says_so_with_status_1(cli):
    cloudformation = boto3.client("cloudformation", region_name=REGION)
    stub = Stubber(cloudformation)
    stack_found(stub, "Member", {contract.OUTPUT_FORWARD_DLQ_URL: "https://queue"})

    with stub:
        code, _, err = cli("redrive", "--stack", "Member", cloudformation=cloudformation)

    assert code == 1
    assert err.startswith(
        "mwalerts: error: stack Member has no RuleDeadLetterQueueUrl, FunctionFailureQueueUrl, "
        "FunctionName output: is it the alerts stack?"
    )


def test_redrive_without_credentials_cannot_start_status_2(monkeypatch, tmp_path, capsys):
    no_aws_configuration(monkeypatch, tmp_path)

    status = redrive.main(["--region", REGION])

    assert status == 2
    assert capsys.readouterr().err.startswith(
        "mwalerts: error: no AWS credentials: Unable to locate credentials."
    )
