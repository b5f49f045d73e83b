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
