"""The function end to end: an EventBridge event in, what subscribers receive and the metrics out.

AWS is in-process: moto's SNS (with an SQS subscriber, to read exactly what a subscriber gets) and
the project's fake of the SSM maintenance-window execution APIs, behind real boto3 clients.
"""

import json
import math
import os
import sys
from collections import Counter
from datetime import UTC, datetime
from typing import Any

import pytest
from botocore.exceptions import ClientError

from local_aws.environment import LocalAws, local_aws
from local_aws.scenario import (
    SECRET_IN_PARAMETERS,
    TaskPlan,
    seed_window_execution,
    window_execution_event,
)
from mwalerts import handler
from mwalerts.alert import SNS_MAX_MESSAGE_BYTES
from mwalerts.errors import InvalidEventError
from mwalerts.invocation import PACING_RESERVE_MS
from mwalerts.pacing import MIN_RATE, pacer_of
from tests.support import (
    assert_valid_digest,
    emf_documents,
    load_api_example,
    load_event,
    log_records,
    run_in_repo,
)

PATCHING = TaskPlan({"SUCCESS": 240, "FAILED": 8, "TIMED_OUT": 2}, "RUN_COMMAND")
RESTART = TaskPlan({"SUCCESS": 299, "CANCELLED": 1}, "AUTOMATION", "AWS-RestartEC2Instance")
SCRIPT = TaskPlan({"SUCCESS": 275}, "RUN_COMMAND", "AWS-RunShellScript")


def run(aws: LocalAws, event: dict[str, Any], context, capsys) -> tuple[dict[str, Any], str]:
    """Invoke the handler as Lambda would; return its result and everything it printed."""
    result = handler.handler(event, context, clients=aws.clients)
    return result, capsys.readouterr().out


def received_digests(aws: LocalAws) -> list[dict[str, Any]]:
    """What an SQS subscriber received, each checked against the published JSON Schema."""
    digests = [json.loads(envelope["Message"]) for envelope in aws.sqs_messages()]
    for digest in digests:
        assert_valid_digest(digest)
    return digests


def describe_calls(aws: LocalAws) -> list[Any]:
    """The paged Describe* calls (not the enrichment's Get* calls)."""
    return [call for call in aws.ssm.calls if call.operation.startswith("Describe")]


def metric_values(printed: str) -> dict[str, float]:
    """The one EMF document's metrics as name -> value (Powertools prints each value as [v])."""
    (document,) = emf_documents(printed)
    definitions = document["_aws"]["CloudWatchMetrics"][0]["Metrics"]
    return {m["Name"]: sum(document[m["Name"]]) for m in definitions}


def test_a_window_where_everything_succeeded_sends_nothing_but_records_metrics(
    aws, context, capsys
):
    execution = seed_window_execution(aws.ssm, [SCRIPT, TaskPlan({"SUCCESS": 12})])
    result, printed = run(aws, execution.event(), context, capsys)

    assert result["action"] == "all-clear"
    assert aws.published() == []
    assert metric_values(printed) == {
        "Invocations": 287,
        "InvocationsSucceeded": 287,
        "InvocationsFailed": 0,
        "InvocationsTimedOut": 0,
        "InvocationsCancelled": 0,
        "WindowExecutions": 1,
        "WindowExecutionsFailed": 0,
        "TargetsFailingConsecutively": 0,  # a clean run brings the streak series back to 0
        "LongestFailureStreak": 0,
        "WindowExecutionDuration": pytest.approx(941.785),
    }


def test_a_failed_window_sends_exactly_one_message_with_complete_counts(aws, context, capsys):
    execution = seed_window_execution(aws.ssm, [PATCHING, RESTART, SCRIPT])
    result, printed = run(aws, execution.event(), context, capsys)

    (digest,) = received_digests(aws)
    assert result == {
        "action": "alerted",
        "window_execution_id": execution.window_execution_id,
        "status": "FAILED",
        "total_invocations": 825,
        "failed_invocations": 11,
        "message_id": result["message_id"],
        "chat_message_id": None,
        "replayed": False,
    }
    assert result["message_id"]
    assert digest["windowExecutionId"] == execution.window_execution_id
    assert digest["counts"] == {"SUCCESS": 814, "FAILED": 8, "TIMED_OUT": 2, "CANCELLED": 1}
    assert [task["counts"] for task in digest["tasks"]] == [
        {"SUCCESS": 240, "FAILED": 8, "TIMED_OUT": 2},
        {"SUCCESS": 299, "CANCELLED": 1},
        {"SUCCESS": 275},
    ]
    assert len(digest["failures"]) == 11
    assert digest["omittedFailures"] == 0
    assert metric_values(printed)["InvocationsFailed"] == 8
    assert metric_values(printed)["WindowExecutionsFailed"] == 1


