"""The app's stacks, as the layout (cdk.json, -c, configFile) places them."""

import os
from collections.abc import Mapping

from aws_cdk import Environment, Stack, Stage, Token

from maintenance_window_alerts.alerts_stack import MaintenanceWindowAlertsStack
from maintenance_window_alerts.layout import layout_from_scope
from maintenance_window_alerts.layout_model import Central, Layout, Organization
from maintenance_window_alerts.member_stack import MaintenanceWindowAlertsMemberStack
from mwalerts import contract


def create_stacks(app: Stage, layout: Layout | None = None) -> list[Stack]:
    """The app's stacks, as its context (cdk.json, -c, configFile) lays them out.

    No deployments and no central: one stack, `MaintenanceWindowAlerts`, in the account and
    region the CLI found credentials for (environment-agnostic without). `deployments`: one
    `MaintenanceWindowAlerts-<account>-<region>` each. `central`: the central stack
    `MaintenanceWindowAlerts-Central-<account>-<region>`, and a member stack
    `MaintenanceWindowAlerts-Member-<account>-<region>` per member account and region, each
    deployed after the central one (`cdk deploy --all`); with a qualifier, both names carry it
    (`MaintenanceWindowAlerts-Central-<qualifier>-<account>-<region>`). `organization`: the
    central stack alone, which holds the StackSet of the member resources.
    """
    layout = layout or layout_from_scope(app)
    if layout.organization is not None:
        return _marked([_organization_stack(app, layout.organization)], contract.TARGET_FROM_LAYOUT)
    if layout.central is not None:
        return _marked(_central_stacks(app, layout.central), contract.TARGET_FROM_LAYOUT)
    if layout.deployments:
        stacks: list[Stack] = [
            MaintenanceWindowAlertsStack(
                app,
                deployment.stack_id,
                settings=deployment.settings,
                env=Environment(account=deployment.account, region=deployment.region),
            )
            for deployment in layout.deployments
        ]
        return _marked(stacks, contract.TARGET_FROM_LAYOUT)
    # The CLI sets these when it finds credentials; without them the stack is environment-agnostic.
    env = Environment(
        account=os.environ.get("CDK_DEFAULT_ACCOUNT"), region=os.environ.get("CDK_DEFAULT_REGION")
    )
    stack = MaintenanceWindowAlertsStack(
        app, contract.STACK_NAME, settings=layout.settings, env=env
    )
    return _marked([stack], contract.TARGET_FROM_CLI)


def _marked(stacks: list[Stack], source: str) -> list[Stack]:
    """The stacks, each with metadata saying where its environment came from (the manifest's,
    not the template's): `make deploy` checks the CDK CLI's choice against the deploy's."""
    for stack in stacks:
        stack.node.add_metadata(contract.TARGET_METADATA, source)
    return stacks


# Where the CDK CLI takes its region from (before the profile's, then its us-east-1 fallback).
REGION_VARIABLES = ("AWS_REGION", "AMAZON_REGION", "AWS_DEFAULT_REGION", "AMAZON_DEFAULT_REGION")


def describe_targets(stacks: list[Stack], environ: Mapping[str, str]) -> list[str]:
    """One line per stack: the account and region it deploys to, and where they come from.

    `environ`: the app's environment, where the CDK CLI put CDK_DEFAULT_ACCOUNT/REGION.
    """
    return [f"{stack.node.id} -> {_target(stack, environ)}" for stack in stacks]


def _target(stack: Stack, environ: Mapping[str, str]) -> str:
    account = None if Token.is_unresolved(stack.account) else stack.account
    region = None if Token.is_unresolved(stack.region) else stack.region
    if account is None and region is None:
        return (
            "environment-agnostic: no account/region found (the deploy's credentials and "
            "region decide)"
        )
    where = f"account {account or 'unknown (no credentials)'}, region {region or 'unknown'}"
    sources = [e.data for e in stack.node.metadata if e.type == contract.TARGET_METADATA]
    if sources != [contract.TARGET_FROM_CLI]:
        return f"{where} (from the layout)"
    variable = next((name for name in REGION_VARIABLES if environ.get(name)), None)
    if variable:
        return f"{where} (from the CDK CLI: its credentials' account, the region of ${variable})"
    return (
        f"{where} (from the CDK CLI: its credentials' account, the profile's region or, when "
        "none is configured, its us-east-1 fallback: make deploy checks which)"
    )


def _organization_stack(app: Stage, organization: Organization) -> Stack:
    """The central stack of organization mode, with what `mwalerts preflight` checks before a
    deploy in the manifest's metadata (not the template's)."""
    stack = _central_stack(app, organization)
    stack.node.add_metadata(
        contract.ORGANIZATION_METADATA,
        {
            "organizationId": organization.organization_id,
            "callAs": organization.call_as,
            "stackSetName": organization.stack_set_name,
            "organizationalUnits": list(organization.organizational_units),
            "regions": list(organization.regions),
        },
    )
    return stack


def _central_stacks(app: Stage, central: Central) -> list[Stack]:
    """The central stack first, then a member stack per member account and region."""
    central_stack = _central_stack(app, central)
    stacks: list[Stack] = [central_stack]
    for account, region in central.member_environments:
        member = MaintenanceWindowAlertsMemberStack(
            app,
            central.member_stack_id(account, region),
            central=central,
            env=Environment(account=account, region=region),
        )
        # Only the order of `cdk deploy --all`: the stacks share no reference.
        member.add_stack_dependency(
            central_stack, "forwards to the central bus, trusts the central role"
        )
        stacks.append(member)
    return stacks


def _central_stack(app: Stage, central: Central | Organization) -> MaintenanceWindowAlertsStack:
    """The alerts stack of central or organization mode, in the central account and region."""
    return MaintenanceWindowAlertsStack(
        app,
        central.stack_id,
        settings=central.settings,
        central=central,
        env=Environment(account=central.account, region=central.region),
    )
