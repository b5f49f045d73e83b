"""The product's settings: CDK context values (cdk.json, or `cdk deploy -c key=value`), validated.

A bad value fails synth with a message that names the key, before anything is deployed.
"""

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from aws_cdk import Duration
from aws_cdk import aws_logs as logs
from constructs import Construct

from mwalerts import names

# Context keys.
ALERT_STATUSES = "alertStatuses"
ALERT_EMAILS = "alertEmails"
METRICS_NAMESPACE = "metricsNamespace"
LOG_RETENTION_DAYS = "logRetentionDays"
SWEEP_INTERVAL_MINUTES = "sweepIntervalMinutes"
KEYS = (ALERT_STATUSES, ALERT_EMAILS, METRICS_NAMESPACE, LOG_RETENTION_DAYS, SWEEP_INTERVAL_MINUTES)
# Near misses of the keys: silently ignoring one would deploy defaults the user did not ask for.
MISSPELLED_KEYS = {
    "alertEmail": ALERT_EMAILS,
    "alertStatus": ALERT_STATUSES,
    "metricNamespace": METRICS_NAMESPACE,
    "logRetention": LOG_RETENTION_DAYS,
    "sweepInterval": SWEEP_INTERVAL_MINUTES,
    "sweepIntervalMinute": SWEEP_INTERVAL_MINUTES,
}

DEFAULT_LOG_RETENTION_DAYS = 90
# More often costs SSM calls (and throttling) for little gain; less often than twice a day would
# put the sweep alarm's period (twice the interval) past the one day CloudWatch allows.
SWEEP_INTERVAL_RANGE = range(5, 721)
# The retention periods CloudWatch Logs accepts, in days, and their aws_logs.RetentionDays members
# (jsii enums carry names, not day counts). "Never expire" is left out on purpose.
RETENTION_DAYS = {
    1: "ONE_DAY", 3: "THREE_DAYS", 5: "FIVE_DAYS", 7: "ONE_WEEK", 14: "TWO_WEEKS",
    30: "ONE_MONTH", 60: "TWO_MONTHS", 90: "THREE_MONTHS", 120: "FOUR_MONTHS",
    150: "FIVE_MONTHS", 180: "SIX_MONTHS", 365: "ONE_YEAR", 400: "THIRTEEN_MONTHS",
    545: "EIGHTEEN_MONTHS", 731: "TWO_YEARS", 1096: "THREE_YEARS", 1827: "FIVE_YEARS",
    2192: "SIX_YEARS", 2557: "SEVEN_YEARS", 2922: "EIGHT_YEARS", 3288: "NINE_YEARS",
    3653: "TEN_YEARS",
}  # fmt: skip
_EMAIL = re.compile(r"^[^@\s,;<>]+@[^@\s,;<>]+\.[^@\s,;<>]+$")
# The same rule the Lambda applies (mwalerts.config).
_NAMESPACE = re.compile(names.CUSTOM_NAMESPACE_PATTERN)


class SettingsError(ValueError):
    """A setting has an invalid value; the message names the context key."""


