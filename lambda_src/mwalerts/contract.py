"""Names and rules shared by the stack, the function, the operator command and the tests: one
source of truth, including the validation of the settings all three read.

This module imports only the standard library, so the stack can read it without loading the
function's dependencies.
"""

import re
from collections.abc import Iterable
from typing import Final, Literal, get_args

SERVICE_NAME: Final = "maintenance-window-alerts"

# The deployed stack and its outputs (read by operator commands such as the redrive).
STACK_NAME: Final = "MaintenanceWindowAlerts"
OUTPUT_TOPIC_ARN: Final = "AlertTopicArn"
OUTPUT_FUNCTION_NAME: Final = "FunctionName"
OUTPUT_DASHBOARD_NAME: Final = "DashboardName"
OUTPUT_RULE_DLQ_URL: Final = "RuleDeadLetterQueueUrl"
OUTPUT_FUNCTION_DLQ_URL: Final = "FunctionFailureQueueUrl"
OUTPUT_CHAT_TOPIC_ARN: Final = "ChatTopicArn"
DEAD_LETTER_QUEUE_OUTPUTS: Final = (OUTPUT_RULE_DLQ_URL, OUTPUT_FUNCTION_DLQ_URL)
# Stack names by mode: STACK_NAME for the CLI's account and region, else deployment_stack_name,
# central_stack_name and member_stack_name (below).
CENTRAL_STACK_PREFIX: Final = f"{STACK_NAME}-Central"
MEMBER_STACK_PREFIX: Final = f"{STACK_NAME}-Member"
# The stack metadata (in the cloud assembly's manifest, not the template) that says where the
# app took a stack's account and region from: TARGET_FROM_CLI (the CDK CLI's credentials and
# region, which `make deploy` checks against the deploy's) or TARGET_FROM_LAYOUT.
TARGET_METADATA: Final = "mwalerts:target"
TARGET_FROM_CLI: Final = "cdk-cli"
TARGET_FROM_LAYOUT: Final = "layout"
# Organization mode: the central stack's metadata (in the manifest) that `mwalerts preflight`
# reads: {"organizationId", "callAs", "stackSetName", "organizationalUnits", "regions"}.
ORGANIZATION_METADATA: Final = "mwalerts:organization"
# Central mode: the central stack's bus, and the member stacks' outputs.
OUTPUT_EVENT_BUS_ARN: Final = "EventBusArn"
OUTPUT_FORWARD_DLQ_URL: Final = "ForwardDeadLetterQueueUrl"
OUTPUT_READER_ROLE_ARN: Final = "ReaderRoleArn"
# Organization mode: the StackSet of the member resources, and the sweep's queue.
OUTPUT_STACK_SET_NAME: Final = "MemberStackSetName"
OUTPUT_SWEEP_QUEUE_URL: Final = "SweepQueueUrl"
OUTPUT_SWEEP_DLQ_URL: Final = "SweepDeadLetterQueueUrl"
# The alarm `mwalerts selftest` sets to ALARM and back, to prove CloudWatch -> the alert topic.
OUTPUT_SELF_TEST_ALARM_NAME: Final = "SelfTestAlarmName"

