"""Organization mode: how far a fanned-out sweep got, counted exactly in the idempotency table.

The schedule writes the sweep's counter item, `sweep#<id>` {total, done: 0}. A worker that
finished a place writes its marker `sweep#<id>#<account>/<region>` if none exists (so an SQS
duplicate of the message counts once) and, only then, adds 1 to `done`. The worker whose addition
makes done == total sends the sweep's heartbeat (SweepRuns), the one the sweep alarm watches: a
sweep that does not cover every account-region sends none. Two writes per place; both items
expire after a day (DynamoDB's TTL on the table's expiration attribute).
"""

import time
from typing import TYPE_CHECKING

from aws_lambda_powertools import Logger
from botocore.exceptions import ClientError

from mwalerts import contract
from mwalerts.errors import error_code

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

logger = Logger(service=contract.SERVICE_NAME, child=True)

# Beside the exactly-once records ("window-execution#...") and the self-test's ("self-test#").
KEY_PREFIX = "sweep#"
PROGRESS_TTL_SECONDS = 24 * 60 * 60
_CONDITION_FAILED = "ConditionalCheckFailedException"
_KEY = contract.IDEMPOTENCY_PARTITION_KEY


def counter_key(sweep_id: str) -> str:
    return f"{KEY_PREFIX}{sweep_id}"


def marker_key(sweep_id: str, account: str, region: str) -> str:
    return f"{KEY_PREFIX}{sweep_id}#{account}/{region}"


class SweepProgress:
    def __init__(self, dynamodb: "DynamoDBClient", table: str) -> None:
        self._dynamodb = dynamodb
        self._table = table

    def start(self, sweep_id: str, total: int) -> None:
        """The sweep's counter, unless a delivery of the same schedule event wrote it already
        (a retried fan-out must not set `done` back to 0)."""
        try:
            self._dynamodb.put_item(
                TableName=self._table,
                Item={
                    _KEY: {"S": counter_key(sweep_id)},
                    "total": {"N": str(total)},
                    "done": {"N": "0"},
                    **_expiration(),
                },
                ConditionExpression="attribute_not_exists(#id)",
                ExpressionAttributeNames={"#id": _KEY},
            )
        except ClientError as error:
            if error_code(error) != _CONDITION_FAILED:
                raise
            logger.info("Sweep counter exists already", extra={"sweep": sweep_id})

    def place_done(self, sweep_id: str, account: str, region: str) -> bool:
        """Count a finished place once; True when it was the sweep's last (heartbeat time)."""
        marker = {_KEY: {"S": marker_key(sweep_id, account, region)}}
        try:
            self._dynamodb.put_item(
                TableName=self._table,
                Item={**marker, **_expiration()},
                ConditionExpression="attribute_not_exists(#id)",
                ExpressionAttributeNames={"#id": _KEY},
            )
        except ClientError as error:
            if error_code(error) != _CONDITION_FAILED:
                raise
            logger.info("Sweep place counted already", extra={"sweep": sweep_id, "in": region})
            return False
        try:
            return self._count(sweep_id)
        except Exception:
            # Uncounted: without its marker, the retried message counts the place then.
            self._dynamodb.delete_item(TableName=self._table, Key=marker)
            raise

    def _count(self, sweep_id: str) -> bool:
        try:
            counter = self._dynamodb.update_item(
                TableName=self._table,
                Key={_KEY: {"S": counter_key(sweep_id)}},
                UpdateExpression="ADD #done :one",
                ConditionExpression="attribute_exists(#id)",
                ExpressionAttributeNames={"#done": "done", "#id": _KEY},
                ExpressionAttributeValues={":one": {"N": "1"}},
                ReturnValues="ALL_NEW",  # `total` too, to compare
            )["Attributes"]
        except ClientError as error:
            if error_code(error) != _CONDITION_FAILED:
                raise
            logger.warning("Sweep counter not found (expired?)", extra={"sweep": sweep_id})
            return False
        return counter["done"]["N"] == counter["total"]["N"]


def _expiration() -> dict[str, dict[str, str]]:
    return {contract.IDEMPOTENCY_TTL_ATTRIBUTE: {"N": str(int(time.time()) + PROGRESS_TTL_SECONDS)}}
