"""Counting invocations and picking out failures, on API-shaped data (no AWS)."""

import json
from datetime import UTC, datetime

from mwalerts.tally import MAX_KEPT_FAILURES, combine, instance_ids, summarise_task

ALERT = {"FAILED", "TIMED_OUT", "CANCELLED"}
TASK = {"TaskExecutionId": "ac0c6ae1-daa3-4a89-832e-d384503b6586", "TaskType": "RUN_COMMAND"}


def _invocation(number: int, status: str, **extra):
    return {
        "TaskExecutionId": TASK["TaskExecutionId"],
        "InvocationId": f"00000000-0000-4000-8000-{number:012d}",
        "Status": status,
        "Parameters": json.dumps({"instanceIds": [f"i-{number:017x}"], "commands": ["secret"]}),
        **extra,
    }


def test_counts_every_status_and_keeps_failures_in_api_order():
    statuses = ["SUCCESS", "FAILED", "SUCCESS", "TIMED_OUT", "CANCELLED", "IN_PROGRESS"]
    summary = summarise_task(TASK, (_invocation(n, s) for n, s in enumerate(statuses)), ALERT)
    assert summary.counts == {
        "SUCCESS": 2,
        "FAILED": 1,
        "TIMED_OUT": 1,
        "CANCELLED": 1,
        "IN_PROGRESS": 1,
    }
    assert summary.failure_count == 3
    assert [f.status for f in summary.failures] == ["FAILED", "TIMED_OUT", "CANCELLED"]
    assert summary.failures[0].instance_ids == ("i-00000000000000001",)


def test_alert_statuses_decide_what_counts_as_a_failure():
    invocations = [_invocation(1, "FAILED"), _invocation(2, "TIMED_OUT")]
    summary = summarise_task(TASK, invocations, {"TIMED_OUT"})
    assert summary.failure_count == 1
    assert summary.failures[0].status == "TIMED_OUT"


def test_keeps_a_bounded_number_of_failures_but_counts_them_all():
    seen = []
    count = MAX_KEPT_FAILURES + 500
    summary = summarise_task(
        TASK, (_invocation(n, "FAILED") for n in range(count)), ALERT, on_failure=seen.append
    )
    assert summary.failure_count == count
    assert len(summary.failures) == MAX_KEPT_FAILURES
    assert len(seen) == count  # every failure is still reported (logged) once


def test_combine_adds_up_tasks_and_caps_the_failures_across_tasks():
    first = summarise_task(
        TASK, [_invocation(n, "FAILED") for n in range(MAX_KEPT_FAILURES)], ALERT
    )
    second = summarise_task(TASK, [_invocation(1, "TIMED_OUT"), _invocation(2, "SUCCESS")], ALERT)
    report = combine([first, second])
    assert report.counts == {"FAILED": MAX_KEPT_FAILURES, "TIMED_OUT": 1, "SUCCESS": 1}
    assert report.total_invocations == MAX_KEPT_FAILURES + 2
    assert report.failure_count == MAX_KEPT_FAILURES + 1
    assert len(report.failures) == MAX_KEPT_FAILURES


def test_missing_optional_fields_become_none():
    bare = {"TaskExecutionId": TASK["TaskExecutionId"], "InvocationId": "x", "Status": "FAILED"}
    failure = summarise_task(TASK, [bare], ALERT).failures[0]
    assert failure.status_details is None
    assert failure.owner_information is None
    assert failure.end_time is None
    assert failure.instance_ids == ()


def test_keeps_timestamps_as_given():
    moment = datetime(2026, 11, 20, 2, 1, tzinfo=UTC)
    failure = summarise_task(TASK, [_invocation(1, "FAILED", StartTime=moment)], ALERT).failures[0]
    assert failure.start_time == moment


class TestInstanceIds:
    def test_reads_instance_ids_of_run_command_parameters(self):
        parameters = json.dumps({"instanceIds": ["i-0000293ffd8c57862", "mi-0123456789abcdef0"]})
        assert instance_ids("RUN_COMMAND", parameters) == (
            "i-0000293ffd8c57862",
            "mi-0123456789abcdef0",
        )

    def test_other_task_types_have_none(self):
        assert (
            instance_ids("AUTOMATION", json.dumps({"instanceIds": ["i-0000293ffd8c57862"]})) == ()
        )

    def test_tolerates_parameters_that_are_empty_not_json_or_odd(self):
        for parameters in [None, "", "not json", "[]", '{"instanceIds": "i-1"}', "null"]:
            assert instance_ids("RUN_COMMAND", parameters) == ()

    def test_takes_only_values_shaped_like_instance_ids(self):
        parameters = json.dumps({"instanceIds": ["i-0000293ffd8c57862", "rm -rf /", 7, None]})
        assert instance_ids("RUN_COMMAND", parameters) == ("i-0000293ffd8c57862",)