# Environment variables the stack sets and the Lambda reads (parsed once: function_settings).
ENV_ALERT_TOPIC_ARN: Final = "ALERT_TOPIC_ARN"
ENV_ALERT_STATUSES: Final = "ALERT_STATUSES"
ENV_METRICS_NAMESPACE: Final = "POWERTOOLS_METRICS_NAMESPACE"
ENV_IDEMPOTENCY_TABLE: Final = "IDEMPOTENCY_TABLE_NAME"
ENV_SWEEP_LOOKBACK_MINUTES: Final = "SWEEP_LOOKBACK_MINUTES"
ENV_ERROR_DETAILS_LIMIT: Final = "ERROR_DETAILS_LIMIT"
ENV_CHAT_NOTIFICATIONS: Final = "CHAT_NOTIFICATIONS"
ENV_CHAT_TOPIC_ARN: Final = "CHAT_TOPIC_ARN"
ENV_LOG_GROUP_NAME: Final = "ALERT_LOG_GROUP_NAME"  # for the Logs Insights link in alerts
# Failure streaks (mwalerts.streaks): their table; which windows alert only when a streak changes
# (JSON: window key or REPEAT_ALL_WINDOWS -> a REPEAT_MODES value); whether a window that runs
# clean after failing gets a resolved notice ("true"/"false").
ENV_STREAK_TABLE: Final = "STREAK_TABLE_NAME"
ENV_REPEAT_ALERTS: Final = "REPEAT_ALERTS"
ENV_RESOLVED_NOTICES: Final = "RESOLVED_NOTICES"
# Central mode: the member accounts and regions the function accepts events from, as JSON
# {"111111111111": ["eu-west-1", "us-east-1"], ...}, and the external ID its roles require.
ENV_MEMBER_ACCOUNTS: Final = "MEMBER_ACCOUNTS"
ENV_MEMBER_EXTERNAL_ID: Final = "MEMBER_EXTERNAL_ID"
# Central and organization mode: the qualifier of the fixed names (contract.qualified).
ENV_NAME_QUALIFIER: Final = "NAME_QUALIFIER"
# Organization mode: which StackSet's instances are the members (and how to call as), the
# covered regions (comma-separated), and the queue the sweep fans out through.
ENV_MEMBER_STACK_SET: Final = "MEMBER_STACK_SET_NAME"
ENV_MEMBER_STACK_SET_CALL_AS: Final = "MEMBER_STACK_SET_CALL_AS"
ENV_MEMBER_REGIONS: Final = "MEMBER_REGIONS"
ENV_SWEEP_QUEUE_URL: Final = "SWEEP_QUEUE_URL"

DEFAULT_METRICS_NAMESPACE: Final = "MaintenanceWindows"
# CloudWatch's rule for namespaces, minus the "AWS/" prefix reserved for AWS's own.
CUSTOM_NAMESPACE_PATTERN: Final = r"^(?!AWS/)[A-Za-z0-9 .\-_/#:]{1,255}$"
DEFAULT_ALERT_STATUSES: Final = ("FAILED", "TIMED_OUT", "CANCELLED")

# Run Command failures whose error output the alert quotes (one GetCommandInvocation call each):
# a bound on the extra API calls per window execution.
DEFAULT_ERROR_DETAILS_LIMIT: Final = 10
MAX_ERROR_DETAILS_LIMIT: Final = 50

# Alerts for Amazon Q Developer in chat applications (formerly AWS Chatbot): off; published
# to a second topic in its custom notification format; or in place of the JSON digest.
CHAT_OFF: Final = "off"
CHAT_SEPARATE_TOPIC: Final = "separate-topic"
CHAT_DEFAULT_BODY: Final = "default-body"
CHAT_MODES: Final = (CHAT_OFF, CHAT_SEPARATE_TOPIC, CHAT_DEFAULT_BODY)

# Repeat alerts of a window whose failures are all known streaks: sent every time (today's
# behaviour), or only when a streak starts or ends (a window's key, or "*" for every window).
REPEAT_ALWAYS: Final = "always"
REPEAT_ON_CHANGE: Final = "on-change"
REPEAT_MODES: Final = (REPEAT_ALWAYS, REPEAT_ON_CHANGE)
REPEAT_ALL_WINDOWS: Final = "*"

