#!/usr/bin/env python3
"""The CDK app (`cdk synth`, `cdk deploy`): synthesizes offline, with no AWS calls or lookups.

One stack for the CLI's account and region, one per entry of `deployments`, or a central stack
and its member stacks (`central`): see maintenance_window_alerts.create_stacks and its layout.
"""

import sys

import aws_cdk as cdk

from maintenance_window_alerts import SettingsError, add_compliance_checks, create_stacks


def main() -> None:
    app = cdk.App()
    try:
        create_stacks(app)
    except SettingsError as error:
        sys.exit(f"Invalid setting in cdk.json, -c or configFile: {error}")
    add_compliance_checks(app)
    app.synth()


if __name__ == "__main__":
    main()
