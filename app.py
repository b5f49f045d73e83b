#!/usr/bin/env python3
"""The CDK app (`cdk synth`, `cdk deploy`): synthesizes offline, with no AWS calls or lookups.

One stack for the CLI's account and region, one per entry of `deployments`, or a central stack
and its member stacks (`central`): see maintenance_window_alerts.create_stacks and its layout.
"""

import os
import sys

import aws_cdk as cdk

from maintenance_window_alerts import SettingsError, add_compliance_checks, create_stacks
from maintenance_window_alerts.app_stacks import describe_targets


def main() -> None:
    app = cdk.App()
    try:
        stacks = create_stacks(app)
    except SettingsError as error:
        sys.exit(f"Invalid setting in cdk.json, -c or configFile: {error}")
    # Where each stack deploys, said before anything is deployed (stderr: `cdk synth` prints a
    # template on stdout).
    for line in describe_targets(stacks, os.environ):
        print(line, file=sys.stderr)
    add_compliance_checks(app)
    app.synth()


if __name__ == "__main__":
    main()
