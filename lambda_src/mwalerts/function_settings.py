"""The function's settings, parsed once from the environment into a typed model.

The rules the stack and the command share (statuses, namespace, error-details limit, chat mode)
are mwalerts.contract's; a broken value raises ConfigurationError naming its variable.
"""

import json
import os
import re
from collections.abc import Callable, Mapping
from functools import cache
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict

from mwalerts import contract
from mwalerts.errors import ConfigurationError
from mwalerts.pipeline import AlertRules

_TOPIC_ARN = re.compile(r"arn:aws[a-z-]*:sns:[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9_-]{1,256}(\.fifo)?")
_TABLE_NAME = re.compile(r"^[A-Za-z0-9_.-]{3,255}$")  # DynamoDB's rule for table names
_ACCOUNT = re.compile(contract.ACCOUNT_ID_PATTERN)
# CloudFormation's rule for StackSet names, and an SQS queue URL (any partition's domain).
_STACK_SET_NAME = re.compile(r"[a-zA-Z][-a-zA-Z0-9]{0,127}")
_QUEUE_URL = re.compile(r"https://sqs\.[a-z0-9-]+\.[a-z0-9.-]+/[0-9]{12}/[A-Za-z0-9_-]{1,80}")
_REGION = re.compile(contract.REGION_PATTERN)
MAX_LOOKBACK_MINUTES = 7 * 24 * 60
DEFAULT_LOOKBACK_MINUTES = contract.DEFAULT_SWEEP_INTERVAL_MINUTES * contract.SWEEP_LOOKBACK_PERIODS


class FunctionSettings(BaseModel):
    model_config = ConfigDict(frozen=True)

    alert_topic_arn: str
    alert_statuses: frozenset[str]
    metrics_namespace: str
    idempotency_table: str
    sweep_lookback_minutes: int
    error_details_limit: int = contract.DEFAULT_ERROR_DETAILS_LIMIT
    chat_mode: str = contract.CHAT_OFF
    chat_topic_arn: str | None = None
    log_group_name: str | None = None
    # Central mode: member account -> the regions whose events it accepts (None: per-account).
    members: dict[str, tuple[str, ...]] | None = None
    member_external_id: str | None = None
    # Central and organization mode: the qualifier of the member roles' names.
    name_qualifier: str = ""
    # Organization mode (a StackSet's instances are the members): the StackSet, how to call
    # as, the covered regions and the queue the sweep fans out through. None: another mode.
    member_stack_set: str | None = None
    member_stack_set_call_as: str = contract.CALL_AS_SELF
    member_regions: tuple[str, ...] = ()
    sweep_queue_url: str | None = None
    # Failure streaks (None: not tracked, as before the table existed); window key or "*" ->
    # repeat mode (contract.REPEAT_MODES); resolved notices on or off.
    streak_table: str | None = None
    repeat_alerts: dict[str, str] = {}
    resolved_notices: bool = True

    def repeat_mode(self, account: str, region: str, window_id: str) -> str:
        """How this window repeats alerts: its own setting (by the key central mode uses, or its
        ID), else the one for every window, else always."""
        for key in (f"{account}/{region}/{window_id}", window_id, contract.REPEAT_ALL_WINDOWS):
            if key in self.repeat_alerts:
                return self.repeat_alerts[key]
        return contract.REPEAT_ALWAYS

    def is_member(self, account: str, region: str) -> bool:
        return self.members is None or region in self.members.get(account, ())

    @property
    def spans_accounts(self) -> bool:
        """Central or organization mode: the windows of other accounts than the function's."""
        return self.members is not None or self.member_stack_set is not None

    @property
    def alert_rules(self) -> AlertRules:
        """What decides and shapes each alert (mwalerts.pipeline)."""
        return AlertRules(
            alert_statuses=self.alert_statuses,
            error_details_limit=self.error_details_limit,
            log_group_name=self.log_group_name,
            chat_body=self.chat_mode == contract.CHAT_DEFAULT_BODY,
        )


_Parsed = TypeVar("_Parsed")


