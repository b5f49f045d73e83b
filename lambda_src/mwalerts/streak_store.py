"""Failure streaks in DynamoDB: one partition per window, an item per target failing now and one for
the window's own state (mwalerts.streaks decides what changes; this module reads and writes it).

A window's items are read with one Query (strongly consistent: the previous execution's writes
must be seen; items past their TTL, which DynamoDB deletes only later, are left out). What changed
is written with one TransactWriteItems: the window's state, on condition that its sequence number
is still the one the change was computed from, and the targets that changed. So two executions of
one window applied at once cannot both advance it: the loser writes nothing, fails, and Lambda
retries it against the winner's state. A change of more than 99 targets (a mass failure, or its
recovery) writes the rest after the transaction with BatchWriteItem (half the cost of a
transaction's writes); should those be cut short, the execution's retry, which finds its window
state written, makes them (mwalerts.streaks: the last execution again).
"""

import time
from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError

from mwalerts import contract
from mwalerts.errors import StreakConflictError, StreakWriteError
from mwalerts.streaks import Advance, Applied, Resolution, Since, TargetStreak, WindowState

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import TransactWriteItemTypeDef, WriteRequestTypeDef


# TransactWriteItems takes at most 100 actions (one of them the window's state), BatchWriteItem 25.
TRANSACTION_ITEMS = 100
BATCH_ITEMS = 25
BATCH_ATTEMPTS = 5
BATCH_BACKOFF_SECONDS = 0.05

_T = TypeVar("_T")
# The self-test's partition: window partitions are "<account>/<region>/<window ID>".
SELF_TEST_PARTITION = "#self-test"

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


class StreakStore:
    def __init__(self, table_name: str, dynamodb: "DynamoDBClient") -> None:
        self.table_name = table_name
        self._dynamodb = dynamodb

    def load(self, window_key: str) -> tuple[WindowState | None, dict[str, TargetStreak]]:
        """The window's state and its current streaks (a Query of its partition, every page)."""
        state = None
        streaks: dict[str, TargetStreak] = {}
        now = int(time.time())
        for item in self._items(window_key):
            if int(item.get(contract.STREAK_TTL_ATTRIBUTE, now + 1)) <= now:
                continue  # expired: DynamoDB deletes such items only within a few days
            if item[contract.STREAK_SORT_KEY] == contract.STREAK_WINDOW_ITEM:
                state = window_state(item)
            else:
                streak = target_streak(item)
                streaks[streak.target] = streak
        return state, streaks

    def save(self, window_key: str, step: Advance) -> int:
        """Write what `step` changed; return the items written (0 when nothing changed).

        The window's state goes first, in one transaction with up to 99 of the changed targets;
        the rest follow in batches. Raises StreakConflictError when another execution advanced
        the window meanwhile (nothing is then written)."""
        requests: list[WriteRequestTypeDef] = [
            {"PutRequest": {"Item": _target_item(window_key, streak)}} for streak in step.puts
        ]
        requests += [
            {"DeleteRequest": {"Key": _key(window_key, target)}} for target in step.deletes
        ]
        rest = requests
        if step.window is not None:
            transacted, rest = requests[: TRANSACTION_ITEMS - 1], requests[TRANSACTION_ITEMS - 1 :]
            self._transact(
                [
                    self._window_put(window_key, step.window, step.previous_seq),
                    *(_transact_action(self.table_name, request) for request in transacted),
                ]
            )
        for chunk in _chunks(rest, BATCH_ITEMS):
            self._batch_write(chunk)
        return len(requests) + (step.window is not None)

    def probe(self, test_id: str, expires: int) -> str:
        """The self-test's hop: a test item written, read back and deleted with the calls the
        function makes (TransactWriteItems, Query, and a delete), in a partition no window has."""
        key = {
            contract.STREAK_PARTITION_KEY: SELF_TEST_PARTITION,
            contract.STREAK_SORT_KEY: test_id,
        }
        item = _serialized({**key, contract.STREAK_TTL_ATTRIBUTE: expires})
        self._transact([{"Put": {"TableName": self.table_name, "Item": item}}])
        found = sum(1 for _ in self._items(SELF_TEST_PARTITION))
        self._transact([{"Delete": {"TableName": self.table_name, "Key": _serialized(key)}}])
        return f"wrote, read ({found} item) and deleted an item in {self.table_name}"

    def _items(self, window_key: str) -> Iterator[dict[str, Any]]:
        pages = self._dynamodb.get_paginator("query").paginate(
            TableName=self.table_name,
            KeyConditionExpression="#w = :w",
            ExpressionAttributeNames={"#w": contract.STREAK_PARTITION_KEY},
            ExpressionAttributeValues={":w": {"S": window_key}},
            ConsistentRead=True,
        )
        for page in pages:
            for item in page.get("Items", []):
                yield {name: _deserializer.deserialize(value) for name, value in item.items()}

    def _window_put(
        self, window_key: str, state: WindowState, previous_seq: int | None
    ) -> "TransactWriteItemTypeDef":
        condition: Any
        if previous_seq is None:
            # No state, or only one past its TTL that DynamoDB has not deleted yet.
            condition = {
                "ConditionExpression": "attribute_not_exists(#w) OR #e <= :now",
                "ExpressionAttributeNames": {
                    "#w": contract.STREAK_PARTITION_KEY,
                    "#e": contract.STREAK_TTL_ATTRIBUTE,
                },
                "ExpressionAttributeValues": {":now": {"N": str(int(time.time()))}},
            }
        else:  # the state this execution was computed from (no names: unused ones are an error)
            condition = {
                "ConditionExpression": "seq = :seq",
                "ExpressionAttributeValues": {":seq": {"N": str(previous_seq)}},
            }
        put: Any = {"TableName": self.table_name, "Item": _window_item(window_key, state)}
        return {"Put": put | condition}

    def _batch_write(self, requests: "list[WriteRequestTypeDef]") -> None:
        """One BatchWriteItem, and again for what DynamoDB left unprocessed (it may, under load:
        botocore does not retry those), with a short backoff."""
        pending: Any = {self.table_name: requests}
        for attempt in range(BATCH_ATTEMPTS):
            if attempt:
                time.sleep(BATCH_BACKOFF_SECONDS * 2**attempt)
            response = self._dynamodb.batch_write_item(RequestItems=pending)
            pending = response.get("UnprocessedItems", {})
            if not pending:
                return
        raise StreakWriteError(
            f"DynamoDB left {len(pending[self.table_name])} streak writes unprocessed "
            f"after {BATCH_ATTEMPTS} attempts"
        )

    def _transact(self, actions: "Sequence[TransactWriteItemTypeDef]") -> None:
        try:
            self._dynamodb.transact_write_items(TransactItems=list(actions))
        except ClientError as error:
            reasons = error.response.get("CancellationReasons", [])
            if any(reason.get("Code") == "ConditionalCheckFailed" for reason in reasons):
                raise StreakConflictError(
                    "another execution of the window changed its streaks meanwhile"
                ) from error
            raise


