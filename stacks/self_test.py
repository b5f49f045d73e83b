"""selfTestOnDeploy: the alert path's self-test, run by CloudFormation inside the deployment.

A Trigger (aws_cdk.triggers) invokes a small function of the alert function's own package
(handler contract.SELF_TEST_TRIGGER_HANDLER). It invokes the alert function with the self-test
event (RequestResponse) and raises, naming each failed hop, when the self-test fails: CDK's
trigger provider then fails the Trigger's custom resource with that message, and CloudFormation
rolls the deployment back. A broken alert path never deploys "successfully". While the stack
rolls back, the handler skips the check (it reads the stack's status), so that a rollback cannot
fail for the same cause.

The Trigger runs when its function's version changes: on the first deployment, and whenever the
function's configuration does. The function shares the alert function's code (a new asset, a new
version) and carries in its environment a digest of the alert function's configuration and of
the topic's encryption (its key and the key's policy), so the same goes for those; other changes
(an alarm's threshold, a dashboard) leave the Trigger alone.
"""

import hashlib
import json
from collections.abc import Sequence

import jsii
from aws_cdk import Aws, CfnResource, Duration, IStableStringProducer, Lazy, Stack, triggers
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from constructs import Construct, IConstruct

from maintenance_window_alerts import compliance, constants
from maintenance_window_alerts.function import FunctionPackage, function_log_group
from maintenance_window_alerts.settings import Settings
from mwalerts import contract, self_test_check, self_test_trigger

# Read by nobody: it changes the function's configuration, and so its version, whenever what it
# digests changes (see SelfTestOnDeploy).
ENV_SELF_TEST_INPUTS = "SELF_TEST_INPUTS_DIGEST"
# The self-test publishes once, writes and deletes an item and emits a metric: seconds, even on
# a cold start. Its function waits as long as one check may take (its invokes of the alert
# function, each up to the alert function's timeout), after retrying access denials while IAM
# propagates (self_test_trigger), plus a margin; the Trigger a little longer, so that a hung alert
# function fails the deployment with the invoke's error rather than the Trigger's own timeout.
# Lambda allows 900 s at most (the trigger provider's own function waits that long).
FUNCTION_TIMEOUT = Duration.seconds(
    self_test_check.INVOKE_MAX_SECONDS + self_test_trigger.ACCESS_DENIED_WINDOW_SECONDS + 10
)
TRIGGER_TIMEOUT = FUNCTION_TIMEOUT.plus(Duration.minutes(1))


class SelfTestOnDeploy(Construct):
    """Invokes `alert_function` with the self-test event during the deployment, after
    everything in `run_after` exists; a failed self-test fails the deployment.

    `changes_with`: the resources whose configuration (with the function's code) makes the
    Trigger run again: the alert function, the topic and its key.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        settings: Settings,
        package: FunctionPackage,
        alert_function: lambda_.IFunction,
        data_key: kms.IKey,
        changes_with: Sequence[IConstruct],
        run_after: Sequence[Construct],
    ) -> None:
        super().__init__(scope, construct_id)
        log_group = function_log_group(self, settings, data_key, constants.SELF_TEST_LOG_GROUP_ID)
        # Invoke the alert function, read its own stack's status (to skip the check during a
        # rollback) and write its own logs: nothing more.
        self.role = iam.Role(
            self,
            constants.SELF_TEST_ROLE_ID,
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description="Maintenance-window alerts' self-test at deploy time",
        )
        log_group.grant_write(self.role)
        # The unqualified function alone (grant_invoke would add its versions and aliases).
        self.role.add_to_policy(
            iam.PolicyStatement(
                actions=["lambda:InvokeFunction"], resources=[alert_function.function_arn]
            )
        )
        self.role.add_to_policy(
            iam.PolicyStatement(actions=["cloudformation:DescribeStacks"], resources=[Aws.STACK_ID])
        )
        self.function = lambda_.Function(
            self,
            constants.SELF_TEST_FUNCTION_ID,
            description="Invokes the maintenance-window alert function's self-test (deploy time)",
            runtime=constants.LAMBDA_RUNTIME,
            architecture=constants.LAMBDA_ARCHITECTURE,
            handler=contract.SELF_TEST_TRIGGER_HANDLER,
            code=package.code,
            layers=list(package.layers),
            role=self.role,
            memory_size=256,
            timeout=FUNCTION_TIMEOUT,
            log_group=log_group,
            logging_format=lambda_.LoggingFormat.JSON,
            environment={
                contract.ENV_SELF_TEST_FUNCTION_NAME: alert_function.function_name,
                contract.ENV_SELF_TEST_STACK_ID: Aws.STACK_ID,
                ENV_SELF_TEST_INPUTS: configuration_digest(changes_with),
            },
        )
        compliance.acknowledge_self_test_function(self.function, self.role)
        self.trigger = triggers.Trigger(
            self,
            constants.SELF_TEST_TRIGGER_ID,
            handler=self.function,
            # Waits for the result, so a failed self-test fails the deployment (EVENT would not).
            invocation_type=triggers.InvocationType.REQUEST_RESPONSE,
            timeout=TRIGGER_TIMEOUT,
            execute_on_handler_change=True,
            execute_after=list(run_after),
        )


def configuration_digest(constructs: Sequence[IConstruct]) -> str:
    """A digest of the CloudFormation properties of the constructs' own resources (each L2's
    L1), as synthesized: a token, computed once the whole stack is built."""
    return Lazy.string(_Digest(constructs))


@jsii.implements(IStableStringProducer)
class _Digest:
    def __init__(self, constructs: Sequence[IConstruct]) -> None:
        self.constructs = constructs

    def produce(self) -> str:
        stack = Stack.of(self.constructs[0])
        resources = [construct.node.default_child for construct in self.constructs]
        rendered = [
            # CfnResource's protected view of its properties, before raw overrides (none of
            # these has one): jsii exposes no public one.
            [resource.node.path, stack.resolve(resource._cfn_properties)]
            for resource in resources
            if isinstance(resource, CfnResource)
        ]
        text = json.dumps(rendered, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()
