"""`make demo`: the function's whole job on in-process AWS, shown the way subscribers see it.

Seeds a realistic window execution into the fake SSM execution APIs, sends its EventBridge event
through `handler.handler` with moto's SNS and SQS behind it, and prints what an email subscriber
and an SQS subscriber receive and the metrics emitted; then shows that the same event delivered
twice makes one alert, that the sweep finds a run whose event never came, what the operator
command `mwalerts report` prints for the run, and three nights of another window: a new failure,
the same plus a second, then a clean night and its resolved notice. Exits non-zero if any step
fails.
"""

import contextlib
import io
import json
import sys
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

from local_aws.demo_streaks import show_streaks
from local_aws.environment import (
    LambdaContext,
    LocalAws,
    follow_stdout,
    local_aws,
    use_function_environment,
)
from local_aws.scenario import SeededExecution, TaskPlan, schedule_event, seed_window_execution
from mwalerts.clients import aws_session
from mwalerts_cli import main as cli
from mwalerts_cli.aws import Clients

CONTEXT = LambdaContext()
_LATER = datetime(2026, 11, 21, 2, 0, tzinfo=UTC)  # the next night's run
TASKS = [
    TaskPlan({"SUCCESS": 233, "FAILED": 5, "TIMED_OUT": 2}, "RUN_COMMAND", "AWS-RunPatchBaseline"),
    TaskPlan({"SUCCESS": 59, "CANCELLED": 1}, "AUTOMATION", "AWS-RestartEC2Instance"),
    TaskPlan({"SUCCESS": 240}, "RUN_COMMAND", "AWS-RunShellScript"),
]


def main() -> int:
    use_function_environment()
    from mwalerts import handler  # noqa: PLC0415 - only once the function's environment is set

    follow_stdout(handler.logger)

    with local_aws() as aws:
        execution = seed_window_execution(aws.ssm, TASKS)
        total = sum(plan.invocation_count for plan in TASKS)
        _heading(
            f"1. Seeded window {execution.window_id}, execution {execution.window_execution_id}: "
            f"{len(TASKS)} tasks, {total} invocations"
        )
        for plan in TASKS:
            counts = ", ".join(f"{n} {status}" for status, n in plan.statuses.items())
            print(f"   {plan.task_type:<12} {plan.task_arn:<24} {counts}")

        printed = io.StringIO()
        with contextlib.redirect_stdout(printed):
            outcome = handler.handler(execution.event(), CONTEXT, clients=aws.clients)
        lines = [json.loads(line) for line in printed.getvalue().splitlines() if line[:1] == "{"]

        _heading(
            f"2. Sent its EventBridge event (status {execution.status}) through handler.handler"
        )
        print(
            f"   outcome: {outcome['action']}, {outcome['failed_invocations']} of "
            f"{outcome['total_invocations']} invocations failed"
        )
        _show_ssm_calls(aws)
        _show_subscribers(aws)
        _show_metrics([line for line in lines if "_aws" in line])
        failures = [line for line in lines if line.get("message") == "Failed invocation"]
        _heading(f"6. Logs: one 'Failed invocation' record per failure ({len(failures)}), e.g.")
        print(_indent(json.dumps(failures[0], indent=2)) if failures else "   (none)")

        expected_failures = sum(
            n for plan in TASKS for s, n in plan.statuses.items() if s != "SUCCESS"
        )
        problems = _check(outcome, aws, total, expected_failures, len(failures))
        problems += _show_exactly_once(handler, aws, execution)
        problems += _show_operator_report(aws, execution)
        problems += show_streaks(handler, aws, step=10)
    if problems:
        print("\nDEMO FAILED: " + "; ".join(problems), file=sys.stderr)
        return 1
    print(
        "\nDemo passed: one alert per failed run, complete counts, metrics emitted, "
        "new failures told from known ones, a resolved notice."
    )
    return 0