def test_failures_name_the_instances_and_why_they_failed(aws, context, capsys):
    execution = seed_window_execution(aws.ssm, [PATCHING, RESTART])
    run(aws, execution.event(), context, capsys)

    (digest,) = received_digests(aws)
    seeded = {
        invocation["InvocationId"]: invocation
        for invocations in execution.invocations.values()
        for invocation in invocations
    }
    for failure in digest["failures"]:
        source = seeded[failure["invocationId"]]
        assert failure["status"] == source["Status"]
        assert failure["statusDetails"] == source["StatusDetails"]
        assert failure["ownerInformation"] == "team=platform;env=prod"
        if source["TaskType"] == "RUN_COMMAND":
            assert failure["instanceIds"] == json.loads(source["Parameters"])["instanceIds"]
        else:
            assert failure["instanceIds"] == []
    assert Counter(f["status"] for f in digest["failures"]) == {
        "FAILED": 8,
        "TIMED_OUT": 2,
        "CANCELLED": 1,
    }


def test_every_page_of_every_task_is_fetched_exactly_once_at_100_per_page(aws, context, capsys):
    plans = [
        TaskPlan({"SUCCESS": 250, "FAILED": 1}),
        TaskPlan({"SUCCESS": 300}),  # exactly three full pages
        TaskPlan({"SUCCESS": 99, "TIMED_OUT": 420}),
    ]
    execution = seed_window_execution(aws.ssm, plans)
    run(aws, execution.event(), context, capsys)

    calls = describe_calls(aws)
    assert all(call.params["MaxResults"] == 100 for call in calls)
    assert [c.operation for c in calls].count("DescribeMaintenanceWindowExecutionTasks") == 1
    for task, plan in zip(execution.tasks, plans, strict=True):
        pages = [c for c in calls if c.params.get("TaskId") == task["TaskExecutionId"]]
        assert len(pages) == math.ceil(plan.invocation_count / 100)
        tokens = [page.params.get("NextToken") for page in pages]
        assert tokens[0] is None
        assert len(set(tokens)) == len(tokens)  # no page fetched twice
    (digest,) = received_digests(aws)
    assert digest["totalInvocations"] == 1070
    assert [sum(t["counts"].values()) for t in digest["tasks"]] == [251, 300, 519]


def test_many_task_executions_are_paged_too(aws, context, capsys):
    plans = [TaskPlan({"SUCCESS": 3, "FAILED": 1}) for _ in range(23)]
    execution = seed_window_execution(aws.ssm, plans)
    aws.ssm.empty_last_token = True  # the API's documented end marker: an empty NextToken
    result, _ = run(aws, execution.event(), context, capsys)

    assert result["total_invocations"] == 92
    (digest,) = received_digests(aws)
    assert len(digest["tasks"]) == 23
    assert digest["failedInvocations"] == 23


@pytest.mark.parametrize("status", ["FAILED", "TIMED_OUT", "CANCELLED"])
def test_each_alert_status_is_a_failure(aws, context, capsys, status):
    execution = seed_window_execution(aws.ssm, [TaskPlan({"SUCCESS": 20, status: 3})])
    result, printed = run(aws, execution.event(), context, capsys)

    assert result["failed_invocations"] == 3
    (published,) = aws.published()
    assert published["subject"] == (
        f"[FAILED] prod-web-nightly-patching ({execution.window_id}): 3 of 23 invocations failed"
    )
    assert published["attributes"]["failedInvocations"] == {"Type": "Number", "Value": "3"}
    metric = {"FAILED": "InvocationsFailed", "TIMED_OUT": "InvocationsTimedOut"}.get(
        status, "InvocationsCancelled"
    )
    assert metric_values(printed)[metric] == 3


def test_a_window_that_ended_in_an_alert_status_alerts_even_without_failed_invocations(
    aws, context, capsys
):
    execution = seed_window_execution(aws.ssm, [TaskPlan({"SUCCESS": 5})], status="TIMED_OUT")
    result, _ = run(aws, execution.event(), context, capsys)

    assert result["action"] == "alerted"
    (digest,) = received_digests(aws)
    assert digest["status"] == "TIMED_OUT"
    assert digest["failures"] == []