def load_settings(environ: Mapping[str, str]) -> FunctionSettings:
    """The settings in `environ`, each checked in turn: the first broken one raises
    ConfigurationError naming its variable."""

    def value(variable: str, default: str = "") -> str:
        return environ.get(variable, default).strip()

    return FunctionSettings(
        alert_topic_arn=_topic_arn(value(contract.ENV_ALERT_TOPIC_ARN)),
        metrics_namespace=_parsed(
            contract.ENV_METRICS_NAMESPACE,
            contract.metrics_namespace,
            value(contract.ENV_METRICS_NAMESPACE, contract.DEFAULT_METRICS_NAMESPACE),
        ),
        alert_statuses=frozenset(
            _parsed(
                contract.ENV_ALERT_STATUSES,
                contract.alert_status_list,
                value(contract.ENV_ALERT_STATUSES, ",".join(contract.DEFAULT_ALERT_STATUSES)),
            )
        ),
        idempotency_table=_table_name(value(contract.ENV_IDEMPOTENCY_TABLE)),
        sweep_lookback_minutes=_lookback_minutes(
            value(contract.ENV_SWEEP_LOOKBACK_MINUTES, str(DEFAULT_LOOKBACK_MINUTES))
        ),
        error_details_limit=_parsed(
            contract.ENV_ERROR_DETAILS_LIMIT,
            lambda raw: contract.error_details_limit(contract.whole_number(raw)),
            value(contract.ENV_ERROR_DETAILS_LIMIT, str(contract.DEFAULT_ERROR_DETAILS_LIMIT)),
        ),
        chat_mode=(
            chat_mode := _parsed(
                contract.ENV_CHAT_NOTIFICATIONS,
                contract.chat_mode,
                value(contract.ENV_CHAT_NOTIFICATIONS, contract.CHAT_OFF),
            )
        ),
        chat_topic_arn=_chat_topic_arn(chat_mode, value(contract.ENV_CHAT_TOPIC_ARN) or None),
        members=_members(value(contract.ENV_MEMBER_ACCOUNTS)),
        member_external_id=value(contract.ENV_MEMBER_EXTERNAL_ID) or None,
        log_group_name=value(contract.ENV_LOG_GROUP_NAME) or None,
        name_qualifier=_parsed(
            contract.ENV_NAME_QUALIFIER, contract.qualifier, value(contract.ENV_NAME_QUALIFIER)
        ),
        streak_table=_optional_table_name(
            contract.ENV_STREAK_TABLE, value(contract.ENV_STREAK_TABLE)
        ),
        repeat_alerts=_repeat_alerts(value(contract.ENV_REPEAT_ALERTS)),
        resolved_notices=_flag(
            contract.ENV_RESOLVED_NOTICES, value(contract.ENV_RESOLVED_NOTICES, "true")
        ),
        **_organization(value),
    )


def _parsed(variable: str, parse: Callable[[str], _Parsed], raw: str) -> _Parsed:
    """One of mwalerts.contract's rules applied to a variable; its message, after the variable's
    name, is the error."""
    try:
        return parse(raw)
    except ValueError as error:
        raise ConfigurationError(f"{variable} {error}") from None


def _topic_arn(arn: str) -> str:
    if not arn:
        raise ConfigurationError(f"{contract.ENV_ALERT_TOPIC_ARN} is not set")
    if not _TOPIC_ARN.fullmatch(arn):
        raise ConfigurationError(f"{contract.ENV_ALERT_TOPIC_ARN} is not an SNS topic ARN: {arn!r}")
    return arn


def _table_name(table: str) -> str:
    if not _TABLE_NAME.match(table):
        raise ConfigurationError(
            f"{contract.ENV_IDEMPOTENCY_TABLE} must name the idempotency table, got {table!r}"
        )
    return table


def _optional_table_name(variable: str, table: str) -> str | None:
    if table and not _TABLE_NAME.match(table):
        raise ConfigurationError(f"{variable} must name a DynamoDB table, got {table!r}")
    return table or None


def _repeat_alerts(raw: str) -> dict[str, str]:
    """REPEAT_ALERTS: {"mw-...": "on-change", "*": "always"}; empty means always, everywhere."""
    if not raw:
        return {}
    problem = (
        f"{contract.ENV_REPEAT_ALERTS} must map window keys to {'/'.join(contract.REPEAT_MODES)}"
    )
    try:
        modes = json.loads(raw)
    except ValueError:
        raise ConfigurationError(f"{problem}, as JSON; got {raw[:80]!r}") from None
    if not isinstance(modes, dict) or not all(
        isinstance(key, str) and isinstance(mode, str) for key, mode in modes.items()
    ):
        raise ConfigurationError(f"{problem}; got {raw[:80]!r}")
    return {
        key: _parsed(f"{contract.ENV_REPEAT_ALERTS} {key}", contract.repeat_mode, mode)
        for key, mode in modes.items()
    }


def _flag(variable: str, raw: str) -> bool:
    if raw.lower() not in ("true", "false"):
        raise ConfigurationError(f"{variable} must be true or false, got {raw!r}")
    return raw.lower() == "true"


