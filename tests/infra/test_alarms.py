"""The alarms: failed invocations fleet-wide and per window, missed windows, and the alert path's
own health; each notifies the topic and says what to do."""

from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest

from maintenance_window_alerts import MaintenanceWindowAlerts, Settings, constants
from mwalerts import contract
from tests.infra.synthesis import (
    CHRONIC_THRESHOLD,
    FIVE_MINUTES,
    GAPS,
    WINDOW_THRESHOLDS,
    Synth,
    as_text,
    own_alarm_arns,
    stack_named,
)


def alarm_metrics(synth: Synth) -> tuple[str, list[dict[str, Any]]]:
    alarm = synth.stack.alerts.alarm
    assert alarm is not None
    queries = synth.properties(alarm)["Metrics"]
    (expression,) = [q for q in queries if "Expression" in q]
    return expression["Expression"], [q["MetricStat"] for q in queries if "MetricStat" in q]


def health_alarm(synth: Synth, name: str) -> dict[str, Any]:
    alarms = synth.stack.alerts.health_alarms
    alarm = {
        "errors": alarms.errors,
        "throttles": alarms.throttles,
        "rule_dlq": alarms.dead_letters[0],
        "function_dlq": alarms.dead_letters[1],
        "sweep": alarms.sweep,
    }[name]
    return synth.properties(alarm)


def alarms_by_id(synth: Synth, prefix: str) -> dict[str, dict[str, Any]]:
    """Window ID -> properties of the alarms whose construct id is prefix + window ID."""
    return {
        a.node.id.removeprefix(prefix): synth.properties(a)
        for a in synth.stack.alerts.alarms
        if a.node.id.startswith(prefix)
    }


def test_alarm_sums_the_fleet_wide_metrics_of_the_alert_statuses(
    default: Synth, custom: Synth
) -> None:
    for synth, namespace, statuses in (
        (default, contract.DEFAULT_METRICS_NAMESPACE, contract.DEFAULT_ALERT_STATUSES),
        (custom, "Acme/Patching", ("FAILED", "TIMED_OUT")),
    ):
        expression, metrics = alarm_metrics(synth)

        assert expression == " + ".join(f"m{i}" for i in range(len(statuses)))
        assert metrics == [
            {
                # No dimensions: the series summed over all windows.
                "Metric": {"Namespace": namespace, "MetricName": contract.STATUS_METRICS[status]},
                "Period": FIVE_MINUTES,
                "Stat": "Sum",
            }
            for status in statuses
        ]


def test_alarm_fires_on_one_failed_invocation_and_notifies_the_topic(default: Synth) -> None:
    alerts = default.stack.alerts
    assert alerts.alarm is not None
    alarm = default.properties(alerts.alarm)

    assert alarm["Threshold"] == 0
    assert alarm["ComparisonOperator"] == "GreaterThanThreshold"
    assert alarm["EvaluationPeriods"] == 1
    assert alarm["TreatMissingData"] == "notBreaching"
    assert alarm["AlarmActions"] == [default.ref(alerts.topic)]
    assert "On-call:" in alarm["AlarmDescription"]


@pytest.mark.parametrize(
    ("name", "namespace", "metric", "statistic", "dimension"),
    [
        ("errors", "AWS/Lambda", "Errors", "Sum", "function"),
        ("throttles", "AWS/Lambda", "Throttles", "Sum", "function"),
        ("rule_dlq", "AWS/SQS", "ApproximateNumberOfMessagesVisible", "Maximum", "rule_dlq"),
        ("function_dlq", "AWS/SQS", "ApproximateNumberOfMessagesVisible", "Maximum", "fn_dlq"),
    ],
)
def test_health_alarm_fires_on_the_first_error_throttle_or_dead_letter(
    default: Synth, name: str, namespace: str, metric: str, statistic: str, dimension: str
) -> None:
    alerts = default.stack.alerts
    alarm = health_alarm(default, name)
    dimensions = {
        "function": [{"Name": "FunctionName", "Value": default.ref(alerts.function)}],
        "rule_dlq": [
            {
                "Name": "QueueName",
                "Value": {
                    "Fn::GetAtt": [default.logical_id(alerts.rule_dead_letter_queue), "QueueName"]
                },
            }
        ],
        "fn_dlq": [
            {
                "Name": "QueueName",
                "Value": {
                    "Fn::GetAtt": [default.logical_id(alerts.function_failure_queue), "QueueName"]
                },
            }
        ],
    }[dimension]

    assert (alarm["Namespace"], alarm["MetricName"], alarm["Dimensions"]) == (
        namespace,
        metric,
        dimensions,
    )
    assert (alarm["Statistic"], alarm["Period"], alarm["EvaluationPeriods"]) == (
        statistic,
        FIVE_MINUTES,
        1,
    )
    assert (alarm["ComparisonOperator"], alarm["Threshold"]) == ("GreaterThanThreshold", 0)
    assert alarm["TreatMissingData"] == "notBreaching"
    assert alarm["AlarmActions"] == [default.ref(alerts.topic)]
    assert "On-call:" in alarm["AlarmDescription"]
    if name.endswith("dlq") or name == "errors":
        assert "`make redrive`" in alarm["AlarmDescription"]


