"""The smart sweep's memory of a place (botocore Stubber on DynamoDB): one item per
account-region, read once a sweep, written only when it changed; small enough for DynamoDB at
many times SSM's quota of windows; and a memory that cannot be read or written never stops the
sweep (it then lists more)."""

import random
import zlib
from datetime import UTC, datetime

import pytest
from botocore.stub import ANY, Stubber

from mwalerts.sweep_memory import (
    MAX_ENCODED_BYTES,
    MEMORY_TTL_SECONDS,
    Remembered,
    SweepMemory,
    decode,
    encode,
    memory_key,
)
from mwalerts.sweep_plan import WindowState, fingerprint

TABLE = "alerts-idempotency"
ACCOUNT, REGION = "111111111111", "eu-west-1"
KEY = {"id": {"S": f"sweepwindows#{ACCOUNT}/{REGION}"}}
NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
STATE = {
    "mw-0000000000000000a": WindowState(1_795_000_000, "0123456789abcdef", open=False),
    "mw-0000000000000000b": WindowState(None, "fedcba9876543210", open=True),
}
# DynamoDB's largest item, 400 KB (KB = 1,024 bytes; a binary value counts its raw bytes):
# https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Constraints.html
DYNAMODB_ITEM_LIMIT = 400 * 1024


def windows(count: int, seed: int = 0) -> dict[str, WindowState]:
    rng = random.Random(seed)
    return {
        f"mw-{rng.getrandbits(68):017x}": WindowState(
            1_795_000_000 + rng.randrange(7 * 86_400),
            fingerprint({"Schedule": f"cron({rng.random()})"}),
            rng.random() < 0.05,
        )
        for _ in range(count)
    }


def test_the_key_names_the_place():
    assert memory_key(ACCOUNT, REGION) == KEY["id"]["S"]


def test_a_memory_reads_back_as_written():
    assert decode(encode(STATE)) == STATE


def test_a_memory_of_another_format_is_refused():
    with pytest.raises(ValueError, match="version"):
        decode(zlib.compress(b'{"v": 99, "w": []}'))


def test_a_memory_stays_well_under_dynamodbs_item_limit_far_beyond_ssms_window_quota():
    # SSM's default quota is 50 maintenance windows per account and region (adjustable).
    assert len(encode(windows(50))) < 2_000
    assert len(encode(windows(10_000))) < MAX_ENCODED_BYTES < DYNAMODB_ITEM_LIMIT - 1_000


def test_a_place_never_swept_has_no_memory(dynamodb):
    client, stubber = dynamodb
    stubber.add_response("get_item", {}, {"TableName": TABLE, "Key": KEY})

    assert SweepMemory(client, TABLE).load(ACCOUNT, REGION) == Remembered()


def test_a_memory_is_loaded_with_its_expiry(dynamodb):
    client, stubber = dynamodb
    item = {**KEY, "windows": {"B": encode(STATE)}, "expiration": {"N": "1796000000"}}
    stubber.add_response("get_item", {"Item": item}, {"TableName": TABLE, "Key": KEY})

    assert SweepMemory(client, TABLE).load(ACCOUNT, REGION) == Remembered(STATE, 1_796_000_000)


@pytest.mark.parametrize("failure", ["throttled", "garbled"])
def test_a_memory_that_cannot_be_read_counts_as_none(dynamodb, failure):
    client, stubber = dynamodb
    if failure == "throttled":
        stubber.add_client_error("get_item", "ProvisionedThroughputExceededException")
    else:
        stubber.add_response("get_item", {"Item": {**KEY, "windows": {"B": b"not zlib"}}})

    assert SweepMemory(client, TABLE).load(ACCOUNT, REGION) == Remembered()


def expect_put(stubber: Stubber, error: str | None = None) -> None:
    expected = {
        "TableName": TABLE,
        "Item": {
            **KEY,
            "windows": {"B": ANY},
            "expiration": {"N": str(int(NOW.timestamp()) + MEMORY_TTL_SECONDS)},
        },
    }
    if error:
        stubber.add_client_error("put_item", error, expected_params=expected)
    else:
        stubber.add_response("put_item", {}, expected)


def test_a_changed_memory_is_written(dynamodb):
    client, stubber = dynamodb
    expect_put(stubber)

    assert SweepMemory(client, TABLE).save(ACCOUNT, REGION, STATE, previous=Remembered(), now=NOW)


def test_an_unchanged_memory_is_not_written_again(dynamodb):
    client, _ = dynamodb
    previous = Remembered(dict(STATE), int(NOW.timestamp()) + MEMORY_TTL_SECONDS - 60)

    assert not SweepMemory(client, TABLE).save(ACCOUNT, REGION, STATE, previous=previous, now=NOW)


def test_an_unchanged_memory_past_half_its_ttl_is_written_so_it_does_not_expire(dynamodb):
    client, stubber = dynamodb
    expect_put(stubber)
    previous = Remembered(dict(STATE), int(NOW.timestamp()) + MEMORY_TTL_SECONDS // 2 - 60)

    assert SweepMemory(client, TABLE).save(ACCOUNT, REGION, STATE, previous=previous, now=NOW)


def test_a_memory_too_large_for_an_item_is_not_written(dynamodb, monkeypatch):
    client, _ = dynamodb
    monkeypatch.setattr("mwalerts.sweep_memory.MAX_ENCODED_BYTES", 10)

    assert not SweepMemory(client, TABLE).save(
        ACCOUNT, REGION, STATE, previous=Remembered(), now=NOW
    )


def test_a_failed_write_does_not_fail_the_sweep(dynamodb):
    client, stubber = dynamodb
    expect_put(stubber, error="ProvisionedThroughputExceededException")

    assert not SweepMemory(client, TABLE).save(
        ACCOUNT, REGION, STATE, previous=Remembered(), now=NOW
    )