# Central mode: member stacks forward their events to this bus in the monitoring account, and each
# has a read-only role the central function assumes (names fixed, as the stacks are in different
# accounts and cannot share references).
CENTRAL_BUS_NAME: Final = "maintenance-window-alerts"
CENTRAL_FUNCTION_ROLE_PREFIX: Final = "MaintenanceWindowAlertsCentral"
MEMBER_ROLE_PREFIX: Final = "MaintenanceWindowAlertsReader"
ROLE_SESSION_NAME: Final = "maintenance-window-alerts"
FORWARD_RULE_PREFIX: Final = "MaintenanceWindowAlertsForward"
# Organization mode: the member resources (the forwarding rule, its dead-letter queue, the reader
# role) are a service-managed StackSet in the central account, deployed automatically to every
# account of the covered OUs, in the covered regions.
STACK_SET_PREFIX: Final = "MaintenanceWindowAlerts-Members"
# StackSets' CallAs: the central account is the organization's management account (SELF) or a
# registered StackSets delegated administrator (DELEGATED_ADMIN).
CALL_AS_SELF: Final = "SELF"
CALL_AS_DELEGATED_ADMIN: Final = "DELEGATED_ADMIN"
CALL_AS_VALUES: Final = (CALL_AS_SELF, CALL_AS_DELEGATED_ADMIN)
# The service principal of StackSets' trusted access in AWS Organizations.
STACKSETS_SERVICE_PRINCIPAL: Final = "member.org.stacksets.cloudformation.amazonaws.com"
# Organization mode: how many sweep workers (Lambda instances the sweep queue's event source
# mapping may run at once) by default, and the range Lambda accepts for MaximumConcurrency.
DEFAULT_SWEEP_CONCURRENCY: Final = 10
SWEEP_CONCURRENCY_RANGE: Final = range(2, 1001)


def deployment_stack_name(account: str, region: str) -> str:
    """The stack of one `deployments` entry."""
    return f"{STACK_NAME}-{account}-{region}"


# Central and organization mode: a qualifier (QUALIFIER_PATTERN; default "", today's names) goes
# into every fixed name, so that two central deployments (production and staging, say) for the
# same members coexist without sharing a role, a bus, a stack or a StackSet.
QUALIFIER_PATTERN: Final = r"^[a-z0-9]{1,10}$"


def qualified(name: str, qualifier: str = "", separator: str = "-") -> str:
    """`name`, or `name` + separator + qualifier when there is one."""
    return f"{name}{separator}{qualifier}" if qualifier else name


def qualifier(text: str) -> str:
    """A name qualifier: empty, or 1-10 lowercase letters and digits (it goes into role, bus,
    stack and StackSet names, whose rules all admit these)."""
    if text and not re.fullmatch(QUALIFIER_PATTERN, text):
        raise ValueError(f"{text!r} is not a qualifier: 1 to 10 lowercase letters or digits")
    return text


def central_stack_name(account: str, region: str, qualifier: str = "") -> str:
    """The central stack of central and organization mode."""
    return f"{qualified(CENTRAL_STACK_PREFIX, qualifier)}-{account}-{region}"


def member_stack_name(account: str, region: str, qualifier: str = "") -> str:
    """A member stack of central mode: one per member account and region."""
    return f"{qualified(MEMBER_STACK_PREFIX, qualifier)}-{account}-{region}"


def window_dimensions(window_id: str, account: str | None, region: str | None) -> dict[str, str]:
    """The dimensions of one window's series: central mode's set where the account and region
    are given, else WindowId alone. The function, the dashboards and the CLI all call this."""
    if account is None or region is None:
        return dict(zip(WINDOW_DIMENSIONS, (window_id,), strict=True))
    return dict(zip(CENTRAL_WINDOW_DIMENSIONS, (account, region, window_id), strict=True))


def member_role_name(region: str, qualifier: str = "") -> str:
    """The reader role of a member stack: one per member account and region."""
    return f"{qualified(MEMBER_ROLE_PREFIX, qualifier)}-{region}"


def central_function_role_name(region: str, qualifier: str = "") -> str:
    """The central function's role, which member roles trust."""
    return f"{qualified(CENTRAL_FUNCTION_ROLE_PREFIX, qualifier)}-{region}"


def central_bus_name(qualifier: str = "") -> str:
    """The central account's bus, which the members forward their events to."""
    return qualified(CENTRAL_BUS_NAME, qualifier)


def forward_rule_name(qualifier: str = "") -> str:
    """The member's forwarding rule (a fixed name, so that its role's trust can name the rule's
    ARN without a reference to it, which would be circular)."""
    return qualified(FORWARD_RULE_PREFIX, qualifier)


