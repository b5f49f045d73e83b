"""Where the app deploys: one stack per account and region, or a central account and its members.

Read from the CDK context (cdk.json or `-c`), or from the JSON file that `configFile` names, and
validated before anything is synthesized: a bad entry fails synth with a message that names it,
such as `deployments[2] (111111111111/eu-west-9): unknown region 'eu-west-9'`.

- No `deployments` and no `central`: one stack for the CLI's account and region, as ever.
- `deployments`: a list of {"account", "region", <settings>}: one stack each, its settings (any
  key of settings.KEYS) over the top-level ones.
- `central`: {"account", "region", "organizationId" or "externalId", "members": [{"account",
  "regions"}], <settings>}: the alerts stack in the central account and region, and a small
  member stack in every member account and region.
"""

import difflib
import json
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aws_cdk.region_info import RegionInfo
from constructs import Construct

from maintenance_window_alerts.settings import (
    EXPECTED_WINDOWS,
    KEYS,
    MISSPELLED_KEYS,
    WINDOW_ALARMS,
    Settings,
    SettingsError,
    split_window_key,
)
from mwalerts import contract

# Context keys (and keys of configFile).
DEPLOYMENTS = "deployments"
CENTRAL = "central"
CONFIG_FILE = "configFile"
# Keys of an entry.
ACCOUNT = "account"
REGION = "region"
REGIONS = "regions"
MEMBERS = "members"
ORGANIZATION_ID = "organizationId"
EXTERNAL_ID = "externalId"
LAYOUT_MISSPELLED_KEYS = {
    "deployment": DEPLOYMENTS,
    "centralAccount": CENTRAL,
    "configfile": CONFIG_FILE,
    "config": CONFIG_FILE,
}

# The regions this CDK version knows, offline: name -> partition.
KNOWN_REGIONS: dict[str, str] = {r.name: r.partition for r in RegionInfo.regions if r.partition}
# The partitions whose member role ARNs the central function builds (mwalerts.links.partition).
CENTRAL_PARTITIONS = ("aws", "aws-cn", "aws-us-gov")
_ACCOUNT = re.compile(contract.ACCOUNT_ID_PATTERN)
# AWS Organizations' ID pattern, and STS's for an external ID.
_ORGANIZATION_CHARS = "abcdefghijklmnopqrstuvwxyz0123456789"
_EXTERNAL_ID_CHARS = frozenset(
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_+=,.@:/-"
)
EXTERNAL_ID_LENGTH = range(2, 1225)
# Lambda allows 4 KB of environment variables in all (names and values). The central function's
# other variables take about 1 KB once deployed (ARNs and names), which leaves this for the member
# map (MEMBER_ACCOUNTS) and the external ID together.
MAX_MEMBER_ENVIRONMENT_BYTES = 3000


@dataclass(frozen=True)
class Deployment:
    """Per-account mode: one alerts stack in this account and region."""

    account: str
    region: str
    settings: Settings

    @property
    def stack_id(self) -> str:
        return contract.deployment_stack_name(self.account, self.region)


@dataclass(frozen=True)
class Member:
    """A member account of central mode and the regions whose windows the central stack watches."""

    account: str
    regions: tuple[str, ...]


@dataclass(frozen=True)
class Central:
    """Central mode: the alerts stack in one account and region, fed by its members."""

    account: str
    region: str
    settings: Settings
    members: tuple[Member, ...]
    organization_id: str | None = None
    external_id: str | None = None

    @property
    def stack_id(self) -> str:
        return contract.central_stack_name(self.account, self.region)

    @staticmethod
    def member_stack_id(account: str, region: str) -> str:
        return contract.member_stack_name(account, region)

    @property
    def partition(self) -> str:
        return KNOWN_REGIONS[self.region]

    @property
    def member_environments(self) -> Iterator[tuple[str, str]]:
        """(account, region) of every member stack."""
        for member in self.members:
            for region in member.regions:
                yield member.account, region

    @property
    def member_accounts(self) -> dict[str, list[str]]:
        """Member account -> its regions, as the function reads it (ENV_MEMBER_ACCOUNTS)."""
        return {member.account: list(member.regions) for member in self.members}

    @property
    def member_accounts_json(self) -> str:
        return json.dumps(self.member_accounts, separators=(",", ":"))

    def member_role_arn(self, account: str, region: str) -> str:
        """The read-only role of a member stack, which the central function assumes."""
        return f"arn:{self.partition}:iam::{account}:role/{contract.member_role_name(region)}"

    @property
    def member_role_arns(self) -> list[str]:
        return [self.member_role_arn(a, r) for a, r in self.member_environments]

    @property
    def function_role_arn(self) -> str:
        """The central function's role (a fixed name), the only principal member roles trust."""
        role = contract.central_function_role_name(self.region)
        return f"arn:{self.partition}:iam::{self.account}:role/{role}"

    @property
    def event_bus_arn(self) -> str:
        """The central event bus (a fixed name), which member stacks forward events to."""
        return (
            f"arn:{self.partition}:events:{self.region}:{self.account}"
            f":event-bus/{contract.CENTRAL_BUS_NAME}"
        )

    def account_root_arn(self, account: str) -> str:
        return f"arn:{self.partition}:iam::{account}:root"


