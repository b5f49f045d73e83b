"""Alarms and the dashboard: every alarm notifies the alert topic and says what to do."""

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cloudwatch_actions
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from maintenance_window_alerts import constants
from maintenance_window_alerts.settings import Gap, split_window_key
from mwalerts import contract

PERIOD = Duration.minutes(5)
GREATER = cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD
AT_LEAST = cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD
LESS = cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD
REDRIVE = (
    "When the cause is fixed, run `make redrive` to send the kept events back to the function "
    "(a redriven event that was already alerted on is not alerted on again)."
)
# What the on-call reads about a failed run, in every failure alarm's description.
READ_THE_ALERT = (
    "read the alert this topic received for the run: it names the window, the task and the "
    "failed targets with their status details and error output, and links to Logs Insights; "
    "the dashboard's table of the latest failed invocations lists them too"
)
TOP_WINDOWS = 10  # rows of the dashboard's table of the windows with the most failures
LOG_TABLE_ROWS = 50  # rows of the dashboard's table of the latest failed invocations
GRID_WIDTH = 24  # a dashboard row: CloudWatch's grid is 24 units wide


@dataclass(frozen=True)
class DeadLetterQueue:
    queue: sqs.Queue
    alarm_id: str
    label: str  # e.g. "rule dead-letter queue"
    holds: str  # what lands in it


@dataclass(frozen=True)
class HealthAlarms:
    """The alarms on the alert path itself: if one fires, alerts may be late or missing."""

    errors: cloudwatch.Alarm
    throttles: cloudwatch.Alarm
    dead_letters: tuple[cloudwatch.Alarm, ...]
    sweep: cloudwatch.Alarm

    def __iter__(self) -> Iterator[cloudwatch.Alarm]:
        return iter((self.errors, self.throttles, *self.dead_letters, self.sweep))


# --- Metrics ----------------------------------------------------------------------------------


def metric(
    namespace: str,
    metric_name: str,
    *,
    window: str | None = None,
    statistic: str = "Sum",
    period: Duration = PERIOD,
    label: str | None = None,
) -> cloudwatch.Metric:
    """One of the function's series: fleet-wide (no dimension), or one window's."""
    return cloudwatch.Metric(
        namespace=namespace,
        metric_name=metric_name,
        dimensions_map=window_dimensions(window) if window else None,
        statistic=statistic,
        period=period,
        label=label,
    )


def window_dimensions(window: str) -> dict[str, str]:
    """The dimensions of a window's series: {WindowId}, or in central mode, where the settings
    name it "<account>/<region>/<window ID>", {Account, Region, WindowId}."""
    account, region, window_id = split_window_key(window)
    return contract.window_dimensions(window_id, account, region)


def failed_metrics(
    namespace: str, statuses: Sequence[str], *, window: str | None = None
) -> dict[str, cloudwatch.IMetric]:
    """The alert statuses' metrics, by metric-math ID (m0, m1, ...).

    The function emits all status metrics in one document, so they share their timestamps.
    """
    return {
        f"m{i}": metric(namespace, contract.STATUS_METRICS[status], window=window)
        for i, status in enumerate(statuses)
    }


def failed_invocations(
    namespace: str, statuses: Sequence[str], *, window: str | None = None
) -> cloudwatch.MathExpression:
    """Invocations in an alert status per 5 minutes: fleet-wide, or one window's."""
    using = failed_metrics(namespace, statuses, window=window)
    return cloudwatch.MathExpression(
        expression=" + ".join(using),
        using_metrics=using,
        label=f"Invocations {_one_of(statuses)}, {window or 'all windows'}",
        period=PERIOD,
    )


def failure_rate(namespace: str, statuses: Sequence[str]) -> cloudwatch.MathExpression:
    """The share of all invocations that ended in an alert status, in percent (all windows)."""
    failed = failed_metrics(namespace, statuses)
    return cloudwatch.MathExpression(
        expression=f"100 * ({' + '.join(failed)}) / total",
        using_metrics={**failed, "total": metric(namespace, contract.METRIC_INVOCATIONS)},
        label=f"Invocations {_one_of(statuses)} (% of all)",
        period=PERIOD,
    )


