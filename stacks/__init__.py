"""The CDK side of maintenance-window-alerts: the construct, its stacks, its settings and where
they deploy (one account and region, a list of them, or a central account and its members).

In a CDK app of your own, the construct goes into any stack:

    from maintenance_window_alerts import MaintenanceWindowAlerts, Settings, add_compliance_checks

    alerts = MaintenanceWindowAlerts(stack, "Alerts", settings=Settings(alert_emails=(...,)))
    add_compliance_checks(app)  # optional: cdk-nag's packs on every synth

and optionally `add_outputs(alerts)`: the stack outputs that `mwalerts redrive --stack NAME`
reads (MaintenanceWindowAlertsStack has them).
"""

from maintenance_window_alerts.alerts import MaintenanceWindowAlerts
from maintenance_window_alerts.alerts_stack import MaintenanceWindowAlertsStack, add_outputs
from maintenance_window_alerts.app_stacks import create_stacks
from maintenance_window_alerts.compliance import add_compliance_checks
from maintenance_window_alerts.layout import parse_layout
from maintenance_window_alerts.layout_model import (
    Central,
    Deployment,
    Layout,
    Member,
    Organization,
)
from maintenance_window_alerts.member_stack import MaintenanceWindowAlertsMemberStack
from maintenance_window_alerts.settings import Settings, SettingsError

__all__ = [
    "Central",
    "Deployment",
    "Layout",
    "MaintenanceWindowAlerts",
    "MaintenanceWindowAlertsMemberStack",
    "MaintenanceWindowAlertsStack",
    "Member",
    "Organization",
    "Settings",
    "SettingsError",
    "add_compliance_checks",
    "add_outputs",
    "create_stacks",
    "parse_layout",
]
