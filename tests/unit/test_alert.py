"""The alert's content and its limits: digest, email text, subject, attributes, size."""

import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from mwalerts.alert import (
    SNS_MAX_MESSAGE_BYTES,
    assemble_alert,
    clean_text,
    render_alert,
    should_alert,
    subject_line,
)
from mwalerts.events import WindowExecutionEvent, parse_event
from mwalerts.model import iso
from mwalerts.tally import combine, summarise_task
from tests.support import assert_valid_digest, load_event

ALERT = {"FAILED", "TIMED_OUT", "CANCELLED"}
TASK_ID = "c9b05aba-197f-4d8d-be34-e73fb0d1e2f3"
TASK: Any = {
    "TaskExecutionId": TASK_ID,
    "TaskArn": "AWS-RunPatchBaseline",
    "TaskType": "RUN_COMMAND",
    "Status": "FAILED",
}
START = datetime(2026, 11, 20, 2, 1, 28, 39273, tzinfo=UTC)


def _invocation(number: int, status: str, details: str = "Failed", owner: str = "web"):
    return {
        "WindowExecutionId": "791b72e0-f0da-4021-8b35-f95df1a2b3c4",
        "TaskExecutionId": TASK_ID,
        "InvocationId": f"00000000-0000-4000-8000-{number:012d}",
        "ExecutionId": f"10000000-0000-4000-8000-{number:012d}",
        "TaskType": "RUN_COMMAND",
        "Parameters": json.dumps(
            {"instanceIds": [f"i-{number:017x}"], "parameters": {"commands": ["echo hunter2"]}}
        ),
        "Status": status,
        "StatusDetails": details,
        "StartTime": START,
        "EndTime": START + timedelta(seconds=50),
        "OwnerInformation": owner,
        "WindowTargetId": "e32eecb2-646c-4f4b-8ed1-205fb4a5b6c7",
    }


def _execution():
    event = parse_event(load_event("window-execution-failed"))
    assert isinstance(event, WindowExecutionEvent)
    return event.execution


def _alert(statuses: list[str], **invocation_fields):
    event = _execution()
    invocations = [_invocation(n, s, **invocation_fields) for n, s in enumerate(statuses)]
    report = combine([summarise_task(TASK, invocations, ALERT)])
    return event, report, render_alert(event, report)


def test_digest_has_every_documented_field():
    _, _, alert = _alert(["SUCCESS"] * 247 + ["FAILED", "FAILED", "TIMED_OUT"])
    digest = alert.digest
    assert digest == json.loads(json.loads(alert.message)["default"])
    assert_valid_digest(digest)
    lists = ("tasks", "failures", "failureGroups", "links")
    assert {k: v for k, v in digest.items() if k not in lists} == {
        "schemaVersion": 1,
        "notice": "alert",
        "account": "123456789012",
        "region": "us-east-2",
        "windowId": "mw-0ed7251d3fcf6e0c2",
        "windowName": None,  # no enrichment here: see test_enrichment.py
        "windowDescription": None,
        "windowExecutionId": "791b72e0-f0da-4021-8b35-f95df1a2b3c4",
        "status": "FAILED",
        "startTime": "2026-11-20T02:00:00.104Z",
        "endTime": "2026-11-20T02:15:41.889Z",
        "totalInvocations": 250,
        "failedInvocations": 3,
        "counts": {"SUCCESS": 247, "FAILED": 2, "TIMED_OUT": 1},
        "omittedFailures": 0,
        "streaks": None,  # not tracked here: see test_alert_streaks.py
    }
    assert digest["tasks"] == [
        {
            "taskExecutionId": TASK_ID,
            "taskArn": "AWS-RunPatchBaseline",
            "taskType": "RUN_COMMAND",
            "status": "FAILED",
            "counts": {"SUCCESS": 247, "FAILED": 2, "TIMED_OUT": 1},
        }
    ]
    assert digest["failures"][0] == {
        "taskExecutionId": TASK_ID,
        "invocationId": "00000000-0000-4000-8000-000000000247",
        "executionId": "10000000-0000-4000-8000-000000000247",
        "windowTargetId": "e32eecb2-646c-4f4b-8ed1-205fb4a5b6c7",
        "status": "FAILED",
        "statusDetails": "Failed",
        "ownerInformation": "web",
        "instanceIds": ["i-000000000000000f7"],
        "startTime": "2026-11-20T02:01:28.039Z",
        "endTime": "2026-11-20T02:02:18.039Z",
        "consoleUrl": "https://us-east-2.console.aws.amazon.com/systems-manager/run-command/"
        "10000000-0000-4000-8000-000000000247/i-000000000000000f7?region=us-east-2",
        "responseCode": None,
        "errorTail": None,
        "consecutiveFailures": None,
        "failingSince": None,
    }
    assert digest["failureGroups"] == [
        {
            "status": "FAILED",
            "statusDetails": "Failed",
            "count": 2,
            "examples": ["i-000000000000000f7", "i-000000000000000f8"],
            "sampledErrors": [],
        },
        {
            "status": "TIMED_OUT",
            "statusDetails": "Failed",
            "count": 1,
            "examples": ["i-000000000000000f9"],
            "sampledErrors": [],
        },
    ]
    assert digest["links"] == {
        "window": "https://us-east-2.console.aws.amazon.com/systems-manager/maintenance-windows/"
        "mw-0ed7251d3fcf6e0c2?region=us-east-2",
        "failures": None,  # no log group known without the function's environment
    }


