"""The product's settings: CDK context values (cdk.json, or `cdk deploy -c key=value`), validated.

A bad value fails synth with a message that names the key, before anything is deployed. The rules
the function and the command apply too (statuses, namespace, error-details limit, chat mode) are
mwalerts.contract's; this module adds the key and what only the stack has.
"""

import contextlib
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from aws_cdk import Duration
from aws_cdk import aws_logs as logs
from constructs import Construct

from mwalerts import contract

# Context keys.
ALERT_STATUSES = "alertStatuses"
ALERT_EMAILS = "alertEmails"
METRICS_NAMESPACE = "metricsNamespace"
LOG_RETENTION_DAYS = "logRetentionDays"
SWEEP_INTERVAL_MINUTES = "sweepIntervalMinutes"
ERROR_DETAILS_LIMIT = "errorDetailsLimit"
CHAT_NOTIFICATIONS = "chatNotifications"
WINDOW_ALARMS = "windowAlarms"
EXPECTED_WINDOWS = "expectedWindows"
POWERTOOLS_LAYER = "powertoolsLayer"
SELF_TEST_ON_DEPLOY = "selfTestOnDeploy"
REPEAT_ALERTS = "repeatAlerts"
RESOLVED_NOTICES = "resolvedNotices"
CHRONIC_THRESHOLD = "chronicThreshold"
KEYS = (
    ALERT_STATUSES,
    ALERT_EMAILS,
    METRICS_NAMESPACE,
    LOG_RETENTION_DAYS,
    SWEEP_INTERVAL_MINUTES,
    ERROR_DETAILS_LIMIT,
    CHAT_NOTIFICATIONS,
    WINDOW_ALARMS,
    EXPECTED_WINDOWS,
    POWERTOOLS_LAYER,
    SELF_TEST_ON_DEPLOY,
    REPEAT_ALERTS,
    RESOLVED_NOTICES,
    CHRONIC_THRESHOLD,
)
# Near misses of the keys: silently ignoring one would deploy defaults the user did not ask for.
MISSPELLED_KEYS = {
    "alertEmail": ALERT_EMAILS,
    "alertStatus": ALERT_STATUSES,
    "metricNamespace": METRICS_NAMESPACE,
    "logRetention": LOG_RETENTION_DAYS,
    "sweepInterval": SWEEP_INTERVAL_MINUTES,
    "sweepIntervalMinute": SWEEP_INTERVAL_MINUTES,
    "errorDetailLimit": ERROR_DETAILS_LIMIT,
    "errorDetailsLimits": ERROR_DETAILS_LIMIT,
    "chatNotification": CHAT_NOTIFICATIONS,
    "windowAlarm": WINDOW_ALARMS,
    "windowAlarmThresholds": WINDOW_ALARMS,
    "expectedWindow": EXPECTED_WINDOWS,
    "expectedWindowGaps": EXPECTED_WINDOWS,
    "powertoolsLayers": POWERTOOLS_LAYER,
    "powertoolLayer": POWERTOOLS_LAYER,
    "powertoolsLayerArn": POWERTOOLS_LAYER,
    "selfTestOnDeployment": SELF_TEST_ON_DEPLOY,
    "selfTestsOnDeploy": SELF_TEST_ON_DEPLOY,
    "selfTestOnDeploys": SELF_TEST_ON_DEPLOY,
    "selfTest": SELF_TEST_ON_DEPLOY,
    "repeatAlert": REPEAT_ALERTS,
    "repeatedAlerts": REPEAT_ALERTS,
    "resolvedNotice": RESOLVED_NOTICES,
    "resolveNotices": RESOLVED_NOTICES,
    "sendResolved": RESOLVED_NOTICES,  # Prometheus Alertmanager's name for it
    "chronicThresholds": CHRONIC_THRESHOLD,
    "chronicAlarmThreshold": CHRONIC_THRESHOLD,
}

