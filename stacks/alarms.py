"""The alarms on the maintenance windows: failed runs (fleet-wide, per window), missed windows,
chronic failures.

Every alarm notifies the alert topic and its description tells the on-call what to do (the
alert path's own alarms are in health.py). Every alarm's name starts with its construct's
prefix (name_prefix), which is how the topic's and the key's policies tell its alarms from others.
"""

from aws_cdk import Aws, Duration, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cloudwatch_actions
from aws_cdk import aws_sns as sns
from constructs import Construct, IConstruct

from maintenance_window_alerts import constants
from maintenance_window_alerts.metrics import failed_invocations, metric
from maintenance_window_alerts.settings import Settings
from maintenance_window_alerts.text import one_of
from mwalerts import contract

GREATER = cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD
AT_LEAST = cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD
LESS = cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD
# What the on-call reads about a failed run, in every failure alarm's description.
READ_THE_ALERT = (
    "read the alert this topic received for the run: it names the window, the task and the "
    "failed targets with their status details and error output, and links to Logs Insights; "
    "the dashboard's table of the latest failed invocations lists them too"
)
# The chronic-failure alarm's period: a nightly window's streak stays in view until its next run.
CHRONIC_PERIOD = Duration.days(1)
# CloudFormation's limit on a stack name's length, and CloudWatch's on an alarm name's.
MAX_STACK_NAME = 128
MAX_ALARM_NAME = 255


def name_prefix(alerts: IConstruct) -> str:
    """How the name of every alarm of the construct `alerts` starts: "<stack name>/<its path in
    the stack>/", e.g. "MaintenanceWindowAlerts/Alerts/".

    No other construct's alarm names start with it: CloudFormation allows a stack name once per
    account and region and CDK a construct path once per stack, and neither a stack name nor a
    construct id can hold a "/" (so "Stack/Alerts/" is no prefix of "Stack-Central/Alerts/..."
    nor of "Stack/Alerts2/..."). It is the stack's name as deployed (AWS::StackName), so it holds
    however the template is deployed, and stays the same from one deployment to the next.
    """
    return f"{Aws.STACK_NAME}/{_path_in_stack(alerts)}/"


def own_alarm_arns(alerts: IConstruct) -> str:
    """The ARN pattern (ArnLike) of the alarms of the construct `alerts`, and of no others."""
    return (
        f"arn:{Aws.PARTITION}:cloudwatch:{Aws.REGION}:{Aws.ACCOUNT_ID}:alarm:{name_prefix(alerts)}*"
    )


def alarm_name(alerts: IConstruct, construct_id: str) -> str:
    """<name_prefix><construct id>: within CloudWatch's limit whatever the stack's name."""
    after_stack_name = f"/{_path_in_stack(alerts)}/{construct_id}"
    if MAX_STACK_NAME + len(after_stack_name) > MAX_ALARM_NAME:
        raise ValueError(
            f"The alarm name <stack name>{after_stack_name} could exceed CloudWatch's "
            f"{MAX_ALARM_NAME} characters (a stack name may have {MAX_STACK_NAME}): give the "
            "construct a shorter id or place it higher in the stack."
        )
    return name_prefix(alerts) + construct_id


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
        # The topic's and the key's policies admit only alarms of this name prefix.
        alarm_name=alarm_name(scope, construct_id),
    )
    created.add_alarm_action(cloudwatch_actions.SnsAction(topic))
    return created


def failed_invocations_alarm(
    scope: Construct, settings: Settings, topic: sns.ITopic
) -> cloudwatch.Alarm | None:
    """Failed invocations > 0 across all windows; None if no alert status has a metric."""
    statuses = settings.counted_alert_statuses
    if not statuses:
        return None
    return alarm(
        scope,
        constants.ALARM_ID,
        failed_invocations(settings.metrics_namespace, statuses),
        topic=topic,
        threshold=0,
        description=(
            f"Maintenance-window task invocations ended {one_of(statuses)} in the last 5 "
            f"minutes. On-call: 1) {READ_THE_ALERT}; 2) no such alert? Check the alert "
            "function's logs and both dead-letter queues (stack outputs); 3) fix the cause, then "
            "rerun the window's tasks or wait for its next run, and check the dashboard for "
            "windows that keep failing."
        ),
    )


