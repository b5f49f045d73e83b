"""Property-based tests (hypothesis) of alert rendering: `render_alert(execution,
combine([summarise_task(...)]))` over API-shaped task executions and invocations never produces a
wrong or malformed alert.

1 to 4 tasks (none in an explicit example), 0 to thousands of invocations, any status (unknown
ones included), StatusDetails and OwnerInformation with control characters, line breaks, emoji and
lone surrogates within and beyond the API's limits, missing optional fields (no StatusDetails,
EndTime, StartTime, OwnerInformation, Status, TaskType) and Parameters that are absent, empty, not
JSON, JSON of the wrong shape or hold instance IDs among junk. The subject obeys SNS's rules, the
message is a MessageStructure=json document whose "default" is the digest and whose "email" has no
control characters, the publish fits SNS's 262,144 bytes and is as full as it can be, the counts
are complete and the failures are the right ones, and the invocation's Parameters never appear.

Examples per run: 300 alerts (invocations per alert: about a third none, a fifth 1,000 or more, one
in ten cut to fit SNS; `--hypothesis-show-statistics` shows the mix), 50 and 50 single failures
with odd text.

Bugs these properties found stay as regression tests with the input that showed them: lone
surrogates reached the digest and the failure log records; free-form ID fields put control
characters into the email.
"""

import json
import random
import unicodedata
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from hypothesis import event as event_label
from hypothesis import example, given, settings
from hypothesis import strategies as st

from mwalerts import contract
from mwalerts.alert import (
    SNS_MAX_MESSAGE_BYTES,
    Alert,
    assemble_alert,
    failure_record,
    render_alert,
)
from mwalerts.model import WindowExecution
from mwalerts.tally import MAX_KEPT_FAILURES, ExecutionReport, combine, summarise_task
from tests.strategies import (
    ACCOUNTS,
    AWARE_DATETIMES,
    MARKER,
    NASTY_CHARACTERS,
    REGIONS,
    WINDOW_IDS,
    Expected,
    TaskPlan,
    assert_digest_is_complete_and_right,
    assert_subject_follows_sns_rules,
    build_tasks,
    counting_ids,
    execution_ids,
    expectation,
    lone_surrogates,
    magnitude,
    salted,
    strict_constant,
    task_plans,
)

EMAIL_FAILURE_LINES = 20  # docs/alerts.md: the email lists the first 20 failed targets
WINDOW_EXECUTION_ID = "791b72e0-f0da-4021-8b35-f95df1a2b3c4"
FREE_TEXT = ("StatusDetails", "OwnerInformation")


def sns_publish_bytes(alert: Alert) -> int:
    """What SNS counts against 262,144 bytes: message, subject and each attribute's name, type
    and value, in UTF-8."""
    attributes = sum(
        len(name.encode()) + len(value["DataType"].encode()) + len(value["StringValue"].encode())
        for name, value in alert.attributes.items()
    )
    return len(alert.message.encode()) + len(alert.subject.encode()) + attributes


def assert_email_is_clean_text(email: str, digest: Mapping[str, Any]) -> None:
    email.encode("utf-8")  # no lone surrogates
    assert email.endswith("\n")
    odd = [c for c in email if c != "\n" and unicodedata.category(c) in ("Cc", "Cs", "Zl", "Zp")]
    assert not odd, f"control characters or line separators in the email: {odd!r}"
    lines = email.split("\n")[:-1]
    assert lines[0] == f"Maintenance window {digest['windowId']} ended {digest['status']}."
    failed_lines = lines[: lines.index("Links")] if "Links" in lines else lines
    assert f"Tasks ({len(digest['tasks'])})" in lines
    failed, listed = digest["failedInvocations"], len(digest["failures"])
    shown = min(EMAIL_FAILURE_LINES, listed)
    header = f"Failed targets (showing {shown} of {failed})"
    if failed:
        target_lines = failed_lines[failed_lines.index(header) + 1 : -1]  # up to the blank line
        assert len(target_lines) == shown + (1 if failed > shown else 0)
        assert all(line.startswith("  ") for line in target_lines)
    else:
        assert not any(line.startswith("Failed targets") for line in lines)


