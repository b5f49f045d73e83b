"""Delivering an alert: one SNS publish with a body per protocol."""

from typing import TYPE_CHECKING, Any, cast

from mwalerts.alert import Alert

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