def window_state(item: Mapping[str, Any]) -> WindowState:
    resolved = item.get("resolvedSince")
    return WindowState(
        seq=int(item["seq"]),
        last_execution_id=item["lastExecutionId"],
        last_start=item["lastStart"],
        last_status=item["lastStatus"],
        failing=bool(item["failing"]),
        failing_since=_since(item.get("failingSince")),
        applied=Applied(
            changed=bool(item["changed"]),
            ended=int(item["ended"]),
            resolved=(
                Resolution(_since(resolved), int(item["resolvedExecutions"]))  # type: ignore[arg-type]
                if resolved
                else None
            ),
        ),
        expires=int(item[contract.STREAK_TTL_ATTRIBUTE]),
    )


def target_streak(item: Mapping[str, Any]) -> TargetStreak:
    return TargetStreak(
        target=item[contract.STREAK_SORT_KEY],
        since=Since(item["sinceExecutionId"], item.get("sinceTime"), int(item["sinceSeq"])),
        error=item.get("error", ""),
        expires=int(item[contract.STREAK_TTL_ATTRIBUTE]),
    )


def _window_item(window_key: str, state: WindowState) -> dict[str, Any]:
    resolved = state.applied.resolved
    return _serialized(
        {
            **_plain_key(window_key, contract.STREAK_WINDOW_ITEM),
            "seq": state.seq,
            "lastExecutionId": state.last_execution_id,
            "lastStart": state.last_start,
            "lastStatus": state.last_status,
            "failing": state.failing,
            "failingSince": _since_record(state.failing_since),
            "changed": state.applied.changed,
            "ended": state.applied.ended,
            "resolvedSince": _since_record(resolved.since) if resolved else None,
            "resolvedExecutions": resolved.failed_executions if resolved else None,
            contract.STREAK_TTL_ATTRIBUTE: state.expires,
        }
    )


def _target_item(window_key: str, streak: TargetStreak) -> dict[str, Any]:
    return _serialized(
        {
            **_plain_key(window_key, streak.target),
            "sinceExecutionId": streak.since.window_execution_id,
            "sinceTime": streak.since.time,
            "sinceSeq": streak.since.seq,
            "error": streak.error,
            contract.STREAK_TTL_ATTRIBUTE: streak.expires,
        }
    )


def _plain_key(window_key: str, target: str) -> dict[str, str]:
    return {contract.STREAK_PARTITION_KEY: window_key, contract.STREAK_SORT_KEY: target}


def _key(window_key: str, target: str) -> dict[str, Any]:
    return _serialized(_plain_key(window_key, target))


def _serialized(item: Mapping[str, Any]) -> dict[str, Any]:
    return {name: _serializer.serialize(value) for name, value in item.items()}


def _since_record(since: Since | None) -> dict[str, Any] | None:
    if since is None:
        return None
    return {"windowExecutionId": since.window_execution_id, "time": since.time, "seq": since.seq}


def _since(record: Mapping[str, Any] | None) -> Since | None:
    if not record:
        return None
    return Since(record["windowExecutionId"], record.get("time"), int(record["seq"]))


def _chunks(requests: list[_T], size: int) -> Iterator[list[_T]]:
    for start in range(0, len(requests), size):
        yield requests[start : start + size]


def _transact_action(table_name: str, request: "WriteRequestTypeDef") -> "TransactWriteItemTypeDef":
    """A batch write request as a transaction's action."""
    if "PutRequest" in request:
        return {"Put": {"TableName": table_name, "Item": request["PutRequest"]["Item"]}}
    return {"Delete": {"TableName": table_name, "Key": request["DeleteRequest"]["Key"]}}
