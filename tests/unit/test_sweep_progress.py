"""The fanned-out sweep's exact count of finished places (botocore Stubber on DynamoDB): a write
that fails must neither lose a place nor count one twice, and an expired counter is not revived."""

import pytest
from botocore.exceptions import ClientError
from botocore.stub import ANY, Stubber

from mwalerts.sweep_progress import SweepProgress, counter_key, marker_key

TABLE = "alerts-idempotency"
SWEEP = "2026-11-20T02:30:00+00:00"
ACCOUNT, REGION = "111111111111", "eu-west-1"
MARKER = {"id": {"S": marker_key(SWEEP, ACCOUNT, REGION)}}
COUNTER = {"id": {"S": counter_key(SWEEP)}}


def expect_marker(stubber: Stubber, error: str | None = None) -> None:
    expected = {
        "TableName": TABLE,
        "Item": {**MARKER, "expiration": {"N": ANY}},
        "ConditionExpression": "attribute_not_exists(#id)",
        "ExpressionAttributeNames": {"#id": "id"},
    }
    if error:
        stubber.add_client_error("put_item", error, expected_params=expected)
    else:
        stubber.add_response("put_item", {}, expected)


def expect_increment(stubber: Stubber, *, done: int = 1, error: str | None = None) -> None:
    expected = {
        "TableName": TABLE,
        "Key": COUNTER,
        "UpdateExpression": "ADD #done :one",
        "ConditionExpression": "attribute_exists(#id)",
        "ExpressionAttributeNames": {"#done": "done", "#id": "id"},
        "ExpressionAttributeValues": {":one": {"N": "1"}},
        "ReturnValues": "ALL_NEW",
    }
    if error:
        stubber.add_client_error("update_item", error, expected_params=expected)
        return
    attributes = {**COUNTER, "total": {"N": "2"}, "done": {"N": str(done)}}
    stubber.add_response("update_item", {"Attributes": attributes}, expected)


def test_a_failed_counter_write_fails_the_fan_out(dynamodb):
    client, stubber = dynamodb
    stubber.add_client_error("put_item", "ProvisionedThroughputExceededException")

    # Raised, so that Lambda retries the schedule event: without a counter no heartbeat can come.
    with pytest.raises(ClientError, match="ProvisionedThroughputExceeded"):
        SweepProgress(client, TABLE).start(SWEEP, 2)


def test_a_failed_marker_write_fails_the_place_and_counts_nothing(dynamodb):
    client, stubber = dynamodb
    expect_marker(stubber, error="ProvisionedThroughputExceededException")

    with pytest.raises(ClientError):  # the message is retried; no UpdateItem was stubbed
        SweepProgress(client, TABLE).place_done(SWEEP, ACCOUNT, REGION)


def test_a_failed_increment_removes_the_marker_so_the_retried_message_counts_the_place(dynamodb):
    client, stubber = dynamodb
    progress = SweepProgress(client, TABLE)
    expect_marker(stubber)
    expect_increment(stubber, error="InternalServerError")
    stubber.add_response("delete_item", {}, {"TableName": TABLE, "Key": MARKER})

    with pytest.raises(ClientError, match="InternalServerError"):
        progress.place_done(SWEEP, ACCOUNT, REGION)
    stubber.assert_no_pending_responses()

    # SQS redelivers the message: its marker is gone, so this time the place is counted.
    expect_marker(stubber)
    expect_increment(stubber, done=2)
    assert progress.place_done(SWEEP, ACCOUNT, REGION) is True


def test_an_expired_counter_is_not_revived_and_sends_no_heartbeat(dynamodb):
    client, stubber = dynamodb
    expect_marker(stubber)
    expect_increment(stubber, error="ConditionalCheckFailedException")

    # No heartbeat, and the marker stays (no DeleteItem was stubbed): a redelivery counts nothing.
    assert SweepProgress(client, TABLE).place_done(SWEEP, ACCOUNT, REGION) is False


def test_only_the_place_that_completes_the_count_sends_the_heartbeat(dynamodb):
    client, stubber = dynamodb
    progress = SweepProgress(client, TABLE)
    expect_marker(stubber)
    expect_increment(stubber, done=1)
    expect_marker(stubber, error="ConditionalCheckFailedException")  # an SQS duplicate

    assert progress.place_done(SWEEP, ACCOUNT, REGION) is False  # 1 of 2
    assert progress.place_done(SWEEP, ACCOUNT, REGION) is False  # counted already
