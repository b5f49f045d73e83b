"""`mwalerts report`: every task and invocation of one window execution, and what failed: the
function's pipeline (mwalerts.pipeline), its invocations shown as they stream past."""

import argparse
import itertools
from collections.abc import Mapping, Sequence
from typing import Any

from rich.progress import Progress
from rich.text import Text

from mwalerts.alert import clean_text
from mwalerts.enrich import WindowInfo
from mwalerts.model import WindowExecution
from mwalerts.pipeline import assess_execution
from mwalerts.tally import instance_ids
from mwalerts_cli import options
from mwalerts_cli.aws import Clients
from mwalerts_cli.errors import USAGE, CliError
from mwalerts_cli.executions import checked_window, execution_by_id, latest_execution
from mwalerts_cli.output import (
    STATUS_STYLES,
    Column,
    ReadingProgress,
    Ui,
    clock,
    count_list,
    short_arn,
    time_range,
)

NAME = "report"
SUMMARY = "every task and invocation of a window execution"
DESCRIPTION = """\
Report on one window execution: every task and every invocation (all pages), with instance IDs,
status details and owner, then counts by status and failures by cause. `--output json` prints
exactly the digest the function publishes for this execution."""
EPILOG = """\
examples:
  mwalerts report --window-execution-id e3e70682-c209-4cac-a29f-6fbed82c07cd
  mwalerts report --window-id mw-0ed7251d3fcf6e0c2 --last --failed-only
  mwalerts report --window-id mw-0ed7251d3fcf6e0c2 --last --output json | jq .counts"""