def assert_alert_is_well_formed(
    alert: Alert, execution: WindowExecution, expected: Expected, report: ExecutionReport
) -> None:
    """Everything a subscriber of any protocol relies on, and that the alert is right."""
    assert_subject_follows_sns_rules(alert.subject, execution, expected.failed, expected.total)
    assert sns_publish_bytes(alert) <= SNS_MAX_MESSAGE_BYTES
    assert sns_publish_bytes(alert) <= alert.size <= SNS_MAX_MESSAGE_BYTES  # never under-counted
    body = json.loads(alert.message, parse_constant=strict_constant)
    assert isinstance(body, dict)
    assert set(body) == {"default", "email"}
    assert isinstance(body["default"], str)
    assert isinstance(body["email"], str)
    body["default"].encode("utf-8")
    assert json.loads(body["default"], parse_constant=strict_constant) == alert.digest
    assert alert.attributes == {
        contract.ATTRIBUTE_WINDOW_ID: {"DataType": "String", "StringValue": execution.window_id},
        contract.ATTRIBUTE_STATUS: {"DataType": "String", "StringValue": execution.status},
        contract.ATTRIBUTE_FAILED_INVOCATIONS: {
            "DataType": "Number",
            "StringValue": str(expected.failed),
        },
        # No streaks: every failing target (as the tally keys them) counts as new.
        contract.ATTRIBUTE_NEW_FAILURES: {
            "DataType": "Number",
            "StringValue": str(len(report.failing_targets)),
        },
    }
    assert_digest_is_complete_and_right(alert.digest, execution, expected)
    assert_email_is_clean_text(body["email"], alert.digest)
    assert MARKER not in alert.message + alert.subject + json.dumps(alert.attributes)


@st.composite
def window_executions(draw: st.DrawFn) -> WindowExecution:
    """What the event (or the sweep) says: start and end may be missing, or in any order."""
    return WindowExecution(
        account=draw(ACCOUNTS),
        region=draw(REGIONS),
        window_id=draw(WINDOW_IDS),
        window_execution_id=draw(execution_ids()),
        status=draw(st.sampled_from(contract.ALL_STATUSES)),
        start_time=draw(st.none() | AWARE_DATETIMES),
        end_time=draw(st.none() | AWARE_DATETIMES),
    )


ALERT_STATUS_SETS = st.one_of(
    st.just(frozenset(contract.DEFAULT_ALERT_STATUSES)),
    st.frozensets(st.sampled_from(contract.ALL_STATUSES), min_size=1),
)


SAMPLE_EXECUTION = WindowExecution(
    "123456789012",
    "us-east-2",
    "mw-0ed7251d3fcf6e0c2",
    WINDOW_EXECUTION_ID,
    "FAILED",
    datetime(2026, 11, 20, 2, 0, 0, 104_829, tzinfo=UTC),
    None,
)


