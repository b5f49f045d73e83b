"""The dashboard, in rows of 24 units: alarms, the fleet, the latest failures, the windows, the
alert path."""

from collections.abc import Sequence

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from maintenance_window_alerts import constants
from maintenance_window_alerts.health import DeadLetterQueue
from maintenance_window_alerts.metrics import (
    TOP_WINDOWS,
    failure_rate,
    metric,
    most_failed_windows,
    per_window_metric,
)
from maintenance_window_alerts.settings import MIN_CHRONIC, Settings
from mwalerts import contract

LOG_TABLE_ROWS = 50  # rows of the dashboard's table of the latest failed invocations
GRID_WIDTH = 24  # a dashboard row: CloudWatch's grid is 24 units wide
CHRONIC_FAILURES_TITLE = (
    f"Chronic failures by window (targets failing {MIN_CHRONIC}+ executions in a row)"
)


def dashboard(
    scope: Construct,
    settings: Settings,
    *,
    function: lambda_.IFunction,
    log_group: logs.ILogGroup,
    dead_letter_queues: Sequence[DeadLetterQueue],
    alarms: Sequence[cloudwatch.IAlarm],
    dimensions: Sequence[str] = contract.WINDOW_DIMENSIONS,
    fan_out: bool = False,
) -> cloudwatch.Dashboard:
    """Rows of 24 units: alarms, the fleet, the latest failures, the windows, the alert path.

    `dimensions` are those of the per-window series: WindowId, and in central mode Account and
    Region too (the same window ID can run in several members). `fan_out`: organization mode's
    sweep, whose account-regions queued and failed are shown beside its runs."""
    namespace, statuses = settings.metrics_namespace, settings.counted_alert_statuses
    return cloudwatch.Dashboard(
        scope,
        constants.DASHBOARD_ID,
        default_interval=Duration.days(7),
        widgets=[
            [_alarm_states(alarms)],
            _fleet(namespace, statuses, dimensions),
            [_latest_failures(log_group)],
            _windows(namespace, dimensions),
            _alert_path(
                namespace, function, dead_letter_queues, settings.sweep_interval, fan_out=fan_out
            ),
        ],
    )


def _alarm_states(alarms: Sequence[cloudwatch.IAlarm]) -> cloudwatch.IWidget:
    return cloudwatch.AlarmStatusWidget(
        alarms=list(alarms),
        title="Alarms (those in alarm first)",
        sort_by=cloudwatch.AlarmStatusWidgetSortBy.STATE_UPDATED_TIMESTAMP,
        width=GRID_WIDTH,
        height=_alarm_status_height(len(alarms)),
    )


def _fleet(
    namespace: str, statuses: Sequence[str], dimensions: Sequence[str]
) -> list[cloudwatch.IWidget]:
    """All windows: invocations by status, and with alert statuses the failure rate and the
    windows that fail most."""
    fleet: list[cloudwatch.IWidget] = [
        _graph(
            "Invocations by status, all windows",
            [metric(namespace, m, label=s) for s, m in contract.STATUS_METRICS.items()],
            width=8,
        )
    ]
    if statuses:
        fleet += [
            _graph(
                "Failure rate, all windows (%)",
                [failure_rate(namespace, statuses)],
                width=8,
                left_y_axis=cloudwatch.YAxisProps(min=0, label="%", show_units=False),
            ),
            cloudwatch.TableWidget(
                title=f"Windows with the most failed invocations (top {TOP_WINDOWS})",
                metrics=[most_failed_windows(namespace, statuses, dimensions)],
                summary=cloudwatch.TableSummaryProps(
                    columns=[cloudwatch.TableSummaryColumn.SUM], hide_non_summary_columns=True
                ),
                width=8,
                height=6,
            ),
        ]
    return fleet


def _latest_failures(log_group: logs.ILogGroup) -> cloudwatch.IWidget:
    return cloudwatch.LogQueryWidget(
        title="Latest failed invocations",
        log_group_names=[log_group.log_group_name],
        query_string=f"{contract.FAILED_INVOCATIONS_QUERY}\n| limit {LOG_TABLE_ROWS}",
        view=cloudwatch.LogQueryVisualizationType.TABLE,
        width=GRID_WIDTH,
        height=8,
    )


def _windows(namespace: str, dimensions: Sequence[str]) -> list[cloudwatch.IWidget]:
    """A series per window, found by SEARCH: executions, their longest duration, and the
    targets that failed its last executions in a row."""
    return [
        _graph(
            "Executions per window",
            [per_window_metric(namespace, contract.METRIC_WINDOW_EXECUTIONS, "Sum", dimensions)],
        ),
        _graph(
            "Window execution duration (max, seconds)",
            [
                per_window_metric(
                    namespace, contract.METRIC_WINDOW_EXECUTION_DURATION, "Maximum", dimensions
                )
            ],
        ),
        _graph(
            CHRONIC_FAILURES_TITLE,
            [
                per_window_metric(
                    namespace, contract.METRIC_TARGETS_FAILING_CONSECUTIVELY, "Maximum", dimensions
                )
            ],
            left_y_axis=cloudwatch.YAxisProps(min=0, label="targets", show_units=False),
        ),
    ]


def _alert_path(
    namespace: str,
    function: lambda_.IFunction,
    dead_letter_queues: Sequence[DeadLetterQueue],
    sweep_interval: Duration,
    *,
    fan_out: bool,
) -> list[cloudwatch.IWidget]:
    """The function, what it did not alert on, and the sweep (with `fan_out`, also its
    account-regions), side by side in one row."""
    width = GRID_WIDTH // (4 if fan_out else 3)

    def sweep_graph(title: str, names: Sequence[str]) -> cloudwatch.IWidget:
        series = [metric(namespace, name, period=sweep_interval) for name in names]
        return _graph(title, series, width=width)

    return [
        _graph(
            "Alert function: errors, throttles and duration",
            [function.metric_errors(), function.metric_throttles()],
            right=[function.metric_duration(statistic="Maximum")],
            width=width,
        ),
        _graph(
            "Events not alerted on: dead letters, invalid events",
            [
                *(
                    dlq.queue.metric_approximate_number_of_messages_visible(
                        label=dlq.label.capitalize()
                    )
                    for dlq in dead_letter_queues
                ),
                metric(namespace, contract.METRIC_INVALID_EVENTS),
            ],
            width=width,
        ),
        sweep_graph(
            "Reconciliation sweep: runs and executions it recovered",
            (contract.METRIC_SWEEP_RUNS, contract.METRIC_SWEEP_RECOVERED),
        ),
        # Organization mode: a sweep counts once every place it queued was read, so a failed
        # place is why one did not.
        *(
            [
                sweep_graph(
                    "Sweep fan-out: account-regions queued and failed",
                    (contract.METRIC_SWEEP_PLACES, contract.METRIC_SWEEP_PLACES_FAILED),
                )
            ]
            if fan_out
            else []
        ),
    ]


def _alarm_status_height(alarms: int) -> int:
    """Room for the alarms' tiles: about four to a full-width row, each row 2 units high."""
    return 1 + 2 * max(1, -(-alarms // 4))


def _graph(
    title: str,
    left: Sequence[cloudwatch.IMetric],
    *,
    right: Sequence[cloudwatch.IMetric] = (),
    width: int = 8,
    left_y_axis: cloudwatch.YAxisProps | None = None,
) -> cloudwatch.GraphWidget:
    return cloudwatch.GraphWidget(
        title=title,
        left=list(left),
        right=list(right),
        width=width,
        height=6,
        left_y_axis=left_y_axis,
    )
