"""What the app deploys, where: the layout read from the context (maintenance_window_alerts.layout).

- No `deployments` and no `central`: one stack for the CLI's account and region.
- `deployments`: one alerts stack per account and region (Deployment).
- `central`: the alerts stack in one account and region (Central), fed by a small member stack in
  every member account and region (Member).
"""

import json
from collections.abc import Iterator
from dataclasses import dataclass

from aws_cdk.region_info import RegionInfo

from maintenance_window_alerts.settings import Settings
from mwalerts import contract

# The regions this CDK version knows, offline: name -> partition.
KNOWN_REGIONS: dict[str, str] = {r.name: r.partition for r in RegionInfo.regions if r.partition}


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
