"""Alarms and the dashboard: every alarm notifies the alert topic and says what to do."""

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cloudwatch_actions
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from mwalerts import names
from stacks import constants

PERIOD = Duration.minutes(5)
GREATER = cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD
REDRIVE = (
    "When the cause is fixed, run `make redrive` to send the kept events back to the function "
    "(a redriven event that was already alerted on is not alerted on again)."
)


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
) -> cloudwatch.Alarm:
    """An alarm on one period of `metric` that notifies `topic`."""
    created = cloudwatch.Alarm(
        scope,
        construct_id,
        metric=metric,
        threshold=threshold,
        comparison_operator=comparison,
        evaluation_periods=1,
        treat_missing_data=missing,
        alarm_description=description,
    )
    created.add_alarm_action(cloudwatch_actions.SnsAction(topic))
    return created


def failed_invocations_alarm(
    scope: Construct, *, namespace: str, alert_statuses: Sequence[str], topic: sns.ITopic
) -> cloudwatch.Alarm | None:
    """Failed invocations > 0 across all windows; None if no alert status has a metric."""
    statuses = [s for s in alert_statuses if s in names.STATUS_METRICS]
    if not statuses:
        return None
    # The function emits all status metrics in one document, so they share their timestamps.
    using = {
        f"m{i}": fleet_metric(namespace, names.STATUS_METRICS[s]) for i, s in enumerate(statuses)
    }
    return alarm(
        scope,
        constants.ALARM_ID,
        cloudwatch.MathExpression(
            expression=" + ".join(using),
            using_metrics=using,
            label=f"Invocations {_one_of(statuses)}, all windows",
            period=PERIOD,
        ),
        topic=topic,
        threshold=0,
        description=(
            f"Maintenance-window task invocations ended {_one_of(statuses)} in the last 5 "
            "minutes. On-call: 1) read the alert this topic received for the run: it names the "
            "window, the task and the failed targets with their status details; "
            "2) no such alert? Check the alert function's logs and both dead-letter queues "
            "(stack outputs); 3) fix the cause, then rerun the window's tasks or wait for "
            "its next run, and check the dashboard for windows that keep failing."
        ),
    )


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
        fleet_metric(namespace, names.METRIC_SWEEP_RUNS, period=window),
        topic=topic,
        threshold=1,
        comparison=cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
        # No data is the failure this alarm is for: a sweep that does not run emits nothing.
        missing=cloudwatch.TreatMissingData.BREACHING,
        description=(
            f"No reconciliation sweep completed in the last {2 * interval} minutes (one should "
            f"every {interval} minutes). Until one does, a window execution whose event SSM did "
            "not deliver is not alerted on. On-call: 1) check that the sweep schedule rule is "
            "enabled and the function's logs for errors of scheduled invocations; 2) check the "
            "function's error and throttle alarms and the dead-letter queues. Right after the "
            "first deployment it fires once, until the first sweep has run."
        ),
    )
    return HealthAlarms(errors, throttles, dead_letters, sweep)


def dashboard(
    scope: Construct,
    *,
    namespace: str,
    function: lambda_.IFunction,
    dead_letter_queues: Sequence[DeadLetterQueue],
    failed_invocations: cloudwatch.Alarm | None,
    alarms: Sequence[cloudwatch.IAlarm],
    sweep_interval: Duration,
) -> cloudwatch.Dashboard:
    per_window = [
        _graph(f"{metric} per window", [per_window_metric(namespace, metric, "Sum")])
        for metric in names.STATUS_METRICS.values()
    ]
    overview: list[cloudwatch.IWidget] = [
        _graph(
            "Invocations by status, all windows",
            [fleet_metric(namespace, m, label=s) for s, m in names.STATUS_METRICS.items()],
            width=8,
        ),
        _graph(
            "Window execution duration (max, seconds)",
            [per_window_metric(namespace, names.METRIC_WINDOW_EXECUTION_DURATION, "Maximum")],
            width=8,
        ),
    ]
    if failed_invocations is not None:
        overview.append(cloudwatch.AlarmWidget(alarm=failed_invocations, title="Alarm", width=8))
    health: list[cloudwatch.IWidget] = [
        _graph(
            "Alert function: errors, throttles and duration",
            [function.metric_errors(), function.metric_throttles()],
            right=[function.metric_duration(statistic="Maximum")],
            width=12,
        ),
        _graph(
            "Events not alerted on: dead-letter queues and invalid events",
            [
                *(
                    dlq.queue.metric_approximate_number_of_messages_visible(
                        label=dlq.label.capitalize()
                    )
                    for dlq in dead_letter_queues
                ),
                fleet_metric(namespace, names.METRIC_INVALID_EVENTS),
            ],
            width=12,
        ),
    ]
    sweep: list[cloudwatch.IWidget] = [
        cloudwatch.AlarmStatusWidget(alarms=list(alarms), title="Alarms", width=12, height=6),
        _graph(
            "Reconciliation sweep: runs and executions it recovered",
            [
                fleet_metric(namespace, name, period=sweep_interval)
                for name in (names.METRIC_SWEEP_RUNS, names.METRIC_SWEEP_RECOVERED)
            ],
            width=12,
        ),
    ]
    return cloudwatch.Dashboard(
        scope,
        constants.DASHBOARD_ID,
        default_interval=Duration.days(7),
        widgets=[per_window, overview, health, sweep],
    )


def fleet_metric(
    namespace: str, metric_name: str, *, period: Duration = PERIOD, label: str | None = None
) -> cloudwatch.Metric:
    """The dimensionless series: one per metric, summed over all windows."""
    return cloudwatch.Metric(
        namespace=namespace, metric_name=metric_name, statistic="Sum", period=period, label=label
    )


def per_window_metric(namespace: str, metric_name: str, statistic: str) -> cloudwatch.IMetric:
    """A series per WindowId, found by SEARCH: new windows appear without a redeploy."""
    query = f'{{"{namespace}",{names.DIMENSION_WINDOW_ID}}} MetricName="{metric_name}"'
    return cloudwatch.MathExpression(
        expression=f"SEARCH('{query}', '{statistic}', {PERIOD.to_seconds():.0f})",
        label=f"${{PROP('Dim.{names.DIMENSION_WINDOW_ID}')}}",
        period=PERIOD,
    )


def _graph(
    title: str,
    left: Sequence[cloudwatch.IMetric],
    *,
    right: Sequence[cloudwatch.IMetric] = (),
    width: int = 6,
) -> cloudwatch.GraphWidget:
    return cloudwatch.GraphWidget(
        title=title, left=list(left), right=list(right), width=width, height=6
    )


def _one_of(words: Sequence[str]) -> str:
    """'A', 'A or B', 'A, B or C'."""
    return " or ".join(filter(None, (", ".join(words[:-1]), words[-1])))