# powertoolsLayer: where the function gets Powertools from. "public": the layer whose ARN AWS
# publishes in an SSM parameter (resolved at deploy time); a layer version ARN: that layer;
# "bundled": installed into the function's own asset at synth, no layer (for a partition or
# region without the public parameter).
POWERTOOLS_PUBLIC = "public"
POWERTOOLS_BUNDLED = "bundled"
# Lambda's own pattern for a layer version ARN, with the region's form spelt out.
_LAYER_VERSION_ARN = re.compile(
    r"arn:aws[a-z-]*:lambda:[a-z]{2}(?:-[a-z]+)+-\d+:\d{12}:layer:[A-Za-z0-9_-]{1,140}:[1-9]\d*"
)

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
# windowAlarms, expectedWindows and repeatAlerts name a window by its ID, and in central mode by
# the member account and region too, as its metrics do:
# "111111111111/eu-west-1/mw-0123456789abcdef0" (maintenance_window_alerts.layout checks which
# form the mode needs).
_WINDOW_KEY = re.compile(
    rf"^(?:(\d{{12}})/([a-z0-9-]+)/)?({contract.WINDOW_ID_PATTERN.strip('^$')})$"
)
_EMAIL = re.compile(r"^[^@\s,;<>]+@[^@\s,;<>]+\.[^@\s,;<>]+$")

# expectedWindows gaps: a whole number and a unit, minutes, hours or days ("90m", "26h", "7d").
_GAP = re.compile(r"^(\d+)([mhd])$")
_UNIT_SECONDS = {"m": 60, "h": 3600, "d": 86400}
MINUTE, HOUR, DAY = 60, 3600, 86400
# CloudWatch's limits for an alarm (PutMetricAlarm, Period): a period is a multiple of 60 seconds
# (sub-minute ones are for high-resolution metrics), and "Period multiplied by EvaluationPeriods
# can't be more than 604,800 seconds. For alarms with a period of less than one hour (3,600
# seconds), the total evaluation period can't be longer than one day (86,400 seconds)." Periods
# are kept to at most a day, like the sweep alarm's (see SWEEP_INTERVAL_RANGE).
MAX_GAP_SECONDS = 7 * DAY
MAX_PERIOD_SECONDS = DAY
# repeatAlerts: "*" names every window not named otherwise; its JSON's share of the function's
# 4 KB of environment variables (28 windows by ID, 17 by account, region and ID).
ALL_WINDOWS = contract.REPEAT_ALL_WINDOWS
MAX_REPEAT_ALERTS_BYTES = 1000
# chronicThreshold: the shortest streak that is not a new failure (mwalerts.streaks).
MIN_CHRONIC = 2


class SettingsError(ValueError):
    """A setting has an invalid value; the message names the context key."""


@dataclass(frozen=True)
class Gap:
    """The longest time allowed between two executions of a window, as an alarm can watch it.

    The alarm looks at `evaluation_periods` consecutive periods of `period_seconds` (together
    exactly the gap) and fires when all of them lack a WindowExecutions data point, missing data
    counting as breaching. Its window slides (CloudWatch's default), so it fires once no execution
    ended within the last gap, and one execution anywhere in that time keeps it quiet.
    """

    text: str  # as written in the settings, e.g. "26h"
    period_seconds: int
    evaluation_periods: int

    @property
    def seconds(self) -> int:
        return self.period_seconds * self.evaluation_periods

    @classmethod
    def parse(cls, window_id: str, raw: Any) -> "Gap":
        where = f"{EXPECTED_WINDOWS} {window_id}"
        match = _GAP.match(raw.strip()) if isinstance(raw, str) else None
        if match is None:
            raise SettingsError(
                f"{where}: {raw!r} is not a duration: write a whole number and a unit, m, h or d "
                "(minutes, hours, days), such as '90m', '26h' or '7d'"
            )
        seconds = int(match[1]) * _UNIT_SECONDS[match[2]]
        if not MINUTE <= seconds <= MAX_GAP_SECONDS:
            raise SettingsError(
                f"{where}: {raw!r} is out of range: choose 1m to 7d (7 days is the longest a "
                "CloudWatch alarm can look back: Period x EvaluationPeriods <= 604,800 seconds)"
            )
        periods = _alarm_periods(seconds)
        if periods is None:
            raise SettingsError(
                f"{where}: {raw!r} cannot be watched by one CloudWatch alarm: a gap longer than "
                "a day must split into equal periods of 1 hour to 1 day (CloudWatch allows "
                "shorter periods over at most a day); use whole hours"
            )
        return cls(raw.strip(), *periods)


def split_window_key(key: str) -> tuple[str | None, str | None, str]:
    """(account, region, window ID) of a windowAlarms or expectedWindows key; account and
    region are None for a window ID alone (outside central mode)."""
    match = _WINDOW_KEY.match(key)
    if match is None:
        raise SettingsError(f"invalid maintenance window key {key!r}")
    account, region, window_id = match.groups()
    return account, region, window_id


