"""The product settings: cdk.json holds the defaults, and a bad value fails synth naming its key."""

from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_logs as logs
from aws_cdk.assertions import Template

from maintenance_window_alerts import Settings, SettingsError
from maintenance_window_alerts import settings as keys
from maintenance_window_alerts.settings import RETENTION_DAYS, Gap
from mwalerts import contract
from tests.infra.synthesis import CDK_JSON_CONTEXT

WINDOW, OTHER_WINDOW = "mw-0123456789abcdef0", "mw-0fedcba9876543210"


def test_cdk_json_context_holds_the_defaults() -> None:
    context = CDK_JSON_CONTEXT
    with_default = [key for key in keys.KEYS if key != keys.CHRONIC_THRESHOLD]

    assert {key: context[key] for key in with_default} == {
        keys.ALERT_STATUSES: list(contract.DEFAULT_ALERT_STATUSES),
        keys.ALERT_EMAILS: [],
        keys.METRICS_NAMESPACE: contract.DEFAULT_METRICS_NAMESPACE,
        keys.LOG_RETENTION_DAYS: 90,
        keys.SWEEP_INTERVAL_MINUTES: contract.DEFAULT_SWEEP_INTERVAL_MINUTES,
        keys.ERROR_DETAILS_LIMIT: contract.DEFAULT_ERROR_DETAILS_LIMIT,
        keys.CHAT_NOTIFICATIONS: contract.CHAT_OFF,
        keys.WINDOW_ALARMS: {},
        keys.EXPECTED_WINDOWS: {},
        keys.POWERTOOLS_LAYER: keys.POWERTOOLS_PUBLIC,
        keys.SELF_TEST_ON_DEPLOY: True,
        keys.REPEAT_ALERTS: {},
        keys.RESOLVED_NOTICES: True,
    }
    # No chronic-failure alarm unless a threshold is set.
    assert keys.CHRONIC_THRESHOLD not in context
    assert Settings.from_context(context) == Settings()


def test_missing_settings_take_their_defaults() -> None:
    assert Settings.from_context({}) == Settings(
        alert_statuses=contract.DEFAULT_ALERT_STATUSES,
        alert_emails=(),
        metrics_namespace=contract.DEFAULT_METRICS_NAMESPACE,
        log_retention_days=90,
        sweep_interval_minutes=15,
        error_details_limit=contract.DEFAULT_ERROR_DETAILS_LIMIT,
        chat_notifications=contract.CHAT_OFF,
        window_alarms={},
        expected_windows={},
        powertools_layer=keys.POWERTOOLS_PUBLIC,
        self_test_on_deploy=True,
        repeat_alerts={},
        resolved_notices=True,
        chronic_threshold=None,
    )


def test_command_line_strings_are_parsed_like_json_values() -> None:
    # `cdk deploy -c key=value` passes every value as a string.
    settings = Settings.from_context(
        {
            keys.ALERT_STATUSES: "failed, TIMED_OUT,failed",
            keys.ALERT_EMAILS: "ops@example.com,oncall@example.org",
            keys.METRICS_NAMESPACE: " Acme/Patching ",
            keys.LOG_RETENTION_DAYS: "30",
            keys.SWEEP_INTERVAL_MINUTES: " 60 ",
            keys.ERROR_DETAILS_LIMIT: "0",
            keys.CHAT_NOTIFICATIONS: " separate-topic ",
            keys.WINDOW_ALARMS: f"{WINDOW}=3, {OTHER_WINDOW}=1",
            keys.EXPECTED_WINDOWS: f'{{"{WINDOW}": "26h"}}',  # a JSON object works too
            keys.POWERTOOLS_LAYER: " bundled ",
            keys.SELF_TEST_ON_DEPLOY: " False ",
            keys.REPEAT_ALERTS: f"{WINDOW}=always, *= on-change ",
            keys.RESOLVED_NOTICES: " FALSE ",
            keys.CHRONIC_THRESHOLD: " 4 ",
        }
    )

    assert settings == Settings(
        alert_statuses=("FAILED", "TIMED_OUT"),
        alert_emails=("ops@example.com", "oncall@example.org"),
        metrics_namespace="Acme/Patching",
        log_retention_days=30,
        sweep_interval_minutes=60,
        error_details_limit=0,
        chat_notifications=contract.CHAT_SEPARATE_TOPIC,
        window_alarms={WINDOW: 3, OTHER_WINDOW: 1},
        expected_windows={WINDOW: "26h"},
        powertools_layer=keys.POWERTOOLS_BUNDLED,
        self_test_on_deploy=False,
        repeat_alerts={WINDOW: contract.REPEAT_ALWAYS, "*": contract.REPEAT_ON_CHANGE},
        resolved_notices=False,
        chronic_threshold=4,
    )


