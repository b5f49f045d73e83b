"""The function's own logic, run for an operator: count every invocation of a window execution
and build the alert the function would publish for it.

It is the path of `mwalerts.service.process_window_execution` without its side effects: the same
`list_task_executions`, `collect_report` (every page, MaxResults=100, task chains read at the
same time), `should_alert`, `window_info`, `command_outputs` and `render_alert`. What differs: no
failure is logged, and a caller may watch each invocation as it streams past (to print it), so
the pages are read once.
"""

import logging
from collections.abc import Collection, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from mwalerts import contract
from mwalerts.alert import Alert, render_alert, should_alert
from mwalerts.enrich import Enrichment, WindowInfo, command_outputs
from mwalerts.model import WindowExecution
from mwalerts.service import TASK_CONCURRENCY, collect_report
from mwalerts.ssm import list_task_executions
from mwalerts.tally import ExecutionReport

if TYPE_CHECKING:
    from mypy_boto3_ssm import SSMClient


class Watcher:
    """What a command sees while the pages stream in (called from the reading threads)."""

    def tasks_listed(self, tasks: list[Any]) -> None:
        """The execution's task executions, before any invocation is read."""

    def invocation(self, task: Any, invocation: Any) -> None:
        """One invocation of `task`, as it is counted."""

    def task_done(self, task: Any) -> None:
        """Every page of `task` has been read."""


def collect(
    ssm: "SSMClient",
    execution_id: str,
    alert_statuses: Collection[str],
    watcher: Watcher | None = None,
) -> ExecutionReport:
    """Every page of every task's invocations, counted in one pass (the function's own
    `collect_report`), with no failure logged and each invocation shown to the watcher."""
    watcher = watcher or Watcher()
    tasks = list_task_executions(ssm, execution_id)
    watcher.tasks_listed(tasks)

    def watch(task: Any, invocations: Iterable[Any]) -> Iterator[Any]:
        for invocation in invocations:
            watcher.invocation(task, invocation)
            yield invocation
        watcher.task_done(task)

    with ThreadPoolExecutor(TASK_CONCURRENCY, thread_name_prefix="ssm") as pool:
        return collect_report(
            ssm, execution_id, tasks, alert_statuses, pool.map, on_failure=_ignore, watch=watch
        )


def build_alert(
    ssm: "SSMClient",
    execution: WindowExecution,
    report: ExecutionReport,
    window: WindowInfo,
    *,
    alert_statuses: Collection[str],
    error_details: int = contract.DEFAULT_ERROR_DETAILS_LIMIT,
    log_group: str | None = None,
) -> Alert:
    """The alert (subject, bodies, digest) the function builds for this execution.

    Command output is read only when the function would alert, as it does: otherwise the digest
    is the one it would publish if the execution did alert, and it makes no extra calls.
    """
    outputs = {}
    if should_alert(execution.status, report, alert_statuses):
        with ThreadPoolExecutor(TASK_CONCURRENCY, thread_name_prefix="ssm") as pool:
            outputs = command_outputs(ssm, report.failures, error_details, pool.map)
    return render_alert(execution, report, Enrichment(window, outputs, log_group))


@contextmanager
def function_logs_silenced() -> Iterator[None]:
    """Keep the function's Powertools log records out of the command's output.

    The function's modules log through child loggers (`maintenance-window-alerts.<module>`) that
    have their own level (INFO), so raising the parent's level does not stop them: with no
    handler above them Python's last-resort handler prints their warnings to stderr, and where
    the function's logger exists (tests) its handler prints JSON to stdout. So each logger of
    that tree is raised above CRITICAL for the command, and restored after.
    """
    # Only loggers that exist: creating one (getLogger) where the tree has a placeholder would
    # become the parent of the function's child loggers, which then lose the function's handler.
    loggers = [
        logger
        for name, logger in list(logging.root.manager.loggerDict.items())
        if (name == contract.SERVICE_NAME or name.startswith(contract.SERVICE_NAME + "."))
        and isinstance(logger, logging.Logger)
    ]
    levels = [(logger, logger.level) for logger in loggers]
    for logger, _ in levels:
        logger.setLevel(logging.CRITICAL + 1)
    try:
        yield
    finally:
        for logger, level in levels:
            logger.setLevel(level)


def _ignore(_failure: Any) -> None:
    """The command prints failures itself; the function's log record of each is not wanted."""
