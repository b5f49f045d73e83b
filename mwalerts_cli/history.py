"""`mwalerts history`: a window's executions, one line each (counted by the function's own
mwalerts.pipeline.count_invocations), and optionally their metrics."""

import argparse
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

from rich.text import Text

from mwalerts import contract
from mwalerts.alert import ordered_counts
from mwalerts.model import WindowExecution, iso
from mwalerts.pipeline import TASK_CONCURRENCY, count_invocations
from mwalerts.tally import ExecutionReport
from mwalerts_cli import backfill, options
from mwalerts_cli.aws import Clients
from mwalerts_cli.errors import USAGE, CliError
from mwalerts_cli.executions import checked_window, executions_since
from mwalerts_cli.output import Column, Ui, count_list, duration, utc

NAME = "history"
SUMMARY = "a window's executions, one line each; backfill their metrics"
DESCRIPTION = """\
One line per execution of a window: start, status, duration and its invocations by status
(every page of every task, counted as the function counts them). `--emit-metrics` backfills the
function's CloudWatch metrics for those executions, so dashboards show history from day one."""
EPILOG = """\
examples:
  mwalerts history --window-id mw-0ed7251d3fcf6e0c2 --since 30d
  mwalerts history --window-id mw-0ed7251d3fcf6e0c2 --since 2026-11-01 --until 2026-11-08
  mwalerts history --window-id mw-0ed7251d3fcf6e0c2 --since 14d --until 2026-11-20T14:30 \\
      --emit-metrics
  mwalerts history --window-id mw-0ed7251d3fcf6e0c2 --profile member --emit-metrics \\
      --metrics-profile monitoring --metrics-region eu-west-1

A time without an offset is UTC, and a date alone means its 00:00 UTC: the second example lists
the executions of 1 to 7 November, not the 8th.

--emit-metrics adds data points: executions the deployed function has already recorded (or an
earlier backfill) would count twice, so backfill only what ran before the stack was deployed
(--until: the third example, for a stack deployed on 20 November at 14:30 UTC). CloudWatch
accepts time stamps up to two weeks old: older executions are skipped. SSM keeps a window's
execution history for a limited time (30 days). The failure-streak metrics are not backfilled:
a streak counts from executions before the first one read.

Central mode: SSM is read with the member account's credentials (--profile), but the dashboard
is in the central account. --metrics-profile sends the metrics there (in --metrics-region, by
default the member's region), with central mode's dimensions: Account, Region and WindowId."""

COLUMNS = (
    Column("Start (UTC)"),
    Column("Execution ID"),
    Column("Status", status=True),
    Column("Duration", right=True),
    Column("Invocations", right=True),
    Column("Failed", right=True),
    Column("Counts", limit=120),
)

Result = tuple[WindowExecution, ExecutionReport]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--window-id", type=options.window_id, metavar="ID", required=True, help="the window"
    )
    parser.add_argument(
        "--since",
        type=options.moment,
        default="30d",
        metavar="WHEN",
        help="executions that started since: 30d, 12h or an ISO 8601 date or time, UTC unless it "
        "has an offset (a date alone means its 00:00 UTC; default: 30d)",
    )
    parser.add_argument(
        "--until",
        type=options.moment,
        metavar="WHEN",
        help="... and before: the same forms (a date alone means its 00:00 UTC, so that day is "
        "left out; default: now)",
    )
    options.add_output_option(parser, "table", "json")
    parser.add_argument(
        "--emit-metrics",
        action="store_true",
        help="send the function's metrics for these executions to CloudWatch (PutMetricData), "
        "time-stamped with each execution's end",
    )
    parser.add_argument(
        "--namespace",
        type=options.namespace,
        default=contract.DEFAULT_METRICS_NAMESPACE,
        help="metrics namespace, as the stack's metricsNamespace (default: %(default)s)",
    )
    parser.add_argument(
        "--metrics-profile",
        metavar="PROFILE",
        help="central mode: send the metrics with this profile (the central account's), with the "
        "dimensions Account, Region and WindowId, as the central function does",
    )
    parser.add_argument(
        "--metrics-region",
        metavar="REGION",
        help="with --metrics-profile: the central stack's region (default: the region read)",
    )
    options.add_alert_options(parser)
    options.add_rate_option(parser)


