#!/usr/bin/env python3
"""A team's own CDK app: its stack holds its patching window and, beside it, the alerts on it.

The alerts come from the installed distribution (`pip install "maintenance-window-alerts[cdk]"`),
added as one construct to a stack of the team's.
"""

from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_ssm as ssm
from constructs import Construct

from maintenance_window_alerts import MaintenanceWindowAlerts, Settings, add_compliance_checks


class PatchingStack(cdk.Stack):
    """The team's stack: a weekly maintenance window, and alerts on every run that fails."""

    def __init__(self, scope: Construct, construct_id: str, **kwargs: Any) -> None:
        super().__init__(scope, construct_id, **kwargs)
        ssm.CfnMaintenanceWindow(
            self,
            "WeeklyPatching",
            name="weekly-patching",
            schedule="cron(0 3 ? * SUN *)",
            duration=3,
            cutoff=1,
            allow_unassociated_targets=False,
        )
        MaintenanceWindowAlerts(
            self, "Alerts", settings=Settings(alert_emails=("ops@example.com",))
        )


app = cdk.App()
PatchingStack(app, "Patching")
# Synth fails on any cdk-nag finding that is not acknowledged in code.
add_compliance_checks(app)
app.synth()