def test_the_aws_documentation_examples_are_handled(aws, context, capsys):
    tasks = load_api_example("describe-maintenance-window-execution-tasks")
    invocations = load_api_example("describe-maintenance-window-execution-task-invocations")
    task = _from_api(tasks["WindowExecutionTaskIdentities"][0])
    invocation = _from_api(invocations["WindowExecutionTaskInvocationIdentities"][0])
    invocation["Status"] = "FAILED"  # as the GetMaintenanceWindowExecutionTaskInvocation example
    invocation["StatusDetails"] = "Failed"
    aws.ssm.add_window_execution(
        {
            "WindowId": "mw-0c50858d01abcdef0",
            "WindowExecutionId": task["WindowExecutionId"],
            "Status": "FAILED",
        }
    )
    aws.ssm.add_task_execution(task, [invocation])
    event = window_execution_event(
        window_id="mw-0c50858d01abcdef0",
        window_execution_id=task["WindowExecutionId"],
        status="FAILED",
        start_time=task["StartTime"],
        end_time=task["EndTime"],
    )
    run(aws, event, context, capsys)

    (digest,) = received_digests(aws)
    assert digest["counts"] == {"FAILED": 1}
    assert digest["tasks"][0]["taskArn"] == "AWS-RunShellScript"
    (failure,) = digest["failures"]
    assert failure["invocationId"] == "e274b6e1-fe56-4e32-bd2a-8073c6381d8b"
    assert failure["instanceIds"] == ["i-0000293ffd8c57862"]
    assert failure["startTime"] == "2017-02-21T16:00:34.723Z"


def test_thousands_of_failures_fit_one_message_and_all_are_logged(aws, context, capsys):
    execution = seed_window_execution(aws.ssm, [TaskPlan({"FAILED": 4000, "SUCCESS": 1000})])
    result, printed = run(aws, execution.event(), context, capsys)

    (published,) = aws.published()
    (digest,) = received_digests(aws)
    size = len(published["message"].encode()) + len(published["subject"])
    assert size <= SNS_MAX_MESSAGE_BYTES
    assert digest["failedInvocations"] == 4000
    assert digest["counts"] == {"SUCCESS": 1000, "FAILED": 4000}
    assert 0 < len(digest["failures"]) < 4000
    assert digest["omittedFailures"] == 4000 - len(digest["failures"])
    logged = [r for r in log_records(printed) if r["message"] == "Failed invocation"]
    assert len(logged) == 4000
    assert result["failed_invocations"] == 4000


def test_logs_carry_the_window_execution_id_as_correlation_id(aws, context, capsys):
    execution = seed_window_execution(aws.ssm, [PATCHING])
    _, printed = run(aws, execution.event(), context, capsys)

    records = log_records(printed)
    assert records
    assert {r["correlation_id"] for r in records} == {execution.window_execution_id}
    failure_records = [r for r in records if r["message"] == "Failed invocation"]
    assert len(failure_records) == 10
    assert {r["status"] for r in failure_records} == {"FAILED", "TIMED_OUT"}
    assert all(r["instanceIds"] for r in failure_records)


def test_invocation_parameters_never_reach_an_alert_or_a_log(aws, context, capsys):
    execution = seed_window_execution(aws.ssm, [PATCHING, RESTART])
    _, printed = run(aws, execution.event(), context, capsys)

    assert SECRET_IN_PARAMETERS not in printed
    assert all(SECRET_IN_PARAMETERS not in p["message"] for p in aws.published())
    assert "Parameters" not in printed


def test_throttled_calls_are_retried_to_the_same_alert_and_metrics(context, capsys):
    plans = [PATCHING, RESTART, SCRIPT, TaskPlan({"SUCCESS": 180, "FAILED": 1})]
    runs = []
    for throttle_rate in (0.0, 0.3):  # the same window (same seed), in two separate accounts
        with local_aws() as aws:
            execution = seed_window_execution(aws.ssm, plans)
            aws.ssm.throttle(throttle_rate, seed=7)
            _, printed = run(aws, execution.event(), context, capsys)
            runs.append((received_digests(aws), metric_values(printed), aws.ssm.calls))

    (calm_digests, calm_metrics, calm_calls), (digests, metrics, calls) = runs
    assert digests == calm_digests
    assert len(digests) == 1
    assert metrics == calm_metrics
    errors = Counter(call.error for call in calls)
    assert errors["ThrottlingException"] >= 3  # about 30% of the calls
    assert errors[None] == len(calm_calls)  # each page was answered once in the end


