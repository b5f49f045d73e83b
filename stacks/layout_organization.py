"""The `organization` entry of the layout (maintenance_window_alerts.layout): the alerts stack in
one account and region, fed by every account of the covered organizational units, in the
covered regions, through a StackSet of the member resources.

    {"account", "region", "organizationId", "organizationalUnits": ["ou-..." or "r-..."],
     "regions": [...], "callAs": "SELF" | "DELEGATED_ADMIN", "qualifier", "sweepConcurrency",
     <settings>}

Each check raises SettingsError with a message that names the entry and the key, such as
`organization (111111111111/eu-west-1): callAs 'ADMIN' must be one of 'SELF', 'DELEGATED_ADMIN'`.
"""

import re
from collections.abc import Mapping
from typing import Any

from maintenance_window_alerts import layout_entries as entries
from maintenance_window_alerts.layout_entries import (
    ACCOUNT,
    CALL_AS,
    ORGANIZATION_ID,
    ORGANIZATIONAL_UNITS,
    QUALIFIER,
    REGION,
    REGIONS,
    SWEEP_CONCURRENCY,
)
from maintenance_window_alerts.layout_model import KNOWN_REGIONS, Organization
from maintenance_window_alerts.settings import KEYS, SettingsError, split_window_key
from mwalerts import contract

# StackSets' trusted access with AWS Organizations cannot be enabled in the China regions (AWS
# CloudFormation User Guide, "Prerequisites for using StackSets"): aws and aws-us-gov only.
ORGANIZATION_PARTITIONS = ("aws", "aws-us-gov")
# AWS Organizations' ID patterns of an organizational unit and of a root (a root covers the
# whole organization).
_ORGANIZATIONAL_UNIT = re.compile(r"ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}|r-[0-9a-z]{4,32}")
# The most OUs one StackSet operation takes (AWS CloudFormation API Reference,
# CreateStackInstances: "The maximum number of organizational unit (OUs) supported by a
# CreateStackInstances operation is 50"); a parent OU (or the root) covers more.
MAX_ORGANIZATIONAL_UNITS = 50
ALLOWED_KEYS = (
    ACCOUNT,
    REGION,
    ORGANIZATION_ID,
    ORGANIZATIONAL_UNITS,
    REGIONS,
    CALL_AS,
    QUALIFIER,
    SWEEP_CONCURRENCY,
    *KEYS,
)


def parse_organization(name: str, raw: Any, top: Mapping[str, Any]) -> Organization:
    """The organization entry `raw` (named `name` in messages), its settings over `top`."""
    if not isinstance(raw, dict):
        raise SettingsError(
            f'{name} must be an object {{"{ACCOUNT}", "{REGION}", "{ORGANIZATION_ID}", '
            f'"{ORGANIZATIONAL_UNITS}", "{REGIONS}", ...}}, got {raw!r}'
        )
    where = entries.entry_label(name, raw, ACCOUNT, REGION)
    account, region, rest = entries.parse_environment(where, raw, ALLOWED_KEYS)
    partition = KNOWN_REGIONS[region]
    if partition not in ORGANIZATION_PARTITIONS:
        raise SettingsError(
            f"{where}: region {region!r} is in partition {partition}; organization mode works "
            f"in {', '.join(ORGANIZATION_PARTITIONS)} (StackSets' trusted access with AWS "
            "Organizations is not available in the China regions)"
        )
    organization_id = entries.parse_organization_id(where, rest.pop(ORGANIZATION_ID, None))
    if organization_id is None:
        raise SettingsError(f"{where}: missing {ORGANIZATION_ID!r} (such as 'o-a1b2c3d4e5')")
    organization = Organization(
        account=account,
        region=region,
        organization_id=organization_id,
        organizational_units=parse_organizational_units(
            where, rest.pop(ORGANIZATIONAL_UNITS, None)
        ),
        # The same checks as a central member's regions: known, each once, this partition.
        regions=entries.parse_member_regions(where, rest.pop(REGIONS, None), partition),
        call_as=parse_call_as(where, rest.pop(CALL_AS, None)),
        qualifier=entries.parse_qualifier(where, rest.pop(QUALIFIER, None)),
        sweep_concurrency=parse_sweep_concurrency(where, rest.pop(SWEEP_CONCURRENCY, None)),
        settings=entries.entry_settings(where, top, rest),
    )
    check_organization_windows(where, organization)
    return organization


