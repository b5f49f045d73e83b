"""Organization mode's member resources: a service-managed StackSet in the central account,
deployed automatically to every account of the covered organizational units, in the covered
regions.

An L1 `CfnStackSet` whose TemplateBody is the member stack (MaintenanceWindowAlertsMemberStack,
environment-agnostic) synthesized in an app of its own, with no bootstrap: rather than cdklabs'
cdk-stacksets (experimental 0.0.x), which ships the template as a file asset in the bootstrap
bucket. The member template is small, so inline it deploys anywhere, no asset and no
bootstrap-version parameter needed.
"""

import json
import tempfile
from typing import Any

import aws_cdk as cdk
from constructs import Construct

from maintenance_window_alerts import constants
from maintenance_window_alerts.compliance import add_compliance_checks
from maintenance_window_alerts.layout_model import Organization
from maintenance_window_alerts.member_stack import MaintenanceWindowAlertsMemberStack

# For large organizations: a quarter of a region's accounts at once, and a deployment that goes
# on while at most a tenth of them fail (an account with a conflicting role name, say). With
# SOFT_FAILURE_TOLERANCE, CloudFormation keeps that concurrency regardless of failures (the
# default, STRICT, would run only FailureTolerance + 1 accounts at once). Every region in
# parallel: the member stacks of two regions share nothing. (These apply to operations on the
# StackSet, not to automatic deployment to an account that joins an OU.)
FAILURE_TOLERANCE_PERCENTAGE = 10
MAX_CONCURRENT_PERCENTAGE = 25
# TemplateBody's limit (AWS CloudFormation API Reference, CreateStackSet).
TEMPLATE_BODY_MAX_BYTES = 51_200
# The private app's context: no construct path in each resource's metadata (a StackSet
# template has no use for it, and it only costs bytes of TemplateBody).
MEMBER_APP_CONTEXT = {"aws:cdk:enable-path-metadata": False}


def member_template(organization: Organization) -> dict[str, Any]:
    """The member stack's template, as the StackSet deploys it into each account and region.

    Synthesized in an app of its own (in a temporary directory: never the CLI's cdk.out, which
    CDK_OUTDIR names during `cdk synth`) with the BootstraplessSynthesizer, which fails on any
    asset and adds no BootstrapVersion parameter or rule; with no CDK metadata resource
    (analytics_reporting off); with the same compliance checks as every synth: a finding on the
    member resources fails it as it fails the app's."""
    with tempfile.TemporaryDirectory(prefix="mwalerts-member-template-") as outdir:
        app = cdk.App(outdir=outdir, analytics_reporting=False, context=MEMBER_APP_CONTEXT)
        stack = MaintenanceWindowAlertsMemberStack(
            app,
            constants.MEMBER_TEMPLATE_STACK_ID,
            central=organization,
            synthesizer=cdk.BootstraplessSynthesizer(),
        )
        add_compliance_checks(app)
        template = app.synth().get_stack_artifact(stack.artifact_id).template
    return dict(template)


def template_body(template: dict[str, Any]) -> str:
    """The template as TemplateBody holds it: compact JSON."""
    body = json.dumps(template, separators=(",", ":"))
    size = len(body.encode())
    if size > TEMPLATE_BODY_MAX_BYTES:
        raise ValueError(
            f"the member template takes {size:,} bytes, more than TemplateBody's "
            f"{TEMPLATE_BODY_MAX_BYTES:,}"
        )
    return body


def member_stack_set(scope: Construct, organization: Organization) -> cdk.CfnStackSet:
    """The StackSet of the member resources: service-managed, deployed automatically to each
    account of the OUs (and removed from an account that leaves them), in every region listed,
    administered as `callAs` says (management account or delegated administrator)."""
    return cdk.CfnStackSet(
        scope,
        constants.MEMBER_STACK_SET_ID,
        stack_set_name=organization.stack_set_name,
        description=(
            "Forwards SSM maintenance-window runs to the central account "
            f"{organization.account} and lends it a read-only role "
            "(maintenance-window-alerts, organization members)"
        ),
        permission_model="SERVICE_MANAGED",
        auto_deployment=cdk.CfnStackSet.AutoDeploymentProperty(
            enabled=True, retain_stacks_on_account_removal=False
        ),
        call_as=organization.call_as,
        # The member template names its reader role (the central function assumes it by name).
        capabilities=["CAPABILITY_NAMED_IAM"],
        # StackSets queues conflicting operations instead of failing them.
        managed_execution={"Active": True},
        operation_preferences=cdk.CfnStackSet.OperationPreferencesProperty(
            concurrency_mode="SOFT_FAILURE_TOLERANCE",
            failure_tolerance_percentage=FAILURE_TOLERANCE_PERCENTAGE,
            max_concurrent_percentage=MAX_CONCURRENT_PERCENTAGE,
            region_concurrency_type="PARALLEL",
        ),
        stack_instances_group=[
            cdk.CfnStackSet.StackInstancesProperty(
                deployment_targets=cdk.CfnStackSet.DeploymentTargetsProperty(
                    organizational_unit_ids=list(organization.organizational_units)
                ),
                regions=list(organization.regions),
            )
        ],
        template_body=template_body(member_template(organization)),
    )
