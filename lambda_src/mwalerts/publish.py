"""Delivering an alert: one SNS publish with a body per protocol, and the chat card."""

import json
from typing import TYPE_CHECKING, Any, cast

from aws_lambda_powertools import Logger
from botocore.exceptions import BotoCoreError, ClientError

from mwalerts import contract
from mwalerts.alert import Alert

logger = Logger(service=contract.SERVICE_NAME, child=True)

if TYPE_CHECKING:
    from mypy_boto3_sns import SNSClient


def publish_alert(sns: "SNSClient", topic_arn: str, alert: Alert) -> str:
    """Publish the alert; return SNS's message ID. Errors propagate so the invocation retries."""
    response = sns.publish(
        TopicArn=topic_arn,
        Subject=alert.subject,
        Message=alert.message,
        MessageStructure="json",
        MessageAttributes=cast(Any, alert.attributes),
    )
    return response["MessageId"]


def publish_chat(sns: "SNSClient", topic_arn: str, alert: Alert) -> str | None:
    """Publish the chat card to its own topic, best effort.

    The alert itself is out by now: failing the invocation here would make its retry publish
    the alert a second time, so a failed chat publish is logged (as an error) instead.
    """
    try:
        response = sns.publish(TopicArn=topic_arn, Message=json.dumps(alert.chat))
    except (BotoCoreError, ClientError) as error:
        logger.error("Could not publish the chat notification", extra={"reason": str(error)})
        return None
    return response["MessageId"]


def self_test_subject(test_id: str) -> str:
    """ASCII, one line, under SNS's 100 characters."""
    return f"[Self-test] {contract.SERVICE_NAME}: test message {test_id[:32]}"


def self_test_message(test_id: str, function_name: str) -> str:
    policy = json.dumps(contract.SELF_TEST_FILTER_POLICY)
    attribute = f'{contract.ATTRIBUTE_SELF_TEST} = "true"'
    return (
        f"This is a test message from {contract.SERVICE_NAME}, not an alert: no maintenance "
        "window failed.\n\n"
        f"Self-test {test_id}, sent by the function {function_name}, proves that it can publish "
        "alerts to this topic (with the topic's KMS key).\n\n"
        f"Every self-test message carries the message attribute {attribute}. A subscription that "
        f"consumes only this function's alerts may drop them with the filter policy {policy}; "
        "that policy also drops CloudWatch alarm notifications (they carry no attributes), so "
        "do not set it on a subscription that must receive alarms.\n"
    )


def publish_self_test(sns: "SNSClient", topic_arn: str, test_id: str, function_name: str) -> str:
    """Publish the self-test's marked test message; return SNS's message ID."""
    response = sns.publish(
        TopicArn=topic_arn,
        Subject=self_test_subject(test_id),
        Message=self_test_message(test_id, function_name),
        MessageAttributes={
            contract.ATTRIBUTE_SELF_TEST: {"DataType": "String", "StringValue": "true"}
        },
    )
    return response["MessageId"]