def stack_set_name(qualifier: str = "") -> str:
    """Organization mode: the StackSet of the member resources."""
    return qualified(STACK_SET_PREFIX, qualifier)


# The reconciliation sweep: a schedule invokes the function, which looks back over several sweep
# periods, so an execution missed by one sweep (or by its events) is caught by the next ones.
DEFAULT_SWEEP_INTERVAL_MINUTES: Final = 15
SWEEP_LOOKBACK_PERIODS: Final = 3

# The idempotency table (Powertools' DynamoDB persistence layer's default attribute names).
IDEMPOTENCY_PARTITION_KEY: Final = "id"
IDEMPOTENCY_TTL_ATTRIBUTE: Final = "expiration"

# The streak table: one partition per window (streak_window_key), an item per failing target
# (sort key: the target) and the window's own state (sort key STREAK_WINDOW_ITEM).
STREAK_PARTITION_KEY: Final = "window"
STREAK_SORT_KEY: Final = "target"
STREAK_TTL_ATTRIBUTE: Final = "expiration"
STREAK_WINDOW_ITEM: Final = "#window"
OUTPUT_STREAK_TABLE_NAME: Final = "StreakTableName"


def streak_window_key(account: str, region: str, window_id: str) -> str:
    """A window's partition in the streak table (window IDs are unique per account and region)."""
    return f"{account}/{region}/{window_id}"


# The EventBridge events this product consumes.
EVENT_SOURCE: Final = "aws.ssm"
WINDOW_EXECUTION_DETAIL_TYPE: Final = "Maintenance Window Execution State-change Notification"
SCHEDULE_SOURCE: Final = "aws.events"
SCHEDULE_DETAIL_TYPE: Final = "Scheduled Event"

# Statuses of window executions, task executions and invocations (botocore's
# MaintenanceWindowExecutionStatus enum, in its order).
Status = Literal[
    "PENDING",
    "IN_PROGRESS",
    "SUCCESS",
    "FAILED",
    "TIMED_OUT",
    "CANCELLING",
    "CANCELLED",
    "SKIPPED_OVERLAPPING",
]
ALL_STATUSES: Final[tuple[str, ...]] = get_args(Status)
NON_TERMINAL_STATUSES: Final = ("PENDING", "IN_PROGRESS", "CANCELLING")
TERMINAL_STATUSES: Final = tuple(s for s in ALL_STATUSES if s not in NON_TERMINAL_STATUSES)

# [0-9], not \d: \d also matches other scripts' digits.
ACCOUNT_ID_PATTERN: Final = r"^[0-9]{12}$"
REGION_PATTERN: Final = r"^[a-z]{2}(-[a-z]+)+-[0-9]$"

# ID patterns of the SSM API (botocore's model; tests/unit/test_contract.py keeps them in step).
WINDOW_ID_PATTERN: Final = r"^mw-[0-9a-f]{17}$"
EXECUTION_ID_PATTERN: Final = (
    r"^[0-9a-fA-F]{8}\-[0-9a-fA-F]{4}\-[0-9a-fA-F]{4}\-[0-9a-fA-F]{4}\-[0-9a-fA-F]{12}$"
)

# Page size for every paginated SSM call: the API's maximum, so a window costs the fewest calls.
SSM_PAGE_SIZE: Final = 100