def search(
    namespace: str,
    metric_names: Sequence[str],
    statistic: str,
    dimensions: Sequence[str] = contract.WINDOW_DIMENSIONS,
) -> str:
    """A SEARCH over the per-window dimensions: a series per window (and metric), new ones too."""
    terms = " OR ".join(f'MetricName="{name}"' for name in metric_names)
    if len(metric_names) > 1:
        terms = f"({terms})"
    schema = f'{{"{namespace}",{",".join(dimensions)}}}'
    return f"SEARCH('{schema} {terms}', '{statistic}', {PERIOD.to_seconds():.0f})"


def window_label(dimensions: Sequence[str]) -> str:
    """A series' window as the settings name it: mw-..., or <account>/<region>/mw-..."""
    return "/".join(f"${{PROP('Dim.{dimension}')}}" for dimension in dimensions)


def per_window_metric(
    namespace: str,
    metric_name: str,
    statistic: str,
    dimensions: Sequence[str] = contract.WINDOW_DIMENSIONS,
) -> cloudwatch.IMetric:
    """A series per window, found by SEARCH: new windows appear without a redeploy."""
    return cloudwatch.MathExpression(
        expression=search(namespace, [metric_name], statistic, dimensions),
        label=window_label(dimensions),
        period=PERIOD,
    )


def most_failed_windows(
    namespace: str, statuses: Sequence[str], dimensions: Sequence[str] = contract.WINDOW_DIMENSIONS
) -> cloudwatch.IMetric:
    """The windows (and alert statuses) with the most failed invocations in the time range."""
    metric_names = [contract.STATUS_METRICS[s] for s in statuses]
    most = search(namespace, metric_names, "Sum", dimensions)
    return cloudwatch.MathExpression(
        expression=f"SORT({most}, SUM, DESC, {TOP_WINDOWS})",
        label=f"{window_label(dimensions)} ${{PROP('MetricName')}}",
        period=PERIOD,
    )


# --- Alarms -----------------------------------------------------------------------------------


def alarm(
    scope: Construct,
    construct_id: str,
    metric: cloudwatch.IMetric,
    *,
    topic: sns.ITopic,
    threshold: float,
    description: str,
    comparison: cloudwatch.ComparisonOperator = GREATER,
    missing: cloudwatch.TreatMissingData = cloudwatch.TreatMissingData.NOT_BREACHING,
    evaluation_periods: int = 1,
    datapoints: int | None = None,
) -> cloudwatch.Alarm:
    """An alarm on `metric` that notifies `topic` (one period unless told otherwise)."""
    created = cloudwatch.Alarm(
        scope,
        construct_id,
        metric=metric,
        threshold=threshold,
        comparison_operator=comparison,
        evaluation_periods=evaluation_periods,
        datapoints_to_alarm=datapoints,
        treat_missing_data=missing,
        alarm_description=description,
    )
    created.add_alarm_action(cloudwatch_actions.SnsAction(topic))
    return created


def failed_invocations_alarm(
    scope: Construct, *, namespace: str, statuses: Sequence[str], topic: sns.ITopic
) -> cloudwatch.Alarm | None:
    """Failed invocations > 0 across all windows; None if no alert status has a metric."""
    if not statuses:
        return None
    return alarm(
        scope,
        constants.ALARM_ID,
        failed_invocations(namespace, statuses),
        topic=topic,
        threshold=0,
        description=(
            f"Maintenance-window task invocations ended {_one_of(statuses)} in the last 5 "
            f"minutes. On-call: 1) {READ_THE_ALERT}; 2) no such alert? Check the alert "
            "function's logs and both dead-letter queues (stack outputs); 3) fix the cause, then "
            "rerun the window's tasks or wait for its next run, and check the dashboard for "
            "windows that keep failing."
        ),
    )


def window_alarms(
    scope: Construct,
    *,
    namespace: str,
    statuses: Sequence[str],
    thresholds: Mapping[str, int],
    topic: sns.ITopic,
) -> tuple[cloudwatch.Alarm, ...]:
    """windowAlarms: per window, its failed invocations in 5 minutes reach its threshold."""
    return tuple(
        alarm(
            scope,
            _alarm_id(constants.WINDOW_ALARM_ID_PREFIX, window_id),
            failed_invocations(namespace, statuses, window=window_id),
            topic=topic,
            threshold=threshold,
            comparison=AT_LEAST,
            description=(
                f"Maintenance window {window_id} had {threshold} or more task invocations end "
                f"{_one_of(statuses)} in the last 5 minutes (windowAlarms). On-call: "
                f"1) {READ_THE_ALERT}; 2) fix the cause on the targets or in the task (SSM "
                "Agent, the instance's role, the command or runbook, the target selection), "
                "then rerun the window's tasks or wait for its next run."
            ),
        )
        for window_id, threshold in sorted(thresholds.items())
    )


