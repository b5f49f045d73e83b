"""The CDK side of maintenance-window-alerts: the construct, its stack and its settings."""

import sys
from pathlib import Path

# The stack reads the names it shares with the Lambda from the Lambda's own code root
# (lambda_src/mwalerts/names.py), for this app and for any other CDK app importing the construct.
_CODE_ROOT = str(Path(__file__).resolve().parent.parent / "lambda_src")
if _CODE_ROOT not in sys.path:
    sys.path.insert(0, _CODE_ROOT)

from aws_cdk import Stage, Validations
from cdk_nag import AwsSolutionsChecks, NIST80053R5Checks, ServerlessChecks

from stacks.alerts import MaintenanceWindowAlerts
from stacks.alerts_stack import MaintenanceWindowAlertsStack
from stacks.settings import Settings, SettingsError

__all__ = [
    "MaintenanceWindowAlerts",
    "MaintenanceWindowAlertsStack",
    "Settings",
    "SettingsError",
    "add_compliance_checks",
]


def add_compliance_checks(app: Stage) -> None:
    """Fail synth on every cdk-nag finding (AwsSolutions, Serverless, NIST 800-53 rev. 5) that
    is not acknowledged in code."""
    Validations.of(app).add_plugins(
        AwsSolutionsChecks(app, verbose=True),
        ServerlessChecks(app, verbose=True),
        NIST80053R5Checks(app, verbose=True),
    )