def window_alarms(
    scope: Construct, settings: Settings, topic: sns.ITopic
) -> tuple[cloudwatch.Alarm, ...]:
    """windowAlarms: per window, its failed invocations in 5 minutes reach its threshold."""
    statuses = settings.counted_alert_statuses
    return tuple(
        alarm(
            scope,
            _alarm_id(constants.WINDOW_ALARM_ID_PREFIX, window_id),
            failed_invocations(settings.metrics_namespace, statuses, window=window_id),
            topic=topic,
            threshold=threshold,
            comparison=AT_LEAST,
            description=(
                f"Maintenance window {window_id} had {threshold} or more task invocations end "
                f"{one_of(statuses)} in the last 5 minutes (windowAlarms). On-call: "
                f"1) {READ_THE_ALERT}; 2) fix the cause on the targets or in the task (SSM "
                "Agent, the instance's role, the command or runbook, the target selection), "
                "then rerun the window's tasks or wait for its next run."
            ),
        )
        for window_id, threshold in sorted(settings.window_alarms.items())
    )


def missed_window_alarms(
    scope: Construct, settings: Settings, topic: sns.ITopic
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
                settings.metrics_namespace,
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
        for window_id, gap in sorted(settings.gaps.items())
    )


def chronic_failures_alarm(
    scope: Construct, settings: Settings, topic: sns.ITopic
) -> cloudwatch.Alarm | None:
    """chronicThreshold: some target failed that many executions of its window in a row (the
    longest streak of any execution, fleet-wide, in the last day); None without it.

    The function emits LongestFailureStreak once per execution; a period of a day keeps a
    nightly window's streak in view until its next run, and once no execution of the last day
    had such a streak, the alarm returns to OK (missing data is not breaching)."""
    threshold = settings.chronic_threshold
    if threshold is None:
        return None
    return alarm(
        scope,
        constants.CHRONIC_ALARM_ID,
        metric(
            settings.metrics_namespace,
            contract.METRIC_LONGEST_FAILURE_STREAK,
            statistic="Maximum",
            period=CHRONIC_PERIOD,
        ),
        topic=topic,
        threshold=threshold,
        comparison=AT_LEAST,
        description=(
            f"A maintenance-window target has failed {threshold} or more executions of its "
            "window in a row (chronicThreshold), in an execution of the last day. On-call: "
            "1) find the window: the dashboard's graph of chronic failures by window, or the "
            "alerts that say 'still failing'; 2) list its streaks (target, since, count, last "
            "error) with `mwalerts streaks --window-id mw-...`; 3) fix the cause on those "
            "targets or in the task, or take the targets out of the window's targets. The alarm "
            "returns to OK a day after the last execution with such a streak."
        ),
    )


def self_test_alarm(scope: Construct, settings: Settings, topic: sns.ITopic) -> cloudwatch.Alarm:
    """The alarm `mwalerts selftest` sets to ALARM (SetAlarmState), proving that the construct's
    alarms reach the alert topic through its and its key's policies, which admit only alarms of
    the construct's name prefix.

    Nothing else changes its state: it watches the self-test count, which is never below 0, and
    missing data does not breach; at its next evaluation CloudWatch sets it back to OK. It
    notifies on ALARM only, so each self-test sends one notification.
    """
    return alarm(
        scope,
        constants.SELF_TEST_ALARM_ID,
        metric(settings.metrics_namespace, contract.METRIC_SELF_TESTS),
        topic=topic,
        threshold=0,
        comparison=LESS,
        description=(
            "Self-test of the alert path: `mwalerts selftest` sets this alarm to ALARM to prove "
            "that the alarms' notifications reach the alert topic, and CloudWatch sets it back "
            "to OK within minutes. It never fires on its own. On-call: look for who ran the "
            "self-test (CloudTrail: SetAlarmState on this alarm); nothing needs fixing."
        ),
    )


def _path_in_stack(construct: IConstruct) -> str:
    return construct.node.path.removeprefix(f"{Stack.of(construct).node.path}/")


def _alarm_id(prefix: str, window: str) -> str:
    """<prefix><window ID>, or <prefix><account>-<region>-<window ID> in central mode."""
    return prefix + window.replace("/", "-")
