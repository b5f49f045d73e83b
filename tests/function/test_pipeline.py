"""The pipeline the function and the command share (mwalerts.pipeline), on in-process AWS: what a
watcher sees, which failures are logged, and which calls it makes for a given window and rules."""

import threading
from collections import Counter
from typing import Any

from local_aws.scenario import TaskPlan, seed_window_execution
from mwalerts.enrich import WindowInfo
from mwalerts.events import parse_event
from mwalerts.pipeline import AlertRules, Watcher, assess_execution
from tests.support import log_records

RULES = AlertRules(alert_statuses=frozenset({"FAILED", "TIMED_OUT", "CANCELLED"}))
PATCHING = TaskPlan({"SUCCESS": 230, "FAILED": 3, "TIMED_OUT": 1})  # three pages
RESTART = TaskPlan({"SUCCESS": 40, "CANCELLED": 1}, "AUTOMATION", "AWS-RestartEC2Instance")


class Recording(Watcher):
    def __init__(self) -> None:
        self.events: list[tuple[str, str]] = []
        self.invocations: Counter[str] = Counter()
        self._lock = threading.Lock()  # called from the reading threads

    def tasks_listed(self, tasks: Any) -> None:
        with self._lock:
            self.events += [("listed", task["TaskExecutionId"]) for task in tasks]

    def invocation(self, task: Any, invocation: Any) -> None:
        with self._lock:
            self.invocations[invocation["InvocationId"]] += 1

    def task_done(self, task: Any) -> None:
        with self._lock:
            self.events.append(("done", task["TaskExecutionId"]))


def calls(aws, operation: str) -> int:
    return sum(call.operation == operation for call in aws.ssm.calls)


def test_a_watcher_sees_the_tasks_then_every_invocation_once(aws):
    seeded = seed_window_execution(aws.ssm, [PATCHING, RESTART])
    watcher = Recording()

    assessed = assess_execution(
        aws.clients.ssm, parse_event(seeded.event()).execution, RULES, watcher=watcher
    )

    task_ids = [task["TaskExecutionId"] for task in seeded.tasks]
    assert watcher.events[:2] == [("listed", task_id) for task_id in task_ids]
    assert sorted(watcher.events[2:]) == sorted(("done", task_id) for task_id in task_ids)
    seeded_ids = {i["InvocationId"] for task in seeded.invocations.values() for i in task}
    assert set(watcher.invocations) == seeded_ids
    assert set(watcher.invocations.values()) == {1}
    assert assessed.report.total_invocations == len(seeded_ids) == 275


def test_each_failure_is_logged_naming_its_window_unless_turned_off(aws, capsys):
    seeded = seed_window_execution(aws.ssm, [PATCHING, RESTART])
    execution = parse_event(seeded.event()).execution
    capsys.readouterr()

    assess_execution(aws.clients.ssm, execution, RULES)
    logged = [
        r for r in log_records(capsys.readouterr().out) if r["message"] == "Failed invocation"
    ]
    assess_execution(aws.clients.ssm, execution, RULES, log_failures=False)
    silent = [
        r for r in log_records(capsys.readouterr().out) if r["message"] == "Failed invocation"
    ]

    assert len(logged) == 5
    assert {(r["windowId"], r["windowExecutionId"]) for r in logged} == {
        (seeded.window_id, seeded.window_execution_id)
    }
    assert silent == []


def test_an_execution_without_failures_is_rendered_but_reads_no_command_output(aws):
    seeded = seed_window_execution(aws.ssm, [TaskPlan({"SUCCESS": 12})])

    assessed = assess_execution(aws.clients.ssm, parse_event(seeded.event()).execution, RULES)

    assert assessed.alerting is False
    assert assessed.alert.digest["totalInvocations"] == 12  # what it would publish
    assert calls(aws, "GetCommandInvocation") == 0


def test_the_rules_bound_the_command_output_read_and_a_window_given_is_not_read(aws):
    seeded = seed_window_execution(aws.ssm, [PATCHING])
    rules = AlertRules(RULES.alert_statuses, error_details_limit=2, log_group_name="/aws/x")

    assessed = assess_execution(
        aws.clients.ssm,
        parse_event(seeded.event()).execution,
        rules,
        window=WindowInfo("as-given", None),
    )

    assert assessed.alerting
    assert calls(aws, "GetMaintenanceWindow") == 0
    assert calls(aws, "GetCommandInvocation") == 2
    assert assessed.alert.digest["windowName"] == "as-given"
    assert assessed.alert.digest["links"]["failures"] is not None
