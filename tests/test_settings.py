"""The product settings: cdk.json holds the defaults, and a bad value fails synth naming its key."""

import json
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_logs as logs
from aws_cdk.assertions import Template

from mwalerts import names
from stacks import Settings, SettingsError
from stacks import settings as keys
from stacks.settings import RETENTION_DAYS

CDK_JSON = json.loads((Path(__file__).resolve().parent.parent / "cdk.json").read_text())


def test_cdk_json_context_holds_the_defaults() -> None:
    context = CDK_JSON["context"]

    assert {key: context[key] for key in keys.KEYS} == {
        keys.ALERT_STATUSES: list(names.DEFAULT_ALERT_STATUSES),
        keys.ALERT_EMAILS: [],
        keys.METRICS_NAMESPACE: names.DEFAULT_METRICS_NAMESPACE,
        keys.LOG_RETENTION_DAYS: 90,
        keys.SWEEP_INTERVAL_MINUTES: names.DEFAULT_SWEEP_INTERVAL_MINUTES,
    }
    assert Settings.from_context(context) == Settings()


def test_missing_settings_take_their_defaults() -> None:
    assert Settings.from_context({}) == Settings(
        alert_statuses=names.DEFAULT_ALERT_STATUSES,
        alert_emails=(),
        metrics_namespace=names.DEFAULT_METRICS_NAMESPACE,
        log_retention_days=90,
        sweep_interval_minutes=15,
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
        }
    )

    assert settings == Settings(
        alert_statuses=("FAILED", "TIMED_OUT"),
        alert_emails=("ops@example.com", "oncall@example.org"),
        metrics_namespace="Acme/Patching",
        log_retention_days=30,
        sweep_interval_minutes=60,
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
    assert settings.sweep_lookback_minutes == minutes * names.SWEEP_LOOKBACK_PERIODS