INVOCATION_COLUMNS = (
    Column("#", right=True),
    Column("Task", limit=32),
    Column("Target", limit=60),
    Column("Status", status=True),
    Column("Status details", limit=48),
    Column("Owner", limit=32),
    Column("Start (UTC)"),
    Column("End (UTC)"),
)
TASK_COLUMNS = (
    Column("#", right=True),
    Column("Status", status=True),
    Column("Type"),
    Column("Task", limit=48),
    Column("Invocations", right=True),
    Column("Counts", limit=120),
)
CAUSE_COLUMNS = (
    Column("Count", right=True),
    Column("Status", status=True),
    Column("Status details", limit=48),
    Column("Examples", limit=64),
    Column("Sampled error", limit=100),
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument(
        "--window-execution-id", type=options.execution_id, metavar="ID", help="the execution"
    )
    which.add_argument(
        "--last", action="store_true", help="the window's latest execution (needs --window-id)"
    )
    parser.add_argument(
        "--window-id",
        type=options.window_id,
        metavar="ID",
        help="the window (with --window-execution-id, saves looking it up in every window)",
    )
    parser.add_argument(
        "--failed-only",
        action="store_true",
        help="list only invocations in an alert status (the table; the JSON digest is whole)",
    )
    options.add_output_option(parser, "table", "json")
    options.add_digest_options(parser)
    options.add_rate_option(parser)


def run(args: argparse.Namespace, clients: Clients, ui: Ui) -> int:
    if args.last and not args.window_id:
        raise CliError("report --last needs --window-id", USAGE)
    ssm, place = clients.ssm_at_most(args.max_rate), clients.place
    if args.last:
        window = checked_window(ssm, args.window_id, place)
        execution = latest_execution(ssm, args.window_id, place)
    else:
        execution = execution_by_id(ssm, args.window_execution_id, place, args.window_id)
        window = checked_window(ssm, execution.window_id, place)
    if window.name is None:
        ui.note(f"could not read the name of window {execution.window_id}: it is left out")

    # The rows to keep: none for JSON (the digest is all it prints), failures with --failed-only.
    only = (
        frozenset()
        if args.output == "json"
        else (args.alert_statuses if args.failed_only else None)
    )
    with ui.progress() as progress:
        rows = _Rows(execution, only, progress)
        assessed = assess_execution(
            ssm,
            execution,
            options.alert_rules(args),
            window=window,
            watcher=rows,
            log_failures=False,
        )
    report, alert = assessed.report, assessed.alert
    if args.output == "json":
        ui.json(alert.digest)
        return 0
    _print_title(ui, execution, window)
    table = [
        (str(number), short_arn(task.task_arn), *row)
        for number, task in enumerate(report.tasks, 1)
        for row in rows.by_task.get(task.task_execution_id, [])
    ]
    ui.table(INVOCATION_COLUMNS, table)
    if args.failed_only:
        ui.line(
            f"Showing {len(table):,} of {report.total_invocations:,} invocations: those in "
            f"{', '.join(sorted(args.alert_statuses))}.",
            style="dim",
        )
    _print_summary(ui, alert.digest, args.alert_statuses)
    return 0


class _Rows(ReadingProgress):
    """The table's rows, made as the invocations stream past, and the progress display."""

    def __init__(
        self, execution: WindowExecution, only: frozenset[str] | None, progress: Progress
    ) -> None:
        super().__init__(progress)
        self.by_task: dict[str, list[tuple[str, ...]]] = {}
        self._day = execution.start_time
        self._only = only
        self._read = itertools.count(1)

    def tasks_listed(self, tasks: Sequence[Any]) -> None:
        # One list per task, made before the reading threads start: each appends to its own.
        self.by_task = {task["TaskExecutionId"]: [] for task in tasks}
        super().tasks_listed(tasks)

    def invocation(self, task: Any, invocation: Any) -> None:
        read = next(self._read)
        if read % 100 == 0:  # a page
            self.progress.update(self.bar, detail=f"{read:,} invocations")
        status = invocation.get("Status", "UNKNOWN")
        if self._only is not None and status not in self._only:
            return
        kind = invocation.get("TaskType") or task.get("TaskType")
        # Instance IDs for Run Command (only they are read from Parameters, which can hold
        # secrets), else the execution ID as the alert names the target.
        target = (
            " ".join(instance_ids(kind, invocation.get("Parameters")))
            or invocation.get("ExecutionId")
            or invocation.get("WindowTargetId")
            or "-"
        )
        self.by_task[task["TaskExecutionId"]].append(
            (
                target,
                status,
                invocation.get("StatusDetails") or "-",
                invocation.get("OwnerInformation") or "-",
                clock(invocation.get("StartTime"), self._day),
                clock(invocation.get("EndTime"), self._day),
            )
        )


def _print_title(ui: Ui, execution: WindowExecution, window: WindowInfo) -> None:
    name = clean_text(window.name, 80) if window.name else ""
    title = Text(f"{name} ({execution.window_id})" if name else execution.window_id, "bold")
    ui.line(Text("Maintenance window ").append(title))
    if window.description:
        ui.line(clean_text(window.description, 200), style="dim")
    ui.line(
        Text("Execution ")
        .append(execution.window_execution_id)
        .append("  ")
        .append(execution.status, STATUS_STYLES.get(execution.status, ""))
        .append(f"  {time_range(execution.start_time, execution.end_time)}")
    )
    ui.line(f"Account {execution.account} / region {execution.region}")
    ui.line()


def _print_summary(ui: Ui, digest: Mapping[str, Any], alert_statuses: frozenset[str]) -> None:
    tasks = digest["tasks"]
    ui.line()
    ui.line(f"Tasks ({len(tasks)})", style="bold")
    ui.table(
        TASK_COLUMNS,
        [
            (
                str(number),
                task["status"] or "-",
                task["taskType"] or "-",
                short_arn(task["taskArn"]),
                f"{sum(task['counts'].values()):,}",
                count_list(task["counts"]),
            )
            for number, task in enumerate(tasks, 1)
        ],
    )
    groups = digest["failureGroups"]
    if groups:
        ui.line()
        ui.line(f"Failures by cause ({len(groups)})", style="bold")
        ui.table(
            CAUSE_COLUMNS,
            [
                (
                    f"{group['count']:,}",
                    group["status"],
                    group["statusDetails"] or "-",
                    ", ".join(group["examples"]) or "-",
                    _sampled_error(group["sampledErrors"]),
                )
                for group in groups
            ],
        )
    ui.line()
    failed = digest["failedInvocations"]
    total = Text(f"Total: {digest['totalInvocations']:,} invocations", style="bold")
    total.append(f" ({count_list(digest['counts'])}); ", style="")
    total.append(
        f"{failed:,} in an alert status ({', '.join(sorted(alert_statuses))})",
        style="bold red" if failed else "green",
    )
    ui.line(total)
    ui.line(f"Window:        {digest['links']['window']}")
    if digest["links"]["failures"]:
        ui.line(f"All failures:  {digest['links']['failures']}")
    else:
        # The function's digest links to Logs Insights; the command knows the log group only
        # when told.
        ui.line("All failures:  (pass --log-group for the Logs Insights link)", style="dim")


def _sampled_error(errors: Sequence[Mapping[str, Any]]) -> str:
    """`exit 100: E: Unable to acquire the dpkg frontend lock (5 sampled)`: the most common."""
    if not errors:
        return "-"
    first = errors[0]
    lines = [line for line in (first["errorTail"] or "").splitlines() if line.strip()]
    text = f"exit {first['responseCode']}" + (f": {lines[-1].strip()}" if lines else "")
    return f"{text} ({first['count']} sampled)"
