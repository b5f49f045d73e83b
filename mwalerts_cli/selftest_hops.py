"""The hops `mwalerts selftest` runs from outside the function: a temporary encrypted queue
subscribed to the alert topic, and the read-only checks of the dead-letter queues."""

import fnmatch
import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from mwalerts import contract
from mwalerts.self_test_check import describe_aws_error

if TYPE_CHECKING:
    from mypy_boto3_sns import SNSClient
    from mypy_boto3_sqs import SQSClient

Envelope = dict[str, Any]  # an SNS notification as SQS holds it
POLL_SECONDS = 20  # SQS's longest long poll


@dataclass
class TemporarySubscription:
    """A queue that exists for one self-test, subscribed to the alert topic.

    Encrypted with SQS's own key (SSE-SQS, SqsManagedSseEnabled): SNS can deliver to it with the
    queue policy alone, as only a customer managed key needs a key policy admitting SNS (AWS
    re:Post, "How can I get my Amazon SQS subscription to successfully receive a notification
    from my Amazon SNS topic?": the KMS key policy step applies to a queue "that uses a customer
    managed KMS key"; SQS Developer Guide, "Encryption at rest in Amazon SQS"). Its policy admits
    only the alert topic (aws:SourceArn).
    """

    sqs: "SQSClient"
    sns: "SNSClient"
    topic_arn: str
    name: str
    clock: Callable[[], float] = time.monotonic
    queue_url: str | None = None
    subscription_arn: str | None = None
    received: list[Envelope] = field(default_factory=list)

    @property
    def queue_arn(self) -> str:
        """The queue's ARN, known before it exists: the topic's partition, region and account
        (the stack's, where the queue is made) and the queue's name."""
        _, partition, _, region, account, _ = self.topic_arn.split(":", 5)
        return f"arn:{partition}:sqs:{region}:{account}:{self.name}"

    def open(self) -> None:
        # The policy comes with the queue: set later, SNS could deliver before it exists (policy
        # changes take time to apply) and the test message would be refused.
        queue_arn = self.queue_arn
        self.queue_url = self.sqs.create_queue(
            QueueName=self.name,
            Attributes={
                "SqsManagedSseEnabled": "true",
                "MessageRetentionPeriod": "900",
                "Policy": self._policy(queue_arn),
            },
        )["QueueUrl"]
        self.subscription_arn = self.sns.subscribe(
            TopicArn=self.topic_arn, Protocol="sqs", Endpoint=queue_arn, ReturnSubscriptionArn=True
        )["SubscriptionArn"]

    def _policy(self, queue_arn: str) -> str:
        return json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Sid": "AlertTopicOnly",
                        "Effect": "Allow",
                        "Principal": {"Service": "sns.amazonaws.com"},
                        "Action": "sqs:SendMessage",
                        "Resource": queue_arn,
                        "Condition": {"ArnEquals": {"aws:SourceArn": self.topic_arn}},
                    }
                ],
            }
        )

    def wait_for(self, wanted: Callable[[Envelope], bool], seconds: float) -> Envelope | None:
        """The first notification (received now or earlier) that is `wanted`, waiting at most
        `seconds` (long polls); None if none came."""
        deadline = self.clock() + seconds
        while True:
            found = next((envelope for envelope in self.received if wanted(envelope)), None)
            remaining = deadline - self.clock()
            if found is not None or remaining <= 0:
                return found
            self._receive(min(POLL_SECONDS, max(1, round(remaining))))

    def _receive(self, wait_seconds: int) -> None:
        assert self.queue_url is not None, "open() first"
        messages = self.sqs.receive_message(
            QueueUrl=self.queue_url,
            MaxNumberOfMessages=10,
            WaitTimeSeconds=wait_seconds,
            MessageAttributeNames=["All"],
        ).get("Messages", [])
        for message in messages:
            self.sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"])
            try:
                self.received.append(json.loads(message["Body"]))
            except ValueError:
                continue  # not an SNS notification: nothing this test waits for

    def close(self) -> list[str]:
        """Unsubscribe and delete the queue, each attempted; what could not be removed."""
        left: list[str] = []
        if self.subscription_arn:
            try:
                self.sns.unsubscribe(SubscriptionArn=self.subscription_arn)
            except (BotoCoreError, ClientError) as error:
                left.append(f"subscription {self.subscription_arn} ({describe_aws_error(error)})")
        if self.queue_url:
            try:
                self.sqs.delete_queue(QueueUrl=self.queue_url)
            except (BotoCoreError, ClientError) as error:
                left.append(f"queue {self.queue_url} ({describe_aws_error(error)})")
        return left


def is_test_message(test_id: str) -> Callable[[Envelope], bool]:
    """The function's test message of this run: marked selfTest, naming the test's ID."""

    def wanted(envelope: Envelope) -> bool:
        attributes = envelope.get("MessageAttributes") or {}
        marked = attributes.get(contract.ATTRIBUTE_SELF_TEST, {}).get("Value") == "true"
        return marked and test_id in str(envelope.get("Message", ""))

    return wanted


def is_alarm_notification(alarm_name: str, test_id: str) -> Callable[[Envelope], bool]:
    """CloudWatch's notification that the alarm went to ALARM for this run's SetAlarmState."""

    def wanted(envelope: Envelope) -> bool:
        try:
            notification = json.loads(envelope.get("Message", ""))
        except ValueError:
            return False
        return (
            isinstance(notification, dict)
            and notification.get("AlarmName") == alarm_name
            and notification.get("NewStateValue") == "ALARM"
            and test_id in str(notification.get("NewStateReason", ""))
        )

    return wanted