@settings(max_examples=300, deadline=None)
@example(  # a window execution whose tasks never started
    execution=SAMPLE_EXECUTION,
    plans=[],
    alert_statuses=frozenset(contract.DEFAULT_ALERT_STATUSES),
    order=random.Random(0),
)
@example(  # the API responses the issue names: every optional field missing or odd
    execution=SAMPLE_EXECUTION,
    plans=[
        TaskPlan(
            {"TaskType": "RUN_COMMAND"},
            [
                ({"Status": "TIMED_OUT"}, 1),  # no StatusDetails, times or Parameters at all
                ({"Status": "FAILED", "StartTime": SAMPLE_EXECUTION.start_time}, 1),  # no EndTime
                ({"Status": "FAILED", "Parameters": ""}, 1),
                ({"Status": "FAILED", "Parameters": f"{MARKER} not json {{"}, 1),
                ({"Status": "FAILED", "Parameters": json.dumps({"instanceIds": MARKER})}, 1),
                ({"Status": "CANCELLED", "Parameters": json.dumps([MARKER])}, 1),
                ({}, 1),  # not even a Status
            ],
        )
    ],
    alert_statuses=frozenset(contract.DEFAULT_ALERT_STATUSES),
    order=random.Random(0),
)
@given(
    execution=window_executions(),
    plans=st.lists(task_plans(within_api_limits=False, many=1_200), min_size=1, max_size=4),
    alert_statuses=ALERT_STATUS_SETS,
    order=st.randoms(use_true_random=False),
)
def test_the_alert_for_any_api_responses_is_right_complete_and_valid_for_every_protocol(
    execution: WindowExecution, plans: list[TaskPlan], alert_statuses: frozenset[str], order: Any
) -> None:
    tasks = build_tasks(plans, execution.window_execution_id, counting_ids(1), order)
    report = combine([summarise_task(task, rows, alert_statuses) for task, rows in tasks])
    alert = render_alert(execution, report)

    expected = expectation(tasks, alert_statuses)
    event_label(f"invocations: {magnitude(expected.total)}")
    event_label("failures cut to fit SNS" if alert.digest["omittedFailures"] else "no failure cut")
    texts_seen = [row.get(k) for _, rows in tasks for row in rows for k in FREE_TEXT]
    if lone_surrogates(texts_seen):
        event_label("lone surrogates in StatusDetails/OwnerInformation")
    assert_alert_is_well_formed(alert, execution, expected, report)
    listed = len(alert.digest["failures"])
    if alert.digest["omittedFailures"] and listed < MAX_KEPT_FAILURES:
        # Cut by size only: one failure more would not fit.
        fuller = assemble_alert(execution, report, report.failures[: listed + 1])
        assert sns_publish_bytes(fuller) > SNS_MAX_MESSAGE_BYTES


def _one_failure_alert(invocation_fields: Mapping[str, Any]) -> tuple[Alert, Any]:
    """The alert for one task with one FAILED invocation carrying `invocation_fields`."""
    task: Any = {"TaskExecutionId": "c9b05aba-197f-4d8d-be34-e73fb0d1e2f3"}
    invocation: Any = {
        "WindowExecutionId": WINDOW_EXECUTION_ID,
        "TaskExecutionId": task["TaskExecutionId"],
        "InvocationId": "00000000-0000-4000-8000-000000000001",
        "Status": "FAILED",
        **invocation_fields,
    }
    report = combine([summarise_task(task, [invocation], frozenset({"FAILED"}))])
    return render_alert(SAMPLE_EXECUTION, report), report


@settings(max_examples=50, deadline=None)
@example(details="Failed: \ud800", owner="team=platform")
@example(details="Failed", owner="team=\udfff")
@given(details=salted(250), owner=salted(128, min_size=1))
def test_digest_and_failure_logs_hold_only_valid_unicode_whatever_the_api_text(
    details: str, owner: str
) -> None:
    alert, report = _one_failure_alert({"StatusDetails": details, "OwnerInformation": owner})
    assert not lone_surrogates(alert.digest), "the digest holds text that is not Unicode"
    assert not lone_surrogates(failure_record(report.failures[0])), "so does the log record"


@settings(max_examples=50, deadline=None)
@example(field="ExecutionId", text="cmd-1\nInjected line")
@example(field="WindowTargetId", text="target\r\x1b[31m")
@given(
    field=st.sampled_from(("ExecutionId", "WindowTargetId")),
    text=st.text(st.sampled_from(NASTY_CHARACTERS), min_size=1, max_size=36),
)
def test_the_email_stays_clean_whatever_free_form_id_fields_hold(field: str, text: str) -> None:
    alert, _ = _one_failure_alert({field: text, "TaskType": "AUTOMATION"})
    email = json.loads(alert.message)["email"]
    odd = [c for c in email if c != "\n" and unicodedata.category(c) in ("Cc", "Cs", "Zl", "Zp")]
    assert not odd, f"control characters in the email: {odd!r}"
    lines = email.split("\n")[:-1]
    start = lines.index("Failed targets (showing 1 of 1)") + 1
    assert lines[start + 1] == ""  # one target line, then the next section