@pytest.mark.parametrize(
    ("key", "value", "problem"),
    [
        (keys.ALERT_STATUSES, ["FAILED", "BROKEN"], "unknown status(es) 'BROKEN'"),
        (keys.ALERT_STATUSES, [], "at least one status"),
        (keys.ALERT_STATUSES, " , ", "at least one status"),
        (keys.ALERT_STATUSES, {"FAILED": True}, "list of strings"),
        (keys.ALERT_EMAILS, ["ops@example.com", "not-an-address"], "'not-an-address'"),
        (keys.ALERT_EMAILS, ["ops@example"], "invalid email"),
        (keys.ALERT_EMAILS, [1], "list of strings"),
        (keys.METRICS_NAMESPACE, "AWS/Lambda", "not starting with 'AWS/'"),
        (keys.METRICS_NAMESPACE, "Bad'Quote", "not a valid custom CloudWatch namespace"),
        (keys.METRICS_NAMESPACE, "", "not a valid custom CloudWatch namespace"),
        (keys.METRICS_NAMESPACE, 42, "must be a string"),
        (keys.LOG_RETENTION_DAYS, 91, "choose one of 1, 3, 5"),
        (keys.LOG_RETENTION_DAYS, "ninety", "whole number"),
        (keys.LOG_RETENTION_DAYS, True, "whole number"),
        (keys.SWEEP_INTERVAL_MINUTES, 4, "choose 5 to 720 minutes"),
        (keys.SWEEP_INTERVAL_MINUTES, 721, "choose 5 to 720 minutes"),
        (keys.SWEEP_INTERVAL_MINUTES, "0", "out of range"),
        (keys.SWEEP_INTERVAL_MINUTES, "quarter-hour", "whole number of minutes"),
        (keys.SWEEP_INTERVAL_MINUTES, 7.5, "whole number of minutes"),
        (keys.SWEEP_INTERVAL_MINUTES, "-5", "whole number of minutes"),
        (keys.ERROR_DETAILS_LIMIT, contract.MAX_ERROR_DETAILS_LIMIT + 1, "choose 0"),
        (keys.ERROR_DETAILS_LIMIT, "-1", "whole number"),
        (keys.ERROR_DETAILS_LIMIT, 2.5, "whole number"),
        (keys.ERROR_DETAILS_LIMIT, True, "whole number"),
        (keys.CHAT_NOTIFICATIONS, "slack", "not one of off, separate-topic, default-body"),
        (keys.CHAT_NOTIFICATIONS, "Off", "not one of"),
        (keys.CHAT_NOTIFICATIONS, True, "must be a string"),
        (keys.WINDOW_ALARMS, {"mw-123": 1}, "invalid maintenance window ID(s) 'mw-123'"),
        (keys.WINDOW_ALARMS, {WINDOW.upper(): 1}, "invalid maintenance window ID"),
        (keys.WINDOW_ALARMS, {WINDOW: 0}, "1 or more"),
        (keys.WINDOW_ALARMS, {WINDOW: "three"}, "whole number of failed invocations"),
        (keys.WINDOW_ALARMS, {WINDOW: 1.5}, "whole number"),
        (keys.WINDOW_ALARMS, [WINDOW], "must be an object"),
        (keys.WINDOW_ALARMS, WINDOW, "must be an object"),
        (keys.WINDOW_ALARMS, "{not json", "not valid JSON"),
        (keys.EXPECTED_WINDOWS, {"mw-nothex0000000000": "1d"}, "invalid maintenance window"),
        (keys.EXPECTED_WINDOWS, {WINDOW: "90"}, "not a duration"),
        (keys.EXPECTED_WINDOWS, {WINDOW: "1.5h"}, "whole number and a unit"),
        (keys.EXPECTED_WINDOWS, {WINDOW: "90s"}, "m, h or d"),
        (keys.EXPECTED_WINDOWS, {WINDOW: "26 hours"}, "not a duration"),
        (keys.EXPECTED_WINDOWS, {WINDOW: 26}, "not a duration"),
        (keys.EXPECTED_WINDOWS, {WINDOW: "0m"}, "choose 1m to 7d"),
        # More than CloudWatch can look back: Period x EvaluationPeriods <= 604,800 seconds.
        (keys.EXPECTED_WINDOWS, {WINDOW: "8d"}, "choose 1m to 7d"),
        (keys.EXPECTED_WINDOWS, {WINDOW: "169h"}, "604,800 seconds"),
        # 1499 minutes is prime: no equal periods of 1 hour to 1 day make it up.
        (keys.EXPECTED_WINDOWS, {WINDOW: "1499m"}, "use whole hours"),
        (keys.POWERTOOLS_LAYER, "Public", "is not 'public', 'bundled' or a Lambda layer"),
        (keys.POWERTOOLS_LAYER, "docker", "arn:<partition>:lambda:<region>:<account>:layer:"),
        (keys.POWERTOOLS_LAYER, True, "must be a string"),
        # A layer ARN without its version, a function's ARN, a short account, a bad region.
        (keys.POWERTOOLS_LAYER, "arn:aws:lambda:eu-west-1:123456789012:layer:pt", "not 'public'"),
        (keys.POWERTOOLS_LAYER, "arn:aws:lambda:eu-west-1:123456789012:function:f:1", "ARN"),
        (keys.POWERTOOLS_LAYER, "arn:aws:lambda:eu-west-1:12345:layer:pt:3", "ARN"),
        (keys.POWERTOOLS_LAYER, "arn:aws:lambda:euwest1:123456789012:layer:pt:3", "ARN"),
        (keys.POWERTOOLS_LAYER, "arn:aws:lambda:eu-west-1:123456789012:layer:pt:0", "ARN"),
        (keys.POWERTOOLS_LAYER, "arn:aws:lambda:eu-west-1:123456789012:layer:p.t:3", "ARN"),
        (keys.SELF_TEST_ON_DEPLOY, "yes", "must be true or false, got 'yes'"),
        (keys.SELF_TEST_ON_DEPLOY, "0", "must be true or false"),
        (keys.SELF_TEST_ON_DEPLOY, 1, "must be true or false"),
        (keys.SELF_TEST_ON_DEPLOY, [], "must be true or false"),
        (keys.REPEAT_ALERTS, {WINDOW: "never"}, "'never' is not one of always, on-change"),
        (keys.REPEAT_ALERTS, {"*": "On-Change"}, "repeatAlerts * 'On-Change' is not one of"),
        (keys.REPEAT_ALERTS, {WINDOW: True}, "True is not one of always, on-change"),
        (keys.REPEAT_ALERTS, {"mw-123": "always"}, "invalid maintenance window ID(s) 'mw-123'"),
        (keys.REPEAT_ALERTS, {"all": "always"}, "or '*' for every window not named"),
        (keys.REPEAT_ALERTS, ["*"], "must be an object"),
        (keys.REPEAT_ALERTS, "on-change", "must be an object"),
        # 30 windows by ID: more of the function's 4 KB of environment than repeatAlerts gets.
        (
            keys.REPEAT_ALERTS,
            {f"mw-{i:017x}": contract.REPEAT_ON_CHANGE for i in range(30)},
            "takes 1,051 bytes of the function's environment (REPEAT_ALERTS), more than 1,000",
        ),
        (keys.RESOLVED_NOTICES, "yes", "must be true or false, got 'yes'"),
        (keys.RESOLVED_NOTICES, 0, "must be true or false"),
        (keys.CHRONIC_THRESHOLD, 1, "2 or more (a streak of 1 is a new failure), got 1"),
        (keys.CHRONIC_THRESHOLD, "0", "2 or more"),
        (keys.CHRONIC_THRESHOLD, 2.5, "whole number of failed executions"),
        (keys.CHRONIC_THRESHOLD, "three", "whole number of failed executions"),
        (keys.CHRONIC_THRESHOLD, True, "whole number"),
    ],
)
def test_invalid_setting_fails_with_a_message_naming_the_key(
    key: str, value: Any, problem: str
) -> None:
    with pytest.raises(SettingsError) as raised:
        Settings.from_context({key: value})

    assert key in str(raised.value)
    assert problem in str(raised.value)