# The dead-letter queues, read through the API only: a message sent to one would raise its
# alarm and page someone, and a message received from one would take a real dead letter.


@dataclass(frozen=True)
class Writer:
    """Who writes to a dead-letter queue: a service (EventBridge), a role (Lambda's on-failure
    destination sends with the function's role) or SQS itself, moving what a source queue could
    not deliver (organization mode's sweep queue)."""

    label: str
    service: str | None = None
    role_arn: str | None = None
    source_queue_arn: str | None = None

    def redrive_allowed(self, policy: dict[str, Any]) -> bool:
        """Whether the queue's RedriveAllowPolicy lets no other queue redrive into it: denyAll
        for what EventBridge or Lambda write; for a source queue's dead-letter queue (SQS
        refuses a source queue whose dead-letter queue says denyAll), that queue alone, or
        allowAll (the sweep queue's: naming the sweep queue would be a circular reference in
        the stack, and only the stack's own queues are in its account's hands)."""
        permission = policy.get("redrivePermission")
        if self.source_queue_arn is None:
            return permission == "denyAll"
        alone = permission == "byQueue" and policy.get("sourceQueueArns") == [self.source_queue_arn]
        return alone or permission == "allowAll"


def dead_letter_problems(sqs: Any, kms: Any, queue_url: str, writer: Writer) -> list[str]:
    """What is wrong with a dead-letter queue: its encryption, redrive policy, queue policy and
    key policy, for the writer that sends to it."""
    attributes = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["All"])["Attributes"]
    problems = []
    redrive = json.loads(attributes.get("RedriveAllowPolicy") or "{}")
    if not writer.redrive_allowed(redrive):
        problems.append(_redrive_problem(writer))
    if writer.service and not admits(
        statements(attributes.get("Policy")), writer, ("sqs:SendMessage",)
    ):
        problems.append(f"its queue policy does not admit {writer.label} (sqs:SendMessage)")
    key_id = attributes.get("KmsMasterKeyId")
    if not key_id:
        return [*problems, "it is not encrypted with a KMS key"]
    return problems + key_problems(kms, key_id, writer)


def _redrive_problem(writer: Writer) -> str:
    if writer.source_queue_arn:
        return (
            f"its RedriveAllowPolicy neither admits {writer.label} alone nor allowAll: "
            f"{writer.label} may not use it, or only some other queues may"
        )
    return "its RedriveAllowPolicy is not denyAll: another queue could redrive here"


def key_problems(kms: Any, key_id: str, writer: Writer) -> list[str]:
    metadata = kms.describe_key(KeyId=key_id)["KeyMetadata"]
    if metadata.get("KeyState") != "Enabled":
        return [f"its key {metadata['KeyId']} is {metadata.get('KeyState')}"]
    if writer.source_queue_arn:
        return []  # SQS moves the message itself: no principal for the key policy to admit
    policy = kms.get_key_policy(KeyId=metadata["KeyId"], PolicyName="default")["Policy"]
    actions = ("kms:GenerateDataKey", "kms:Decrypt")
    if admits(statements(policy), writer, actions):
        return []
    return [f"its key's policy does not admit {writer.label} ({', '.join(actions)})"]


def statements(policy: str | None) -> list[dict[str, Any]]:
    document = json.loads(policy or "{}")
    found = document.get("Statement", [])
    return [found] if isinstance(found, dict) else list(found)


def admits(found: list[dict[str, Any]], writer: Writer, actions: tuple[str, ...]) -> bool:
    """Whether Allow statements give the writer every action. A role is admitted by name, or
    through its account (the key policy statement that lets the account's IAM policies grant)."""
    allowed = [s for s in found if s.get("Effect") == "Allow" and _names(s, writer)]
    return all(any(_grants(s, action) for s in allowed) for action in actions)


def _names(statement: dict[str, Any], writer: Writer) -> bool:
    principal = statement.get("Principal")
    if principal == "*":
        return True
    if not isinstance(principal, dict):
        return False
    if writer.service:
        return writer.service in _listed(principal.get("Service"))
    role_arn = writer.role_arn or ""
    parts = role_arn.split(":")
    account = parts[4] if len(parts) > 4 else ""
    root = f"arn:{parts[1]}:iam::{account}:root" if len(parts) > 4 else ""
    return any(name in (role_arn, root, account) for name in _listed(principal.get("AWS")))


def _grants(statement: dict[str, Any], action: str) -> bool:
    return any(
        fnmatch.fnmatchcase(action.lower(), pattern.lower())
        for pattern in _listed(statement.get("Action"))
    )


def _listed(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, list):
        yield from (item for item in value if isinstance(item, str))


def sweep_dead_letter_queue(sqs: Any, sweep_queue_url: str) -> tuple[str, Writer] | None:
    """The URL of the sweep queue's dead-letter queue (its RedrivePolicy's target), and the
    sweep queue as its writer; None when the sweep queue has no dead-letter queue."""
    attributes = sqs.get_queue_attributes(
        QueueUrl=sweep_queue_url, AttributeNames=["QueueArn", "RedrivePolicy"]
    )["Attributes"]
    target = json.loads(attributes.get("RedrivePolicy") or "{}").get("deadLetterTargetArn")
    if not target:
        return None
    account, name = target.split(":")[4:6]
    url = sqs.get_queue_url(QueueName=name, QueueOwnerAWSAccountId=account)["QueueUrl"]
    return url, Writer("the sweep queue", source_queue_arn=attributes["QueueArn"])
