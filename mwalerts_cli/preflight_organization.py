"""The checks `mwalerts preflight` adds for organization mode's central stack (the stack whose
manifest metadata holds contract.ORGANIZATION_METADATA), with the central account's credentials:

  trusted access  StackSets' trusted access is enabled in the organization (without it, no
                  service-managed StackSet can be created)
  organization    the account is in the layout's organization, and is what callAs says: the
                  management account (SELF) or a registered StackSets delegated administrator

CloudFormation User Guide: "Activate trusted access for StackSets with AWS Organizations" and
"Register a delegated administrator member account"."""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from mwalerts import contract
from mwalerts.errors import error_code
from mwalerts_cli.assembly import StackArtifact
from mwalerts_cli.preflight_checks import (
    AWS_ERRORS,
    FAIL,
    NO_CREDENTIALS,
    PASS,
    SKIP,
    WARN,
    Context,
    Finding,
    aws_failure,
    finding,
)

TRUSTED_ACCESS = "trusted access"
ORGANIZATION = "organization"
STACKSETS = contract.STACKSETS_SERVICE_PRINCIPAL
# The CloudFormation console's button and its API (ActivateOrganizationsAccess): the guide's way.
# (Organizations' enable-aws-service-access with STACKSETS also sets the flag, but AWS advises
# enabling trusted access through the service's own tools, which also create their roles.)
TRUSTED_ACCESS_FIX = (
    "in the management account: CloudFormation console > StackSets > Activate trusted access, "
    "or `aws cloudformation activate-organizations-access`"
)
# Only the management account and delegated administrators may list the organization's
# trusted services and delegated administrators: others get AccessDeniedException.
LIST_FIX = (
    "only the management account or a delegated administrator may call it: check callAs "
    "(and the registration), or grant the permission to the deploying credentials"
)
MANAGEMENT_FIX = (
    "deploy from the management account, or set callAs DELEGATED_ADMIN and register this account"
)
# AWS Organizations nests OUs at most five levels under the root.
MAX_OU_DEPTH = 5


@dataclass(frozen=True)
class OrganizationLayout:
    """What the central stack's metadata says of the organization, and the central account."""

    organization_id: str
    call_as: str
    organizational_units: frozenset[str]
    account: str

    @classmethod
    def of(cls, metadata: Mapping[str, Any], account: str) -> "OrganizationLayout":
        return cls(
            organization_id=str(metadata.get("organizationId", "")),
            call_as=str(metadata.get("callAs") or contract.CALL_AS_SELF),
            organizational_units=frozenset(map(str, metadata.get("organizationalUnits") or [])),
            account=account,
        )


def register_command(account: str) -> str:
    return (
        "in the management account: `aws organizations register-delegated-administrator "
        f"--account-id {account} --service-principal {STACKSETS}`"
    )


def check_organization(stack: StackArtifact, context: Context, region: str) -> list[Finding]:
    if stack.organization is None:
        return []  # not organization mode's central stack
    account = stack.account or context.deployer
    if context.clients is None or account is None:
        return [
            finding(stack, name, SKIP, NO_CREDENTIALS) for name in (TRUSTED_ACCESS, ORGANIZATION)
        ]
    layout = OrganizationLayout.of(stack.organization, account)
    organizations = context.clients.client("organizations")
    return [
        _trusted_access(stack, organizations, region),
        _organization(stack, organizations, layout, region),
    ]


def _trusted_access(stack: StackArtifact, organizations: Any, region: str) -> Finding:
    try:
        pages = organizations.get_paginator("list_aws_service_access_for_organization").paginate()
        enabled = {
            s["ServicePrincipal"] for page in pages for s in page["EnabledServicePrincipals"]
        }
    except AWS_ERRORS as error:
        permission = "organizations:ListAWSServiceAccessForOrganization"
        fixing = (region, None, f"{permission}: {LIST_FIX}")
        return aws_failure(
            stack, TRUSTED_ACCESS, error, "ListAWSServiceAccessForOrganization", fixing
        )
    if STACKSETS not in enabled:
        found = f"not enabled for StackSets ({STACKSETS}): no service-managed StackSet can deploy"
        return finding(stack, TRUSTED_ACCESS, FAIL, found, TRUSTED_ACCESS_FIX)
    return finding(stack, TRUSTED_ACCESS, PASS, f"enabled for StackSets ({STACKSETS})")


