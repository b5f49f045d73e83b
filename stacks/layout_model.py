"""What the app deploys, where: the layout read from the context (maintenance_window_alerts.layout).

- No `deployments` and no `central`: one stack for the CLI's account and region.
- `deployments`: one alerts stack per account and region (Deployment).
- `central`: the alerts stack in one account and region (Central), fed by a small member stack in
  every member account and region (Member).
- `organization`: the alerts stack in one account and region (Organization), fed by every account
  of the covered organizational units through a StackSet of the member resources.
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


class CentralAccount:
    """What central and organization mode share: the alerts stack in one account and region,
    whose fixed names (its function's role, its bus, the members' roles) carry `qualifier`.

    A mixin of the two frozen dataclasses below, which give it these fields."""

    account: str
    region: str
    settings: Settings
    organization_id: str | None
    external_id: str | None
    qualifier: str

    @property
    def stack_id(self) -> str:
        return contract.central_stack_name(self.account, self.region, self.qualifier)

    @property
    def partition(self) -> str:
        return KNOWN_REGIONS[self.region]

    def member_role_arn(self, account: str, region: str) -> str:
        """The read-only role of a member stack, which the central function assumes."""
        role = contract.member_role_name(region, self.qualifier)
        return f"arn:{self.partition}:iam::{account}:role/{role}"

    @property
    def function_role_arn(self) -> str:
        """The central function's role (a fixed name), the only principal member roles trust."""
        role = contract.central_function_role_name(self.region, self.qualifier)
        return f"arn:{self.partition}:iam::{self.account}:role/{role}"

    @property
    def event_bus_name(self) -> str:
        return contract.central_bus_name(self.qualifier)

    @property
    def event_bus_arn(self) -> str:
        """The central event bus (a fixed name), which member stacks forward events to."""
        return (
            f"arn:{self.partition}:events:{self.region}:{self.account}"
            f":event-bus/{self.event_bus_name}"
        )

    def account_root_arn(self, account: str) -> str:
        return f"arn:{self.partition}:iam::{account}:root"


@dataclass(frozen=True)
class Central(CentralAccount):
    """Central mode: the alerts stack in one account and region, fed by its listed members."""

    account: str
    region: str
    settings: Settings
    members: tuple[Member, ...]
    organization_id: str | None = None
    external_id: str | None = None
    qualifier: str = ""

    def member_stack_id(self, account: str, region: str) -> str:
        return contract.member_stack_name(account, region, self.qualifier)

    @property
    def member_environments(self) -> Iterator[tuple[str, str]]:
        """(account, region) of every member stack."""
        for member in self.members:
            for region in member.regions:
                yield member.account, region

    @property
    def member_regions(self) -> tuple[str, ...]:
        """Every region of a member, each once, in the order first listed."""
        return tuple(dict.fromkeys(region for _, region in self.member_environments))

    @property
    def member_accounts(self) -> dict[str, list[str]]:
        """Member account -> its regions, as the function reads it (ENV_MEMBER_ACCOUNTS)."""
        return {member.account: list(member.regions) for member in self.members}

    @property
    def member_accounts_json(self) -> str:
        return json.dumps(self.member_accounts, separators=(",", ":"))

    @property
    def member_role_arns(self) -> list[str]:
        return [self.member_role_arn(a, r) for a, r in self.member_environments]


@dataclass(frozen=True)
class Organization(CentralAccount):
    """Organization mode: the alerts stack in one account and region, fed by every account of
    the covered organizational units in the covered regions. The member resources are a
    service-managed StackSet with automatic deployment, administered from the central account
    (the management account, `callAs` SELF, or a StackSets delegated administrator,
    DELEGATED_ADMIN): no list of members anywhere."""

    account: str
    region: str
    settings: Settings
    organization_id: str
    organizational_units: tuple[str, ...]
    regions: tuple[str, ...]
    call_as: str = contract.CALL_AS_SELF
    qualifier: str = ""
    # The sweep queue's event source mapping: how many workers at once (MaximumConcurrency).
    sweep_concurrency: int = contract.DEFAULT_SWEEP_CONCURRENCY
    # No external ID: the member roles trust the central role within the organization.
    external_id: None = None

    @property
    def stack_set_name(self) -> str:
        return contract.stack_set_name(self.qualifier)

    @property
    def member_regions(self) -> tuple[str, ...]:
        return self.regions


@dataclass(frozen=True)
class Layout:
    """What the app deploys. Neither deployments nor central: one stack for the CLI's account
    and region, with the top-level settings."""

    settings: Settings
    deployments: tuple[Deployment, ...] = ()
    central: Central | None = None
    organization: Organization | None = None
