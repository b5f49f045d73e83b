"""Keys, roles' policies and resource policies: who may do what, and nobody else."""

from collections.abc import Sequence
from typing import Any

from aws_cdk import Acknowledgment, ArnFormat, Aws, Duration, RemovalPolicy, Stack, Validations
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from constructs import Construct, IConstruct

from maintenance_window_alerts import constants
from maintenance_window_alerts.layout import Central
from mwalerts import contract

# The actions AWS documents for a CloudWatch Logs log group's key ("Encrypt log data in CloudWatch
# Logs using AWS Key Management Service").
LOGS_KEY_ACTIONS = (
    "kms:Encrypt*",
    "kms:Decrypt*",
    "kms:ReEncrypt*",
    "kms:GenerateDataKey*",
    "kms:Describe*",
)


# What the function calls on SSM. Per the Service Authorization Reference for AWS Systems Manager,
# DescribeMaintenanceWindowExecutions and GetMaintenanceWindow take the resource type
# maintenancewindow (required); the others support no resource-level permissions, so their
# resource must be "*". GetCommandInvocation only if alerts quote error output (errorDetailsLimit).
SSM_WINDOW_ACTIONS = ("ssm:DescribeMaintenanceWindowExecutions", "ssm:GetMaintenanceWindow")
SSM_UNSCOPED_ACTIONS = (
    "ssm:DescribeMaintenanceWindows",
    "ssm:DescribeMaintenanceWindowExecutionTasks",
    "ssm:DescribeMaintenanceWindowExecutionTaskInvocations",
)
SSM_COMMAND_OUTPUT_ACTION = "ssm:GetCommandInvocation"
# Role ARNs per customer managed policy that lets the central function assume member roles: well
# within IAM's 6,144 characters per managed policy.
ROLE_ARNS_PER_POLICY = 50


def message_key(scope: Construct) -> kms.Key:
    """The key of messages in flight: the alert topic and both dead-letter queues."""
    key = kms.Key(
        scope,
        constants.KEY_ID,
        description="Encrypts the maintenance-window alert topic and its dead-letter queues",
        enable_key_rotation=True,
        # It only protects messages in flight, which are deleted with the topic and queues.
        removal_policy=RemovalPolicy.DESTROY,
        pending_window=Duration.days(7),
    )
    # CloudWatch alarms publishing to the topic: scoped to this account's alarms (their exact
    # ARNs would make a cycle: key -> topic -> alarm -> key).
    _allow_service(
        key,
        "cloudwatch",
        ("kms:Decrypt", "kms:GenerateDataKey"),
        {
            "StringEquals": {"aws:SourceAccount": Aws.ACCOUNT_ID},
            "ArnLike": {"aws:SourceArn": alarm_arns(scope)},
        },
    )
    # EventBridge sending to the rules' dead-letter queue: the statement AWS documents for
    # encrypted EventBridge targets, without source conditions (EventBridge's KMS requests do
    # not carry them, and a condition would silently drop dead letters). The queue's own
    # policy admits only this construct's rules.
    _allow_service(key, "events", ("kms:Decrypt", "kms:GenerateDataKey"))
    return key


def data_key(scope: Construct) -> kms.Key:
    """The key of data at rest: the idempotency table and the function's log group."""
    key = kms.Key(
        scope,
        constants.DATA_KEY_ID,
        description="Encrypts the maintenance-window alert function's idempotency table and logs",
        enable_key_rotation=True,
        # The log group is retained when the stack is deleted (it is the record of every run),
        # so its key must be too: without it the retained logs could never be read again.
        # Schedule the key's deletion once those logs are no longer needed.
        removal_policy=RemovalPolicy.RETAIN,
    )
    # CloudWatch Logs encrypts with the key what it stores, for this account and region's log
    # groups only (the log group's exact ARN would make a cycle: key -> log group -> key).
    log_groups = Stack.of(scope).format_arn(
        service="logs",
        resource="log-group",
        resource_name="*",
        arn_format=ArnFormat.COLON_RESOURCE_NAME,
    )
    _allow_service(
        key,
        "logs",
        LOGS_KEY_ACTIONS,
        {"ArnLike": {"kms:EncryptionContext:aws:logs:arn": log_groups}},
        # CloudWatch Logs' principal is regional (logs.<region>.amazonaws.com[.cn]).
        principal=f"logs.{Aws.REGION}.{Aws.URL_SUFFIX}",
    )
    return key