def test_subject_and_attributes_summarise_the_run_for_filter_policies():
    _, _, alert = _alert(["SUCCESS"] * 247 + ["FAILED", "FAILED", "TIMED_OUT"])
    assert alert.subject == "[FAILED] mw-0ed7251d3fcf6e0c2: 3 of 250 invocations failed"
    assert alert.attributes == {
        "windowId": {"DataType": "String", "StringValue": "mw-0ed7251d3fcf6e0c2"},
        "status": {"DataType": "String", "StringValue": "FAILED"},
        "failedInvocations": {"DataType": "Number", "StringValue": "3"},
        "newFailures": {"DataType": "Number", "StringValue": "3"},  # no streaks: every target
    }


def test_email_body_is_a_short_readable_summary():
    _, _, alert = _alert(["SUCCESS"] * 247 + ["FAILED", "FAILED", "TIMED_OUT"])
    email = json.loads(alert.message)["email"]
    assert email.startswith("Maintenance window mw-0ed7251d3fcf6e0c2 ended FAILED.\n")
    assert "Ran               2026-11-20 02:00:00 UTC to 02:15:41 UTC (15m 41s)" in email
    assert "3 of 250 failed (247 SUCCESS, 2 FAILED, 1 TIMED_OUT)" in email
    assert (
        "FAILED      RUN_COMMAND    AWS-RunPatchBaseline: 247 SUCCESS, 2 FAILED, 1 TIMED_OUT"
        in email
    )
    assert "Failed targets (showing 3 of 3)" in email
    assert "i-000000000000000f7  FAILED     Failed [owner: web]" in email
    assert "       2 x FAILED Failed" in email  # failures by cause
    assert len(email.splitlines()) < 30


def test_never_carries_the_invocation_parameters():
    _, _, alert = _alert(["FAILED"] * 5)
    assert "hunter2" not in alert.message
    assert "commands" not in alert.message


def test_a_window_with_thousands_of_failures_fits_one_message_and_counts_what_was_left_out():
    long_details = "Step 3 failed: " + "x" * 230  # StatusDetails is at most 250 characters
    _, report, alert = _alert(["FAILED"] * 5000, details=long_details, owner="o" * 128)
    digest = alert.digest
    assert alert.size <= SNS_MAX_MESSAGE_BYTES
    assert digest["failedInvocations"] == 5000
    assert digest["counts"] == {"FAILED": 5000}
    assert 0 < len(digest["failures"]) < 5000
    assert digest["omittedFailures"] == 5000 - len(digest["failures"])
    event = _execution()
    one_more = assemble_alert(event, report, report.failures[: len(digest["failures"]) + 1])
    assert one_more.size > SNS_MAX_MESSAGE_BYTES  # the message is as full as it can be
    email = json.loads(alert.message)["email"]
    assert "Failed targets (showing 20 of 5000)" in email
    assert f"... and 4980 more: the JSON digest lists {len(digest['failures'])}" in email


def test_small_failures_are_cut_by_size_not_by_the_kept_failures_cap():
    _, _, alert = _alert(["FAILED"] * 3000, details="", owner="")
    assert alert.digest["omittedFailures"] > 0
    assert alert.size <= SNS_MAX_MESSAGE_BYTES


@pytest.mark.parametrize(
    ("window_status", "statuses", "expected"),
    [
        ("SUCCESS", ["SUCCESS"], False),
        ("SUCCESS", ["SUCCESS", "FAILED"], True),
        ("FAILED", [], True),  # the window failed with no invocation to blame
        ("TIMED_OUT", ["SUCCESS"], True),
        ("SKIPPED_OVERLAPPING", [], False),
    ],
)
def test_alerts_on_failed_invocations_or_a_window_that_ended_in_an_alert_status(
    window_status, statuses, expected
):
    report = combine(
        [summarise_task(TASK, [_invocation(n, s) for n, s in enumerate(statuses)], ALERT)]
    )
    assert should_alert(window_status, report, ALERT) is expected


class TestTextRules:
    def test_subject_is_ascii_one_line_and_under_100_characters(self):
        subject = subject_line("[FAILED] Fenêtre «prod»\nline two\t" + "x" * 200)
        assert subject.isascii()
        assert "\n" not in subject
        assert "\t" not in subject
        assert len(subject) < 100
        assert subject.startswith("[FAILED] Fenetre prod line two")

    def test_clean_text_removes_control_characters_and_unpaired_surrogates(self):
        cleaned = clean_text("bad\x00 \ud800 line\r\nbreak\x1b[31m", 100)
        cleaned.encode("utf-8")  # must not raise
        assert cleaned == "bad ? line break [31m"

    def test_clean_text_truncates_with_an_ellipsis(self):
        assert clean_text("a" * 50, 10) == "aaaaaaa..."

    def test_timestamps_are_utc_iso_8601_with_z(self):
        eastern = timezone(timedelta(hours=-5))
        assert iso(datetime(2026, 11, 19, 21, 0, 0, 123456, tzinfo=eastern)) == (
            "2026-11-20T02:00:00.123Z"
        )
        assert iso(None) is None


def test_email_lists_the_five_most_frequent_causes_and_counts_the_rest():
    invocations = [
        _invocation(n, "FAILED", details=f"Step {cause} failed")
        for n, cause in enumerate([1, 1, 1, 2, 2, 3, 4, 5, 6, 7])
    ]
    report = combine([summarise_task(TASK, invocations, ALERT)])
    email = json.loads(render_alert(_execution(), report).message)["email"]

    assert "Failures by cause (7)" in email
    assert "       3 x FAILED Step 1 failed" in email  # the most frequent first
    assert "       2 x FAILED Step 2 failed" in email
    assert "... and 2 more causes" in email
