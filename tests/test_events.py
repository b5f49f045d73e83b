"""Which events the function accepts, and how it rejects everything else."""

import copy
from typing import Any

import pytest

from mwalerts.errors import InvalidEventError
from mwalerts.events import parse_window_execution_event
from tests.support import load_event


def test_parses_the_real_window_execution_event_with_microsecond_timestamps():
    event = parse_window_execution_event(load_event("window-execution-failed"))
    assert event.account == "123456789012"
    assert event.region == "us-east-2"
    assert event.detail.window_id == "mw-0ed7251d3fcf6e0c2"
    assert event.detail.window_execution_id == "791b72e0-f0da-4021-8b35-f95df1a2b3c4"
    assert event.detail.status == "FAILED"
    assert event.detail.end_time is not None
    assert event.detail.end_time.microsecond == 889213
    assert event.is_terminal


@pytest.mark.parametrize(
    ("status", "terminal"),
    [
        ("PENDING", False),
        ("IN_PROGRESS", False),
        ("CANCELLING", False),
        ("SUCCESS", True),
        ("FAILED", True),
        ("TIMED_OUT", True),
        ("CANCELLED", True),
        ("SKIPPED_OVERLAPPING", True),
    ],
)
def test_knows_which_statuses_end_a_window_execution(status, terminal):
    raw = load_event("window-execution-success")
    raw["detail"]["status"] = status
    assert parse_window_execution_event(raw).is_terminal is terminal


def test_accepts_millisecond_timestamps_and_a_missing_end_time():
    raw = load_event("window-execution-success")
    raw["detail"]["start-time"] = "2026-11-21T02:00:00.231Z"
    del raw["detail"]["end-time"]
    event = parse_window_execution_event(raw)
    assert event.detail.start_time.microsecond == 231000
    assert event.detail.end_time is None


def _mutated(path: list[str], value: Any) -> dict[str, Any]:
    raw = copy.deepcopy(load_event("window-execution-failed"))
    target = raw
    for key in path[:-1]:
        target = target[key]
    if value is _DELETE:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return raw


_DELETE = object()


@pytest.mark.parametrize(
    ("path", "value", "expected"),
    [
        (["source"], "aws.ec2", "source: Input should be 'aws.ssm' (got 'aws.ec2')"),
        (
            ["detail-type"],
            "Maintenance Window Task Execution State-change Notification",
            "detail-type: Input should be 'Maintenance Window Execution State-change Notification'",
        ),
        (["detail", "window-id"], "mw-123", "detail.window-id: String should match pattern"),
        (["detail", "window-execution-id"], "not-a-uuid", "detail.window-execution-id"),
        (["detail", "status"], "success", "detail.status: Input should be 'PENDING'"),
        (["detail", "start-time"], "yesterday", "detail.start-time"),
        (["detail", "start-time"], "2026-11-20T02:00:00", "detail.start-time"),  # no time zone
        (["detail", "window-id"], _DELETE, "detail.window-id: Field required"),
        (["detail"], _DELETE, "detail: Field required"),
        (["account"], "12345", "account: String should match pattern"),
        (["region"], "moon-base", "region: String should match pattern"),
    ],
)
def test_rejects_malformed_events_with_a_message_naming_the_field(path, value, expected):
    with pytest.raises(InvalidEventError) as error:
        parse_window_execution_event(_mutated(path, value))
    assert expected in str(error.value)


def test_rejects_task_level_events_instead_of_alerting_on_them():
    with pytest.raises(InvalidEventError, match="detail-type"):
        parse_window_execution_event(load_event("task-execution-failed"))


@pytest.mark.parametrize("raw", [None, [], "event", 42])
def test_rejects_input_that_is_not_a_json_object(raw):
    with pytest.raises(InvalidEventError, match="must be a JSON object"):
        parse_window_execution_event(raw)


def test_error_messages_leave_long_values_out():
    raw = load_event("window-execution-failed")
    raw["detail"]["window-id"] = "x" * 5000
    with pytest.raises(InvalidEventError) as error:
        parse_window_execution_event(raw)
    assert "xxxx" not in str(error.value)
