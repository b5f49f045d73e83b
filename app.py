#!/usr/bin/env python3
"""The CDK app (`cdk synth`, `cdk deploy`): synthesizes offline, with no AWS calls or lookups."""

import os
import sys

import aws_cdk as cdk

from stacks import (
    MaintenanceWindowAlertsStack,
    Settings,
    SettingsError,
    add_compliance_checks,
)
from stacks.constants import STACK_ID


def main() -> None:
    app = cdk.App()
    # The CLI sets these when it finds credentials; without them the stack is environment-agnostic.
    env = cdk.Environment(
        account=os.environ.get("CDK_DEFAULT_ACCOUNT"), region=os.environ.get("CDK_DEFAULT_REGION")
    )
    try:
        settings = Settings.from_scope(app)
    except SettingsError as error:
        sys.exit(f"Invalid setting in cdk.json or -c: {error}")
    MaintenanceWindowAlertsStack(app, STACK_ID, settings=settings, env=env)
    add_compliance_checks(app)
    app.synth()


if __name__ == "__main__":
    main()