def test_ssm_is_paced_and_the_other_clients_retry_throttling_adaptively(aws):
    assert pacer_of(aws.clients.ssm) is not None  # mwalerts.pacing decides SSM's retries
    assert aws.clients.ssm.meta.config.retries == {"mode": "standard", "total_max_attempts": 1}
    assert aws.clients.sns.meta.config.retries == {"mode": "adaptive", "total_max_attempts": 10}


def test_when_time_runs_out_the_invocation_fails_without_a_partial_alert(
    aws, context, capsys, virtual_time
):
    execution = seed_window_execution(aws.ssm, [PATCHING, SCRIPT])
    aws.ssm.throttle(1.0)
    start = virtual_time.monotonic()

    with pytest.raises(ClientError, match="ThrottlingException"):
        run(aws, execution.event(), context, capsys)
    # Retried until the next try could not come before the deadline (the timeout less the
    # reserve for publishing), not for a fixed number of attempts: ever further apart, as each
    # throttle cuts the rate; then the call that had no turn left failed as throttled. The clock
    # (the waits and the real time spent) ends within a lowest-rate turn of the deadline; the
    # waits alone are within it.
    retrying = (context.get_remaining_time_in_millis() - PACING_RESERVE_MS) / 1000
    assert len(aws.ssm.calls) >= 3
    assert retrying - 1 / MIN_RATE < virtual_time.monotonic() - start
    assert virtual_time.slept <= retrying
    assert aws.published() == []
    assert emf_documents(capsys.readouterr().out) == []  # nothing counted: the retry will


def test_a_failed_publish_fails_the_invocation_and_records_no_metrics(aws, context, capsys):
    execution = seed_window_execution(aws.ssm, [PATCHING])
    aws.clients.sns.delete_topic(TopicArn=aws.topic_arn)

    with pytest.raises(ClientError, match="NotFound"):
        run(aws, execution.event(), context, capsys)
    assert emf_documents(capsys.readouterr().out) == []


def test_an_unknown_window_execution_fails_so_that_lambda_retries(aws, context, capsys):
    event = load_event("window-execution-failed")
    with pytest.raises(ClientError, match="DoesNotExistException"):
        run(aws, event, context, capsys)


@pytest.mark.parametrize("status", ["PENDING", "IN_PROGRESS", "CANCELLING"])
def test_non_terminal_events_are_logged_and_ignored(aws, context, capsys, status):
    event = load_event("window-execution-success")
    event["detail"]["status"] = status
    result, printed = run(aws, event, context, capsys)

    assert result["action"] == "ignored"
    assert aws.ssm.calls == []
    assert aws.published() == []
    assert any(r["message"].startswith("Ignored") for r in log_records(printed))


@pytest.mark.parametrize(
    "event",
    [
        {},
        {"detail-type": "Scheduled Event", "source": "aws.events"},
        load_event("task-target-invocation-failed"),
        {**load_event("window-execution-failed"), "detail": {"window-id": "mw-1"}},
    ],
    ids=["empty", "other-source", "invocation-level", "bad-detail"],
)
def test_malformed_events_fail_the_invocation_and_are_counted(aws, context, capsys, event):
    with pytest.raises(InvalidEventError):
        handler.handler(event, context, clients=aws.clients)
    printed = capsys.readouterr().out

    assert aws.ssm.calls == []
    assert aws.published() == []
    (document,) = emf_documents(printed)
    assert document["InvalidEvents"] == [1.0]
    (rejected,) = [r for r in log_records(printed) if r["message"] == "Rejected event"]
    assert rejected["level"] == "ERROR"
    assert rejected["reason"].startswith("invalid ")
    assert "event: " in rejected["reason"]


def test_metrics_are_fleet_wide_and_per_window_without_execution_ids_as_dimensions(
    aws, context, capsys
):
    execution = seed_window_execution(aws.ssm, [PATCHING])
    _, printed = run(aws, execution.event(), context, capsys)

    (document,) = emf_documents(printed)
    (directive,) = document["_aws"]["CloudWatchMetrics"]
    assert directive["Namespace"] == "MaintenanceWindows"
    assert directive["Dimensions"] == [[], ["WindowId"]]
    assert document["WindowId"] == execution.window_id
    assert document["windowExecutionId"] == execution.window_execution_id  # metadata
    units = {m["Name"]: m["Unit"] for m in directive["Metrics"]}
    assert units["WindowExecutionDuration"] == "Seconds"
    assert units["Invocations"] == "Count"