def _alarm_periods(seconds: int) -> tuple[int, int] | None:
    """(period, evaluation periods) that cover exactly `seconds` within CloudWatch's limits.

    Up to a day, one period of the whole gap. Longer, the fewest equal periods of one hour to one
    day, each a whole number of minutes; None if there are none (e.g. a prime number of minutes).
    """
    if seconds <= DAY:
        return seconds, 1
    count = -(-seconds // MAX_PERIOD_SECONDS)  # at least this many periods of at most a day
    while seconds // count >= HOUR:
        if seconds % (count * MINUTE) == 0:
            return seconds // count, count
        count += 1
    return None


@dataclass(frozen=True)
class Settings:
    alert_statuses: tuple[str, ...] = contract.DEFAULT_ALERT_STATUSES
    alert_emails: tuple[str, ...] = ()
    metrics_namespace: str = contract.DEFAULT_METRICS_NAMESPACE
    log_retention_days: int = DEFAULT_LOG_RETENTION_DAYS
    sweep_interval_minutes: int = contract.DEFAULT_SWEEP_INTERVAL_MINUTES
    error_details_limit: int = contract.DEFAULT_ERROR_DETAILS_LIMIT
    chat_notifications: str = contract.CHAT_OFF
    # Window ID -> failed invocations in 5 minutes that raise that window's own alarm. (Left out
    # of the hash, as dicts have none; still compared.)
    window_alarms: Mapping[str, int] = field(default_factory=dict, hash=False)
    # Window ID -> the longest gap allowed between two of its executions ("26h").
    expected_windows: Mapping[str, str] = field(default_factory=dict, hash=False)
    powertools_layer: str = POWERTOOLS_PUBLIC
    # Invoke the function with the self-test event during each deployment that changes it.
    self_test_on_deploy: bool = True
    # Window key (or contract.REPEAT_ALL_WINDOWS, every other window) -> how it repeats an alert
    # whose failures are all known streaks (contract.REPEAT_MODES); unnamed windows: always.
    repeat_alerts: Mapping[str, str] = field(default_factory=dict, hash=False)
    # A resolved notice when a window whose last execution alerted runs clean again.
    resolved_notices: bool = True
    # The chronic-failure alarm: a target failing this many executions in a row; None: no alarm.
    chronic_threshold: int | None = None

    def __post_init__(self) -> None:
        _check(ALERT_STATUSES, contract.alert_statuses, self.alert_statuses)
        bad_emails = [e for e in self.alert_emails if not _EMAIL.match(e)]
        if bad_emails:
            raise SettingsError(
                f"{ALERT_EMAILS} has invalid email address(es) {', '.join(map(repr, bad_emails))}"
            )
        _check(METRICS_NAMESPACE, contract.metrics_namespace, self.metrics_namespace)
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
        _check(ERROR_DETAILS_LIMIT, contract.error_details_limit, self.error_details_limit)
        _check(CHAT_NOTIFICATIONS, contract.chat_mode, self.chat_notifications)
        self._check_window_ids(WINDOW_ALARMS, self.window_alarms)
        too_low = [w for w, t in self.window_alarms.items() if not _is_whole(t) or t < 1]
        if too_low:
            raise SettingsError(
                f"{WINDOW_ALARMS}: the threshold of {', '.join(too_low)} must be a whole number of "
                "failed invocations, 1 or more"
            )
        if self.window_alarms and not self.counted_alert_statuses:
            raise SettingsError(
                f"{WINDOW_ALARMS} counts the invocations in an alert status, but none of "
                f"{ALERT_STATUSES} ({', '.join(self.alert_statuses)}) has a metric; add one of "
                f"{', '.join(contract.STATUS_METRICS)}"
            )
        self._check_window_ids(EXPECTED_WINDOWS, self.expected_windows)
        for window_id, gap in self.expected_windows.items():
            Gap.parse(window_id, gap)
        _check_powertools_layer(self.powertools_layer)
        if not isinstance(self.self_test_on_deploy, bool):
            raise SettingsError(
                f"{SELF_TEST_ON_DEPLOY} must be true or false, got {self.self_test_on_deploy!r}"
            )
        self._check_streak_settings()

    def _check_streak_settings(self) -> None:
        """repeatAlerts, resolvedNotices and chronicThreshold (failure streaks)."""
        self._check_window_ids(
            REPEAT_ALERTS,
            {w: m for w, m in self.repeat_alerts.items() if w != ALL_WINDOWS},
            also=f", or {ALL_WINDOWS!r} for every window not named",
        )
        for window, mode in self.repeat_alerts.items():
            _check(f"{REPEAT_ALERTS} {window}", contract.repeat_mode, mode)
        if len(self.repeat_alerts_json.encode()) > MAX_REPEAT_ALERTS_BYTES:
            raise SettingsError(
                f"{REPEAT_ALERTS} takes {len(self.repeat_alerts_json.encode()):,} bytes of the "
                f"function's environment ({contract.ENV_REPEAT_ALERTS}), more than "
                f"{MAX_REPEAT_ALERTS_BYTES:,} (Lambda allows 4 KB in all): name fewer windows, "
                f"and set the mode most of them share once, for {ALL_WINDOWS!r}"
            )
        if not isinstance(self.resolved_notices, bool):
            raise SettingsError(
                f"{RESOLVED_NOTICES} must be true or false, got {self.resolved_notices!r}"
            )
        threshold = self.chronic_threshold
        if threshold is not None and not (_is_whole(threshold) and threshold >= MIN_CHRONIC):
            raise SettingsError(
                f"{CHRONIC_THRESHOLD} must be a whole number of failed executions in a row, "
                f"{MIN_CHRONIC} or more (a streak of 1 is a new failure), got {threshold!r}"
            )

    @staticmethod
    def _check_window_ids(key: str, windows: Mapping[str, Any], also: str = "") -> None:
        bad = [w for w in windows if not (isinstance(w, str) and _WINDOW_KEY.match(w))]
        if bad:
            raise SettingsError(
                f"{key} has invalid maintenance window ID(s) {', '.join(map(repr, bad))}: "
                "expected mw- and 17 hex digits, such as mw-0123456789abcdef0 (in central mode "
                f"after the member account and region: 111111111111/eu-west-1/mw-...){also}"
            )

    @property
    def repeat_alerts_json(self) -> str:
        """repeatAlerts as the function reads it (ENV_REPEAT_ALERTS): compact JSON, sorted."""
        return json.dumps(dict(sorted(self.repeat_alerts.items())), separators=(",", ":"))

    @property
    def counted_alert_statuses(self) -> tuple[str, ...]:
        """The alert statuses with a metric that counts their invocations (see STATUS_METRICS)."""
        return tuple(s for s in self.alert_statuses if s in contract.STATUS_METRICS)

    @property
    def gaps(self) -> dict[str, Gap]:
        """expectedWindows, parsed: window ID -> the gap its missed-window alarm watches."""
        return {w: Gap.parse(w, raw) for w, raw in self.expected_windows.items()}

    @property
    def log_retention(self) -> logs.RetentionDays:
        return logs.RetentionDays[RETENTION_DAYS[self.log_retention_days]]

    @property
    def sweep_interval(self) -> Duration:
        return Duration.minutes(self.sweep_interval_minutes)

    @property
    def sweep_lookback_minutes(self) -> int:
        """How far back each sweep looks: several intervals, so one missed sweep loses nothing."""
        return self.sweep_interval_minutes * contract.SWEEP_LOOKBACK_PERIODS

    @classmethod
    def from_context(cls, context: Mapping[str, Any]) -> "Settings":
        """Parse raw context values; a missing (None) value takes the default."""
        for wrong, right in MISSPELLED_KEYS.items():
            if context.get(wrong) is not None:
                raise SettingsError(f"unknown setting {wrong!r}: did you mean {right!r}?")
        return cls(
            **{
                field_name: parse(key, raw)
                for key, (field_name, parse) in _PARSERS.items()
                if (raw := context.get(key)) is not None
            }
        )

    @classmethod
    def from_scope(cls, scope: Construct) -> "Settings":
        """The settings in the context of `scope` (usually the App)."""
        keys = (*KEYS, *MISSPELLED_KEYS)
        return cls.from_context({key: scope.node.try_get_context(key) for key in keys})


def _check(key: str, rule: Callable[[Any], object], value: Any) -> None:
    """Apply one of mwalerts.contract's rules; its message, after the key, is the error."""
    try:
        rule(value)
    except ValueError as error:
        raise SettingsError(f"{key} {error}") from None


def _check_powertools_layer(value: object) -> None:
    if value in (POWERTOOLS_PUBLIC, POWERTOOLS_BUNDLED) or (
        isinstance(value, str) and _LAYER_VERSION_ARN.fullmatch(value)
    ):
        return
    raise SettingsError(
        f"{POWERTOOLS_LAYER} {value!r} is not {POWERTOOLS_PUBLIC!r}, {POWERTOOLS_BUNDLED!r} or a "
        "Lambda layer version ARN: arn:<partition>:lambda:<region>:<account>:layer:<name>:"
        "<version>, such as arn:aws:lambda:eu-west-1:123456789012:layer:powertools:3"
    )


def _string_list(key: str, raw: Any) -> tuple[str, ...]:
    """A JSON list of strings (cdk.json) or a comma-separated string (`-c key=a,b`), deduped."""
    items = raw.split(",") if isinstance(raw, str) else raw
    if not isinstance(items, list | tuple) or not all(isinstance(i, str) for i in items):
        raise SettingsError(f"{key} must be a list of strings or a comma-separated string")
    return tuple(dict.fromkeys(item.strip() for item in items if item.strip()))


def _string(key: str, raw: Any) -> str:
    if not isinstance(raw, str):
        raise SettingsError(f"{key} must be a string, got {raw!r}")
    return raw.strip()


def _statuses(key: str, raw: Any) -> tuple[str, ...]:
    return tuple(s.upper() for s in _string_list(key, raw))


def _thresholds(key: str, raw: Any) -> dict[str, int]:
    return {
        window: _whole_number(f"{key} {window}", threshold, "failed invocations")
        for window, threshold in _object(key, raw).items()
    }


def _object(key: str, raw: Any) -> dict[str, Any]:
    """A JSON object (cdk.json), or as `-c` passes it: `id=value,id=value` or a JSON string."""
    if isinstance(raw, str):
        text = raw.strip()
        if text.startswith("{"):
            try:
                raw = json.loads(text)
            except json.JSONDecodeError as error:
                raise SettingsError(f"{key} is not valid JSON: {error}") from None
        else:
            pairs = [item.partition("=") for item in text.split(",") if item.strip()]
            if any(not sep for _, sep, _ in pairs):
                raise SettingsError(
                    f"{key} must be an object of window ID -> value, or 'mw-...=value,...'"
                )
            raw = {window.strip(): value.strip() for window, _, value in pairs}
    if not isinstance(raw, dict):
        raise SettingsError(f"{key} must be an object of window ID -> value, got {raw!r}")
    return raw


def _repeat_modes(key: str, raw: Any) -> dict[str, str]:
    """Window key or "*" -> a repeat mode, as _object reads it (`-c key=mw-...=on-change,*=...`)."""
    return {
        window: mode.strip() if isinstance(mode, str) else mode
        for window, mode in _object(key, raw).items()
    }


def _boolean(key: str, raw: Any) -> bool:
    """true or false (cdk.json), or "true"/"false" as `-c key=value` passes it."""
    if isinstance(raw, bool):
        return raw
    text = raw.strip().lower() if isinstance(raw, str) else None
    if text in ("true", "false"):
        return text == "true"
    raise SettingsError(f"{key} must be true or false, got {raw!r}")


def _is_whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _whole_number(key: str, raw: Any, unit: str) -> int:
    """An int, or its decimal string as `-c key=value` passes it."""
    if _is_whole(raw):
        return int(raw)
    if isinstance(raw, str):
        with contextlib.suppress(ValueError):
            return contract.whole_number(raw)
    raise SettingsError(f"{key} must be a whole number of {unit}, got {raw!r}")


def _unit(unit: str) -> Callable[[str, Any], int]:
    return lambda key, raw: _whole_number(key, raw, unit)


# Context key -> (Settings field, parser of its raw value as cdk.json or `-c key=value` has it).
_PARSERS: dict[str, tuple[str, Callable[[str, Any], Any]]] = {
    ALERT_STATUSES: ("alert_statuses", _statuses),
    ALERT_EMAILS: ("alert_emails", _string_list),
    METRICS_NAMESPACE: ("metrics_namespace", _string),
    LOG_RETENTION_DAYS: ("log_retention_days", _unit("days")),
    SWEEP_INTERVAL_MINUTES: ("sweep_interval_minutes", _unit("minutes")),
    ERROR_DETAILS_LIMIT: ("error_details_limit", _unit("failures")),
    CHAT_NOTIFICATIONS: ("chat_notifications", _string),
    WINDOW_ALARMS: ("window_alarms", _thresholds),
    EXPECTED_WINDOWS: ("expected_windows", _object),
    POWERTOOLS_LAYER: ("powertools_layer", _string),
    SELF_TEST_ON_DEPLOY: ("self_test_on_deploy", _boolean),
    REPEAT_ALERTS: ("repeat_alerts", _repeat_modes),
    RESOLVED_NOTICES: ("resolved_notices", _boolean),
    CHRONIC_THRESHOLD: ("chronic_threshold", _unit("failed executions")),
}