def _show_exactly_once(handler: Any, aws: LocalAws, execution: SeededExecution) -> list[str]:
    """The same event again, then a run whose event never came, found by the sweep."""
    with contextlib.redirect_stdout(io.StringIO()):
        again = handler.handler(execution.event(), CONTEXT, clients=aws.clients)
        missed = seed_window_execution(
            aws.ssm, [TaskPlan({"SUCCESS": 58, "FAILED": 2})], seed=7, start_time=_LATER
        )
        swept = handler.handler(
            schedule_event(missed.end_time + timedelta(minutes=10)),
            CONTEXT,
            clients=aws.clients,
        )
    _heading("7. The same event delivered again (EventBridge and Lambda are at-least-once)")
    print(f"   outcome: {again['action']}, replayed={again['replayed']}: no second message")
    _heading("8. A run whose event SSM never delivered, found by the scheduled sweep")
    print(
        f"   sweep examined {swept['examined']} ended executions and processed "
        f"{len(swept['recovered'])} no event had: {', '.join(swept['recovered'])}"
    )
    subjects = [p["subject"] for p in aws.published()]
    print(f"   messages on the topic so far: {len(subjects)}")
    for subject in subjects:
        print(f"     {subject}")
    if not again["replayed"] or swept["recovered"] != [missed.window_execution_id]:
        return ["a duplicate was processed again, or the sweep missed the dropped execution"]
    return [] if len(subjects) == 2 else [f"expected 2 messages in all, got {len(subjects)}"]


def _show_operator_report(aws: LocalAws, execution: SeededExecution) -> list[str]:
    """The operator command on the same run: what it prints to a terminal."""
    argv = [
        "report",
        "--window-id",
        execution.window_id,
        "--window-execution-id",
        execution.window_execution_id,
        "--failed-only",
    ]
    _heading(f"9. The operator command on the same run: mwalerts {' '.join(argv)}\n")
    session = aws_session(region_name=aws.clients.ssm.meta.region_name)
    code = cli.main(argv, clients=Clients(session, ssm=aws.clients.ssm))
    return [] if code == 0 else [f"mwalerts report exited {code}"]


def _show_subscribers(aws: LocalAws) -> None:
    published = aws.published()
    if not published:
        _heading("3. Nothing was published")
        return
    message = json.loads(published[0]["message"])
    _heading("3. An email subscriber receives")
    print(f"   Subject: {published[0]['subject']}\n")
    print(_indent(message["email"]))
    envelope = aws.sqs_messages()[0]
    digest = json.loads(envelope["Message"])
    shown = dict(digest, failures=digest["failures"][:2])
    _heading(
        "4. An SQS subscriber receives an SNS envelope whose Message is the JSON digest "
        f"(2 of its {len(digest['failures'])} failures shown)"
    )
    print(_indent(json.dumps(shown, indent=2)))
    attributes = {k: v["Value"] for k, v in envelope["MessageAttributes"].items()}
    print(f"   MessageAttributes, for subscription filter policies: {attributes}")


def _show_metrics(documents: list[dict[str, Any]]) -> None:
    _heading("5. Metrics emitted (embedded metric format: no CloudWatch API calls)")
    for document in documents:
        directive = document["_aws"]["CloudWatchMetrics"][0]
        print(f"   namespace {directive['Namespace']}, dimension sets {directive['Dimensions']}")
        for metric in directive["Metrics"]:
            value = sum(document[metric["Name"]])  # Powertools prints values as [v]
            print(f"   {metric['Name']:<26} {value:>10g} {metric['Unit']}")


def _show_ssm_calls(aws: LocalAws) -> None:
    calls = Counter(call.operation for call in aws.ssm.calls)
    sizes = {
        call.params["MaxResults"]
        for call in aws.ssm.calls
        if call.operation == "DescribeMaintenanceWindowExecutionTaskInvocations"
    }
    shown = ", ".join(map(str, sorted(sizes)))
    print(f"   SSM calls ({calls.total()}), every page of every task at MaxResults={shown}:")
    for operation, count in calls.items():
        print(f"     {count:>3} {operation}")


def _check(
    outcome: dict[str, Any], aws: LocalAws, total: int, failures: int, logged: int
) -> list[str]:
    problems = []
    if outcome["action"] != "alerted":
        problems.append(f"expected an alert, got {outcome['action']}")
    if outcome["total_invocations"] != total or outcome["failed_invocations"] != failures:
        problems.append("counts differ from the seeded window")
    if len(aws.published()) != 1:
        problems.append(f"expected one SNS message, got {len(aws.published())}")
    if logged != failures:
        problems.append(f"expected {failures} failure log records, got {logged}")
    return problems


def _heading(text: str) -> None:
    print(f"\n{text}")


def _indent(text: str) -> str:
    return "\n".join(f"   {line}" if line else "" for line in text.splitlines())


if __name__ == "__main__":
    sys.exit(main())