# CloudWatch metrics (embedded metric format).
DIMENSION_WINDOW_ID: Final = "WindowId"
DIMENSION_ACCOUNT: Final = "Account"  # central mode: with WindowId, which member ran the window
DIMENSION_REGION: Final = "Region"
# The dimension sets of the per-window series (the fleet-wide series has none): the window's ID,
# and in central mode the member account and region it ran in too, as window IDs are only unique
# within one account and region.
WINDOW_DIMENSIONS: Final = (DIMENSION_WINDOW_ID,)
CENTRAL_WINDOW_DIMENSIONS: Final = (DIMENSION_ACCOUNT, DIMENSION_REGION, DIMENSION_WINDOW_ID)
METRIC_INVOCATIONS: Final = "Invocations"
METRIC_INVOCATIONS_SUCCEEDED: Final = "InvocationsSucceeded"
METRIC_INVOCATIONS_FAILED: Final = "InvocationsFailed"
METRIC_INVOCATIONS_TIMED_OUT: Final = "InvocationsTimedOut"
METRIC_INVOCATIONS_CANCELLED: Final = "InvocationsCancelled"
METRIC_WINDOW_EXECUTIONS: Final = "WindowExecutions"
METRIC_WINDOW_EXECUTIONS_FAILED: Final = "WindowExecutionsFailed"
METRIC_WINDOW_EXECUTION_DURATION: Final = "WindowExecutionDuration"
METRIC_INVALID_EVENTS: Final = "InvalidEvents"
METRIC_SWEEP_RUNS: Final = "SweepRuns"  # 1 per completed sweep: the "sweep is running" heartbeat
METRIC_SWEEP_RECOVERED: Final = "SweepRecoveredExecutions"  # processed by the sweep, not an event
# Organization mode: account-regions a sweep enqueued, and those whose listing failed (retried).
METRIC_SWEEP_PLACES: Final = "SweepPlaces"
METRIC_SWEEP_PLACES_FAILED: Final = "SweepPlacesFailed"

# Failure streaks, per window and fleet-wide, for executions whose streaks are tracked: targets
# failing 2 or more executions in a row, and the longest streak among the failing targets.
METRIC_TARGETS_FAILING_CONSECUTIVELY: Final = "TargetsFailingConsecutively"
METRIC_LONGEST_FAILURE_STREAK: Final = "LongestFailureStreak"

# Invocation status -> the metric that counts it.
STATUS_METRICS: Final = {
    "SUCCESS": METRIC_INVOCATIONS_SUCCEEDED,
    "FAILED": METRIC_INVOCATIONS_FAILED,
    "TIMED_OUT": METRIC_INVOCATIONS_TIMED_OUT,
    "CANCELLED": METRIC_INVOCATIONS_CANCELLED,
}

# SNS message attributes, for subscription filter policies.
ATTRIBUTE_WINDOW_ID: Final = "windowId"
ATTRIBUTE_STATUS: Final = "status"
ATTRIBUTE_FAILED_INVOCATIONS: Final = "failedInvocations"
ATTRIBUTE_WINDOW_NAME: Final = "windowName"
# Targets failing for the first time in a row (Number): 0 when every failure is a known streak.
ATTRIBUTE_NEW_FAILURES: Final = "newFailures"
# The status attribute of a resolved notice: the window ran clean after failing.
STATUS_RESOLVED: Final = "RESOLVED"
# Carried (String "true") by every self-test message and by nothing else. The filter policy
# SELF_TEST_FILTER_POLICY drops the test messages, but also every alarm notification: those carry
# no message attributes, and SNS matches "exists": false only against a message with at least one
# (https://docs.aws.amazon.com/sns/latest/dg/attribute-key-matching.html). So it suits only a
# subscription that consumes the function's alerts alone (a ticketing webhook, a Lambda); one
# that must also get alarm notifications cannot filter the test messages out by attribute.
ATTRIBUTE_SELF_TEST: Final = "selfTest"
SELF_TEST_FILTER_POLICY: Final = {ATTRIBUTE_SELF_TEST: [{"exists": False}]}

# The self-test event (`mwalerts selftest`, and the check at deploy time): only a direct
# invocation brings it, as no rule's pattern admits its source. The function proves its own
# hops (publish through the topic and its key, the idempotency table and its key, a metric) and
# returns each hop's result.
SELF_TEST_SOURCE: Final = "maintenance-window-alerts.self-test"
SELF_TEST_DETAIL_TYPE: Final = "Self-test"
METRIC_SELF_TESTS: Final = "SelfTests"
# The deploy-time check (a CDK Trigger): its handler, in the function's own package, and the
# environment variable that names the alert function it invokes.
SELF_TEST_TRIGGER_HANDLER: Final = "mwalerts.self_test_trigger.handler"
ENV_SELF_TEST_FUNCTION_NAME: Final = "ALERT_FUNCTION_NAME"
# The stack's ID, so that the deploy-time check skips itself while the stack rolls back.
ENV_SELF_TEST_STACK_ID: Final = "SELF_TEST_STACK_ID"
# The alert function's timeout: the stack sets it, and the self-test waits that long for an answer.
FUNCTION_TIMEOUT_SECONDS: Final = 300

