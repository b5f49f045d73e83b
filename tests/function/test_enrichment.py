"""Alerts that explain: the window's name, the failed commands' error output (bounded, redacted),
console links, failures grouped by cause, and the chat notification format."""

import json
from typing import Any

import boto3
import pytest

from local_aws.environment import LambdaContext, LocalAws
from local_aws.scenario import (
    SECRET_IN_PARAMETERS,
    WINDOW_DESCRIPTION,
    WINDOW_NAME,
    TaskPlan,
    seed_window_execution,
)
from mwalerts import handler, links
from mwalerts.chat import chat_notification
from mwalerts.invocation import Invocation
from mwalerts.redact import REDACTED, redact
from mwalerts.service import handle_event
from tests.support import assert_valid_chat_notification, assert_valid_digest, log_records

PATCHING = TaskPlan({"SUCCESS": 30, "FAILED": 20, "TIMED_OUT": 5})
AUTOMATION = TaskPlan({"SUCCESS": 5, "FAILED": 2}, "AUTOMATION", "AWS-RestartEC2Instance")


def deliver(aws: LocalAws, event: dict[str, Any], **settings: Any) -> dict[str, Any]:
    """The handler's logic, with settings changed from the function's environment."""
    context: Any = LambdaContext()
    invocation = Invocation(
        handler.settings.model_copy(update=settings), aws.clients, handler.metrics, context
    )
    return vars(handle_event(event, invocation))


def digest_of(aws: LocalAws) -> dict[str, Any]:
    (envelope,) = aws.sqs_messages()
    digest: dict[str, Any] = json.loads(envelope["Message"])
    return digest


def calls(aws: LocalAws, operation: str) -> int:
    return sum(call.operation == operation for call in aws.ssm.calls)


def test_the_window_is_named_in_the_subject_the_email_and_the_digest(aws):
    execution = seed_window_execution(aws.ssm, [PATCHING])
    deliver(aws, execution.event())

    (published,) = aws.published()
    email = json.loads(published["message"])["email"]
    digest = digest_of(aws)
    assert published["subject"].startswith(f"[FAILED] {WINDOW_NAME} ({execution.window_id}): ")
    assert email.startswith(f"Maintenance window {WINDOW_NAME} ({execution.window_id}) ended")
    assert WINDOW_DESCRIPTION in email
    assert (digest["windowName"], digest["windowDescription"]) == (WINDOW_NAME, WINDOW_DESCRIPTION)
    assert published["attributes"]["windowName"] == {"Type": "String", "Value": WINDOW_NAME}


def test_the_window_is_read_once_per_container(aws):
    first = seed_window_execution(aws.ssm, [PATCHING], seed=1)
    second = seed_window_execution(aws.ssm, [PATCHING], seed=2)
    deliver(aws, first.event())
    deliver(aws, second.event())

    assert calls(aws, "GetMaintenanceWindow") == 1


def test_an_unreadable_window_costs_the_name_not_the_alert(aws, capsys):
    execution = seed_window_execution(aws.ssm, [PATCHING], window_id="mw-00000000000000001")
    aws.ssm.fail_next(1, "AccessDeniedException", "GetMaintenanceWindow")  # not retried

    deliver(aws, execution.event())

    assert digest_of(aws)["windowName"] is None
    assert aws.published()[0]["subject"].startswith("[FAILED] mw-00000000000000001: ")
    warnings = [r for r in log_records(capsys.readouterr().out) if r["level"] == "WARNING"]
    assert any(r["message"] == "No window name for the alert" for r in warnings)


def test_error_output_is_read_for_the_first_failed_commands_only(aws):
    execution = seed_window_execution(aws.ssm, [PATCHING])
    deliver(aws, execution.event())

    digest = digest_of(aws)
    assert calls(aws, "GetCommandInvocation") == 10  # the default limit, of 25 failures
    detailed = [f for f in digest["failures"] if f["responseCode"] is not None]
    assert detailed == digest["failures"][:10]
    assert {f["responseCode"] for f in detailed} <= {100, -1}
    assert all("Unable to acquire the dpkg frontend lock" in f["errorTail"] for f in detailed)
    sampled = sum(e["count"] for g in digest["failureGroups"] for e in g["sampledErrors"])
    assert sampled == 10


@pytest.mark.parametrize("limit", [0, 3])
def test_the_number_of_extra_calls_is_the_configured_limit(aws, limit):
    execution = seed_window_execution(aws.ssm, [PATCHING])
    deliver(aws, execution.event(), error_details_limit=limit)

    assert calls(aws, "GetCommandInvocation") == limit


