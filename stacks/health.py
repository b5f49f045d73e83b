"""The alarms on the alert path itself: if one fires, alerts may be late or missing."""

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from maintenance_window_alerts import constants
from maintenance_window_alerts.alarms import LESS, alarm
from maintenance_window_alerts.metrics import PERIOD, metric
from maintenance_window_alerts.settings import Settings
from mwalerts import contract

REDRIVE = (
    "When the cause is fixed, run `make redrive` to send the kept events back to the function "
    "(a redriven event that was already alerted on is not alerted on again)."
)
FUNCTION_ERRORS = (
    "The maintenance-window alert function failed in the last 5 minutes (an error or a "
    "timeout), so an alert may be late or missing. Lambda retries an event twice, then "
    "keeps it in the function failure queue. On-call: 1) find the error in the "
    "function's logs (stack output FunctionName); 2) fix its cause (SSM throttling, "
    "permissions, KMS, a bug). " + REDRIVE
)
FUNCTION_THROTTLES = (
    "Lambda throttled the maintenance-window alert function in the last 5 minutes: the "
    "account has no concurrency left in this region. Nothing is lost yet (Lambda keeps "
    "retrying for up to 6 hours), but alerts are late. On-call: look for the function "
    "using up the account's concurrency (Lambda ConcurrentExecutions), limit it or "
    "raise the account's concurrency quota."
)


# What stops a sweep from counting, and what the on-call does: the sweep in one invocation
# (per-account and central mode) ...
IN_INVOCATION_SWEEP = (
    "A sweep that runs out of time, or in central mode cannot assume a member's reader role, "
    "does not count. On-call: 1) check that the sweep schedule rule is enabled and the "
    "function's logs for errors and warnings of scheduled invocations (they name the member); "
    "2) check the function's error and throttle alarms and the dead-letter queues. "
)
# ... and organization mode's, fanned out through the sweep queue: it counts once every
# account-region it queued was read, so a single one that keeps failing holds it back.
FAN_OUT_SWEEP = (
    "A sweep counts once every account-region it queued (metric SweepPlaces) was read within "
    "the interval. It does not when: a place failed 3 times (metric SweepPlacesFailed, whose "
    "log line names it) and waits in the sweep dead-letter queue (stack output "
    f"{contract.OUTPUT_SWEEP_DLQ_URL}); a closed or suspended account, which StackSets still "
    "lists as SUCCEEDED, fails so on every sweep until it leaves the covered OUs; the fan-out "
    "itself failed (no SweepPlaces). On-call: 1) read the sweep dead-letter queue and the "
    "function's logs of scheduled and queue invocations; 2) fix the cause (move closed accounts "
    "to an OU the StackSet does not cover), then purge the queue. "
)
FIRST_DEPLOYMENT = "Right after the first deployment it fires once, until the first sweep has run."


@dataclass(frozen=True)
class DeadLetterQueue:
    queue: sqs.Queue
    alarm_id: str
    label: str  # e.g. "rule dead-letter queue"
    holds: str  # what lands in it
    url_output: str  # the stack output (add_outputs) of its URL, where the on-call reads it
    action: str = REDRIVE  # what the on-call does once the cause is fixed


@dataclass(frozen=True)
class HealthAlarms:
    """The alarms on the alert path itself: if one fires, alerts may be late or missing."""

    errors: cloudwatch.Alarm
    throttles: cloudwatch.Alarm
    dead_letters: tuple[cloudwatch.Alarm, ...]
    sweep: cloudwatch.Alarm

    def __iter__(self) -> Iterator[cloudwatch.Alarm]:
        return iter((self.errors, self.throttles, *self.dead_letters, self.sweep))


def health_alarms(
    scope: Construct,
    settings: Settings,
    topic: sns.ITopic,
    *,
    function: lambda_.IFunction,
    dead_letter_queues: Sequence[DeadLetterQueue],
    fan_out: bool = False,
) -> HealthAlarms:
    """The function's errors and throttles and each dead letter, from the first one; a sweep
    that does not run (`fan_out`: organization mode's sweep, one queued message per
    account-region)."""

    def on_first(
        construct_id: str, series: cloudwatch.IMetric, description: str
    ) -> cloudwatch.Alarm:
        return alarm(scope, construct_id, series, topic=topic, threshold=0, description=description)

    return HealthAlarms(
        errors=on_first(
            constants.ERRORS_ALARM_ID,
            function.metric_errors(period=PERIOD, statistic="Sum"),
            FUNCTION_ERRORS,
        ),
        throttles=on_first(
            constants.THROTTLES_ALARM_ID,
            function.metric_throttles(period=PERIOD, statistic="Sum"),
            FUNCTION_THROTTLES,
        ),
        dead_letters=tuple(
            on_first(
                dlq.alarm_id,
                dlq.queue.metric_approximate_number_of_messages_visible(
                    period=PERIOD, statistic="Maximum"
                ),
                f"The {dlq.label} holds {dlq.holds}: nothing was alerted on for them yet. "
                f"On-call: 1) read a message (the queue's URL: stack output {dlq.url_output}) "
                "and the function's logs for the cause; 2) fix it. " + dlq.action,
            )
            for dlq in dead_letter_queues
        ),
        sweep=sweep_alarm(scope, settings, topic, fan_out=fan_out),
    )


def sweep_alarm(
    scope: Construct, settings: Settings, topic: sns.ITopic, *, fan_out: bool = False
) -> cloudwatch.Alarm:
    """No reconciliation sweep completed in twice its interval."""
    interval = round(settings.sweep_interval.to_minutes())
    description = (
        f"No reconciliation sweep completed in the last {2 * interval} minutes (one should "
        f"every {interval} minutes). Until one does, a window execution whose event SSM did "
        "not deliver is not alerted on. "
    ) + (FAN_OUT_SWEEP if fan_out else IN_INVOCATION_SWEEP)
    # Twice the interval, so one late sweep does not page anyone (a whole number of minutes,
    # so always a valid CloudWatch period).
    window = Duration.minutes(2 * interval)
    return alarm(
        scope,
        constants.SWEEP_ALARM_ID,
        metric(settings.metrics_namespace, contract.METRIC_SWEEP_RUNS, period=window),
        topic=topic,
        threshold=1,
        comparison=LESS,
        # No data is the failure this alarm is for: a sweep that does not run emits nothing.
        missing=cloudwatch.TreatMissingData.BREACHING,
        description=description + FIRST_DEPLOYMENT,
    )
