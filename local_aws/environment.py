"""In-process AWS for tests, the demo and benchmarks: moto for SNS and SQS, plus the project's
fake of the SSM maintenance-window execution APIs, wired into the Lambda's own clients."""

import copy
import json
import os
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import boto3
from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext as PowertoolsLambdaContext
from moto import mock_aws
from moto.dynamodb import models as dynamodb_models
from moto.sns.models import sns_backends

from local_aws.fake_ssm import FakeSsmExecutions
from local_aws.scenario import ACCOUNT, REGION
from mwalerts import contract
from mwalerts.clients import AwsClients, create_clients

TOPIC_NAME = "maintenance-window-alerts"
TOPIC_ARN = f"arn:aws:sns:{REGION}:{ACCOUNT}:{TOPIC_NAME}"
TABLE_NAME = "maintenance-window-alerts-idempotency"
STREAK_TABLE_NAME = "maintenance-window-alerts-streaks"

# What the function needs to start, pointed at the in-process topic. Dummy credentials keep boto3
# from looking for real ones; tracing is off because there is no X-Ray daemon here.
FUNCTION_ENVIRONMENT = {
    "ALERT_TOPIC_ARN": TOPIC_ARN,
    "ALERT_STATUSES": "FAILED,TIMED_OUT,CANCELLED",
    "POWERTOOLS_METRICS_NAMESPACE": "MaintenanceWindows",
    "IDEMPOTENCY_TABLE_NAME": TABLE_NAME,
    "STREAK_TABLE_NAME": STREAK_TABLE_NAME,
    "SWEEP_LOOKBACK_MINUTES": "45",
    "ALERT_LOG_GROUP_NAME": "/aws/lambda/maintenance-window-alerts",
    "AWS_DEFAULT_REGION": REGION,
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_EC2_METADATA_DISABLED": "true",
}


class _CurrentStdout:
    """Writes wherever sys.stdout points at the time (pytest and redirect_stdout swap it)."""

    def write(self, text: str) -> int:
        return sys.stdout.write(text)

    def flush(self) -> None:
        sys.stdout.flush()


def follow_stdout(logger: Logger) -> None:
    """Send a Powertools logger's records to the current sys.stdout, where EMF metrics go too.

    Powertools binds sys.stdout when the logger is created; following it lets tests and the demo
    capture logs and metrics from one stream, as CloudWatch Logs receives them.
    """
    logger.registered_handler.stream = _CurrentStdout()  # type: ignore[attr-defined]


def use_function_environment() -> None:
    """Set the function's environment for this process (call before importing `handler`)."""
    for key, value in FUNCTION_ENVIRONMENT.items():
        os.environ.setdefault(key, value)


@dataclass
class LocalAws:
    clients: AwsClients
    ssm: FakeSsmExecutions
    topic_arn: str
    queue_url: str

    def sqs_messages(self) -> list[dict[str, Any]]:
        """What an SQS subscriber received: SNS envelopes, drained from the queue."""
        sqs = boto3.client("sqs", region_name=REGION)
        received: list[dict[str, Any]] = []
        while True:
            batch = sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=10)
            messages = batch.get("Messages", [])
            if not messages:
                return received
            for message in messages:
                received.append(json.loads(message["Body"]))
                sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"])

    def published(self) -> list[dict[str, Any]]:
        """Every publish to the topic as SNS recorded it: message, subject, attributes."""
        topic = sns_backends[ACCOUNT][REGION].topics[self.topic_arn]
        return [
            {"message": message, "subject": subject, "attributes": attributes}
            for _id, message, subject, attributes, _group in topic.sent_notifications
        ]


def create_idempotency_table(dynamodb: Any, name: str) -> None:
    """The stack's idempotency table, as moto's DynamoDB holds it: partition key only."""
    dynamodb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": contract.IDEMPOTENCY_PARTITION_KEY, "KeyType": "HASH"}],
        AttributeDefinitions=[
            {"AttributeName": contract.IDEMPOTENCY_PARTITION_KEY, "AttributeType": "S"}
        ],
        BillingMode="PAY_PER_REQUEST",
    )


def create_streak_table(dynamodb: Any, name: str) -> None:
    """The stack's streak table: a partition per window, an item per failing target."""
    keys = ((contract.STREAK_PARTITION_KEY, "HASH"), (contract.STREAK_SORT_KEY, "RANGE"))
    dynamodb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": name_, "KeyType": kind} for name_, kind in keys],
        AttributeDefinitions=[{"AttributeName": name_, "AttributeType": "S"} for name_, _ in keys],
        BillingMode="PAY_PER_REQUEST",
    )


