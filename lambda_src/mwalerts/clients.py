"""The one seam between the logic and AWS: the clients it uses, created once per container."""

from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING

import boto3
from botocore.config import Config

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_sns import SNSClient
    from mypy_boto3_ssm import SSMClient

# Adaptive mode retries throttling with backoff and slows the client down to the rate SSM accepts,
# so a large window meets throttling with patience instead of failing the whole alert.
RETRY_CONFIG = Config(
    retries={"mode": "adaptive", "total_max_attempts": 10}, connect_timeout=5, read_timeout=20
)


@dataclass(frozen=True)
class AwsClients:
    ssm: "SSMClient"
    sns: "SNSClient"
    dynamodb: "DynamoDBClient"  # the idempotency records


def create_clients(session: boto3.Session | None = None) -> AwsClients:
    session = session or boto3.Session()
    return AwsClients(
        ssm=session.client("ssm", config=RETRY_CONFIG),
        sns=session.client("sns", config=RETRY_CONFIG),
        dynamodb=session.client("dynamodb", config=RETRY_CONFIG),
    )


@cache
def default_clients() -> AwsClients:
    """Clients reused by every invocation of this container (connection reuse, no re-init cost)."""
    return create_clients()