def _organization(
    stack: StackArtifact, organizations: Any, layout: OrganizationLayout, region: str
) -> Finding:
    try:
        organization = organizations.describe_organization()["Organization"]
    except AWS_ERRORS as error:
        if (
            isinstance(error, ClientError)
            and error_code(error) == "AWSOrganizationsNotInUseException"
        ):
            found = f"account {layout.account} is in no organization"
            fix = f"deploy from an account of {layout.organization_id}"
            return finding(stack, ORGANIZATION, FAIL, found, fix)
        fixing = (region, "organizations:DescribeOrganization", "")
        return aws_failure(stack, ORGANIZATION, error, "DescribeOrganization", fixing)
    if organization["Id"] != layout.organization_id:
        found = (
            f"account {layout.account} is in {organization['Id']}, the layout's organizationId "
            f"is {layout.organization_id}"
        )
        fix = (
            f"set organizationId to {organization['Id']}, or deploy from an account of "
            f"{layout.organization_id}"
        )
        return finding(stack, ORGANIZATION, FAIL, found, fix)
    management = str(organization["MasterAccountId"])
    if layout.call_as == contract.CALL_AS_DELEGATED_ADMIN:
        return _delegated_admin(stack, organizations, layout, management, region)
    return _management(stack, organizations, layout, management, region)


def _management(
    stack: StackArtifact,
    organizations: Any,
    layout: OrganizationLayout,
    management: str,
    region: str,
) -> Finding:
    """callAs SELF: the account must be the management account, which StackSets never deploys
    to: a warning when the layout's OUs cover it, as its windows then go unwatched."""
    where = f"{layout.organization_id}, callAs {layout.call_as}"
    if management != layout.account:
        found = f"{where}: {layout.account} is not the management account ({management})"
        return finding(stack, ORGANIZATION, FAIL, found, MANAGEMENT_FIX)
    try:
        covered = _covered(organizations, management, layout.organizational_units)
    except AWS_ERRORS as error:
        fixing = (region, "organizations:ListParents", "")
        return aws_failure(stack, ORGANIZATION, error, "ListParents", fixing)
    if covered:
        found = (
            f"{where}: the management account {management} is under a covered OU, but StackSets "
            "never deploys to the management account: its maintenance windows are not watched"
        )
        fix = "watch its windows with a single stack or a `deployments` entry of its own"
        return finding(stack, ORGANIZATION, WARN, found, fix)
    return finding(stack, ORGANIZATION, PASS, f"{where}: {management} is the management account")


def _covered(organizations: Any, account: str, covered: frozenset[str]) -> bool:
    """Whether the account sits under one of the covered OUs or roots (one call per level)."""
    child = account
    for _ in range(MAX_OU_DEPTH + 1):
        parents = organizations.list_parents(ChildId=child)["Parents"]
        if not parents:
            return False
        parent = parents[0]
        if parent["Id"] in covered:
            return True
        if parent["Type"] == "ROOT":
            return False
        child = parent["Id"]
    return False


def _delegated_admin(
    stack: StackArtifact,
    organizations: Any,
    layout: OrganizationLayout,
    management: str,
    region: str,
) -> Finding:
    where = f"{layout.organization_id}, callAs {layout.call_as}"
    if management == layout.account:
        found = (
            f"{where}: {layout.account} is the management account, not a delegated administrator"
        )
        return finding(stack, ORGANIZATION, FAIL, found, "set callAs SELF")
    try:
        admins = _delegated_administrators(organizations)
    except AWS_ERRORS as error:
        # Denied: the account is no delegated administrator at all, or lacks the permission.
        permission = "organizations:ListDelegatedAdministrators"
        fixing = (region, None, f"{register_command(layout.account)}; and grant {permission}")
        return aws_failure(stack, ORGANIZATION, error, "ListDelegatedAdministrators", fixing)
    if layout.account not in admins:
        found = f"{where}: {layout.account} is not a delegated administrator for StackSets"
        return finding(stack, ORGANIZATION, FAIL, found, register_command(layout.account))
    found = f"{where}: {layout.account} is a delegated administrator for StackSets"
    return finding(stack, ORGANIZATION, PASS, found)


def _delegated_administrators(organizations: Any) -> set[str]:
    pages = organizations.get_paginator("list_delegated_administrators").paginate(
        ServicePrincipal=STACKSETS
    )
    return {admin["Id"] for page in pages for admin in page["DelegatedAdministrators"]}