@contextmanager
def local_aws(*, latency: float = 0.0) -> Iterator[LocalAws]:
    """moto's SNS, SQS and DynamoDB with the function's topic (and an SQS subscriber),
    idempotency and streak tables, and the fake SSM execution APIs."""
    use_function_environment()
    with mock_aws(), _atomic_dynamodb_writes():
        clients = create_clients(region_name=REGION)
        session = boto3.Session(region_name=REGION)
        fake = FakeSsmExecutions(latency=latency)
        fake.attach(clients.ssm)
        create_idempotency_table(clients.dynamodb, TABLE_NAME)
        create_streak_table(clients.dynamodb, STREAK_TABLE_NAME)
        topic_arn = clients.sns.create_topic(Name=TOPIC_NAME)["TopicArn"]
        sqs = session.client("sqs")
        queue_url = sqs.create_queue(QueueName="alert-subscriber")["QueueUrl"]
        queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        clients.sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=queue_arn)
        yield LocalAws(clients=clients, ssm=fake, topic_arn=topic_arn, queue_url=queue_url)


class LambdaContext(PowertoolsLambdaContext):
    """Lambda's context object, as the runtime hands it to the handler (Powertools' type)."""

    def __init__(self, *, remaining_time_ms: int = 300_000) -> None:
        self._function_name = "maintenance-window-alerts"
        self._function_version = "$LATEST"
        self._invoked_function_arn = (
            f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:maintenance-window-alerts"
        )
        self._memory_limit_in_mb = 512
        self._aws_request_id = "3f0c2b8e-7d51-4c49-9d1a-6b2f8e4a9c10"
        self._log_group_name = "/aws/lambda/maintenance-window-alerts"
        self._log_stream_name = "2026/11/20/[$LATEST]0123456789abcdef"
        self._remaining_time_ms = remaining_time_ms  # 300,000: the stack's 5-minute timeout

    def get_remaining_time_in_millis(self) -> int:  # type: ignore[override]
        return self._remaining_time_ms


@contextmanager
def _atomic_dynamodb_writes() -> Iterator[None]:
    """Make moto's conditional writes atomic, as DynamoDB's are, and its transactions cost what
    they write.

    moto checks a ConditionExpression and then stores the item without a lock, so two threads can
    both pass the check; DynamoDB never lets that happen, and the idempotency tests rely on it.
    moto also backs up each table a transaction touches, whole, to roll back a cancelled one: a
    deep copy of every item per transaction, under the lock, which made the benchmark's herd of
    50 windows sharing one streak table five times slower. Here a transaction keeps only the items
    it touches and puts them back if it is cancelled.
    """
    lock = threading.RLock()
    backend = dynamodb_models.DynamoDBBackend
    names_ = ("put_item", "update_item", "delete_item", "transact_write_items")
    originals = {name: getattr(backend, name) for name in names_}
    original_copy = dynamodb_models.copy

    def locked(method: Any) -> Any:
        def call(*args: Any, **kwargs: Any) -> Any:
            with lock:
                return method(*args, **kwargs)

        return call

    def transact(self: Any, transact_items: list[dict[str, Any]]) -> None:
        touched = _touched_items(self, transact_items)
        try:
            originals["transact_write_items"](self, transact_items)
        except Exception:
            for table_name, key, attributes in reversed(touched):
                if attributes is None:
                    self.delete_item(table_name, key)
                else:
                    self.put_item(table_name, attributes)
            raise

    for name, method in originals.items():
        setattr(backend, name, locked(transact if name == "transact_write_items" else method))
    dynamodb_models.copy = _NoTableBackup  # type: ignore[assignment]
    try:
        yield
    finally:
        dynamodb_models.copy = original_copy
        for name, method in originals.items():
            setattr(backend, name, method)


class _NoTableBackup:
    """`copy` for moto's DynamoDB models: tables are not copied (transactions keep the items they
    touch instead, above); anything else is, as moto expects."""

    @staticmethod
    def deepcopy(value: Any, memo: dict[int, Any] | None = None) -> Any:
        if isinstance(value, dynamodb_models.Table):
            return value
        return copy.deepcopy(value, memo)


def _touched_items(
    backend: Any, transact_items: list[dict[str, Any]]
) -> list[tuple[str, dict[str, Any], dict[str, Any] | None]]:
    """(table, key, the item's attributes now or None) for each item a transaction writes."""
    touched = []
    for entry in transact_items:
        for operation in entry.values():
            table = backend.tables.get(operation.get("TableName"))
            if table is None:
                continue  # moto reports the missing table
            key = operation.get("Key") or {
                name: operation.get("Item", {}).get(name)
                for name in (table.hash_key_attr, table.range_key_attr)
                if name is not None
            }
            if None in key.values():
                continue  # moto reports the missing key
            try:
                item = backend.get_item(table.name, key)
            except Exception:  # noqa: S112 - a malformed key: moto's transaction reports it
                continue
            attributes = None if item is None else copy.deepcopy(item.to_json()["Attributes"])
            touched.append((table.name, key, attributes))
    return touched
