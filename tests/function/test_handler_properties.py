"""Property-based test (hypothesis) of the handler end to end: the real handler with in-process
AWS (moto and the fake SSM APIs, which hold the seeded items to the API's own constraints), given
any API-shaped window execution (tests/strategies.py), sends one correct alert or none, logs every
failure once and never shows Parameters.

Examples per run: 40 end-to-end runs, on one in-process AWS.
"""

import contextlib
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import event as event_label
from hypothesis import given, settings
from hypothesis import strategies as st

from local_aws.environment import LambdaContext, LocalAws, local_aws
from local_aws.scenario import ACCOUNT, REGION, window_execution_event
from mwalerts import contract, handler
from mwalerts.model import WindowExecution
from tests.strategies import (
    AWARE_DATETIMES,
    MARKER,
    WINDOW_IDS,
    TaskPlan,
    assert_digest_is_complete_and_right,
    assert_subject_follows_sns_rules,
    build_tasks,
    counting_ids,
    expectation,
    magnitude,
    strict_constant,
    task_plans,
)


@pytest.fixture(scope="module")
def shared_aws() -> Iterator[LocalAws]:
    """One in-process AWS for every example (0.25 s to build): each example seeds its own window
    execution under fresh IDs, so the idempotency records never meet."""
    with local_aws() as environment:
        yield environment


_E2E_IDS = counting_ids(0xE2E)


@dataclass(frozen=True)
class RunPlan:
    window_id: str
    status: str
    start: datetime
    end: datetime | None
    tasks: list[TaskPlan]


@st.composite
def e2e_runs(draw: st.DrawFn) -> RunPlan:
    start = draw(AWARE_DATETIMES).replace(microsecond=0).astimezone(UTC)
    duration = draw(st.none() | st.integers(0, 86_400))
    return RunPlan(
        window_id=draw(WINDOW_IDS),
        status=draw(st.sampled_from(contract.ALL_STATUSES)),
        start=start,
        end=None if duration is None else start + timedelta(seconds=duration),
        tasks=draw(st.lists(task_plans(within_api_limits=True, many=250), max_size=3)),
    )


def printed_lines(text: str) -> list[dict[str, Any]]:
    # CloudWatch Logs splits on "\n" only (str.splitlines would also split inside a record that
    # holds U+2028 and the like).
    return [json.loads(line) for line in text.split("\n") if line.startswith("{")]


@settings(max_examples=40, deadline=None)
@given(run=e2e_runs(), order=st.randoms(use_true_random=False))
def test_the_handler_sends_one_right_alert_or_none_for_any_api_shaped_window_execution(
    shared_aws: LocalAws, run: RunPlan, order: Any
) -> None:
    aws = shared_aws
    aws.sqs_messages()  # nothing left over from an earlier example
    execution_id = _E2E_IDS()
    seeded: dict[str, Any] = {
        "WindowId": run.window_id,
        "WindowExecutionId": execution_id,
        "Status": run.status,
        "StartTime": run.start,
    }
    if run.end is not None:
        seeded["EndTime"] = run.end
    aws.ssm.add_window_execution(seeded)
    tasks = build_tasks(run.tasks, execution_id, _E2E_IDS, order)
    for task, invocations in tasks:
        aws.ssm.add_task_execution(task, invocations)  # the fake checks the API's constraints
    event = window_execution_event(
        window_id=run.window_id,
        window_execution_id=execution_id,
        status=run.status,
        start_time=run.start,
        end_time=run.end,
    )

    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        result = handler.handler(event, LambdaContext(), clients=aws.clients)
    envelopes = aws.sqs_messages()

    output = printed.getvalue()
    assert MARKER not in output
    assert MARKER not in json.dumps(envelopes)
    records = printed_lines(output)
    if run.status not in contract.TERMINAL_STATUSES:
        assert result["action"] == "ignored"
        assert envelopes == []
        return
    alert_statuses = handler.settings.alert_statuses
    expected = expectation(tasks, alert_statuses)
    alerted = expected.failed > 0 or run.status in alert_statuses
    assert result["action"] == ("alerted" if alerted else "all-clear")
    assert (result["total_invocations"], result["failed_invocations"]) == (
        expected.total,
        expected.failed,
    )
    event_label(f"alerted, {magnitude(expected.total)} invocations" if alerted else "no alert")
    failure_logs = [r for r in records if r.get("message") == "Failed invocation"]
    assert len(failure_logs) == expected.failed  # every failure logged, once
    if not alerted:
        assert envelopes == []
        return
    (envelope,) = envelopes
    execution = WindowExecution(
        ACCOUNT, REGION, run.window_id, execution_id, run.status, run.start, run.end
    )
    assert_subject_follows_sns_rules(
        envelope["Subject"], execution, expected.failed, expected.total
    )
    assert envelope["MessageAttributes"][contract.ATTRIBUTE_FAILED_INVOCATIONS]["Value"] == str(
        expected.failed
    )
    digest = json.loads(envelope["Message"], parse_constant=strict_constant)
    assert_digest_is_complete_and_right(digest, execution, expected)
