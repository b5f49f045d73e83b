"""The compliance rules every synth runs, and every finding acknowledged in code, with its reason.

Three tools: cdk-nag's packs and AWS Control Tower's proactive controls (cfn-guard) run at synth
as CDK policy-validation plugins (add_compliance_checks); checkov reads the synthesized templates
(make test runs it on every layout's). Each function below acknowledges the findings of one kind
of resource, for all three tools through `acknowledge`; the code that creates the resource calls
it. A finding nobody acknowledged fails synth, or the test that runs checkov.
"""

from collections.abc import Sequence

import jsii
from aws_cdk import Acknowledgment, Aspects, CfnResource, IAspect, Stage, Validations
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from cdk_nag import AwsSolutionsChecks, NIST80053R5Checks, ServerlessChecks
from cdklabs.cdk_validator_cfnguard import CfnGuardValidator
from constructs import IConstruct

from maintenance_window_alerts import constants
from mwalerts import contract

# The CDK policy-validation plugin that runs cfn-guard (its findings' namespace in an
# acknowledgement's ID).
CFN_GUARD_PLUGIN = "cdk-validator-cfnguard"
# The AWS Control Tower controls acknowledged here, each by its ID (the name of its rules file)
# and the name of the cfn-guard rule that checks it, by which the plugin reports a finding.
CONTROL_TOWER_RULES = {
    "ct-cloudwatch-pr-2": "cloudwatch_log_group_retention_period_check",
    "ct-lambda-pr-3": "lambda_inside_vpc_check",
    "ct-sqs-pr-1": "sqs_dlq_check",
}
CHECKOV_METADATA = "checkov"  # checkov skips a check on a resource by its Metadata.checkov.skip
# The ID of the provider that aws_cdk.triggers adds to each stack with a Trigger.
TRIGGER_PROVIDER_ID = "AWSCDK.TriggerCustomResourceProviderCustomResourceProvider"


def add_compliance_checks(app: Stage) -> None:
    """Fail synth on every finding that is not acknowledged in code: cdk-nag's (AwsSolutions,
    Serverless, NIST 800-53 rev. 5) and cfn-guard's with AWS Control Tower's proactive controls
    (the plugin runs its bundled cfn-guard binary on every template, once per synth)."""
    Validations.of(app).add_plugins(
        AwsSolutionsChecks(app, verbose=True),
        ServerlessChecks(app, verbose=True),
        NIST80053R5Checks(app, verbose=True),
        # Typed with the interface's earlier (Beta1) names, which jsii accepts as the same.
        CfnGuardValidator(),  # type: ignore[arg-type]
    )
    Aspects.of(app).add(_AcknowledgeTriggerProviders())


@jsii.implements(IAspect)
class _AcknowledgeTriggerProviders:
    """Acknowledges the findings on the function of aws_cdk.triggers' own provider (one per stack
    with a Trigger), which CDK creates and configures: it offers no VPC, concurrency or
    dead-letter setting. An aspect, as the provider exists only once a Trigger does."""

    def visit(self, node: IConstruct) -> None:
        if node.node.path.endswith(f"/{TRIGGER_PROVIDER_ID}/Handler"):
            acknowledge_trigger_provider_function(node)


def acknowledge(construct: IConstruct | None, rule_id: str, reason: str) -> None:
    """Acknowledge one finding on one CloudFormation resource, with the reason it is acceptable.

    `rule_id` names a cdk-nag rule (AwsSolutions-..., Serverless-..., NIST.800.53.R5-...), an AWS
    Control Tower control that cfn-guard checks (ct-...-pr-N, one of CONTROL_TOWER_RULES) or a
    checkov check (CKV_AWS_...)."""
    assert construct is not None, rule_id  # an L2 without its L1 would be a CDK bug
    if rule_id.startswith("CKV"):
        _skip_checkov_check(construct, rule_id, reason)
        return
    if rule_id.startswith("ct-"):
        rule_id = f"{CFN_GUARD_PLUGIN}::{CONTROL_TOWER_RULES[rule_id]}"
    Validations.of(construct).acknowledge(Acknowledgment(id=rule_id, reason=reason))