def _lookback_minutes(raw: str) -> int:
    try:
        minutes = contract.whole_number(raw)
    except ValueError:
        minutes = 0
    if not 1 <= minutes <= MAX_LOOKBACK_MINUTES:
        raise ConfigurationError(
            f"{contract.ENV_SWEEP_LOOKBACK_MINUTES} must be a whole number of minutes from 1 to "
            f"{MAX_LOOKBACK_MINUTES}, got {raw!r}"
        )
    return minutes


def _chat_topic_arn(chat_mode: str, arn: str | None) -> str | None:
    if chat_mode == contract.CHAT_SEPARATE_TOPIC and not (arn and _TOPIC_ARN.fullmatch(arn)):
        raise ConfigurationError(
            f"{contract.ENV_CHAT_NOTIFICATIONS}={contract.CHAT_SEPARATE_TOPIC} needs "
            f"{contract.ENV_CHAT_TOPIC_ARN}, an SNS topic ARN; got {arn!r}"
        )
    return arn


def _members(raw: str) -> dict[str, tuple[str, ...]] | None:
    """MEMBER_ACCOUNTS: {"111111111111": ["eu-west-1", ...], ...}; empty means per-account mode."""
    if not raw:
        return None
    problem = f"{contract.ENV_MEMBER_ACCOUNTS} must map 12-digit account IDs to lists of regions"
    try:
        members = json.loads(raw)
    except ValueError:
        raise ConfigurationError(f"{problem}, as JSON; got {raw[:80]!r}") from None
    if not isinstance(members, dict) or not members:
        raise ConfigurationError(problem)
    parsed: dict[str, tuple[str, ...]] = {}
    for account, regions in members.items():
        if not _ACCOUNT.fullmatch(account) or not isinstance(regions, list) or not regions:
            raise ConfigurationError(f"{problem}; got {account!r}: {regions!r}")
        if not all(isinstance(r, str) and _REGION.fullmatch(r) for r in regions):
            raise ConfigurationError(f"{problem}; {account} has an invalid region in {regions!r}")
        parsed[account] = tuple(regions)
    return parsed


def _organization(value: Callable[..., str]) -> dict[str, Any]:
    """Organization mode's settings (none without MEMBER_STACK_SET_NAME): the StackSet, CallAs,
    the covered regions and the sweep queue, each required and checked."""
    stack_set = value(contract.ENV_MEMBER_STACK_SET)
    if not stack_set:
        return {}
    if value(contract.ENV_MEMBER_ACCOUNTS):
        raise ConfigurationError(
            f"{contract.ENV_MEMBER_ACCOUNTS} and {contract.ENV_MEMBER_STACK_SET} exclude each "
            "other: central mode lists its members, organization mode reads them from a StackSet"
        )
    if not _STACK_SET_NAME.fullmatch(stack_set):
        raise ConfigurationError(
            f"{contract.ENV_MEMBER_STACK_SET} is not a StackSet name: {stack_set!r}"
        )
    call_as = value(contract.ENV_MEMBER_STACK_SET_CALL_AS, contract.CALL_AS_SELF)
    if call_as not in contract.CALL_AS_VALUES:
        raise ConfigurationError(
            f"{contract.ENV_MEMBER_STACK_SET_CALL_AS} must be one of "
            f"{', '.join(contract.CALL_AS_VALUES)}, got {call_as!r}"
        )
    return {
        "member_stack_set": stack_set,
        "member_stack_set_call_as": call_as,
        "member_regions": _member_regions(value(contract.ENV_MEMBER_REGIONS)),
        "sweep_queue_url": _queue_url(value(contract.ENV_SWEEP_QUEUE_URL)),
    }


def _member_regions(raw: str) -> tuple[str, ...]:
    regions = tuple(dict.fromkeys(part.strip() for part in raw.split(",") if part.strip()))
    if not regions or not all(_REGION.fullmatch(region) for region in regions):
        raise ConfigurationError(
            f"{contract.ENV_MEMBER_REGIONS} must list the covered regions, comma-separated "
            f"(eu-west-1,us-east-1); got {raw!r}"
        )
    return regions


def _queue_url(url: str) -> str:
    if not _QUEUE_URL.fullmatch(url):
        raise ConfigurationError(
            f"{contract.ENV_SWEEP_QUEUE_URL} must be the sweep queue's URL "
            f"(https://sqs.<region>.amazonaws.com/<account>/<name>); got {url!r}"
        )
    return url


@cache
def get_settings() -> FunctionSettings:
    """The settings of this container, read from the environment once."""
    return load_settings(os.environ)