def dead_letter_queue(
    scope: Construct, construct_id: str, *, holds: str, key: kms.IKey | None = None
) -> sqs.Queue:
    """A queue for what could not be delivered or processed: TLS only, kept 14 days (the
    maximum), encrypted with `key`, or with SQS's own key (SSE-SQS) without one."""
    queue = sqs.Queue(
        scope,
        construct_id,
        encryption=sqs.QueueEncryption.KMS if key else sqs.QueueEncryption.SQS_MANAGED,
        encryption_master_key=key,
        enforce_ssl=True,
        retention_period=Duration.days(14),  # the maximum: time to notice and redrive
    )
    reason = (
        f"This queue is itself a dead-letter queue (it holds {holds}); "
        "a dead-letter queue of a dead-letter queue would only move the problem."
    )
    for rule_id in ("AwsSolutions-SQS3", "Serverless-SQSRedrivePolicy"):
        acknowledge(queue.node.default_child, rule_id, reason)
    return queue


def ssm_read_policy(
    scope: Construct, role: iam.IRole, *, command_output: bool, description: str
) -> iam.ManagedPolicy:
    """Read the maintenance windows, executions and invocations of this account and region.

    The alert function's own (per-account mode), or a member's reader role's, which the central
    function assumes (central mode). With `command_output`, also the output of Run Command
    invocations (GetCommandInvocation), which alerts quote when errorDetailsLimit is above 0.
    """
    # From pseudo parameters rather than Stack.format_arn, which writes a known region or
    # partition literally: this way the ARN, and so the ID of the cdk-nag finding acknowledged
    # below, is the same whether or not the stack has an environment.
    windows = f"arn:{Aws.PARTITION}:ssm:{Aws.REGION}:{Aws.ACCOUNT_ID}:maintenancewindow/*"
    unscoped = [*SSM_UNSCOPED_ACTIONS, *([SSM_COMMAND_OUTPUT_ACTION] if command_output else [])]
    policy = iam.ManagedPolicy(
        scope,
        constants.SSM_POLICY_ID,
        description=description,
        roles=[role],
        statements=[
            iam.PolicyStatement(actions=list(SSM_WINDOW_ACTIONS), resources=[windows]),
            # "*" can only be narrowed by a condition: this region's SSM.
            iam.PolicyStatement(
                actions=unscoped,
                resources=["*"],
                conditions={"StringEquals": {"aws:RequestedRegion": Aws.REGION}},
            ),
        ],
    )
    cfn_policy = policy.node.default_child
    output = (
        f" {SSM_COMMAND_OUTPUT_ACTION} reads a Run Command invocation's output, which the alert "
        "quotes for at most errorDetailsLimit failures per window execution."
        if command_output
        else ""
    )
    acknowledge(
        cfn_policy,
        "AwsSolutions-IAM5[Resource::*]",
        f"{', '.join(unscoped)} support no resource-level permissions (Service Authorization "
        "Reference for AWS Systems Manager: no resource type), so Resource must be '*'; the "
        "statement allows only these read actions, and only in this region "
        f"(aws:RequestedRegion).{output}",
    )
    acknowledge(
        cfn_policy,
        "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ssm:<AWS::Region>:"
        "<AWS::AccountId>:maintenancewindow/*]",
        "The alert function reads the executions (reconciliation sweep) and the name and "
        "description (alerts) of any maintenance window of this account and region, "
        "including windows created after this stack, by anyone; so the only scope is all "
        "maintenance windows here. The statement allows only "
        f"{' and '.join(SSM_WINDOW_ACTIONS)}.",
    )
    return policy


def assume_role_policies(
    scope: Construct, role: iam.IRole, role_arns: Sequence[str]
) -> list[iam.ManagedPolicy]:
    """Let `role` assume exactly these roles (central mode: the member roles), in customer
    managed policies of ROLE_ARNS_PER_POLICY roles each (IAM's size limit per policy)."""
    return [
        iam.ManagedPolicy(
            scope,
            f"{constants.ASSUME_MEMBER_ROLES_POLICY_ID}{index + 1 if index else ''}",
            description="Assume the read-only roles of the member accounts (alert function)",
            roles=[role],
            statements=[
                iam.PolicyStatement(
                    actions=["sts:AssumeRole"],
                    resources=list(role_arns[start : start + ROLE_ARNS_PER_POLICY]),
                )
            ],
        )
        for index, start in enumerate(range(0, len(role_arns), ROLE_ARNS_PER_POLICY))
    ]