def _skip_checkov_check(construct: IConstruct, check_id: str, reason: str) -> None:
    """Skip a checkov check on a resource with the resource's own Metadata, which checkov reads
    (its findings come from the template alone, after synth)."""
    assert isinstance(construct, CfnResource), check_id
    skips = (construct.get_metadata(CHECKOV_METADATA) or {}).get("skip", [])
    construct.add_metadata(
        CHECKOV_METADATA, {"skip": [*skips, {"id": check_id, "comment": reason}]}
    )


def acknowledge_dead_letter_queue(queue: sqs.Queue, *, holds: str, deny_all: bool = True) -> None:
    """A dead-letter queue; `deny_all`: its RedriveAllowPolicy admits no source queue (EventBridge
    or Lambda send to it, not SQS)."""
    reason = (
        f"This queue is itself a dead-letter queue (it holds {holds}); "
        "a dead-letter queue of a dead-letter queue would only move the problem."
    )
    for rule_id in ("AwsSolutions-SQS3", "Serverless-SQSRedrivePolicy"):
        acknowledge(queue.node.default_child, rule_id, reason)
    # Control Tower tells a dead-letter queue by a RedriveAllowPolicy that admits source queues
    # (allowAll or byQueue); this one admits none (denyAll), as only EventBridge or Lambda send to
    # it, and so would need a dead-letter queue of its own.
    if deny_all:
        acknowledge(
            queue.node.default_child,
            "ct-sqs-pr-1",
            f"{reason} Its RedriveAllowPolicy is denyAll (no SQS queue may redrive into it: only "
            "EventBridge or Lambda send to it), which the control does not count as a "
            "dead-letter queue's.",
        )
    if queue.encryption_master_key is None:  # a member stack's: SSE-SQS
        acknowledge(
            queue.node.default_child,
            "CKV_AWS_27",
            "A false positive: the queue is encrypted at rest with SQS's own key (SSE-SQS, "
            "SqsManagedSseEnabled), which the check does not read (it looks for KmsMasterKeyId "
            "only). A member stack has no key of its own for what it could not forward.",
        )


def acknowledge_sweep_event_source(mapping: lambda_.EventSourceMapping) -> None:
    """Organization mode: the event source mapping through which the function consumes the
    sweep queue."""
    acknowledge(
        mapping.node.default_child,
        "Serverless-LambdaEventSourceMappingDestination",
        "An SQS event source keeps what fails in the queue's own dead-letter queue (its redrive "
        "policy, after 3 receives), which has an alarm; Lambda's on-failure destination of an "
        "event source mapping applies to streams and Kafka, not to SQS.",
    )


def acknowledge_email_subscription(subscription: sns.Subscription) -> None:
    acknowledge(
        subscription.node.default_child,
        "Serverless-SNSRedrivePolicy",
        "E-mail subscription: SNS retries delivery itself, and a redrive queue of "
        "undelivered mails would need a reader of its own; every alert is also in the "
        "function's logs and metrics, and the alarm state shows on the dashboard.",
    )


def acknowledge_idempotency_table(table: dynamodb.Table) -> None:
    acknowledge(
        table.node.default_child,
        "NIST.800.53.R5-DynamoDBInBackupPlan",
        "Point-in-time recovery is on (35 days of restore points), more than this table "
        "needs: it caches for 15 days which executions were already alerted on, and losing "
        "it costs at most one repeated alert per execution. A backup plan would add a vault "
        "and a role for data that expires on its own.",
    )


def acknowledge_streak_table(table: dynamodb.Table) -> None:
    acknowledge(
        table.node.default_child,
        "NIST.800.53.R5-DynamoDBInBackupPlan",
        "Point-in-time recovery is on (35 days of restore points). The table holds derived "
        "state: each window's current failure streaks, which its next executions rebuild if "
        "lost (its failures then read as new once). A backup plan would add a vault and a "
        "role for data that expires on its own within 90 days.",
    )