@dataclass(frozen=True)
class Settings:
    alert_statuses: tuple[str, ...] = names.DEFAULT_ALERT_STATUSES
    alert_emails: tuple[str, ...] = ()
    metrics_namespace: str = names.DEFAULT_METRICS_NAMESPACE
    log_retention_days: int = DEFAULT_LOG_RETENTION_DAYS
    sweep_interval_minutes: int = names.DEFAULT_SWEEP_INTERVAL_MINUTES

    def __post_init__(self) -> None:
        if not self.alert_statuses:
            raise SettingsError(f"{ALERT_STATUSES} must list at least one status")
        unknown = [s for s in self.alert_statuses if s not in names.ALL_STATUSES]
        if unknown:
            raise SettingsError(
                f"{ALERT_STATUSES} has unknown status(es) {', '.join(map(repr, unknown))}; "
                f"valid: {', '.join(names.ALL_STATUSES)}"
            )
        bad_emails = [e for e in self.alert_emails if not _EMAIL.match(e)]
        if bad_emails:
            raise SettingsError(
                f"{ALERT_EMAILS} has invalid email address(es) {', '.join(map(repr, bad_emails))}"
            )
        namespace = self.metrics_namespace
        if not _NAMESPACE.match(namespace):
            raise SettingsError(
                f"{METRICS_NAMESPACE} {namespace!r} is not a valid custom CloudWatch namespace: "
                "1-255 letters, digits or . - _ / # : and space, not starting with 'AWS/'"
            )
        if self.log_retention_days not in RETENTION_DAYS:
            raise SettingsError(
                f"{LOG_RETENTION_DAYS} {self.log_retention_days!r} is not a retention period "
                f"CloudWatch Logs accepts; choose one of {', '.join(map(str, RETENTION_DAYS))}"
            )
        if self.sweep_interval_minutes not in SWEEP_INTERVAL_RANGE:
            low, high = SWEEP_INTERVAL_RANGE[0], SWEEP_INTERVAL_RANGE[-1]
            raise SettingsError(
                f"{SWEEP_INTERVAL_MINUTES} {self.sweep_interval_minutes!r} is out of range: "
                f"choose {low} to {high} minutes"
            )

    @property
    def log_retention(self) -> logs.RetentionDays:
        return logs.RetentionDays[RETENTION_DAYS[self.log_retention_days]]

    @property
    def sweep_interval(self) -> Duration:
        return Duration.minutes(self.sweep_interval_minutes)

    @property
    def sweep_lookback_minutes(self) -> int:
        """How far back each sweep looks: several intervals, so one missed sweep loses nothing."""
        return self.sweep_interval_minutes * names.SWEEP_LOOKBACK_PERIODS

    @classmethod
    def from_context(cls, context: Mapping[str, Any]) -> "Settings":
        """Parse raw context values; a missing (None) value takes the default."""
        for wrong, right in MISSPELLED_KEYS.items():
            if context.get(wrong) is not None:
                raise SettingsError(f"unknown setting {wrong!r}: did you mean {right!r}?")
        values: dict[str, Any] = {}
        if (raw := context.get(ALERT_STATUSES)) is not None:
            values["alert_statuses"] = tuple(s.upper() for s in _string_list(ALERT_STATUSES, raw))
        if (raw := context.get(ALERT_EMAILS)) is not None:
            values["alert_emails"] = _string_list(ALERT_EMAILS, raw)
        if (raw := context.get(METRICS_NAMESPACE)) is not None:
            if not isinstance(raw, str):
                raise SettingsError(f"{METRICS_NAMESPACE} must be a string, got {raw!r}")
            values["metrics_namespace"] = raw.strip()
        if (raw := context.get(LOG_RETENTION_DAYS)) is not None:
            values["log_retention_days"] = _whole_number(LOG_RETENTION_DAYS, raw, "days")
        if (raw := context.get(SWEEP_INTERVAL_MINUTES)) is not None:
            values["sweep_interval_minutes"] = _whole_number(SWEEP_INTERVAL_MINUTES, raw, "minutes")
        return cls(**values)

    @classmethod
    def from_scope(cls, scope: Construct) -> "Settings":
        """The settings in the context of `scope` (usually the App)."""
        keys = (*KEYS, *MISSPELLED_KEYS)
        return cls.from_context({key: scope.node.try_get_context(key) for key in keys})


def _string_list(key: str, raw: Any) -> tuple[str, ...]:
    """A JSON list of strings (cdk.json) or a comma-separated string (`-c key=a,b`), deduped."""
    items = raw.split(",") if isinstance(raw, str) else raw
    if not isinstance(items, list | tuple) or not all(isinstance(i, str) for i in items):
        raise SettingsError(f"{key} must be a list of strings or a comma-separated string")
    return tuple(dict.fromkeys(item.strip() for item in items if item.strip()))


def _whole_number(key: str, raw: Any, unit: str) -> int:
    """An int, or its decimal string as `-c key=value` passes it."""
    if isinstance(raw, int) and not isinstance(raw, bool):
        return raw
    if isinstance(raw, str) and raw.strip().isdigit():
        return int(raw)
    raise SettingsError(f"{key} must be a whole number of {unit}, got {raw!r}")
