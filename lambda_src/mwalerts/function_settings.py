"""The function's settings, parsed once from the environment into a typed model."""

import json
import os
import re
from collections.abc import Mapping
from functools import cache

from pydantic import BaseModel, ConfigDict

from mwalerts import contract
from mwalerts.errors import ConfigurationError

_TOPIC_ARN = re.compile(r"arn:aws[a-z-]*:sns:[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9_-]{1,256}(\.fifo)?")
_NAMESPACE = re.compile(contract.CUSTOM_NAMESPACE_PATTERN)


_TABLE_NAME = re.compile(r"^[A-Za-z0-9_.-]{3,255}$")  # DynamoDB's rule for table names
_ACCOUNT = re.compile(contract.ACCOUNT_ID_PATTERN)
_REGION = re.compile(contract.REGION_PATTERN)
MAX_LOOKBACK_MINUTES = 7 * 24 * 60


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

    def is_member(self, account: str, region: str) -> bool:
        return self.members is None or region in self.members.get(account, ())


def parse_statuses(raw: str) -> frozenset[str]:
    """Parse a comma-separated status list such as "FAILED,TIMED_OUT"; unknown values are errors."""
    statuses = frozenset(part.strip().upper() for part in raw.split(",") if part.strip())
    if not statuses:
        raise ConfigurationError(f"{contract.ENV_ALERT_STATUSES} must list at least one status")
    unknown = sorted(statuses - set(contract.ALL_STATUSES))
    if unknown:
        raise ConfigurationError(
            f"{contract.ENV_ALERT_STATUSES} has unknown status(es) {', '.join(unknown)}; "
            f"valid: {', '.join(contract.ALL_STATUSES)}"
        )
    return statuses


def load_settings(environ: Mapping[str, str]) -> FunctionSettings:
    topic_arn = environ.get(contract.ENV_ALERT_TOPIC_ARN, "").strip()
    if not topic_arn:
        raise ConfigurationError(f"{contract.ENV_ALERT_TOPIC_ARN} is not set")
    if not _TOPIC_ARN.fullmatch(topic_arn):
        raise ConfigurationError(
            f"{contract.ENV_ALERT_TOPIC_ARN} is not an SNS topic ARN: {topic_arn!r}"
        )
    namespace = environ.get(
        contract.ENV_METRICS_NAMESPACE, contract.DEFAULT_METRICS_NAMESPACE
    ).strip()
    if not _NAMESPACE.match(namespace):
        raise ConfigurationError(
            f"{contract.ENV_METRICS_NAMESPACE} is not a valid custom CloudWatch namespace: "
            f"{namespace!r}"
        )
    statuses = parse_statuses(
        environ.get(contract.ENV_ALERT_STATUSES, ",".join(contract.DEFAULT_ALERT_STATUSES))
    )
    table = environ.get(contract.ENV_IDEMPOTENCY_TABLE, "").strip()
    if not _TABLE_NAME.match(table):
        raise ConfigurationError(
            f"{contract.ENV_IDEMPOTENCY_TABLE} must name the idempotency table, got {table!r}"
        )
    default_lookback = contract.DEFAULT_SWEEP_INTERVAL_MINUTES * contract.SWEEP_LOOKBACK_PERIODS
    lookback = environ.get(contract.ENV_SWEEP_LOOKBACK_MINUTES, str(default_lookback)).strip()
    if not lookback.isdigit() or not 1 <= int(lookback) <= MAX_LOOKBACK_MINUTES:
        raise ConfigurationError(
            f"{contract.ENV_SWEEP_LOOKBACK_MINUTES} must be a whole number of minutes from 1 to "
            f"{MAX_LOOKBACK_MINUTES}, got {lookback!r}"
        )
    limit = environ.get(contract.ENV_ERROR_DETAILS_LIMIT, str(contract.DEFAULT_ERROR_DETAILS_LIMIT))
    if not limit.strip().isdigit() or int(limit) > contract.MAX_ERROR_DETAILS_LIMIT:
        raise ConfigurationError(
            f"{contract.ENV_ERROR_DETAILS_LIMIT} must be a whole number from 0 to "
            f"{contract.MAX_ERROR_DETAILS_LIMIT}, got {limit!r}"
        )
    chat_mode = environ.get(contract.ENV_CHAT_NOTIFICATIONS, contract.CHAT_OFF).strip()
    if chat_mode not in contract.CHAT_MODES:
        raise ConfigurationError(
            f"{contract.ENV_CHAT_NOTIFICATIONS} must be one of {', '.join(contract.CHAT_MODES)}, "
            f"got {chat_mode!r}"
        )
    chat_topic = environ.get(contract.ENV_CHAT_TOPIC_ARN, "").strip() or None
    if chat_mode == contract.CHAT_SEPARATE_TOPIC and not (
        chat_topic and _TOPIC_ARN.fullmatch(chat_topic)
    ):
        raise ConfigurationError(
            f"{contract.ENV_CHAT_NOTIFICATIONS}={contract.CHAT_SEPARATE_TOPIC} needs "
            f"{contract.ENV_CHAT_TOPIC_ARN}, an SNS topic ARN; got {chat_topic!r}"
        )
    return FunctionSettings(
        members=_members(environ.get(contract.ENV_MEMBER_ACCOUNTS, "").strip()),
        member_external_id=environ.get(contract.ENV_MEMBER_EXTERNAL_ID, "").strip() or None,
        alert_topic_arn=topic_arn,
        alert_statuses=statuses,
        metrics_namespace=namespace,
        idempotency_table=table,
        sweep_lookback_minutes=int(lookback),
        error_details_limit=int(limit),
        chat_mode=chat_mode,
        chat_topic_arn=chat_topic,
        log_group_name=environ.get(contract.ENV_LOG_GROUP_NAME, "").strip() or None,
    )


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


@cache
def get_settings() -> FunctionSettings:
    """The settings of this container, read from the environment once."""
    return load_settings(os.environ)
