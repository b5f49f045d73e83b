"""What the sweep remembers of one place's windows between sweeps (mwalerts.sweep_plan): one item
per account-region in the idempotency table, `sweepwindows#<account>/<region>`.

One GetItem per place and sweep; a PutItem only when the memory changed (or half its TTL has
passed, so that an unchanging place does not expire). The windows are zlib'd JSON in one binary
attribute, about 26 bytes a window: MAX_ENCODED_BYTES, kept under DynamoDB's item limit of
400 KB, holds over 13,000 windows, 250 times SSM's default quota of 50 maintenance windows per
account and region (an adjustable quota). A memory that would not fit is not written (an older
one stays, still true), and one that cannot be read counts as none: the sweep then lists every
window, as it did before it had a memory.

Overlapping sweeps of one place (a retried message beside the next sweep's) may overwrite each
other's item: the last writer wins, and that is safe because every state written was true when
its sweep read SSM and stays true (sweep_plan), so an older one only makes the next sweep list
more windows. An eventually consistent read is safe for the same reason.
"""

import json
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger
from botocore.exceptions import BotoCoreError, ClientError

from mwalerts import contract
from mwalerts.sweep_plan import WindowState

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

logger = Logger(service=contract.SERVICE_NAME, child=True)

# Beside the exactly-once records ("window-execution#..."), the self-test's and the fan-out's.
KEY_PREFIX = "sweepwindows#"
MEMORY_TTL_SECONDS = 15 * 24 * 60 * 60
# Under DynamoDB's 400 KB per item (attribute names, the key and the TTL included).
MAX_ENCODED_BYTES = 350_000
FORMAT_VERSION = 1
_KEY = contract.IDEMPOTENCY_PARTITION_KEY
_WINDOWS = "windows"
_UNREADABLE = (ClientError, BotoCoreError, zlib.error, ValueError, KeyError, TypeError)


def memory_key(account: str, region: str) -> str:
    return f"{KEY_PREFIX}{account}/{region}"


@dataclass(frozen=True)
class Remembered:
    """A place's memory as read: its windows, and when its item expires (None: no item)."""

    windows: dict[str, WindowState] = field(default_factory=dict)
    expires: int | None = None


def encode(windows: Mapping[str, WindowState]) -> bytes:
    rows = [
        [window_id, state.due, state.fingerprint, int(state.open)]
        for window_id, state in sorted(windows.items())
    ]
    text = json.dumps({"v": FORMAT_VERSION, "w": rows}, separators=(",", ":"))
    return zlib.compress(text.encode(), 9)


def decode(data: bytes) -> dict[str, WindowState]:
    """The windows of an encoded memory; ValueError if it is not one this code wrote."""
    document = json.loads(zlib.decompress(data))
    if not isinstance(document, dict) or document.get("v") != FORMAT_VERSION:
        raise ValueError("not a sweep memory of this version")
    return {
        str(window_id): WindowState(
            due=None if due is None else int(due), fingerprint=str(digest), open=bool(running)
        )
        for window_id, due, digest, running in document["w"]
    }


class SweepMemory:
    def __init__(self, dynamodb: "DynamoDBClient", table: str) -> None:
        self._dynamodb = dynamodb
        self._table = table

    def load(self, account: str, region: str) -> Remembered:
        """The place's memory; none if there is no item or it cannot be read."""
        try:
            item = self._dynamodb.get_item(
                TableName=self._table, Key={_KEY: {"S": memory_key(account, region)}}
            ).get("Item")
            if item is None:
                return Remembered()
            expires = item.get(contract.IDEMPOTENCY_TTL_ATTRIBUTE, {}).get("N")
            return Remembered(
                windows=decode(item[_WINDOWS]["B"]),
                expires=None if expires is None else int(expires),
            )
        except _UNREADABLE:
            logger.warning(
                "Sweep memory unreadable: every window is listed",
                extra={"account": account, "region": region},
                exc_info=True,
            )
            return Remembered()

    def save(
        self,
        account: str,
        region: str,
        windows: Mapping[str, WindowState],
        *,
        previous: Remembered,
        now: datetime,
    ) -> bool:
        """Write the place's memory if it changed or half its TTL has passed; True if written.
        A failed write is logged, not raised: the older memory stays true (module docstring)."""
        moment = int(now.timestamp())
        fresh = previous.expires is not None and previous.expires - moment > MEMORY_TTL_SECONDS / 2
        if dict(windows) == previous.windows and fresh:
            return False
        data = encode(windows)
        if len(data) > MAX_ENCODED_BYTES:
            logger.warning(
                "Sweep memory too large to keep: every window is listed",
                extra={"account": account, "region": region, "bytes": len(data)},
            )
            return False
        try:
            self._dynamodb.put_item(
                TableName=self._table, Item=_item(account, region, data, moment)
            )
        except (ClientError, BotoCoreError):
            logger.warning(
                "Sweep memory not saved",
                extra={"account": account, "region": region},
                exc_info=True,
            )
            return False
        return True


def _item(account: str, region: str, data: bytes, moment: int) -> dict[str, Any]:
    return {
        _KEY: {"S": memory_key(account, region)},
        _WINDOWS: {"B": data},
        contract.IDEMPOTENCY_TTL_ATTRIBUTE: {"N": str(moment + MEMORY_TTL_SECONDS)},
    }
