"""cdk-nag: the packs every synth runs, and every finding acknowledged in code, with its reason.

Each function acknowledges the findings of one kind of resource; the code that creates the
resource calls it. A finding nobody acknowledged fails synth (add_compliance_checks).
"""

from collections.abc import Sequence

from aws_cdk import Acknowledgment, Stage, Validations
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from cdk_nag import AwsSolutionsChecks, NIST80053R5Checks, ServerlessChecks
from constructs import IConstruct

from maintenance_window_alerts import constants


def add_compliance_checks(app: Stage) -> None:
    """Fail synth on every cdk-nag finding (AwsSolutions, Serverless, NIST 800-53 rev. 5) that
    is not acknowledged in code."""
    Validations.of(app).add_plugins(
        AwsSolutionsChecks(app, verbose=True),
        ServerlessChecks(app, verbose=True),
        NIST80053R5Checks(app, verbose=True),
    )


def acknowledge(construct: IConstruct | None, rule_id: str, reason: str) -> None:
    """Acknowledge one cdk-nag finding on one construct, with the reason it is acceptable."""
    assert construct is not None, rule_id  # an L2 without its L1 would be a CDK bug
    Validations.of(construct).acknowledge(Acknowledgment(id=rule_id, reason=reason))


def acknowledge_dead_letter_queue(queue: sqs.Queue, *, holds: str) -> None:
    reason = (
        f"This queue is itself a dead-letter queue (it holds {holds}); "
        "a dead-letter queue of a dead-letter queue would only move the problem."
    )
    for rule_id in ("AwsSolutions-SQS3", "Serverless-SQSRedrivePolicy"):
        acknowledge(queue.node.default_child, rule_id, reason)


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


def acknowledge_alert_function(function: lambda_.Function) -> None:
    cfn_function = function.node.default_child
    for rule_id in ("AwsSolutions-L1", "Serverless-LambdaLatestVersion"):
        acknowledge(
            cfn_function,
            rule_id,
            f"Pinned to {constants.LAMBDA_RUNTIME.name}, the runtime of the AWS-published "
            f"Powertools {constants.POWERTOOLS_VERSION} layer it uses and of the tests.",
        )
    for rule_id in ("Serverless-LambdaDLQ", "NIST.800.53.R5-LambdaDLQ"):
        acknowledge(
            cfn_function,
            rule_id,
            "Failed asynchronous invocations go to an SQS on-failure destination (the "
            "function's EventInvokeConfig), which supersedes a dead-letter queue and also "
            "records the error.",
        )
    acknowledge(
        cfn_function,
        "NIST.800.53.R5-LambdaInsideVPC",
        "The function reaches only AWS APIs (SSM, SNS, DynamoDB, KMS, X-Ray) and holds no "
        "network-reachable resource; a VPC would need NAT or six interface endpoints for no "
        "gain, and the stack is meant to deploy into any account without one.",
    )
    acknowledge(
        cfn_function,
        "NIST.800.53.R5-LambdaConcurrency",
        "Reserved concurrency is left out on purpose: reserving it fails the deployment in "
        "accounts with a low concurrency quota (new accounts), and a cap would only throttle "
        "this function. Its invocations are asynchronous, so a throttled event is retried "
        "for up to 6 hours, and the throttles alarm pages the on-call.",
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


def _default_policy(role: iam.Role) -> IConstruct | None:
    """The CloudFormation resource of a role's default policy (CDK's grants write there)."""
    return role.node.find_child("DefaultPolicy").node.default_child