def test_command_output_is_redacted_before_it_reaches_the_alert(aws, capsys):
    execution = seed_window_execution(aws.ssm, [PATCHING])
    deliver(aws, execution.event())

    (published,) = aws.published()
    assert SECRET_IN_PARAMETERS not in published["message"]
    assert SECRET_IN_PARAMETERS not in capsys.readouterr().out
    assert REDACTED in digest_of(aws)["failures"][0]["errorTail"]


def test_failures_link_to_the_console_and_to_all_failures_in_logs_insights(aws):
    execution = seed_window_execution(aws.ssm, [PATCHING, AUTOMATION])
    deliver(aws, execution.event())

    digest = digest_of(aws)
    console = "https://us-east-2.console.aws.amazon.com"
    by_type = {
        f["consoleUrl"].split("/systems-manager/")[1].split("/")[0]: f for f in digest["failures"]
    }
    run_command = by_type["run-command"]
    assert run_command["consoleUrl"] == (
        f"{console}/systems-manager/run-command/{run_command['executionId']}/"
        f"{run_command['instanceIds'][0]}?region=us-east-2"
    )
    assert by_type["automation"]["consoleUrl"] == (
        f"{console}/systems-manager/automation/execution/"
        f"{by_type['automation']['executionId']}?region=us-east-2"
    )
    assert digest["links"]["window"].startswith(f"{console}/systems-manager/maintenance-windows/")
    assert digest["links"]["failures"].startswith(f"{console}/cloudwatch/home?region=us-east-2#")
    assert "*2faws*2flambda*2fmaintenance-window-alerts" in digest["links"]["failures"]
    assert execution.window_execution_id in digest["links"]["failures"]


def test_five_hundred_targets_failing_the_same_way_read_as_one_line(aws):
    execution = seed_window_execution(aws.ssm, [TaskPlan({"FAILED": 500, "TIMED_OUT": 3})])
    deliver(aws, execution.event())

    digest = digest_of(aws)
    email = json.loads(aws.published()[0]["message"])["email"]
    assert [(g["status"], g["count"]) for g in digest["failureGroups"]] == [
        ("FAILED", 500),
        ("TIMED_OUT", 3),
    ]
    assert len(digest["failureGroups"][0]["examples"]) == 3
    assert "Failures by cause (2)" in email
    assert "     500 x FAILED Failed" in email
    assert "exit 100: E: Unable to acquire the dpkg frontend lock" in email


def test_failure_log_records_name_the_window_and_its_execution(aws, capsys):
    execution = seed_window_execution(aws.ssm, [PATCHING])
    deliver(aws, execution.event())

    records = [
        r for r in log_records(capsys.readouterr().out) if r["message"] == "Failed invocation"
    ]
    assert len(records) == 25
    assert {(r["windowId"], r["windowName"], r["windowExecutionId"]) for r in records} == {
        (execution.window_id, WINDOW_NAME, execution.window_execution_id)
    }


# -- chat (Amazon Q Developer in chat applications) --------------------------------------------


def subscribe(aws: LocalAws, topic_arn: str, name: str) -> str:
    """An SQS queue subscribed to the topic with raw delivery: it receives the message itself."""
    queues = boto3.client("sqs", region_name="us-east-2")
    url = queues.create_queue(QueueName=name)["QueueUrl"]
    arn = queues.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    aws.clients.sns.subscribe(
        TopicArn=topic_arn, Protocol="sqs", Endpoint=arn, Attributes={"RawMessageDelivery": "true"}
    )
    return url


def test_the_chat_card_can_replace_the_default_body(aws):
    execution = seed_window_execution(aws.ssm, [PATCHING])
    deliver(aws, execution.event(), chat_mode="default-body")

    (published,) = aws.published()
    card = json.loads(json.loads(published["message"])["default"])
    email = json.loads(published["message"])["email"]
    assert_valid_chat_notification(card)
    assert card["content"]["title"] == published["subject"]
    assert email.startswith("Maintenance window")  # email subscribers still get the summary


def test_the_chat_card_can_go_to_a_topic_of_its_own(aws):
    chat_topic = aws.clients.sns.create_topic(Name="maintenance-window-chat")["TopicArn"]
    chat_queue = subscribe(aws, chat_topic, "chat-subscriber")
    execution = seed_window_execution(aws.ssm, [PATCHING])

    result = deliver(aws, execution.event(), chat_mode="separate-topic", chat_topic_arn=chat_topic)

    (message,) = boto3.client("sqs", region_name="us-east-2").receive_message(QueueUrl=chat_queue)[
        "Messages"
    ]
    card = json.loads(message["Body"])
    assert_valid_chat_notification(card)
    assert result["chat_message_id"]
    assert_valid_digest(digest_of(aws))  # the alert topic still carries the digest
    assert "25 of 55" in card["content"]["description"]
    assert card["metadata"]["threadId"] == execution.window_id
    assert any("logs-insights" in step for step in card["content"]["nextSteps"])