@dataclass(frozen=True)
class Layout:
    """What the app deploys. Neither deployments nor central: one stack for the CLI's account
    and region, with the top-level settings."""

    settings: Settings
    deployments: tuple[Deployment, ...] = ()
    central: Central | None = None


def layout_from_scope(scope: Construct, *, base_dir: Path | None = None) -> Layout:
    """The layout in the context of `scope` (usually the App); configFile relative to base_dir
    (the current directory, where `cdk` runs the app: the directory of cdk.json)."""
    keys = (*KEYS, *MISSPELLED_KEYS, DEPLOYMENTS, CENTRAL, CONFIG_FILE, *LAYOUT_MISSPELLED_KEYS)
    context = {key: scope.node.try_get_context(key) for key in keys}
    return parse_layout(context, base_dir=base_dir or Path.cwd())


def parse_layout(context: Mapping[str, Any], *, base_dir: Path) -> Layout:
    """Parse and validate raw context values (a missing key is None)."""
    for wrong, right in LAYOUT_MISSPELLED_KEYS.items():
        if context.get(wrong) is not None:
            raise SettingsError(f"unknown setting {wrong!r}: did you mean {right!r}?")
    top = {key: context[key] for key in (*KEYS, *MISSPELLED_KEYS) if context.get(key) is not None}
    settings = Settings.from_context(top)
    raw = {key: _from_json(key, context.get(key)) for key in (DEPLOYMENTS, CENTRAL)}
    # Where each came from, for the messages: "" (cdk.json or -c) or "<configFile>: ".
    origin = dict.fromkeys(raw, "")
    if context.get(CONFIG_FILE) is not None:
        path, from_file = _config_file(context[CONFIG_FILE], base_dir)
        for key, value in from_file.items():
            if raw[key] is not None:
                raise SettingsError(
                    f"{key} is set both in {CONFIG_FILE} {path!r} and in cdk.json or -c: "
                    "set it in one place"
                )
            raw[key], origin[key] = value, f"{path}: "
    if raw[DEPLOYMENTS] is not None and raw[CENTRAL] is not None:
        raise SettingsError(
            f"{DEPLOYMENTS} and {CENTRAL} are exclusive: list the accounts and regions that get "
            f"a stack of their own in {DEPLOYMENTS}, or a central account and its members in "
            f"{CENTRAL}, not both"
        )
    if raw[CENTRAL] is not None:
        return Layout(settings, central=_central(f"{origin[CENTRAL]}{CENTRAL}", raw[CENTRAL], top))
    if raw[DEPLOYMENTS] is not None:
        _check_unqualified_windows("", settings)
        deployments = _deployments(origin[DEPLOYMENTS], raw[DEPLOYMENTS], top)
        return Layout(settings, deployments=deployments)
    _check_unqualified_windows("", settings)
    return Layout(settings)


# --- Sources ----------------------------------------------------------------------------------


def _from_json(key: str, raw: Any) -> Any:
    """A value as cdk.json holds it, or as `-c key='[...]'` passes it (a JSON string)."""
    if not isinstance(raw, str):
        return raw
    try:
        return json.loads(raw)
    except json.JSONDecodeError as error:
        raise SettingsError(f"{key} is not valid JSON: {error}") from None


def _config_file(raw: Any, base_dir: Path) -> tuple[str, dict[str, Any]]:
    if not isinstance(raw, str) or not raw.strip():
        raise SettingsError(f"{CONFIG_FILE} must be the path of a JSON file, got {raw!r}")
    path = raw.strip()
    try:
        text = (base_dir / path).read_text(encoding="utf-8")
    except OSError as error:
        raise SettingsError(
            f"{CONFIG_FILE} {path!r} cannot be read ({error.strerror}); a relative path is "
            "relative to the directory of cdk.json"
        ) from None
    try:
        content = json.loads(text)
    except json.JSONDecodeError as error:
        raise SettingsError(f"{CONFIG_FILE} {path!r} is not valid JSON: {error}") from None
    if not isinstance(content, dict):
        raise SettingsError(
            f"{CONFIG_FILE} {path!r} must hold a JSON object with {DEPLOYMENTS} or {CENTRAL}"
        )
    _check_keys(f"{CONFIG_FILE} {path!r}", content, (DEPLOYMENTS, CENTRAL))
    return path, content


