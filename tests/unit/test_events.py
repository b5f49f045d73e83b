"""Which events the function accepts, and how it rejects everything else."""

import copy
from typing import Any

import pytest

from mwalerts.errors import InvalidEventError
from mwalerts.events import ScheduledEvent, WindowExecutionEvent, parse_event
from tests.support import load_event


def parse_window_execution_event(raw):
    event = parse_event(raw)
    assert isinstance(event, WindowExecutionEvent)
    return event.execution


def test_parses_the_real_window_execution_event_with_microsecond_timestamps():
    execution = parse_window_execution_event(load_event("window-execution-failed"))
    assert execution.account == "123456789012"
    assert execution.region == "us-east-2"
    assert execution.window_id == "mw-0ed7251d3fcf6e0c2"
    assert execution.window_execution_id == "791b72e0-f0da-4021-8b35-f95df1a2b3c4"
    assert execution.status == "FAILED"
    assert execution.end_time is not None
    assert execution.end_time.microsecond == 889213
    assert execution.is_terminal


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
    execution = parse_window_execution_event(raw)
    assert execution.start_time is not None
    assert execution.start_time.microsecond == 231000
    assert execution.end_time is None
    assert execution.duration_seconds is None


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
        parse_event(_mutated(path, value))
    assert expected in str(error.value)


def test_rejects_task_level_events_instead_of_alerting_on_them():
    with pytest.raises(InvalidEventError, match="detail-type"):
        parse_event(load_event("task-execution-failed"))


SCHEDULE = {
    "version": "0",
    "id": "89d1a02d-5ec7-412e-82f5-13505f849b41",
    "detail-type": "Scheduled Event",
    "source": "aws.events",
    "account": "123456789012",
    "time": "2026-11-20T02:30:00Z",
    "region": "us-east-2",
    "resources": ["arn:aws:events:us-east-2:123456789012:rule/sweep"],
    "detail": {},
}


def test_parses_the_sweep_schedule_event():
    event = parse_event(SCHEDULE)
    assert isinstance(event, ScheduledEvent)
    assert event.account == "123456789012"
    assert event.time.isoformat() == "2026-11-20T02:30:00+00:00"


def test_rejects_a_schedule_event_that_does_not_say_where_or_when():
    with pytest.raises(InvalidEventError, match="invalid schedule event: account"):
        parse_event({**SCHEDULE, "account": "me"})
    with pytest.raises(InvalidEventError, match="detail-type"):
        parse_event({**SCHEDULE, "detail-type": "Object Created"})


@pytest.mark.parametrize("raw", [None, [], "event", 42])
def test_rejects_input_that_is_not_a_json_object(raw):
    with pytest.raises(InvalidEventError, match="must be a JSON object"):
        parse_event(raw)


def test_error_messages_leave_long_values_out():
    raw = load_event("window-execution-failed")
    raw["detail"]["window-id"] = "x" * 5000
    with pytest.raises(InvalidEventError) as error:
        parse_event(raw)
    assert "xxxx" not in str(error.value)