def acknowledge_function_log_group(log_group: logs.ILogGroup) -> None:
    acknowledge(
        log_group.node.default_child,
        "ct-cloudwatch-pr-2",
        "Retention is the logRetentionDays setting (90 days unless set): alerts, metrics and "
        "the dead-letter queues keep what an operator acts on, and a year of every run's logs "
        "would be kept at a cost. Set logRetentionDays to 365 or more where a year is required.",
    )


def acknowledge_alert_function(function: lambda_.Function) -> None:
    # The log group given to the function (no new resource: it has one).
    acknowledge_function_log_group(function.log_group)
    cfn_function = function.node.default_child
    for rule_id in ("AwsSolutions-L1", "Serverless-LambdaLatestVersion"):
        acknowledge(
            cfn_function,
            rule_id,
            f"Pinned to {constants.LAMBDA_RUNTIME.name}, the runtime of the AWS-published "
            f"Powertools {constants.POWERTOOLS_VERSION} layer it uses and of the tests.",
        )
    # CKV_AWS_116 is a false positive: it looks for DeadLetterConfig only.
    for rule_id in ("Serverless-LambdaDLQ", "NIST.800.53.R5-LambdaDLQ", "CKV_AWS_116"):
        acknowledge(
            cfn_function,
            rule_id,
            "Failed asynchronous invocations go to an SQS on-failure destination (the "
            "function's EventInvokeConfig), which supersedes a dead-letter queue and also "
            "records the error.",
        )
    for rule_id in ("NIST.800.53.R5-LambdaInsideVPC", "ct-lambda-pr-3", "CKV_AWS_117"):
        acknowledge(
            cfn_function,
            rule_id,
            "The function reaches only AWS APIs (SSM, SNS, DynamoDB, KMS, X-Ray) and holds no "
            "network-reachable resource; a VPC would need NAT or six interface endpoints for no "
            "gain, and the stack is meant to deploy into any account without one.",
        )
    for rule_id in ("NIST.800.53.R5-LambdaConcurrency", "CKV_AWS_115"):
        acknowledge(
            cfn_function,
            rule_id,
            "Reserved concurrency is left out on purpose: reserving it fails the deployment in "
            "accounts with a low concurrency quota (new accounts), and a cap would only throttle "
            "this function. Its invocations are asynchronous, so a throttled event is retried "
            "for up to 6 hours, and the throttles alarm pages the on-call.",
        )
    acknowledge(
        cfn_function,
        "CKV_AWS_173",
        "The environment holds settings, names and ARNs, no secret; Lambda encrypts it at rest "
        "with its AWS managed key. A customer managed key would add kms:Decrypt to the role and "
        "a key grant for Lambda, and protect nothing that the template does not already show.",
    )


def acknowledge_function_role_policy(role: iam.Role) -> None:
    """The alert function role's default policy, which its grants and tracing=ACTIVE wrote."""
    default_policy = _default_policy(role)
    acknowledge(
        default_policy,
        "AwsSolutions-IAM5[Resource::*]",
        "Only xray:PutTraceSegments and xray:PutTelemetryRecords (tracing=ACTIVE) have "
        "Resource '*': X-Ray supports no resource-level permissions for them.",
    )
    acknowledge(
        default_policy,
        "AwsSolutions-IAM5[Action::kms:GenerateDataKey*]",
        "What AWS documents a sender to a KMS-encrypted SNS topic or SQS queue needs (with "
        "kms:Decrypt): the function publishes to its topics, and Lambda sends its failed events "
        "to the on-failure queue with its role. The statement's only Resource is this "
        "construct's message key.",
    )
    acknowledge(
        default_policy,
        "NIST.800.53.R5-IAMNoInlinePolicy",
        "The role's default policy is where CDK's grants write their least-privilege "
        "statements (each on this construct's own topic, queue, table, key and log group); "
        "it belongs to this one role and is deleted with it, so a customer managed policy "
        "would only add a resource that nothing else may attach.",
    )


def acknowledge_forward_role_policy(role: iam.Role) -> None:
    """A member stack's forwarding role's default policy, which its event bus target wrote."""
    acknowledge(
        _default_policy(role),
        "NIST.800.53.R5-IAMNoInlinePolicy",
        "Written by CDK's event bus target: its one statement allows events:PutEvents on "
        "the central account's bus only; it belongs to this one role, which only "
        "EventBridge assumes, and is deleted with it.",
    )


