"""Where the app deploys: one stack per account and region, or a central account and its members.

Read from the CDK context (cdk.json or `-c`), or from the JSON file that `configFile` names, and
validated before anything is synthesized: a bad entry fails synth with a message that names it,
such as `deployments[2] (111111111111/eu-west-9): unknown region 'eu-west-9'`.

- No `deployments`, `central` or `organization`: one stack for the CLI's account and region, as
  ever.
- `deployments`: a list of {"account", "region", <settings>}: one stack each, its settings (any
  key of settings.KEYS) over the top-level ones.
- `central`: {"account", "region", "organizationId" or "externalId", "members": [{"account",
  "regions"}], "qualifier", <settings>}: the alerts stack in the central account and region, and
  a small member stack in every member account and region.
- `organization`: {"account", "region", "organizationId", "organizationalUnits", "regions",
  "callAs", "qualifier", "sweepConcurrency", <settings>}: the alerts stack in the central account
  and region, and a StackSet of the member resources for every account of the OUs, in the
  regions (parsed by layout_organization).

At most one of the three (cdk.json, -c or configFile).

What it reads into is in layout_model (Layout, Deployment, Central, Member, Organization); the
checks of one entry's values are in layout_entries.
"""

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from constructs import Construct

from maintenance_window_alerts import layout_entries as entries
from maintenance_window_alerts.layout_entries import (
    ACCOUNT,
    CENTRAL,
    CONFIG_FILE,
    DEPLOYMENTS,
    EXTERNAL_ID,
    LAYOUT_MISSPELLED_KEYS,
    LAYOUTS,
    MEMBERS,
    ORGANIZATION,
    ORGANIZATION_ID,
    QUALIFIER,
    REGION,
    REGIONS,
)
from maintenance_window_alerts.layout_model import (
    KNOWN_REGIONS,
    Central,
    Deployment,
    Layout,
    Member,
)
from maintenance_window_alerts.layout_organization import parse_organization
from maintenance_window_alerts.settings import (
    KEYS,
    MISSPELLED_KEYS,
    REPEAT_ALERTS,
    Settings,
    SettingsError,
)
from mwalerts import contract

# The partitions whose member role ARNs the central function builds (mwalerts.links.partition).
CENTRAL_PARTITIONS = ("aws", "aws-cn", "aws-us-gov")
# Lambda allows 4 KB of environment variables in all (names and values). The central function's
# other variables take about 1 KB once deployed (ARNs and names), which leaves this for the member
# map (MEMBER_ACCOUNTS), the external ID and repeatAlerts (REPEAT_ALERTS) together.
MAX_MEMBER_ENVIRONMENT_BYTES = 3000


def layout_from_scope(scope: Construct, *, base_dir: Path | None = None) -> Layout:
    """The layout in the context of `scope` (usually the App); configFile relative to base_dir
    (the current directory, where `cdk` runs the app: the directory of cdk.json)."""
    keys = (*KEYS, *MISSPELLED_KEYS, *LAYOUTS, CONFIG_FILE, *LAYOUT_MISSPELLED_KEYS)
    context = {key: scope.node.try_get_context(key) for key in keys}
    return parse_layout(context, base_dir=base_dir or Path.cwd())


def parse_layout(context: Mapping[str, Any], *, base_dir: Path) -> Layout:
    """Parse and validate raw context values (a missing key is None)."""
    for wrong, right in LAYOUT_MISSPELLED_KEYS.items():
        if context.get(wrong) is not None:
            raise SettingsError(f"unknown setting {wrong!r}: did you mean {right!r}?")
    top = {key: context[key] for key in (*KEYS, *MISSPELLED_KEYS) if context.get(key) is not None}
    settings = Settings.from_context(top)
    raw, origin = _sources(context, base_dir)
    if raw[ORGANIZATION] is not None:
        name = f"{origin[ORGANIZATION]}{ORGANIZATION}"
        return Layout(settings, organization=parse_organization(name, raw[ORGANIZATION], top))
    if raw[CENTRAL] is not None:
        return Layout(settings, central=_central(f"{origin[CENTRAL]}{CENTRAL}", raw[CENTRAL], top))
    if raw[DEPLOYMENTS] is not None:
        entries.check_unqualified_windows("", settings)
        deployments = _deployments(origin[DEPLOYMENTS], raw[DEPLOYMENTS], top)
        return Layout(settings, deployments=deployments)
    entries.check_unqualified_windows("", settings)
    return Layout(settings)


def _sources(context: Mapping[str, Any], base_dir: Path) -> tuple[dict[str, Any], dict[str, str]]:
    """The raw deployments, central and organization, from the context or configFile (at most
    one of them), and where each came from, for the messages: "" (cdk.json or -c) or
    "<configFile>: "."""
    raw = {key: _from_json(key, context.get(key)) for key in LAYOUTS}
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
    _check_exclusive(raw)
    return raw, origin