def central_event_bus(scope: Construct, central: Central) -> events.EventBus:
    """The bus member stacks forward their events to; only the members (or, with an
    organization ID, the accounts of that organization) may put events on it."""
    bus = events.EventBus(
        scope,
        constants.CENTRAL_BUS_ID,
        event_bus_name=contract.CENTRAL_BUS_NAME,
        description="Maintenance-window executions forwarded by the member accounts",
    )
    principals: list[iam.IPrincipal] = (
        [iam.OrganizationPrincipal(central.organization_id)]
        if central.organization_id
        else [iam.ArnPrincipal(central.account_root_arn(m.account)) for m in central.members]
    )
    bus.add_to_resource_policy(
        iam.PolicyStatement(
            sid=constants.BUS_POLICY_SID,
            principals=principals,
            actions=["events:PutEvents"],
            resources=[bus.event_bus_arn],
        )
    )
    return bus


def allow_only_function_and_alarms_to_publish(topic: sns.Topic, role: iam.IRole) -> None:
    """Let only the alert function's role and this account's CloudWatch alarms publish to the topic.

    IAM alone would let any principal of the account with sns:Publish on "*" (an administrator, a
    careless CI role) send messages that look like alerts. The Deny closes that: it applies to a
    request unless it comes from the function's role (aws:PrincipalArn) or from a CloudWatch
    alarm of this account and region (aws:SourceArn). Both negated conditions must hold for it to
    apply, and a negated operator is true when its key is absent: an IAM user's request carries
    no aws:SourceArn, so it is denied; CloudWatch's request carries the alarm's ARN (and, being a
    service principal, no aws:PrincipalArn), so it is not.
    """
    alarms = alarm_arns(topic)

    def publish(sid: str, principal: iam.IPrincipal, **options: Any) -> None:
        topic.add_to_resource_policy(
            iam.PolicyStatement(
                sid=sid,
                principals=[principal],
                actions=["sns:Publish"],
                resources=[topic.topic_arn],
                **options,
            )
        )

    # The topic's policy replaces SNS's default one, so the alarms need an Allow of their own.
    publish(
        "AllowAlarmsToPublish",
        iam.ServicePrincipal("cloudwatch.amazonaws.com"),
        conditions={
            "StringEquals": {"aws:SourceAccount": Aws.ACCOUNT_ID},
            "ArnLike": {"aws:SourceArn": alarms},
        },
    )
    # Redundant with the role's own policy (same account), but it states the intent here too.
    publish("AllowFunctionToPublish", iam.ArnPrincipal(role.role_arn))
    publish(
        "DenyPublishByAnyoneElse",
        iam.StarPrincipal(),
        effect=iam.Effect.DENY,
        conditions={
            "ArnNotEquals": {"aws:PrincipalArn": role.role_arn},
            "ArnNotLike": {"aws:SourceArn": alarms},
        },
    )


def alarm_arns(scope: IConstruct) -> str:
    """The ARN pattern of every CloudWatch alarm in this stack's account and region."""
    return Stack.of(scope).format_arn(
        service="cloudwatch",
        resource="alarm",
        resource_name="*",
        arn_format=ArnFormat.COLON_RESOURCE_NAME,
    )


def acknowledge(construct: IConstruct | None, rule_id: str, reason: str) -> None:
    """Acknowledge one cdk-nag finding on one construct, with the reason it is acceptable."""
    assert construct is not None, rule_id  # an L2 without its L1 would be a CDK bug
    Validations.of(construct).acknowledge(Acknowledgment(id=rule_id, reason=reason))


def _allow_service(
    key: kms.Key,
    service: str,
    actions: tuple[str, ...],
    conditions: dict[str, Any] | None = None,
    *,
    principal: str | None = None,
) -> None:
    """Let an AWS service use the key for what it stores or sends on this construct's behalf."""
    key.add_to_resource_policy(
        iam.PolicyStatement(
            sid=f"Allow{service.capitalize()}ToEncrypt",
            principals=[iam.ServicePrincipal(principal or f"{service}.amazonaws.com")],
            actions=list(actions),
            resources=["*"],  # in a key policy, "*" is this key
            conditions=conditions,
        )
    )