# Run where the variable is set before the handler is imported, as Lambda does: a window execution,
# a malformed event and a sweep, each printing one EMF document.
SERVICE_NAME_SCRIPT = """
from datetime import timedelta
from local_aws.environment import LambdaContext, local_aws, use_function_environment
from local_aws.scenario import TaskPlan, schedule_event, seed_window_execution

use_function_environment()
from mwalerts import handler

with local_aws() as aws:
    execution = seed_window_execution(aws.ssm, [TaskPlan({"SUCCESS": 3, "FAILED": 1})])
    handler.handler(execution.event(), LambdaContext(), clients=aws.clients)
    try:
        handler.handler({}, LambdaContext(), clients=aws.clients)
    except Exception:
        pass
    sweep = schedule_event(execution.end_time + timedelta(minutes=5))
    handler.handler(sweep, LambdaContext(), clients=aws.clients)
"""


def test_metrics_keep_their_dimensions_where_powertools_service_name_is_set():
    """Powertools would add a `service` dimension to every metric, and the fleet-wide series the
    alarms and the dashboard read (no dimension) would get no data."""
    completed = run_in_repo(
        [sys.executable, "-c", SERVICE_NAME_SCRIPT],
        env={**os.environ, "POWERTOOLS_SERVICE_NAME": "payments"},
        check=True,
    )

    documents = emf_documents(completed.stdout)
    dimension_sets = {
        metric_name: directive["Dimensions"]
        for document in documents
        for directive in document["_aws"]["CloudWatchMetrics"]
        for metric_name in [directive["Metrics"][0]["Name"]]
    }
    assert dimension_sets == {
        "Invocations": [[], ["WindowId"]],  # the window execution's metrics
        "InvalidEvents": [[]],
        "SweepRecoveredExecutions": [[]],
    }
    assert all("service" not in document for document in documents)
    # The logs keep the function's own service name.
    assert {r["service"] for r in log_records(completed.stdout)} == {"maintenance-window-alerts"}


def _from_api(item: dict[str, Any]) -> dict[str, Any]:
    """An item of the AWS CLI's documented output, with epoch timestamps as datetimes."""
    return {
        key: datetime.fromtimestamp(value, UTC) if key.endswith("Time") else value
        for key, value in item.items()
    }


def test_invocations_missing_optional_fields_are_reported_as_they_are(aws, context, capsys):
    execution = seed_window_execution(aws.ssm, [TaskPlan({"SUCCESS": 1})])
    task_id = "6f1c2d3e-4a5b-4c6d-8e7f-9a0b1c2d3e4f"
    base = {"WindowExecutionId": execution.window_execution_id, "TaskExecutionId": task_id}
    aws.ssm.add_task_execution(
        {**base, "Status": "TIMED_OUT", "TaskType": "RUN_COMMAND", "TaskArn": "AWS-RunShellScript"},
        [
            {
                **base,
                "InvocationId": f"00000000-0000-4000-8000-00000000000{n}",
                "Status": status,
                **fields,
            }
            for n, (status, fields) in enumerate(
                [
                    ("TIMED_OUT", {}),  # no StatusDetails, times or Parameters at all
                    ("FAILED", {"Parameters": ""}),
                    ("FAILED", {"Parameters": "not json {"}),
                    ("FAILED", {"Parameters": '{"instanceIds": "i-0123456789abcdef0"}'}),
                    ("CANCELLED", {"StartTime": execution.start_time}),  # started, never ended
                ]
            )
        ],
    )
    run(aws, execution.event(), context, capsys)

    (digest,) = received_digests(aws)
    failures = {f["invocationId"][-1]: f for f in digest["failures"]}
    assert digest["counts"] == {"SUCCESS": 1, "FAILED": 3, "TIMED_OUT": 1, "CANCELLED": 1}
    assert failures["0"]["statusDetails"] is None
    assert failures["0"]["endTime"] is None
    assert all(f["instanceIds"] == [] for f in digest["failures"])
    assert failures["4"]["startTime"] == "2026-11-20T02:00:00.104Z"
    assert failures["4"]["endTime"] is None