def _check_exclusive(raw: Mapping[str, Any]) -> None:
    given = [key for key in LAYOUTS if raw[key] is not None]
    if given == [DEPLOYMENTS, CENTRAL]:  # today's message, unchanged
        raise SettingsError(
            f"{DEPLOYMENTS} and {CENTRAL} are exclusive: list the accounts and regions that get "
            f"a stack of their own in {DEPLOYMENTS}, or a central account and its members in "
            f"{CENTRAL}, not both"
        )
    if len(given) > 1:
        raise SettingsError(
            f"{' and '.join(given)} are exclusive: set one layout ({DEPLOYMENTS}: a stack per "
            f"account and region; {CENTRAL}: a central account and its listed members; "
            f"{ORGANIZATION}: a central account and every account of the organizational units)"
        )


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
            f"{CONFIG_FILE} {path!r} must hold a JSON object with {DEPLOYMENTS}, {CENTRAL} or "
            f"{ORGANIZATION}"
        )
    entries.check_keys(f"{CONFIG_FILE} {path!r}", content, LAYOUTS)
    return path, content


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
        where = entries.entry_label(name, entry, ACCOUNT, REGION)
        account, region, overrides = entries.parse_environment(
            where, entry, (ACCOUNT, REGION, *KEYS)
        )
        if (account, region) in seen:
            raise SettingsError(
                f"{where}: duplicate of {prefix}{DEPLOYMENTS}[{seen[account, region]}]: "
                "one stack per account and region"
            )
        seen[account, region] = index
        settings = entries.entry_settings(where, top, overrides)
        entries.check_unqualified_windows(where, settings)
        deployments.append(Deployment(account, region, settings))
    return tuple(deployments)


def _central(name: str, raw: Any, top: Mapping[str, Any]) -> Central:
    if not isinstance(raw, dict):
        raise SettingsError(
            f'{name} must be an object {{"{ACCOUNT}", "{REGION}", "{MEMBERS}", ...}}, got {raw!r}'
        )
    where = entries.entry_label(name, raw, ACCOUNT, REGION)
    allowed = (ACCOUNT, REGION, MEMBERS, ORGANIZATION_ID, EXTERNAL_ID, QUALIFIER, *KEYS)
    account, region, rest = entries.parse_environment(where, raw, allowed)
    if KNOWN_REGIONS[region] not in CENTRAL_PARTITIONS:
        raise SettingsError(
            f"{where}: region {region!r} is in partition {KNOWN_REGIONS[region]}; central mode "
            f"works in {', '.join(CENTRAL_PARTITIONS)}"
        )
    organization_id = entries.parse_organization_id(where, rest.pop(ORGANIZATION_ID, None))
    external_id = entries.parse_external_id(where, rest.pop(EXTERNAL_ID, None), organization_id)
    qualifier = entries.parse_qualifier(where, rest.pop(QUALIFIER, None))
    members = _members(name, where, rest.pop(MEMBERS, None), KNOWN_REGIONS[region])
    central = Central(
        account=account,
        region=region,
        settings=entries.entry_settings(where, top, rest),
        members=members,
        organization_id=organization_id,
        external_id=external_id,
        qualifier=qualifier,
    )
    entries.check_qualified_windows(where, central)
    _check_environment_size(where, central)
    return central


def _check_environment_size(where: str, central: Central) -> None:
    """The member map, the external ID and repeatAlerts (if set) fit in what Lambda's 4 KB of
    environment variables leave after the central function's others."""
    parts = {
        MEMBERS: (contract.ENV_MEMBER_ACCOUNTS, central.member_accounts_json),
        EXTERNAL_ID: (contract.ENV_MEMBER_EXTERNAL_ID, central.external_id or ""),
    }
    if central.settings.repeat_alerts:
        parts[REPEAT_ALERTS] = (contract.ENV_REPEAT_ALERTS, central.settings.repeat_alerts_json)
    size = sum(len(value.encode()) for _, value in parts.values())
    if size > MAX_MEMBER_ENVIRONMENT_BYTES:
        *first, last = parts
        also = f" or name fewer windows in {REPEAT_ALERTS}" if REPEAT_ALERTS in parts else ""
        raise SettingsError(
            f"{where}: {', '.join(first)} and {last} take {size:,} bytes of the central "
            f"function's environment ({', '.join(variable for variable, _ in parts.values())}), "
            f"more than the {MAX_MEMBER_ENVIRONMENT_BYTES:,} that Lambda's 4 KB of environment "
            f"variables leave them: list fewer member accounts or regions for this central "
            f"account{also}"
        )


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
        member_where = entries.entry_label(member_name, entry, ACCOUNT)
        if not isinstance(entry, dict):
            raise SettingsError(
                f'{member_where}: must be an object {{"{ACCOUNT}": "...", "{REGIONS}": '
                f'["..."]}}, got {entry!r}'
            )
        entries.check_keys(member_where, entry, (ACCOUNT, REGIONS))
        account = entries.parse_account(member_where, entry.get(ACCOUNT))
        if account in seen:
            raise SettingsError(
                f"{member_where}: account listed twice (also {name}.{MEMBERS}[{seen[account]}]): "
                f"list all its regions in one entry"
            )
        seen[account] = index
        regions = entries.parse_member_regions(member_where, entry.get(REGIONS), partition)
        members.append(Member(account, regions))
    return tuple(members)