# --- Per-account mode -------------------------------------------------------------------------


def _deployments(prefix: str, raw: Any, top: Mapping[str, Any]) -> tuple[Deployment, ...]:
    if not isinstance(raw, list) or not raw:
        raise SettingsError(
            f'{prefix}{DEPLOYMENTS} must be a non-empty list of {{"{ACCOUNT}": "...", '
            f'"{REGION}": "..."}} objects (leave it out for one stack in the CLI\'s account '
            f"and region), got {raw!r}"
        )
    deployments: list[Deployment] = []
    seen: dict[tuple[str, str], int] = {}
    for index, entry in enumerate(raw):
        name = f"{prefix}{DEPLOYMENTS}[{index}]"
        where = _label(name, entry, ACCOUNT, REGION)
        account, region, overrides = _environment(where, entry, (ACCOUNT, REGION, *KEYS))
        if (account, region) in seen:
            raise SettingsError(
                f"{where}: duplicate of {prefix}{DEPLOYMENTS}[{seen[account, region]}]: "
                "one stack per account and region"
            )
        seen[account, region] = index
        settings = _settings(where, top, overrides)
        _check_unqualified_windows(where, settings)
        deployments.append(Deployment(account, region, settings))
    return tuple(deployments)


# --- Central mode -----------------------------------------------------------------------------


def _central(name: str, raw: Any, top: Mapping[str, Any]) -> Central:
    if not isinstance(raw, dict):
        raise SettingsError(
            f'{name} must be an object {{"{ACCOUNT}", "{REGION}", "{MEMBERS}", ...}}, got {raw!r}'
        )
    where = _label(name, raw, ACCOUNT, REGION)
    allowed = (ACCOUNT, REGION, MEMBERS, ORGANIZATION_ID, EXTERNAL_ID, *KEYS)
    account, region, rest = _environment(where, raw, allowed)
    if KNOWN_REGIONS[region] not in CENTRAL_PARTITIONS:
        raise SettingsError(
            f"{where}: region {region!r} is in partition {KNOWN_REGIONS[region]}; central mode "
            f"works in {', '.join(CENTRAL_PARTITIONS)}"
        )
    organization_id = _organization_id(where, rest.pop(ORGANIZATION_ID, None))
    external_id = _external_id(where, rest.pop(EXTERNAL_ID, None), organization_id)
    members = _members(name, where, rest.pop(MEMBERS, None), KNOWN_REGIONS[region])
    central = Central(
        account=account,
        region=region,
        settings=_settings(where, top, rest),
        members=members,
        organization_id=organization_id,
        external_id=external_id,
    )
    _check_qualified_windows(where, central)
    size = len(central.member_accounts_json.encode()) + len((external_id or "").encode())
    if size > MAX_MEMBER_ENVIRONMENT_BYTES:
        raise SettingsError(
            f"{where}: {MEMBERS} and {EXTERNAL_ID} take {size:,} bytes of the central "
            f"function's environment ({contract.ENV_MEMBER_ACCOUNTS}, "
            f"{contract.ENV_MEMBER_EXTERNAL_ID}), more than the {MAX_MEMBER_ENVIRONMENT_BYTES:,} "
            "that Lambda's 4 KB of environment variables leave them: list fewer member "
            "accounts or regions for this central account"
        )
    return central


def _members(name: str, where: str, raw: Any, partition: str) -> tuple[Member, ...]:
    if not isinstance(raw, list) or not raw:
        raise SettingsError(
            f'{where}: {MEMBERS} must be a non-empty list of {{"{ACCOUNT}": "...", '
            f'"{REGIONS}": ["..."]}} objects, got {raw!r}'
        )
    members: list[Member] = []
    seen: dict[str, int] = {}
    for index, entry in enumerate(raw):
        member_name = f"{name}.{MEMBERS}[{index}]"
        member_where = _label(member_name, entry, ACCOUNT)
        if not isinstance(entry, dict):
            raise SettingsError(
                f'{member_where}: must be an object {{"{ACCOUNT}": "...", "{REGIONS}": '
                f'["..."]}}, got {entry!r}'
            )
        _check_keys(member_where, entry, (ACCOUNT, REGIONS))
        account = _account(member_where, entry.get(ACCOUNT))
        if account in seen:
            raise SettingsError(
                f"{member_where}: account listed twice (also {name}.{MEMBERS}[{seen[account]}]): "
                f"list all its regions in one entry"
            )
        seen[account] = index
        regions = entry.get(REGIONS)
        if not isinstance(regions, list) or not regions:
            raise SettingsError(
                f"{member_where}: {REGIONS} must be a non-empty list of regions such as "
                f'["eu-west-1", "us-east-1"], got {regions!r}'
            )
        for region in regions:
            _region(member_where, region)
            if regions.count(region) > 1:
                raise SettingsError(f"{member_where}: region {region!r} listed twice")
            if KNOWN_REGIONS[region] != partition:
                raise SettingsError(
                    f"{member_where}: region {region!r} is in partition {KNOWN_REGIONS[region]}, "
                    f"the central account's in {partition}: events and roles cannot cross "
                    "partitions"
                )
        members.append(Member(account, tuple(regions)))
    return tuple(members)


