"""The one seam between the logic and AWS: the clients it uses, created once per container."""

from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from typing import TYPE_CHECKING, Any

import boto3
import botocore.session
from botocore.config import Config
from botocore.utils import parse_timestamp

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_sns import SNSClient
    from mypy_boto3_ssm import SSMClient

# Adaptive mode retries throttling with backoff and slows the client down to the rate SSM accepts,
# so a large window meets throttling with patience instead of failing the whole alert.
RETRY_CONFIG = Config(
    retries={"mode": "adaptive", "total_max_attempts": 10},
    connect_timeout=5,
    read_timeout=20,
    max_pool_connections=20,  # one per concurrent task chain (service.TASK_CONCURRENCY)
)


@dataclass(frozen=True)
class AwsClients:
    ssm: "SSMClient"
    sns: "SNSClient"
    dynamodb: "DynamoDBClient"  # the idempotency records


def epoch_timestamp(value: Any) -> datetime:
    """botocore's timestamp parser, fast for the epoch seconds the JSON protocol sends.

    Every invocation has two timestamps, and botocore's default parser (dateutil, with the local
    zone) was the largest part of the function's CPU time; this one gives the same instants.
    """
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value, UTC)
    parsed: datetime = parse_timestamp(value)
    return parsed


def create_clients(
    *, region_name: str | None = None, credentials: dict[str, str] | None = None
) -> AwsClients:
    """Clients from the standard credential chain, or from the given (assumed-role) credentials."""
    core = botocore.session.get_session()
    core.get_component("response_parser_factory").set_parser_defaults(
        timestamp_parser=epoch_timestamp
    )
    session = boto3.Session(botocore_session=core, region_name=region_name, **(credentials or {}))
    return AwsClients(
        ssm=session.client("ssm", config=RETRY_CONFIG),
        sns=session.client("sns", config=RETRY_CONFIG),
        dynamodb=session.client("dynamodb", config=RETRY_CONFIG),
    )


@cache
def default_clients() -> AwsClients:
    """Clients reused by every invocation of this container (connection reuse, no re-init cost)."""
    return create_clients()
