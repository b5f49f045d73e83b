"""The app's stacks, as the layout (cdk.json, -c, configFile) places them."""

import os

from aws_cdk import Environment, Stack, Stage

from maintenance_window_alerts.alerts_stack import MaintenanceWindowAlertsStack
from maintenance_window_alerts.layout import layout_from_scope
from maintenance_window_alerts.layout_model import Central, Layout
from maintenance_window_alerts.member_stack import MaintenanceWindowAlertsMemberStack
from mwalerts import contract


def create_stacks(app: Stage, layout: Layout | None = None) -> list[Stack]:
    """The app's stacks, as its context (cdk.json, -c, configFile) lays them out.

    No deployments and no central: one stack, `MaintenanceWindowAlerts`, in the account and
    region the CLI found credentials for (environment-agnostic without). `deployments`: one
    `MaintenanceWindowAlerts-<account>-<region>` each. `central`: the central stack
    `MaintenanceWindowAlerts-Central-<account>-<region>`, and a member stack
    `MaintenanceWindowAlerts-Member-<account>-<region>` per member account and region, each
    deployed after the central one (`cdk deploy --all`).
    """
    layout = layout or layout_from_scope(app)
    if layout.central is not None:
        return _central_stacks(app, layout.central)
    if layout.deployments:
        return [
            MaintenanceWindowAlertsStack(
                app,
                deployment.stack_id,
                settings=deployment.settings,
                env=Environment(account=deployment.account, region=deployment.region),
            )
            for deployment in layout.deployments
        ]
    # The CLI sets these when it finds credentials; without them the stack is environment-agnostic.
    env = Environment(
        account=os.environ.get("CDK_DEFAULT_ACCOUNT"), region=os.environ.get("CDK_DEFAULT_REGION")
    )
    return [
        MaintenanceWindowAlertsStack(app, contract.STACK_NAME, settings=layout.settings, env=env)
    ]


def _central_stacks(app: Stage, central: Central) -> list[Stack]:
    """The central stack first, then a member stack per member account and region."""
    central_stack = MaintenanceWindowAlertsStack(
        app,
        central.stack_id,
        settings=central.settings,
        central=central,
        env=Environment(account=central.account, region=central.region),
    )
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