def _organization_id(where: str, raw: Any) -> str | None:
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


def _external_id(where: str, raw: Any, organization_id: str | None) -> str | None:
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


# --- Entries ----------------------------------------------------------------------------------


def _label(name: str, entry: Any, *keys: str) -> str:
    """How messages name an entry: `deployments[2] (111111111111/eu-west-9)`."""
    if not isinstance(entry, dict):
        return name
    return f"{name} ({'/'.join(str(entry.get(key, '?')) for key in keys)})"


def _environment(where: str, entry: Any, allowed: Sequence[str]) -> tuple[str, str, dict[str, Any]]:
    """(account, region, the entry's other keys) of an object with account and region."""
    if not isinstance(entry, dict):
        raise SettingsError(
            f'{where}: must be an object {{"{ACCOUNT}": "...", "{REGION}": "...", ...}}, '
            f"got {entry!r}"
        )
    _check_keys(where, entry, allowed)
    account = _account(where, entry.get(ACCOUNT))
    region = _region(where, entry.get(REGION))
    rest = {k: v for k, v in entry.items() if k not in (ACCOUNT, REGION)}
    return account, region, rest


def _check_keys(where: str, entry: Mapping[str, Any], allowed: Sequence[str]) -> None:
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


def _account(where: str, raw: Any) -> str:
    if raw is None:
        raise SettingsError(f"{where}: missing {ACCOUNT!r} (a 12-digit AWS account ID)")
    if not (isinstance(raw, str) and _ACCOUNT.fullmatch(raw)):
        raise SettingsError(
            f"{where}: {ACCOUNT} {raw!r} is not a 12-digit AWS account ID (write it as a string, "
            'such as "012345678901": a number loses leading zeros)'
        )
    return raw


def _region(where: str, raw: Any) -> str:
    if raw is None:
        raise SettingsError(f"{where}: missing {REGION!r} (such as 'eu-west-1')")
    if not isinstance(raw, str):
        raise SettingsError(f"{where}: region must be a string such as 'eu-west-1', got {raw!r}")
    if raw not in KNOWN_REGIONS:
        close = sorted(difflib.get_close_matches(raw, KNOWN_REGIONS, n=3))
        hint = (
            f": did you mean {_one_of([repr(c) for c in close])}?"
            if close
            else " (not a region of aws_cdk.region_info)"
        )
        raise SettingsError(f"{where}: unknown region {raw!r}{hint}")
    return raw


def _settings(where: str, top: Mapping[str, Any], overrides: Mapping[str, Any]) -> Settings:
    """The entry's settings over the top-level ones, validated like them."""
    try:
        return Settings.from_context({**top, **overrides})
    except SettingsError as error:
        raise SettingsError(f"{where}: {error}") from None


def _window_keys(settings: Settings) -> Iterator[tuple[str, str]]:
    for window in settings.window_alarms:
        yield WINDOW_ALARMS, window
    for window in settings.expected_windows:
        yield EXPECTED_WINDOWS, window


def _check_unqualified_windows(where: str, settings: Settings) -> None:
    """Outside central mode a window is named by its ID alone: metrics have no Account."""
    for key, window in _window_keys(settings):
        account, _, window_id = split_window_key(window)
        if account is not None:
            raise SettingsError(
                f"{where + ': ' if where else ''}{key} key {window!r} names an account and "
                f"region, which only {CENTRAL} mode does: write the window ID alone ({window_id})"
            )


def _check_qualified_windows(where: str, central: Central) -> None:
    """In central mode a window is named by its member account and region too, as its metrics
    are (dimensions Account, Region, WindowId)."""
    environments = set(central.member_environments)
    for key, window in _window_keys(central.settings):
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


def _one_of(words: Sequence[str]) -> str:
    """'A', 'A or B', 'A, B or C'."""
    return " or ".join(filter(None, (", ".join(words[:-1]), words[-1])))


def _shorten(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else f"{text[:limit]}..."