def parse_organizational_units(where: str, raw: Any) -> tuple[str, ...]:
    """The OUs (or roots) whose accounts the StackSet deploys to: each once."""
    if not isinstance(raw, list) or not raw:
        raise SettingsError(
            f"{where}: {ORGANIZATIONAL_UNITS} must be a non-empty list of organizational unit "
            f'IDs (or a root ID), such as ["ou-ab12-c3d4e5f6"], got {raw!r}'
        )
    if len(raw) > MAX_ORGANIZATIONAL_UNITS:
        raise SettingsError(
            f"{where}: {ORGANIZATIONAL_UNITS} lists {len(raw)} organizational units; a StackSet "
            f"operation takes at most {MAX_ORGANIZATIONAL_UNITS}: list a parent OU (or the root) "
            "instead of its children"
        )
    for unit in raw:
        if not (isinstance(unit, str) and _ORGANIZATIONAL_UNIT.fullmatch(unit)):
            raise SettingsError(
                f"{where}: {ORGANIZATIONAL_UNITS} entry {unit!r} is not an organizational unit ID "
                "(ou-, 4 to 32 lowercase letters or digits, -, 8 to 32 more, such as "
                "'ou-ab12-c3d4e5f6') or a root ID (r-, 4 to 32, such as 'r-ab12')"
            )
        if raw.count(unit) > 1:
            raise SettingsError(f"{where}: {ORGANIZATIONAL_UNITS} lists {unit!r} twice")
    return tuple(raw)


def parse_call_as(where: str, raw: Any) -> str:
    """How the StackSet is administered: from the management account or a delegated admin."""
    if raw is None:
        return contract.CALL_AS_SELF
    if raw not in contract.CALL_AS_VALUES:
        raise SettingsError(
            f"{where}: {CALL_AS} {raw!r} must be one of "
            f"{', '.join(repr(v) for v in contract.CALL_AS_VALUES)}: "
            f"{contract.CALL_AS_SELF!r} when {ACCOUNT} is the organization's management account, "
            f"{contract.CALL_AS_DELEGATED_ADMIN!r} when it is a registered StackSets delegated "
            "administrator"
        )
    return str(raw)


def parse_sweep_concurrency(where: str, raw: Any) -> int:
    """The sweep queue's MaximumConcurrency (a number, or its digits as `-c` passes them)."""
    if raw is None:
        return contract.DEFAULT_SWEEP_CONCURRENCY
    value = int(raw) if isinstance(raw, str) and raw.isdigit() else raw
    bounds = contract.SWEEP_CONCURRENCY_RANGE
    if isinstance(value, bool) or not isinstance(value, int) or value not in bounds:
        raise SettingsError(
            f"{where}: {SWEEP_CONCURRENCY} must be a whole number from {bounds[0]} to "
            f"{bounds[-1]} (the sweep workers Lambda runs at once; Lambda's range for an SQS "
            f"event source's maximum concurrency), got {raw!r}"
        )
    return value


def check_organization_windows(where: str, organization: Organization) -> None:
    """A window is named by its account and region too, as its metrics are: any account of the
    organization, a covered region."""
    for key, window in entries.window_keys(organization.settings):
        account, region, window_id = split_window_key(window)
        if account is None or region is None:
            example = f"111111111111/{organization.regions[0]}/{window_id}"
            raise SettingsError(
                f"{where}: {key} key {window!r} must name the account and region of the window "
                f"in organization mode: '<account>/<region>/<window ID>', such as {example!r}"
            )
        if region not in organization.regions:
            raise SettingsError(
                f"{where}: {key} key {window!r}: {region} is not a covered region "
                f"({REGIONS}: {', '.join(organization.regions)})"
            )