def run(args: argparse.Namespace, clients: Clients, ui: Ui) -> int:
    _check(args)
    ssm, place = clients.ssm_at_most(args.max_rate), clients.place
    window = checked_window(ssm, args.window_id, place)
    executions = executions_since(ssm, args.window_id, place, args.since, args.until)
    results: list[Result] = []
    with ui.progress() as progress, ThreadPoolExecutor(TASK_CONCURRENCY, "ssm") as pool:
        bar = progress.add_task("Counting invocations", total=len(executions), detail="")
        for execution in executions:
            progress.update(bar, detail=utc(execution.start_time))
            report = count_invocations(
                ssm, execution.window_execution_id, args.alert_statuses, pool.map
            )
            results.append((execution, report))
            progress.advance(bar)

    if args.output == "json":
        ui.json(
            {
                "account": place.account,
                "region": place.region,
                "windowId": args.window_id,
                "windowName": window.name,
                "since": iso(args.since),
                "until": iso(args.until),
                "executions": [_record(execution, report) for execution, report in results],
            }
        )
    else:
        name = f"{window.name} ({args.window_id})" if window.name else args.window_id
        until = f" to {utc(args.until)}" if args.until else ""
        ui.line(Text(f"Maintenance window {name}", style="bold"))
        ui.line(
            f"{len(results)} executions started since {utc(args.since)}{until} UTC, oldest first "
            f"(account {place.account} / region {place.region})"
        )
        ui.line()
        ui.table(COLUMNS, [_line(execution, report) for execution, report in results])
        ui.line()
        ui.line(_totals(results, args.alert_statuses))
    if args.emit_metrics:
        if args.metrics_profile:
            region = args.metrics_region or place.region
            central = clients.other(profile=args.metrics_profile, region=region)
            where = f"through profile {args.metrics_profile} in {region}"
            _emit(central, ui, results, args.namespace, central=True, where=where)
        else:
            _emit(clients, ui, results, args.namespace, central=False, where=f"in {place.region}")
    return 0


def _check(args: argparse.Namespace) -> None:
    """What the arguments cannot mean together, said before any AWS call."""
    if args.until is not None and args.since >= args.until:
        raise CliError(
            f"--since ({utc(args.since)} UTC) is not before --until ({utc(args.until)} UTC): no "
            "execution starts in between (a date alone means its 00:00 UTC)",
            USAGE,
        )
    if args.metrics_region and not args.metrics_profile:
        raise CliError(
            "--metrics-region goes with --metrics-profile (the central account's profile): "
            "without it, metrics go to the region read, where the stack's dashboard is",
            USAGE,
        )
    if args.metrics_profile and not args.emit_metrics:
        raise CliError("--metrics-profile sends metrics: it needs --emit-metrics", USAGE)


def _record(execution: WindowExecution, report: ExecutionReport) -> dict[str, Any]:
    return {
        "windowExecutionId": execution.window_execution_id,
        "status": execution.status,
        "startTime": iso(execution.start_time),
        "endTime": iso(execution.end_time),
        "durationSeconds": execution.duration_seconds,
        "totalInvocations": report.total_invocations,
        "failedInvocations": report.failure_count,
        "counts": ordered_counts(report.counts),
    }


def _line(execution: WindowExecution, report: ExecutionReport) -> tuple[str, ...]:
    return (
        utc(execution.start_time),
        execution.window_execution_id,
        execution.status,
        duration(execution.start_time, execution.end_time),
        f"{report.total_invocations:,}",
        f"{report.failure_count:,}",
        count_list(ordered_counts(report.counts)),
    )


def _totals(results: list[Result], alert_statuses: frozenset[str]) -> Text:
    statuses = ordered_counts(Counter(execution.status for execution, _ in results))
    invocations = sum(report.total_invocations for _, report in results)
    failed = sum(report.failure_count for _, report in results)
    text = Text(f"Total: {len(results)} executions ({count_list(statuses)}), ", style="bold")
    text.append(f"{invocations:,} invocations, ")
    text.append(
        f"{failed:,} in an alert status ({', '.join(sorted(alert_statuses))})",
        style="bold red" if failed else "green",
    )
    return text


def _emit(
    clients: Clients,
    ui: Ui,
    results: list[Result],
    namespace: str,
    *,
    central: bool,
    where: str,
) -> None:
    """PutMetricData through `clients`; `central`: with the dimensions of central mode."""
    plan = backfill.plan(results, datetime.now(UTC), central=central)
    if plan.too_old:
        ui.note(
            f"{len(plan.too_old)} executions ended more than 14 days ago: CloudWatch accepts no "
            "older data points, so their metrics are not sent"
        )
    if plan.not_ended:
        ui.note(f"{len(plan.not_ended)} executions have not ended: no metrics for them yet")
    batches = backfill.batches(plan.data)
    with ui.progress() as progress:
        bar = progress.add_task("Sending metrics", total=len(batches), detail=namespace)
        for sent, batch in enumerate(batches):
            try:
                clients.cloudwatch.put_metric_data(Namespace=namespace, MetricData=list(batch))
            except Exception:
                if sent:
                    ui.note(f"{sent} of {len(batches)} PutMetricData requests were sent")
                raise
            progress.advance(bar)
    per = contract.CENTRAL_WINDOW_DIMENSIONS if central else contract.WINDOW_DIMENSIONS
    ui.info(
        f"Sent {len(plan.data):,} data points for {plan.executions} executions to CloudWatch "
        f"namespace {namespace} {where} in {len(batches)} PutMetricData requests (fleet-wide, "
        f"and per {', '.join(per)})."
    )
