"""`make redrive`: dead-lettered events go back through the function, safely."""

import json
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber

from local_aws.environment import LambdaContext, LocalAws
from local_aws.scenario import TaskPlan, seed_window_execution
from mwalerts import handler
from mwalerts_cli.redrive import lambda_invoker, main, original_event, redrive


def destination_record(event: dict[str, Any]) -> str:
    """What Lambda's on-failure destination sends after the last retry."""
    return json.dumps(
        {
            "version": "1.0",
            "timestamp": "2026-11-20T02:20:11.102Z",
            "requestContext": {
                "requestId": "c2d1f0e3-2b4a-4c5d-8e9f-0a1b2c3d4e5f",
                "functionArn": "arn:aws:lambda:us-east-2:123456789012:function:alerts:$LATEST",
                "condition": "RetriesExhausted",
                "approximateInvokeCount": 3,
            },
            "requestPayload": event,
            "responseContext": {"statusCode": 200, "functionError": "Unhandled"},
            "responsePayload": {"errorType": "ClientError", "errorMessage": "KMS is disabled"},
        }
    )


def queue(aws: LocalAws, bodies: list[str]) -> tuple[Any, str]:
    sqs = boto3.client("sqs", region_name="us-east-2")
    url = sqs.create_queue(QueueName="dead-letters")["QueueUrl"]
    for body in bodies:
        sqs.send_message(QueueUrl=url, MessageBody=body)
    return sqs, url


def through_handler(aws: LocalAws) -> Any:
    """Stands in for Lambda's asynchronous invocation: the real handler, on in-process AWS."""

    def invoke(event: dict[str, Any]) -> None:
        handler.handler(event, LambdaContext(), clients=aws.clients)

    return invoke


def test_reads_the_event_from_both_kinds_of_dead_letter():
    event = {"detail-type": "Maintenance Window Execution State-change Notification"}
    assert original_event(destination_record(event)) == event  # Lambda's on-failure record
    assert original_event(json.dumps(event)) == event  # EventBridge's dead-letter queue
    for body in ("not json", "[]", json.dumps({"requestPayload": 1, "requestContext": {}})):
        with pytest.raises(ValueError, match="the message"):
            original_event(body)


def test_redriven_events_alert_once_and_leave_the_queue(aws):
    failed = seed_window_execution(aws.ssm, [TaskPlan({"SUCCESS": 9, "FAILED": 1})], seed=1)
    also = seed_window_execution(aws.ssm, [TaskPlan({"TIMED_OUT": 2})], seed=2)
    sqs, url = queue(aws, [destination_record(failed.event()), json.dumps(also.event())])

    report = redrive(sqs, url, through_handler(aws), out=lambda _line: None)

    assert len(report.redriven) == 2
    assert len(aws.published()) == 2
    assert "Messages" not in sqs.receive_message(QueueUrl=url)


def test_redriving_an_event_already_alerted_on_sends_nothing_new(aws):
    execution = seed_window_execution(aws.ssm, [TaskPlan({"FAILED": 1})])
    handler.handler(execution.event(), LambdaContext(), clients=aws.clients)  # e.g. by the sweep
    sqs, url = queue(aws, [destination_record(execution.event())])

    redrive(sqs, url, through_handler(aws), out=lambda _line: None)

    assert len(aws.published()) == 1


def test_dry_run_changes_nothing_and_unreadable_messages_stay(aws):
    execution = seed_window_execution(aws.ssm, [TaskPlan({"FAILED": 1})])
    sqs, url = queue(aws, [destination_record(execution.event()), "garbage"])
    lines: list[str] = []

    report = redrive(sqs, url, through_handler(aws), dry_run=True, out=lines.append)

    assert report.redriven == []
    assert len(report.unreadable) == 1
    assert any(execution.window_execution_id in line for line in lines)
    assert aws.published() == []


def test_a_failed_reinvocation_leaves_the_message_in_its_queue(aws):
    execution = seed_window_execution(aws.ssm, [TaskPlan({"FAILED": 1})])
    sqs, url = queue(aws, [json.dumps(execution.event())])

    def refuse(_event: dict[str, Any]) -> None:
        raise ClientError({"Error": {"Code": "TooManyRequestsException"}}, "Invoke")

    report = redrive(sqs, url, refuse, out=lambda _line: None)

    assert len(report.failed) == 1
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert attributes["ApproximateNumberOfMessagesNotVisible"] == "1"  # back after the timeout


def test_the_deployed_function_is_invoked_asynchronously_with_the_original_event():
    client = boto3.client("lambda", region_name="us-east-2")
    event = {"detail-type": "Scheduled Event", "source": "aws.events"}
    with Stubber(client) as stub:
        stub.add_response(
            "invoke",
            {"StatusCode": 202},
            {
                "FunctionName": "maintenance-window-alerts-Function",
                "InvocationType": "Event",
                "Payload": json.dumps(event).encode(),
            },
        )
        lambda_invoker("maintenance-window-alerts-Function", client)(event)
        stub.assert_no_pending_responses()


@pytest.mark.filterwarnings("ignore:A test tried to use socket")
def test_the_command_reports_an_unreachable_aws_with_a_message_and_status_1(capsys, monkeypatch):
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    status = main(["--stack", "MaintenanceWindowAlerts", "--region", "us-east-2"])

    # AWS could not answer: 1, with the message every mwalerts command gives (2 is for a
    # command that cannot start).
    assert status == 1
    assert capsys.readouterr().err.startswith("mwalerts: error: ")