def test_sweep_alarm_fires_when_no_sweep_completed_in_two_intervals(
    synth_and_interval: tuple[Synth, int],
) -> None:
    synth, minutes = synth_and_interval
    alarm = health_alarm(synth, "sweep")

    assert alarm["Namespace"] == synth.stack.alerts.settings.metrics_namespace
    assert alarm["MetricName"] == contract.METRIC_SWEEP_RUNS
    assert "Dimensions" not in alarm  # the fleet-wide series
    assert (alarm["Statistic"], alarm["Period"], alarm["EvaluationPeriods"]) == (
        "Sum",
        2 * minutes * 60,
        1,
    )
    assert alarm["Period"] % 60 == 0
    assert alarm["Period"] <= 86400  # CloudWatch's limit for one evaluation
    assert (alarm["ComparisonOperator"], alarm["Threshold"]) == ("LessThanThreshold", 1)
    # A sweep that does not run emits nothing: no data is the failure.
    assert alarm["TreatMissingData"] == "breaching"
    assert alarm["AlarmActions"] == [synth.ref(synth.stack.alerts.topic)]
    assert f"every {minutes} minutes" in alarm["AlarmDescription"]


def test_window_alarm_fires_when_that_windows_failed_invocations_reach_its_threshold(
    default: Synth, custom: Synth
) -> None:
    alarms = alarms_by_id(custom, constants.WINDOW_ALARM_ID_PREFIX)

    assert alarms.keys() == WINDOW_THRESHOLDS.keys()
    for window_id, alarm in alarms.items():
        queries = alarm["Metrics"]
        (expression,) = [q for q in queries if "Expression" in q]
        # The alert statuses' metrics of this window (FAILED,TIMED_OUT here), summed like the
        # fleet-wide alarm's.
        assert expression["Expression"] == "m0 + m1"
        assert [q["MetricStat"] for q in queries if "MetricStat" in q] == [
            {
                "Metric": {
                    "Namespace": "Acme/Patching",
                    "MetricName": metric,
                    "Dimensions": [{"Name": contract.DIMENSION_WINDOW_ID, "Value": window_id}],
                },
                "Period": FIVE_MINUTES,
                "Stat": "Sum",
            }
            for metric in (
                contract.METRIC_INVOCATIONS_FAILED,
                contract.METRIC_INVOCATIONS_TIMED_OUT,
            )
        ]
        assert alarm["Threshold"] == WINDOW_THRESHOLDS[window_id]
        assert alarm["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
        assert alarm["EvaluationPeriods"] == 1
        assert alarm["TreatMissingData"] == "notBreaching"
        assert alarm["AlarmActions"] == [custom.ref(custom.stack.alerts.topic)]
        assert window_id in alarm["AlarmDescription"]
        assert f"{WINDOW_THRESHOLDS[window_id]} or more" in alarm["AlarmDescription"]
    assert default.stack.alerts.window_alarms == ()


def test_missed_window_alarm_fires_when_no_execution_ended_within_the_gap(
    default: Synth, custom: Synth
) -> None:
    alarms = alarms_by_id(custom, constants.MISSED_WINDOW_ALARM_ID_PREFIX)

    assert alarms.keys() == GAPS.keys()
    for window_id, alarm in alarms.items():
        gap, period, periods = GAPS[window_id]
        assert (alarm["Namespace"], alarm["MetricName"], alarm["Dimensions"]) == (
            "Acme/Patching",
            contract.METRIC_WINDOW_EXECUTIONS,
            [{"Name": contract.DIMENSION_WINDOW_ID, "Value": window_id}],
        )
        assert alarm["Statistic"] == "Sum"
        # Periods that together are exactly the gap; all of them must breach.
        assert (alarm["Period"], alarm["EvaluationPeriods"], alarm["DatapointsToAlarm"]) == (
            period,
            periods,
            periods,
        )
        # CloudWatch's limits (PutMetricAlarm): whole minutes, at most 7 days in all, and at
        # most a day in all for periods under an hour.
        assert alarm["Period"] % 60 == 0
        assert alarm["Period"] * alarm["EvaluationPeriods"] <= 7 * 86400
        assert alarm["Period"] >= 3600 or alarm["Period"] * alarm["EvaluationPeriods"] <= 86400
        # A period with an execution has Sum >= 1; one without has no data, which breaches.
        assert (alarm["ComparisonOperator"], alarm["Threshold"]) == ("LessThanThreshold", 1)
        assert alarm["TreatMissingData"] == "breaching"
        assert alarm["AlarmActions"] == [custom.ref(custom.stack.alerts.topic)]
        assert f"{window_id} has not completed an execution in {gap}" in alarm["AlarmDescription"]
    assert default.stack.alerts.missed_window_alarms == ()


def test_chronic_alarm_fires_when_a_targets_streak_reaches_the_threshold(
    default: Synth, custom: Synth
) -> None:
    alerts = custom.stack.alerts
    assert alerts.chronic_alarm is not None
    alarm = custom.properties(alerts.chronic_alarm)

    # The longest streak of any execution, fleet-wide (no dimension).
    assert (alarm["Namespace"], alarm["MetricName"]) == (
        "Acme/Patching",
        contract.METRIC_LONGEST_FAILURE_STREAK,
    )
    assert "Dimensions" not in alarm
    # Over a day: a nightly window's streak stays in view until its next run.
    assert (alarm["Statistic"], alarm["Period"], alarm["EvaluationPeriods"]) == (
        "Maximum",
        86400,
        1,
    )
    assert (alarm["ComparisonOperator"], alarm["Threshold"]) == (
        "GreaterThanOrEqualToThreshold",
        CHRONIC_THRESHOLD,
    )
    # No execution, no streak to judge: a quiet fleet is no alarm.
    assert alarm["TreatMissingData"] == "notBreaching"
    assert alarm["AlarmActions"] == [custom.ref(alerts.topic)]
    assert alarm["AlarmName"] == stack_named(f"/Alerts/{constants.CHRONIC_ALARM_ID}")
    assert f"{CHRONIC_THRESHOLD} or more executions" in alarm["AlarmDescription"]
    assert "`mwalerts streaks --window-id" in alarm["AlarmDescription"]
    # On the dashboard's alarm widget, with the others.
    assert alerts.chronic_alarm in alerts.alarms
    # Without chronicThreshold, no alarm.
    assert default.stack.alerts.chronic_alarm is None
    assert not [a for a in default.stack.alerts.alarms if constants.CHRONIC_ALARM_ID in a.node.id]


def test_every_alarm_notifies_the_topic_and_says_what_to_do(default: Synth, custom: Synth) -> None:
    # Failed invocations, errors, throttles, 2 queues, sweep; and per-window, missed-window and
    # chronic failures; and, not among `alarms` (the fleet's), the self-test alarm.
    for synth, count in ((default, 6), (custom, 6 + len(WINDOW_THRESHOLDS) + len(GAPS) + 1)):
        alarms = synth.template.find_resources("AWS::CloudWatch::Alarm")

        assert len(alarms) == len(synth.stack.alerts.alarms) + 1 == count + 1
        for alarm in alarms.values():
            assert alarm["Properties"]["AlarmActions"] == [synth.ref(synth.stack.alerts.topic)]
            description = alarm["Properties"]["AlarmDescription"]
            assert "On-call: 1)" in description or "On-call: look" in description
            assert len(description) <= 1024  # CloudWatch's limit


def test_every_alarm_is_named_for_the_stack_and_the_construct(
    default: Synth, custom: Synth
) -> None:
    for synth in (default, custom):
        alerts = synth.stack.alerts

        # <stack name as deployed>/<construct path>/<construct id>: the prefix the topic's and
        # the key's policies admit (own_alarm_arns), unique to this construct in its account and
        # region, and the same at every deployment.
        every_alarm = [*alerts.alarms, alerts.self_test_alarm]
        names = {a.node.id: synth.properties(a)["AlarmName"] for a in every_alarm}
        admitted = as_text(own_alarm_arns()).split(":alarm:")[1].removesuffix("*")

        assert names == {a.node.id: stack_named(f"/Alerts/{a.node.id}") for a in every_alarm}
        assert all(as_text(name).startswith(admitted) for name in names.values())


def test_an_alarm_name_that_could_exceed_cloudwatchs_limit_fails_synth(tmp_path: Path) -> None:
    def alerts_in_their_stack(construct_id: str) -> MaintenanceWindowAlerts:
        stack = cdk.Stack(cdk.App(outdir=str(tmp_path)), "TheirStack")
        return MaintenanceWindowAlerts(stack, construct_id, settings=Settings())

    # "<stack name>/<construct id>/<alarm id>" with a stack name of up to 128 characters
    # (CloudFormation's limit) and the longest alarm id: at most 255 (CloudWatch's limit).
    longest = constants.FUNCTION_DLQ_ALARM_ID
    fits = "A" * (255 - 128 - len(f"//{longest}"))
    alarms = alerts_in_their_stack(fits).alarms

    assert max(len(a.node.id) for a in alarms) == len(longest)
    with pytest.raises(ValueError, match="could exceed CloudWatch's 255 characters"):
        alerts_in_their_stack(fits + "A")