def acknowledge_ssm_read_policy(
    policy: iam.ManagedPolicy,
    *,
    window_actions: Sequence[str],
    unscoped_actions: Sequence[str],
    command_output_action: str | None,
) -> None:
    """The SSM read policy: its unscoped actions, and its actions on every window here."""
    cfn_policy = policy.node.default_child
    output = (
        f" {command_output_action} reads a Run Command invocation's output, which the alert "
        "quotes for at most errorDetailsLimit failures per window execution."
        if command_output_action
        else ""
    )
    acknowledge(
        cfn_policy,
        "AwsSolutions-IAM5[Resource::*]",
        f"{', '.join(unscoped_actions)} support no resource-level permissions (Service "
        "Authorization Reference for AWS Systems Manager: no resource type), so Resource must "
        "be '*'; the statement allows only these read actions, and only in this region "
        f"(aws:RequestedRegion).{output}",
    )
    # The ID of the finding holds the resource as the template writes it, pseudo parameters
    # included (security.ssm_read_policy builds it from them in every environment).
    acknowledge(
        cfn_policy,
        "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ssm:<AWS::Region>:"
        "<AWS::AccountId>:maintenancewindow/*]",
        "The alert function reads the executions (reconciliation sweep) and the name and "
        "description (alerts) of any maintenance window of this account and region, "
        "including windows created after this stack, by anyone; so the only scope is all "
        "maintenance windows here. The statement allows only "
        f"{' and '.join(window_actions)}.",
    )


def acknowledge_organization_member_policy(
    policy: iam.ManagedPolicy, *, reader_roles: Sequence[str], stack_set: str, call_as: str
) -> None:
    """Organization mode's policy: the members' reader roles (one ARN per covered region, any
    account) and the StackSet, by pattern."""
    cfn_policy = policy.node.default_child
    for reader_role in reader_roles:
        acknowledge(
            cfn_policy,
            f"AwsSolutions-IAM5[Resource::{reader_role}]",
            "The wildcard is the account ID, and only it: the members are every account of the "
            "covered organizational units, now and later (the StackSet deploys to an account "
            "that joins one), so the accounts are not known at synth and no list can name "
            "them. The condition aws:ResourceOrgID limits them to the organization's accounts. "
            "The role name is exact: this deployment's reader role of one covered region (the "
            "region and any qualifier are part of it).",
        )
    acknowledge(
        cfn_policy,
        f"AwsSolutions-IAM5[Resource::{stack_set}]",
        "Only the member StackSet of this deployment, by its fixed name: the account is '*' "
        "because a delegated administrator's StackSet is created in the management account, "
        "and the trailing '*' is the StackSet's ID, which CloudFormation generates. The "
        "statement allows cloudformation:ListStackInstances only (who the members are).",
    )
    if call_as == contract.CALL_AS_DELEGATED_ADMIN:
        acknowledge(
            cfn_policy,
            "AwsSolutions-IAM5[Resource::*]",
            "organizations:ListDelegatedAdministrators supports no resource-level permissions; "
            "a StackSets delegated administrator's callers need it (AWS CloudFormation User "
            "Guide, 'Register a delegated administrator'). It reads who the organization's "
            "delegated administrators are, nothing more.",
        )