def test_a_failed_chat_publish_does_not_fail_or_repeat_the_alert(aws, capsys):
    execution = seed_window_execution(aws.ssm, [PATCHING])
    missing = "arn:aws:sns:us-east-2:123456789012:no-such-topic"

    result = deliver(aws, execution.event(), chat_mode="separate-topic", chat_topic_arn=missing)

    assert result["action"] == "alerted"
    assert result["chat_message_id"] is None
    assert len(aws.published()) == 1
    errors = [r for r in log_records(capsys.readouterr().out) if r["level"] == "ERROR"]
    assert [r["message"] for r in errors] == ["Could not publish the chat notification"]


def test_chat_text_from_the_api_cannot_format_link_or_mention():
    digest = {
        "windowId": "mw-0ed7251d3fcf6e0c2",
        "windowName": "*bold* <@channel> [x](http://evil)",
        "windowExecutionId": "791b72e0-f0da-4021-8b35-f95df1a2b3c4",
        "status": "FAILED",
        "failedInvocations": 1,
        "totalInvocations": 1,
        "account": "123456789012",
        "region": "us-east-2",
        "failureGroups": [
            {
                "status": "FAILED",
                "statusDetails": "`rm`",
                "count": 1,
                "examples": ["i-1"],
                "sampledErrors": [],
            }
        ],
        "links": {"window": "https://example.com", "failures": None},
    }
    card = chat_notification(digest, "[FAILED] x")
    assert_valid_chat_notification(card)
    description = card["content"]["description"]
    assert "\\*bold\\* \\<\\@channel\\> \\[x\\](http://evil)" in description
    assert "\\`rm\\`" in description


# -- pure helpers ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("export DB_PASSWORD=hunter22 && run", f"export DB_PASSWORD={REDACTED} && run"),
        ("token: abc123def456", f"token: {REDACTED}"),
        (
            "Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl",
            f"Authorization: {REDACTED}",
        ),
        ("key AKIAIOSFODNN7EXAMPLE used", f"key {REDACTED} used"),
        (
            "git clone https://bob:pa55w0rd@git.example.com/x",
            f"git clone https://{REDACTED}@git.example.com/x",
        ),
        ("-----BEGIN RSA PRIVATE KEY-----\nMIIE\n-----END RSA PRIVATE KEY-----", REDACTED),
        ("E: Could not get lock /var/lib/dpkg/lock", "E: Could not get lock /var/lib/dpkg/lock"),
    ],
)
def test_secret_looking_values_are_redacted_and_the_rest_kept(text, expected):
    assert redact(text) == expected


def test_the_invocations_own_parameter_values_are_redacted_wherever_echoed():
    assert redact("+ deploy --key s3cr3t-value now", {"s3cr3t-value"}) == (
        f"+ deploy --key {REDACTED} now"
    )


@pytest.mark.parametrize(
    ("region", "console"),
    [
        ("eu-west-1", "https://eu-west-1.console.aws.amazon.com"),
        ("cn-north-1", "https://cn-north-1.console.amazonaws.cn"),
        ("us-gov-west-1", "https://us-gov-west-1.console.amazonaws-us-gov.com"),
    ],
)
def test_links_point_at_the_console_of_the_regions_partition(region, console):
    assert links.window_url(region, "mw-0ed7251d3fcf6e0c2").startswith(console + "/")


@pytest.mark.parametrize(
    ("region", "partition"),
    [("eu-west-1", "aws"), ("cn-north-1", "aws-cn"), ("us-gov-west-1", "aws-us-gov")],
)
def test_arns_the_function_builds_name_the_regions_partition(region, partition):
    # Member role ARNs of central mode (China included) and the chat notification's window ARN.
    assert links.partition(region) == partition


@pytest.mark.parametrize(
    ("execution_id", "link"),
    [
        (
            "arn:aws:states:eu-west-1:111111111111:execution:patch:run-1",
            "https://eu-west-1.console.aws.amazon.com/states/home?region=eu-west-1"
            "#/v2/executions/details/arn%3Aaws%3Astates%3Aeu-west-1%3A111111111111"
            "%3Aexecution%3Apatch%3Arun-1",
        ),
        ("run-1", None),  # not an execution ARN: no page to link
    ],
)
def test_a_step_functions_task_links_to_its_execution(execution_id, link):
    assert links.execution_url("eu-west-1", "STEP_FUNCTIONS", execution_id, None) == link
