"""What `cdk synth` says about where each stack deploys (app.py prints describe_targets), and the
mark in the manifest that `make deploy` checks (mwalerts preflight --only target)."""

import aws_cdk as cdk
import pytest

from maintenance_window_alerts import create_stacks
from maintenance_window_alerts.app_stacks import describe_targets
from mwalerts import contract
from tests.infra.synthesis import CDK_JSON_CONTEXT

FALLBACK = (
    "MaintenanceWindowAlerts -> account unknown (no credentials), region us-east-1 (from the CDK "
    "CLI: its credentials' account, the profile's region or, when none is configured, its "
    "us-east-1 fallback: make deploy checks which)"
)


@pytest.mark.parametrize(
    ("environ", "line"),
    [
        ({"CDK_DEFAULT_REGION": "us-east-1"}, FALLBACK),
        (
            {
                "CDK_DEFAULT_ACCOUNT": "123456789012",
                "CDK_DEFAULT_REGION": "eu-west-1",
                "AWS_REGION": "eu-west-1",
            },
            "MaintenanceWindowAlerts -> account 123456789012, region eu-west-1 (from the CDK CLI: "
            "its credentials' account, the region of $AWS_REGION)",
        ),
        (
            {},
            "MaintenanceWindowAlerts -> environment-agnostic: no account/region found (the "
            "deploy's credentials and region decide)",
        ),
    ],
)
def test_synth_says_where_the_single_stack_deploys(monkeypatch, environ, line):
    for name in ("CDK_DEFAULT_ACCOUNT", "CDK_DEFAULT_REGION", "AWS_REGION", "AWS_DEFAULT_REGION"):
        monkeypatch.delenv(name, raising=False)
    for name, value in environ.items():
        monkeypatch.setenv(name, value)

    stacks = create_stacks(cdk.App(context=CDK_JSON_CONTEXT))

    assert describe_targets(stacks, environ) == [line]
    (stack,) = stacks
    marks = [e.data for e in stack.node.metadata if e.type == contract.TARGET_METADATA]
    assert marks == [contract.TARGET_FROM_CLI]


def test_a_layouts_stacks_say_their_environment_is_the_layouts():
    context = {
        **CDK_JSON_CONTEXT,
        "deployments": [{"account": "111111111111", "region": "eu-west-1"}],
    }

    stacks = create_stacks(cdk.App(context=context))

    assert describe_targets(stacks, {"AWS_REGION": "us-east-1"}) == [
        "MaintenanceWindowAlerts-111111111111-eu-west-1 -> account 111111111111, region "
        "eu-west-1 (from the layout)"
    ]
    marks = [e.data for e in stacks[0].node.metadata if e.type == contract.TARGET_METADATA]
    assert marks == [contract.TARGET_FROM_LAYOUT]