def missed_window_alarms(
    scope: Construct, *, namespace: str, gaps: Mapping[str, Gap], topic: sns.ITopic
) -> tuple[cloudwatch.Alarm, ...]:
    """expectedWindows: per window, no execution ended within its gap.

    Each of the alarm's periods without a WindowExecutions data point is missing data, counted
    as breaching, and the alarm needs all of them: so it fires when the whole gap passed without
    an execution, and one execution anywhere in it keeps it quiet (see settings.Gap).
    """
    return tuple(
        alarm(
            scope,
            _alarm_id(constants.MISSED_WINDOW_ALARM_ID_PREFIX, window_id),
            metric(
                namespace,
                contract.METRIC_WINDOW_EXECUTIONS,
                window=window_id,
                period=Duration.seconds(gap.period_seconds),
            ),
            topic=topic,
            threshold=1,
            comparison=LESS,
            # No data is the failure this alarm is for: a window that does not run emits nothing.
            missing=cloudwatch.TreatMissingData.BREACHING,
            evaluation_periods=gap.evaluation_periods,
            datapoints=gap.evaluation_periods,
            description=(
                f"Maintenance window {window_id} has not completed an execution in {gap.text} "
                "(expectedWindows): it may be disabled, past its schedule's end date, or have "
                "lost its schedule, targets or tasks. On-call: 1) in Systems Manager, "
                "Maintenance Windows, check the window is enabled, its schedule and end date, "
                "its targets and tasks, and its execution history; 2) if it did run, check the "
                "alert function's logs, error alarm and dead-letter queues. It also fires right "
                "after it is created if the window has not run in that time."
            ),
        )
        for window_id, gap in sorted(gaps.items())
    )


def _alarm_id(prefix: str, window: str) -> str:
    """<prefix><window ID>, or <prefix><account>-<region>-<window ID> in central mode."""
    return prefix + window.replace("/", "-")


def health_alarms(
    scope: Construct,
    *,
    topic: sns.ITopic,
    function: lambda_.IFunction,
    dead_letter_queues: Sequence[DeadLetterQueue],
    namespace: str,
    sweep_interval: Duration,
) -> HealthAlarms:
    errors = alarm(
        scope,
        constants.ERRORS_ALARM_ID,
        function.metric_errors(period=PERIOD, statistic="Sum"),
        topic=topic,
        threshold=0,
        description=(
            "The maintenance-window alert function failed in the last 5 minutes (an error or a "
            "timeout), so an alert may be late or missing. Lambda retries an event twice, then "
            "keeps it in the function failure queue. On-call: 1) find the error in the "
            "function's logs (stack output FunctionName); 2) fix its cause (SSM throttling, "
            "permissions, KMS, a bug). " + REDRIVE
        ),
    )
    throttles = alarm(
        scope,
        constants.THROTTLES_ALARM_ID,
        function.metric_throttles(period=PERIOD, statistic="Sum"),
        topic=topic,
        threshold=0,
        description=(
            "Lambda throttled the maintenance-window alert function in the last 5 minutes: the "
            "account has no concurrency left in this region. Nothing is lost yet (Lambda keeps "
            "retrying for up to 6 hours), but alerts are late. On-call: look for the function "
            "using up the account's concurrency (Lambda ConcurrentExecutions), limit it or "
            "raise the account's concurrency quota."
        ),
    )
    dead_letters = tuple(
        alarm(
            scope,
            dlq.alarm_id,
            dlq.queue.metric_approximate_number_of_messages_visible(
                period=PERIOD, statistic="Maximum"
            ),
            topic=topic,
            threshold=0,
            description=(
                f"The {dlq.label} holds {dlq.holds}: nothing was alerted on for them yet. "
                "On-call: 1) read a message (queue URL in the stack outputs) and the function's "
                "logs for the cause; 2) fix it. " + REDRIVE
            ),
        )
        for dlq in dead_letter_queues
    )
    interval = round(sweep_interval.to_minutes())
    # Twice the interval, so one late sweep does not page anyone (a whole number of minutes,
    # so always a valid CloudWatch period).
    window = Duration.minutes(2 * interval)
    sweep = alarm(
        scope,
        constants.SWEEP_ALARM_ID,
        metric(namespace, contract.METRIC_SWEEP_RUNS, period=window),
        topic=topic,
        threshold=1,
        comparison=LESS,
        # No data is the failure this alarm is for: a sweep that does not run emits nothing.
        missing=cloudwatch.TreatMissingData.BREACHING,
        description=(
            f"No reconciliation sweep completed in the last {2 * interval} minutes (one should "
            f"every {interval} minutes). Until one does, a window execution whose event SSM did "
            "not deliver is not alerted on. A sweep that runs out of time, or in central mode "
            "cannot assume a member's reader role, does not count. On-call: 1) check that the "
            "sweep schedule rule is enabled and the function's logs for errors and warnings of "
            "scheduled invocations (they name the member); 2) check the "
            "function's error and throttle alarms and the dead-letter queues. Right after the "
            "first deployment it fires once, until the first sweep has run."
        ),
    )
    return HealthAlarms(errors, throttles, dead_letters, sweep)


