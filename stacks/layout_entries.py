"""The keys of the layout, and the checks of one entry's values (maintenance_window_alerts.layout).

Each check raises SettingsError with a message that names the entry, such as
`deployments[2] (111111111111/eu-west-9): unknown region 'eu-west-9'`.
"""

import difflib
import re
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from maintenance_window_alerts.layout_model import KNOWN_REGIONS, Central
from maintenance_window_alerts.settings import (
    EXPECTED_WINDOWS,
    MISSPELLED_KEYS,
    REPEAT_ALERTS,
    WINDOW_ALARMS,
    Settings,
    SettingsError,
    split_window_key,
)
from maintenance_window_alerts.text import one_of
from mwalerts import contract

# Context keys (and keys of configFile).
DEPLOYMENTS = "deployments"
CENTRAL = "central"
ORGANIZATION = "organization"
CONFIG_FILE = "configFile"
# The layouts: at most one of them (else one stack for the CLI's account and region).
LAYOUTS = (DEPLOYMENTS, CENTRAL, ORGANIZATION)
# Keys of an entry.
ACCOUNT = "account"
REGION = "region"
REGIONS = "regions"
MEMBERS = "members"
ORGANIZATION_ID = "organizationId"
EXTERNAL_ID = "externalId"
QUALIFIER = "qualifier"
# Keys of organization.
ORGANIZATIONAL_UNITS = "organizationalUnits"
CALL_AS = "callAs"
SWEEP_CONCURRENCY = "sweepConcurrency"
LAYOUT_MISSPELLED_KEYS = {
    "deployment": DEPLOYMENTS,
    "centralAccount": CENTRAL,
    "organisation": ORGANIZATION,
    "configfile": CONFIG_FILE,
    "config": CONFIG_FILE,
}

_ACCOUNT = re.compile(contract.ACCOUNT_ID_PATTERN)
# AWS Organizations' ID pattern, and STS's for an external ID.
_ORGANIZATION_CHARS = "abcdefghijklmnopqrstuvwxyz0123456789"
_EXTERNAL_ID_CHARS = frozenset(
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_+=,.@:/-"
)
EXTERNAL_ID_LENGTH = range(2, 1225)


def parse_organization_id(where: str, raw: Any) -> str | None:
    if raw is None:
        return None
    if not (
        isinstance(raw, str)
        and raw.startswith("o-")
        and 10 <= len(raw) - 2 <= 32
        and all(c in _ORGANIZATION_CHARS for c in raw[2:])
    ):
        raise SettingsError(
            f"{where}: {ORGANIZATION_ID} {raw!r} is not an AWS Organizations ID: o- and 10 to 32 "
            "lowercase letters or digits, such as o-a1b2c3d4e5"
        )
    return raw


def parse_qualifier(where: str, raw: Any) -> str:
    """The qualifier of the fixed names (default "": today's names)."""
    if raw is None:
        return ""
    try:
        return contract.qualifier(raw) if isinstance(raw, str) and raw else contract.qualifier("!")
    except ValueError:
        raise SettingsError(
            f"{where}: {QUALIFIER} {raw!r} must be 1 to 10 lowercase letters or digits, such as "
            "'staging' (it goes into the role, bus, stack and StackSet names; leave it out for "
            "none)"
        ) from None


def parse_external_id(where: str, raw: Any, organization_id: str | None) -> str | None:
    if raw is None:
        if organization_id is None:
            raise SettingsError(
                f"{where}: set {EXTERNAL_ID} (or {ORGANIZATION_ID}): without an organization, "
                "the member roles trust the central function only with the external ID"
            )
        return None
    if not (
        isinstance(raw, str)
        and len(raw) in EXTERNAL_ID_LENGTH
        and all(c in _EXTERNAL_ID_CHARS for c in raw)
    ):
        raise SettingsError(
            f"{where}: {EXTERNAL_ID} must be {EXTERNAL_ID_LENGTH[0]} to {EXTERNAL_ID_LENGTH[-1]} "
            "characters of letters, digits and _+=,.@:/- (what STS accepts), got "
            f"{_shorten(raw)!r}"
        )
    return raw


def entry_label(name: str, entry: Any, *keys: str) -> str:
    """How messages name an entry: `deployments[2] (111111111111/eu-west-9)`."""
    if not isinstance(entry, dict):
        return name
    return f"{name} ({'/'.join(str(entry.get(key, '?')) for key in keys)})"


def parse_environment(
    where: str, entry: Any, allowed: Sequence[str]
) -> tuple[str, str, dict[str, Any]]:
    """(account, region, the entry's other keys) of an object with account and region."""
    if not isinstance(entry, dict):
        raise SettingsError(
            f'{where}: must be an object {{"{ACCOUNT}": "...", "{REGION}": "...", ...}}, '
            f"got {entry!r}"
        )
    check_keys(where, entry, allowed)
    account = parse_account(where, entry.get(ACCOUNT))
    region = parse_region(where, entry.get(REGION))
    rest = {k: v for k, v in entry.items() if k not in (ACCOUNT, REGION)}
    return account, region, rest