def acknowledge_self_test_function(function: lambda_.Function, role: iam.Role) -> None:
    """The deploy-time self-test's function (selfTestOnDeploy) and its role's policy."""
    _acknowledge_self_test_function_templates(function)
    cfn_function = function.node.default_child
    for rule_id in ("AwsSolutions-L1", "Serverless-LambdaLatestVersion"):
        acknowledge(
            cfn_function,
            rule_id,
            "Runs the alert function's own package, so it is pinned to the same runtime, "
            f"{constants.LAMBDA_RUNTIME.name}: that of the Powertools "
            f"{constants.POWERTOOLS_VERSION} layer and of the tests.",
        )
    for rule_id in ("Serverless-LambdaDLQ", "NIST.800.53.R5-LambdaDLQ"):
        acknowledge(
            cfn_function,
            rule_id,
            "Only CDK's trigger provider invokes it, synchronously (RequestResponse), once per "
            "deployment that changes the alert path; a failure fails the deployment itself. A "
            "dead-letter queue holds failed asynchronous invocations, and there are none.",
        )
    acknowledge(
        cfn_function,
        "Serverless-LambdaTracing",
        "Left untraced on purpose: tracing would add xray:PutTraceSegments on '*' to a role "
        "that may only invoke the alert function. The alert function it invokes is traced, and "
        "this function logs each hop's result to its own encrypted log group.",
    )
    acknowledge(
        cfn_function,
        "NIST.800.53.R5-LambdaInsideVPC",
        "It calls only the Lambda API (to invoke the alert function) and CloudFormation's "
        "DescribeStacks (its own stack's status), and holds no "
        "network-reachable resource; a VPC would need NAT or an interface endpoint for no gain.",
    )
    acknowledge(
        cfn_function,
        "NIST.800.53.R5-LambdaConcurrency",
        "It runs once per deployment that changes the alert path, invoked by CloudFormation "
        "through CDK's trigger provider; reserving concurrency would only fail deployments in "
        "accounts with a low concurrency quota.",
    )
    acknowledge(
        _default_policy(role),
        "NIST.800.53.R5-IAMNoInlinePolicy",
        "The role's default policy holds exactly lambda:InvokeFunction on the alert function, "
        "cloudformation:DescribeStacks on its own stack and writing to this function's own log "
        "group; it belongs to this one role and is "
        "deleted with it, so a customer managed policy would only add a resource.",
    )


def _acknowledge_self_test_function_templates(function: lambda_.Function) -> None:
    """The self-test function's findings of the template checks, cfn-guard's and checkov's."""
    acknowledge_function_log_group(function.log_group)
    cfn_function = function.node.default_child
    for rule_id in ("ct-lambda-pr-3", "CKV_AWS_117"):
        acknowledge(
            cfn_function,
            rule_id,
            "It calls only the Lambda API (to invoke the alert function) and CloudFormation's "
            "DescribeStacks (its own stack's status), and holds no "
            "network-reachable resource; a VPC would need NAT or an interface endpoint for no "
            "gain.",
        )
    acknowledge(
        cfn_function,
        "CKV_AWS_116",
        "Only CDK's trigger provider invokes it, synchronously (RequestResponse), once per "
        "deployment that changes the alert path; a failure fails the deployment itself. A "
        "dead-letter queue holds failed asynchronous invocations, and there are none.",
    )
    acknowledge(
        cfn_function,
        "CKV_AWS_115",
        "It runs once per deployment that changes the alert path, invoked by CloudFormation "
        "through CDK's trigger provider; reserving concurrency would only fail deployments in "
        "accounts with a low concurrency quota.",
    )
    acknowledge(
        cfn_function,
        "CKV_AWS_173",
        "The environment holds the alert function's name and a digest of its configuration, "
        "no secret; Lambda encrypts it at rest with its AWS managed key.",
    )


def acknowledge_trigger_provider_function(handler: IConstruct) -> None:
    """The function of CDK's trigger provider, which runs the Triggers of its stack (once per
    deployment that changes them) by invoking their functions."""
    reason = (
        "CDK's own provider function of aws_cdk.triggers, which CloudFormation invokes "
        "synchronously to run this stack's Trigger; CDK configures it and offers no setting "
        "for a VPC, reserved concurrency or a dead-letter queue, none of which a function "
        "that only calls lambda:InvokeFunction once per deployment needs."
    )
    for rule_id in ("ct-lambda-pr-3", "CKV_AWS_115", "CKV_AWS_116", "CKV_AWS_117"):
        acknowledge(handler, rule_id, reason)


def _default_policy(role: iam.Role) -> IConstruct | None:
    """The CloudFormation resource of a role's default policy (CDK's grants write there)."""
    return role.node.find_child("DefaultPolicy").node.default_child