@pytest.mark.parametrize(("wrong", "right"), list(keys.MISSPELLED_KEYS.items()))
def test_misspelled_key_fails_instead_of_being_ignored(wrong: str, right: str) -> None:
    with pytest.raises(SettingsError, match=f"'{wrong}': did you mean '{right}'"):
        Settings.from_context({wrong: "anything"})


def test_settings_built_in_code_are_validated_too() -> None:
    with pytest.raises(SettingsError, match=keys.ALERT_EMAILS):
        Settings(alert_emails=("nobody",))
    with pytest.raises(SettingsError, match=keys.SELF_TEST_ON_DEPLOY):
        Settings(self_test_on_deploy="false")  # type: ignore[arg-type]
    with pytest.raises(SettingsError, match=keys.RESOLVED_NOTICES):
        Settings(resolved_notices="false")  # type: ignore[arg-type]
    with pytest.raises(SettingsError, match=keys.CHRONIC_THRESHOLD):
        Settings(chronic_threshold=1)
    with pytest.raises(SettingsError, match=keys.REPEAT_ALERTS):
        Settings(repeat_alerts={WINDOW: "sometimes"})


def test_every_accepted_retention_renders_as_that_many_days() -> None:
    stack = cdk.Stack()
    for days in RETENTION_DAYS:
        retention = Settings(log_retention_days=days).log_retention
        logs.LogGroup(stack, f"Logs{days}", retention=retention)

    rendered = Template.from_stack(stack).find_resources("AWS::Logs::LogGroup")

    assert sorted(r["Properties"]["RetentionInDays"] for r in rendered.values()) == sorted(
        RETENTION_DAYS
    )