# The log record written for every failed invocation, and the Logs Insights query that lists
# them (the dashboard's table, and the link in each alert, filtered to its execution).
FAILED_INVOCATION_MESSAGE: Final = "Failed invocation"
FAILED_INVOCATIONS_QUERY: Final = (
    "fields @timestamp, windowId, windowName, windowExecutionId, taskExecutionId, "
    "instanceIds.0 as instance, status, statusDetails\n"
    f'| filter message = "{FAILED_INVOCATION_MESSAGE}"\n'
    "| sort @timestamp desc"
)

DIGEST_SCHEMA_VERSION: Final = 1


# Validation of the settings the stack (context keys), the function (environment variables) and
# the command (options) share: each rule once. A validator returns the parsed value or raises
# ValueError with a message that names no key; the caller puts its key in front ("alertStatuses
# must list at least one status") and raises its own error type.


def alert_statuses(statuses: Iterable[str]) -> tuple[str, ...]:
    """The statuses that count as a failure, as the API spells them: at least one, each known.
    Order kept, repeats dropped."""
    found = tuple(dict.fromkeys(statuses))
    if not found:
        raise ValueError("must list at least one status")
    unknown = [status for status in found if status not in ALL_STATUSES]
    if unknown:
        raise ValueError(
            f"has unknown status(es) {', '.join(map(repr, unknown))}; "
            f"valid: {', '.join(ALL_STATUSES)}"
        )
    return found


def alert_status_list(text: str) -> tuple[str, ...]:
    """`alert_statuses` from a comma-separated list ("failed, TIMED_OUT"), as the environment
    variable and the option hold it: any case, blank items ignored."""
    return alert_statuses(part.strip().upper() for part in text.split(",") if part.strip())


def metrics_namespace(namespace: str) -> str:
    """A custom CloudWatch namespace (CUSTOM_NAMESPACE_PATTERN)."""
    if not re.fullmatch(CUSTOM_NAMESPACE_PATTERN, namespace):
        raise ValueError(
            f"{namespace!r} is not a valid custom CloudWatch namespace: 1-255 letters, digits or "
            ". - _ / # : and space, not starting with 'AWS/'"
        )
    return namespace


def whole_number(text: str) -> int:
    """A whole number written in ASCII digits, as environment variables and options hold it
    (str.isdigit alone would take other scripts' digits, and superscripts int() refuses)."""
    digits = text.strip()
    if not (digits.isascii() and digits.isdigit()):
        raise ValueError(f"{text!r} is not a whole number")
    return int(digits)


def error_details_limit(limit: int) -> int:
    """How many failed Run Command invocations per window execution the alert quotes."""
    if limit not in range(MAX_ERROR_DETAILS_LIMIT + 1):
        raise ValueError(
            f"{limit!r} is out of range: choose 0 (no error output in alerts) to "
            f"{MAX_ERROR_DETAILS_LIMIT}"
        )
    return limit


def chat_mode(mode: str) -> str:
    """One of CHAT_MODES, exactly (no case folding: the stack and the function compare them)."""
    if mode not in CHAT_MODES:
        raise ValueError(f"{mode!r} is not one of {', '.join(CHAT_MODES)}")
    return mode


def repeat_mode(mode: str) -> str:
    """How a window repeats alerts whose failures are all known streaks: a REPEAT_MODES value."""
    if mode not in REPEAT_MODES:
        raise ValueError(f"{mode!r} is not one of {', '.join(REPEAT_MODES)}")
    return mode