def check_keys(where: str, entry: Mapping[str, Any], allowed: Sequence[str]) -> None:
    unknown = [key for key in entry if key not in allowed]
    if not unknown:
        return
    hints = []
    for key in unknown:
        close = MISSPELLED_KEYS.get(key) or next(
            iter(difflib.get_close_matches(key, allowed, n=1)), None
        )
        hints.append(f"{key!r} (did you mean {close!r}?)" if close in allowed else repr(key))
    raise SettingsError(
        f"{where}: unknown key{'s' if len(unknown) > 1 else ''} {', '.join(hints)}; "
        f"allowed: {', '.join(allowed)}"
    )


def parse_account(where: str, raw: Any) -> str:
    if raw is None:
        raise SettingsError(f"{where}: missing {ACCOUNT!r} (a 12-digit AWS account ID)")
    if not (isinstance(raw, str) and _ACCOUNT.fullmatch(raw)):
        raise SettingsError(
            f"{where}: {ACCOUNT} {raw!r} is not a 12-digit AWS account ID (write it as a string, "
            'such as "012345678901": a number loses leading zeros)'
        )
    return raw


def parse_region(where: str, raw: Any) -> str:
    if raw is None:
        raise SettingsError(f"{where}: missing {REGION!r} (such as 'eu-west-1')")
    if not isinstance(raw, str):
        raise SettingsError(f"{where}: region must be a string such as 'eu-west-1', got {raw!r}")
    if raw not in KNOWN_REGIONS:
        close = sorted(difflib.get_close_matches(raw, KNOWN_REGIONS, n=3))
        hint = (
            f": did you mean {one_of([repr(c) for c in close])}?"
            if close
            else " (not a region of aws_cdk.region_info)"
        )
        raise SettingsError(f"{where}: unknown region {raw!r}{hint}")
    return raw


def parse_member_regions(where: str, regions: Any, partition: str) -> tuple[str, ...]:
    """A member's regions: known ones, each once, in the central account's partition."""
    if not isinstance(regions, list) or not regions:
        raise SettingsError(
            f"{where}: {REGIONS} must be a non-empty list of regions such as "
            f'["eu-west-1", "us-east-1"], got {regions!r}'
        )
    for region in regions:
        parse_region(where, region)
        if regions.count(region) > 1:
            raise SettingsError(f"{where}: region {region!r} listed twice")
        if KNOWN_REGIONS[region] != partition:
            raise SettingsError(
                f"{where}: region {region!r} is in partition {KNOWN_REGIONS[region]}, "
                f"the central account's in {partition}: events and roles cannot cross "
                "partitions"
            )
    return tuple(regions)


def entry_settings(where: str, top: Mapping[str, Any], overrides: Mapping[str, Any]) -> Settings:
    """The entry's settings over the top-level ones, validated like them."""
    try:
        return Settings.from_context({**top, **overrides})
    except SettingsError as error:
        raise SettingsError(f"{where}: {error}") from None


def window_keys(settings: Settings) -> Iterator[tuple[str, str]]:
    """(setting, window key) of every window a setting names (repeatAlerts' "*" names none)."""
    for window in settings.window_alarms:
        yield WINDOW_ALARMS, window
    for window in settings.expected_windows:
        yield EXPECTED_WINDOWS, window
    for window in settings.repeat_alerts:
        if window != contract.REPEAT_ALL_WINDOWS:
            yield REPEAT_ALERTS, window


def check_unqualified_windows(where: str, settings: Settings) -> None:
    """Outside central mode a window is named by its ID alone: metrics have no Account."""
    for key, window in window_keys(settings):
        account, _, window_id = split_window_key(window)
        if account is not None:
            raise SettingsError(
                f"{where + ': ' if where else ''}{key} key {window!r} names an account and "
                f"region, which only {CENTRAL} mode does: write the window ID alone ({window_id})"
            )


def check_qualified_windows(where: str, central: Central) -> None:
    """In central mode a window is named by its member account and region too, as its metrics
    are (dimensions Account, Region, WindowId)."""
    environments = set(central.member_environments)
    for key, window in window_keys(central.settings):
        account, region, window_id = split_window_key(window)
        if account is None or region is None:
            example = "/".join((*next(central.member_environments), window_id))
            raise SettingsError(
                f"{where}: {key} key {window!r} must name the member account and region of the "
                f"window in {CENTRAL} mode: '<account>/<region>/<window ID>', such as {example!r}"
            )
        if (account, region) not in environments:
            raise SettingsError(
                f"{where}: {key} key {window!r}: {account}/{region} is not a member account and "
                f"region ({CENTRAL}.{MEMBERS})"
            )


def _shorten(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else f"{text[:limit]}..."