@pytest.mark.parametrize("minutes", [5, 720])
def test_sweep_interval_bounds_are_accepted_and_set_the_lookback(minutes: int) -> None:
    settings = Settings.from_context({keys.SWEEP_INTERVAL_MINUTES: minutes})

    assert settings.sweep_interval.to_minutes() == minutes
    assert settings.sweep_lookback_minutes == minutes * contract.SWEEP_LOOKBACK_PERIODS


@pytest.mark.parametrize(
    ("gap", "period", "periods"),
    [
        ("1m", 60, 1),
        ("90m", 90 * 60, 1),
        ("24h", 86400, 1),  # up to a day: one period of the whole gap
        ("1d", 86400, 1),
        # Longer: the fewest equal periods of whole minutes, each 1 hour to 1 day.
        ("25h", 750 * 60, 2),
        ("26h", 13 * 3600, 2),
        ("2881m", 67 * 60, 43),  # 43 x 67 minutes
        ("1501m", 79 * 60, 19),  # 19 x 79 minutes
        ("7d", 86400, 7),
        ("168h", 86400, 7),
    ],
)
def test_expected_window_gap_becomes_alarm_periods_that_add_up_to_it(
    gap: str, period: int, periods: int
) -> None:
    parsed = Settings.from_context({keys.EXPECTED_WINDOWS: {WINDOW: gap}}).gaps[WINDOW]

    assert parsed == Gap(gap, period, periods)
    assert parsed.seconds == period * periods