# --- Dashboard --------------------------------------------------------------------------------


def dashboard(
    scope: Construct,
    *,
    namespace: str,
    statuses: Sequence[str],
    function: lambda_.IFunction,
    log_group: logs.ILogGroup,
    dead_letter_queues: Sequence[DeadLetterQueue],
    alarms: Sequence[cloudwatch.IAlarm],
    sweep_interval: Duration,
    dimensions: Sequence[str] = contract.WINDOW_DIMENSIONS,
) -> cloudwatch.Dashboard:
    """Rows of 24 units: alarms, the fleet, the latest failures, the windows, the alert path.

    `dimensions` are those of the per-window series: WindowId, and in central mode Account and
    Region too (the same window ID can run in several members)."""
    alarm_states = cloudwatch.AlarmStatusWidget(
        alarms=list(alarms),
        title="Alarms (those in alarm first)",
        sort_by=cloudwatch.AlarmStatusWidgetSortBy.STATE_UPDATED_TIMESTAMP,
        width=GRID_WIDTH,
        height=_alarm_status_height(len(alarms)),
    )
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
    latest_failures = cloudwatch.LogQueryWidget(
        title="Latest failed invocations",
        log_group_names=[log_group.log_group_name],
        query_string=f"{contract.FAILED_INVOCATIONS_QUERY}\n| limit {LOG_TABLE_ROWS}",
        view=cloudwatch.LogQueryVisualizationType.TABLE,
        width=GRID_WIDTH,
        height=8,
    )
    windows = [
        _graph(
            "Executions per window",
            [per_window_metric(namespace, contract.METRIC_WINDOW_EXECUTIONS, "Sum", dimensions)],
            width=12,
        ),
        _graph(
            "Window execution duration (max, seconds)",
            [
                per_window_metric(
                    namespace, contract.METRIC_WINDOW_EXECUTION_DURATION, "Maximum", dimensions
                )
            ],
            width=12,
        ),
    ]
    alert_path = [
        _graph(
            "Alert function: errors, throttles and duration",
            [function.metric_errors(), function.metric_throttles()],
            right=[function.metric_duration(statistic="Maximum")],
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
        ),
        _graph(
            "Reconciliation sweep: runs and executions it recovered",
            [
                metric(namespace, name, period=sweep_interval)
                for name in (contract.METRIC_SWEEP_RUNS, contract.METRIC_SWEEP_RECOVERED)
            ],
        ),
    ]
    return cloudwatch.Dashboard(
        scope,
        constants.DASHBOARD_ID,
        default_interval=Duration.days(7),
        widgets=[[alarm_states], fleet, [latest_failures], windows, alert_path],
    )


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


def _one_of(words: Sequence[str]) -> str:
    """'A', 'A or B', 'A, B or C'."""
    return " or ".join(filter(None, (", ".join(words[:-1]), words[-1])))
