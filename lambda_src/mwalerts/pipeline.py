"""The function's work on one window execution, up to the alert and without sending it: read every
page of every task, count, decide whether to alert, read what explains the failures, render.

The function (mwalerts.service) publishes the result and records its metrics around this; the
operator command (`mwalerts report`, `replay`, `history`) prints it, watching the invocations
stream past. Nothing here writes to AWS: its only effects are log records, one per failed
invocation (which the command turns off) and a warning when a detail cannot be read.
"""

from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING

from aws_lambda_powertools import Logger

from mwalerts import contract
from mwalerts.alert import Alert, failure_record, render_alert, should_alert
from mwalerts.enrich import Enrichment, WindowInfo, command_outputs, window_info
from mwalerts.model import Mapper, WindowExecution
from mwalerts.ssm import iter_invocations, list_task_executions
from mwalerts.streaks import StreakView
from mwalerts.tally import ExecutionReport, Failure, TaskSummary, combine, summarise_task

if TYPE_CHECKING:
    from mypy_boto3_ssm import SSMClient
    from mypy_boto3_ssm.type_defs import (
        MaintenanceWindowExecutionTaskIdentityTypeDef as TaskExecution,
    )
    from mypy_boto3_ssm.type_defs import (
        MaintenanceWindowExecutionTaskInvocationIdentityTypeDef as TaskInvocation,
    )

logger = Logger(service=contract.SERVICE_NAME, child=True)

# Task page chains read at the same time. SSM allows 20 tasks per window, so every chain of a
# window runs at once; the SSM client's pacer (mwalerts.pacing), shared by the threads, paces
# them all down to the rate SSM accepts when it throttles, instead of each retrying on its own.
TASK_CONCURRENCY = 20


@dataclass(frozen=True)
class AlertRules:
    """What decides and shapes the alert: the stack's settings, as the function reads them from
    its environment or an operator gives them to the command."""

    alert_statuses: Collection[str]
    error_details_limit: int = contract.DEFAULT_ERROR_DETAILS_LIMIT
    log_group_name: str | None = None  # for the digest's Logs Insights link
    chat_body: bool = False  # the chat card as the default body (chatNotifications default-body)


@dataclass(frozen=True)
class Assessment:
    """One window execution, assessed: the alert is rendered even when `alerting` is False (the
    command shows what the digest would be; the function publishes only when it is True)."""

    window: WindowInfo
    report: ExecutionReport
    alerting: bool
    alert: Alert
    streaks: StreakView | None = None  # None: not tracked (the command, or no streak table)


class Watcher:
    """Sees the invocations as they stream in (called from the reading threads): the command's
    progress and tables. Does nothing by default."""

    def tasks_listed(self, tasks: "Sequence[TaskExecution]") -> None:
        """The execution's task executions, before any invocation is read."""

    def invocation(self, task: "TaskExecution", invocation: "TaskInvocation") -> None:
        """One invocation of `task`, as it is counted."""

    def task_done(self, task: "TaskExecution") -> None:
        """Every page of `task` has been read."""


def assess_execution(
    ssm: "SSMClient",
    execution: WindowExecution,
    rules: AlertRules,
    *,
    window: WindowInfo | None = None,
    watcher: Watcher | None = None,
    log_failures: bool = True,
    track: "Callable[[ExecutionReport, bool], StreakView | None] | None" = None,
) -> Assessment:
    """Count every invocation of the execution and build its alert.

    Command output is read only when it alerts (at most `rules.error_details_limit` calls).
    `window`, when the caller has read it already, saves that call; `log_failures` writes the
    function's record of each failed invocation (the command has no use for them). `track`
    sets the counts against the window's history (the function's failure streaks: given the
    report and whether it alerts) before the alert is rendered, which shows them.
    """
    execution_id = execution.window_execution_id
    with ThreadPoolExecutor(TASK_CONCURRENCY, thread_name_prefix="ssm") as pool:
        tasks, window = _tasks_and_window(pool, ssm, execution, window)
        report = count_invocations(
            ssm,
            execution_id,
            rules.alert_statuses,
            pool.map,
            tasks=tasks,
            watcher=watcher,
            on_failure=_failure_log(execution, window) if log_failures else None,
        )
        alerting = should_alert(execution.status, report, rules.alert_statuses)
        outputs = (
            command_outputs(ssm, report.failures, rules.error_details_limit, pool.map)
            if alerting
            else {}
        )
    streaks = track(report, alerting) if track is not None else None
    enrichment = Enrichment(window, outputs, rules.log_group_name)
    alert = render_alert(execution, report, enrichment, chat_body=rules.chat_body, streaks=streaks)
    return Assessment(window, report, alerting, alert, streaks)


def count_invocations(
    ssm: "SSMClient",
    window_execution_id: str,
    alert_statuses: Collection[str],
    run: "Mapper[TaskExecution, TaskSummary]" = map,
    *,
    tasks: "Sequence[TaskExecution] | None" = None,
    watcher: Watcher | None = None,
    on_failure: Callable[[Failure], None] | None = None,
) -> ExecutionReport:
    """Every page of every task's invocations, each task counted in one pass (`tasks` are listed
    unless given).

    `run` maps over the tasks: a thread pool's map reads their page chains at the same time
    (results stay in task order), so the slowest chain, not their sum, sets the time.
    `on_failure` sees each failed invocation.
    """
    if tasks is None:
        tasks = list_task_executions(ssm, window_execution_id)
    seen = watcher or Watcher()
    seen.tasks_listed(tasks)

    def summarise(task: "TaskExecution") -> TaskSummary:
        invocations = iter_invocations(ssm, window_execution_id, task["TaskExecutionId"])
        return summarise_task(
            task,
            _watched(seen, task, invocations) if watcher else invocations,
            alert_statuses,
            on_failure=on_failure or _ignore,
        )

    return combine(list(run(summarise, tasks)))


def _tasks_and_window(
    pool: ThreadPoolExecutor,
    ssm: "SSMClient",
    execution: WindowExecution,
    window: WindowInfo | None,
) -> "tuple[list[TaskExecution], WindowInfo]":
    """The execution's tasks, and its window's name unless known: read at the same time, as
    each is one call."""
    if window is not None:
        return list_task_executions(ssm, execution.window_execution_id), window
    reading = pool.submit(window_info, ssm, execution.window_id)
    return list_task_executions(ssm, execution.window_execution_id), reading.result()


def _watched(
    watcher: Watcher, task: "TaskExecution", invocations: "Iterable[TaskInvocation]"
) -> "Iterator[TaskInvocation]":
    for invocation in invocations:
        watcher.invocation(task, invocation)
        yield invocation
    watcher.task_done(task)


def _failure_log(execution: WindowExecution, window: WindowInfo) -> Callable[[Failure], None]:
    # Each record names its window and execution, for the Logs Insights query and the dashboard.
    names = {
        "windowId": execution.window_id,
        "windowName": window.name,
        "windowExecutionId": execution.window_execution_id,
    }

    def log_failure(failure: Failure) -> None:
        # One record per failure, so Logs Insights lists them all even when the alert is cut.
        logger.warning(
            contract.FAILED_INVOCATION_MESSAGE, extra={**names, **failure_record(failure)}
        )

    return log_failure


def _ignore(_failure: Failure) -> None:
    """No record of the failure: the alert and the counts carry it."""