def test_every_gap_cloudwatch_can_watch_is_accepted_and_no_other() -> None:
    # Every whole number of minutes up to a week and a minute, against CloudWatch's limits for
    # an alarm (PutMetricAlarm): periods of whole minutes, at most a day long (this product's
    # choice), Period x EvaluationPeriods <= 7 days, and <= 1 day if the period is under an hour.
    def expressible(minutes: int) -> bool:
        return any(
            minutes % count == 0
            and minutes // count <= 1440
            and (minutes // count >= 60 or minutes <= 1440)
            for count in range(1, minutes + 1)
        )

    for minutes in range(1, 7 * 1440 + 2):
        if minutes <= 7 * 1440 and expressible(minutes):
            gap = Gap.parse(WINDOW, f"{minutes}m")
            assert gap.seconds == minutes * 60
            assert gap.period_seconds % 60 == 0
            assert gap.period_seconds <= 86400
            assert gap.seconds <= 7 * 86400
            assert gap.period_seconds >= 3600 or gap.seconds <= 86400
        else:
            with pytest.raises(SettingsError, match=keys.EXPECTED_WINDOWS):
                Gap.parse(WINDOW, f"{minutes}m")


def test_window_alarms_need_an_alert_status_that_has_a_metric() -> None:
    with pytest.raises(SettingsError, match=f"{keys.WINDOW_ALARMS} counts the invocations"):
        Settings.from_context(
            {keys.ALERT_STATUSES: "SKIPPED_OVERLAPPING", keys.WINDOW_ALARMS: {WINDOW: 1}}
        )
    # Without windowAlarms the same statuses are fine (nothing to count per window).
    assert Settings.from_context({keys.ALERT_STATUSES: "SKIPPED_OVERLAPPING"})


@pytest.mark.parametrize("limit", [0, contract.MAX_ERROR_DETAILS_LIMIT])
def test_error_details_limit_bounds_are_accepted(limit: int) -> None:
    assert Settings.from_context({keys.ERROR_DETAILS_LIMIT: limit}).error_details_limit == limit


@pytest.mark.parametrize("mode", contract.CHAT_MODES)
def test_every_chat_mode_is_accepted(mode: str) -> None:
    assert Settings.from_context({keys.CHAT_NOTIFICATIONS: mode}).chat_notifications == mode


def test_window_settings_may_name_a_member_account_and_region_for_central_mode() -> None:
    # Which form a mode needs is for the layout to check (tests/infra/test_layout.py).
    window = f"111111111111/eu-west-1/{WINDOW}"
    settings = Settings.from_context(
        {keys.WINDOW_ALARMS: {window: 2}, keys.EXPECTED_WINDOWS: {window: "1d"}}
    )

    assert settings.window_alarms == {window: 2}
    assert settings.gaps[window] == Gap("1d", 86400, 1)
    assert keys.split_window_key(window) == ("111111111111", "eu-west-1", WINDOW)
    assert keys.split_window_key(WINDOW) == (None, None, WINDOW)
    for bad in (f"1111/eu-west-1/{WINDOW}", f"111111111111/{WINDOW}", f"{WINDOW}/eu-west-1"):
        with pytest.raises(SettingsError, match="invalid maintenance window ID"):
            Settings.from_context({keys.WINDOW_ALARMS: {bad: 1}})


def test_repeat_alerts_name_windows_and_every_other_window_for_the_function() -> None:
    settings = Settings.from_context(
        {keys.REPEAT_ALERTS: {OTHER_WINDOW: "always", "*": "on-change", WINDOW: "always"}}
    )

    assert settings.repeat_alerts == {
        OTHER_WINDOW: contract.REPEAT_ALWAYS,
        contract.REPEAT_ALL_WINDOWS: contract.REPEAT_ON_CHANGE,
        WINDOW: contract.REPEAT_ALWAYS,
    }
    # As the function reads it (REPEAT_ALERTS): only what was set, compact, in a stable order.
    assert settings.repeat_alerts_json == (
        f'{{"*":"on-change","{WINDOW}":"always","{OTHER_WINDOW}":"always"}}'
    )
    assert Settings().repeat_alerts_json == "{}"


@pytest.mark.parametrize("mode", contract.REPEAT_MODES)
def test_every_repeat_mode_is_accepted_for_a_window_and_for_all(mode: str) -> None:
    settings = Settings.from_context({keys.REPEAT_ALERTS: f"{WINDOW}={mode},*={mode}"})

    assert settings.repeat_alerts == {WINDOW: mode, contract.REPEAT_ALL_WINDOWS: mode}


@pytest.mark.parametrize(("raw", "threshold"), [(2, 2), ("2", 2), (30, 30), (None, None)])
def test_chronic_threshold_is_two_or_more_executions_or_none(
    raw: object, threshold: int | None
) -> None:
    assert Settings.from_context({keys.CHRONIC_THRESHOLD: raw}).chronic_threshold == threshold
