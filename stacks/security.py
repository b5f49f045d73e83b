"""Roles, their policies and the topics' resource policies: who may do what, and nobody else."""

from collections.abc import Sequence
from typing import Any

from aws_cdk import Aws
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sns as sns
from constructs import Construct

from maintenance_window_alerts import compliance, constants
from maintenance_window_alerts.layout_model import Central, Organization
from maintenance_window_alerts.settings import Settings
from mwalerts import contract

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
# The only item actions Powertools' DynamoDB idempotency layer calls.
TABLE_ACTIONS = (
    "dynamodb:GetItem",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
)
# What mwalerts.streak_store calls on the streak table: Query (a window's items),
# TransactWriteItems, which IAM authorises per action in it, as the action of the underlying
# operation ("Using IAM with DynamoDB transactions", DynamoDB Developer Guide): Put and Delete
# are dynamodb:PutItem and dynamodb:DeleteItem; it uses no Update or ConditionCheck (the
# window's item is a conditional Put); and BatchWriteItem, for a change of more than 99
# targets. No GetItem, no Scan.
STREAK_TABLE_ACTIONS = (
    "dynamodb:Query",
    "dynamodb:PutItem",
    "dynamodb:DeleteItem",
    "dynamodb:BatchWriteItem",
)
# What AWS documents a sender to a KMS-encrypted SNS topic or SQS queue needs of its key (SNS and
# SQS developer guides, key management); not kms:Encrypt or kms:ReEncrypt*, which
# queue.grant_send_messages adds as well.
SENDER_KEY_ACTIONS = ("kms:Decrypt", "kms:GenerateDataKey*")


def execution_role(
    scope: Construct,
    log_group: logs.ILogGroup,
    *,
    settings: Settings,
    central: Central | Organization | None,
) -> tuple[iam.Role, list[iam.ManagedPolicy]]:
    """The function's role, and the customer managed policies that let it read SSM: this
    account's and region's, or in central and organization mode the members' through their
    roles."""
    # Not AWSLambdaBasicExecutionRole: this role may write to its own log group only.
    role = iam.Role(
        scope,
        constants.ROLE_ID,
        assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
        description="Maintenance-window alert function",
        # In central mode the member roles trust this role by its ARN, so its name is fixed.
        role_name=(
            contract.central_function_role_name(central.region, central.qualifier)
            if central is not None
            else None
        ),
    )
    log_group.grant_write(role)
    if isinstance(central, Organization):
        return role, [organization_member_policy(scope, role, central)]
    if central is not None:
        return role, assume_role_policies(scope, role, central.member_role_arns)
    policy = ssm_read_policy(
        scope,
        role,
        command_output=settings.error_details_limit > 0,
        description="Read maintenance windows and their executions (alert function)",
    )
    return role, [policy]


def grant_function(
    function: lambda_.Function,
    *,
    topics: Sequence[sns.ITopic],
    message_key: kms.IKey,
    table: dynamodb.ITable,
    streak_table: dynamodb.ITable,
    data_key: kms.IKey,
) -> None:
    """Let the function publish to the topics and use its two tables, nothing more.

    Lambda sends the events the function failed on to its on-failure queue with the function's
    role: the destination grants sqs:SendMessage on the queue, and this what sending needs of the
    queue's key (the message key)."""
    for topic in topics:
        topic.grant_publish(function)  # sns:Publish, and SENDER_KEY_ACTIONS on the topic's key
    function.add_to_role_policy(
        iam.PolicyStatement(actions=list(SENDER_KEY_ACTIONS), resources=[message_key.key_arn])
    )
    table.grant(function, *TABLE_ACTIONS)
    streak_table.grant(function, *STREAK_TABLE_ACTIONS)
    # DynamoDB decrypts the table key with the caller's permission on the first access to
    # the table (and every 5 minutes after); it generates the table key itself, under the
    # grant it creates with the table. So the caller needs kms:Decrypt only, and only through
    # DynamoDB: the function cannot use the data key for anything else. Both tables have the
    # data key, so this one statement covers both.
    function.add_to_role_policy(
        iam.PolicyStatement(
            actions=["kms:Decrypt"],
            resources=[data_key.key_arn],
            conditions={
                "StringEquals": {"kms:ViaService": f"dynamodb.{Aws.REGION}.{Aws.URL_SUFFIX}"}
            },
        )
    )


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
    compliance.acknowledge_ssm_read_policy(
        policy,
        window_actions=SSM_WINDOW_ACTIONS,
        unscoped_actions=unscoped,
        command_output_action=SSM_COMMAND_OUTPUT_ACTION if command_output else None,
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


def organization_member_policy(
    scope: Construct, role: iam.IRole, organization: Organization
) -> iam.ManagedPolicy:
    """Organization mode: let `role` assume the reader role of any member of the organization
    in a covered region (one role name per region: the region is part of it), and list the
    StackSet's instances, which say who the members are (no list of them anywhere)."""
    partition = organization.partition
    reader_roles = [
        f"arn:{partition}:iam::*:role/{contract.member_role_name(region, organization.qualifier)}"
        for region in organization.regions
    ]
    # Account "*": a delegated administrator's StackSet is created in the management account.
    stack_set = (
        f"arn:{partition}:cloudformation:{organization.region}:*:stackset/"
        f"{organization.stack_set_name}:*"
    )
    statements = [
        iam.PolicyStatement(
            actions=["sts:AssumeRole"],
            resources=reader_roles,
            conditions={"StringEquals": {"aws:ResourceOrgID": organization.organization_id}},
        ),
        iam.PolicyStatement(actions=["cloudformation:ListStackInstances"], resources=[stack_set]),
    ]
    if organization.call_as == contract.CALL_AS_DELEGATED_ADMIN:
        # CloudFormation User Guide, "Register a delegated administrator": a delegated
        # administrator's callers need it; it supports no resource-level permissions.
        statements.append(
            iam.PolicyStatement(
                actions=["organizations:ListDelegatedAdministrators"], resources=["*"]
            )
        )
    policy = iam.ManagedPolicy(
        scope,
        constants.ORGANIZATION_MEMBERS_POLICY_ID,
        description=(
            "Assume the organization's member reader roles and list the member StackSet's "
            "instances (alert function)"
        ),
        roles=[role],
        statements=statements,
    )
    compliance.acknowledge_organization_member_policy(
        policy, reader_roles=reader_roles, stack_set=stack_set, call_as=organization.call_as
    )
    return policy


def allow_only_function_and_own_alarms_to_publish(
    topic: sns.Topic, role: iam.IRole, alarm_arns: str
) -> None:
    """Let only the alert function's role and the construct's own alarms (`alarm_arns`, an ARN
    pattern) publish to the topic.

    IAM alone would let any principal of the account with sns:Publish on "*" (an administrator, a
    careless CI role) send messages that look like alerts, and any alarm of the account could be
    pointed at the topic. The Deny closes that: it applies to a request unless it comes from the
    function's role (aws:PrincipalArn) or from one of the construct's alarms (aws:SourceArn). Both
    negated conditions must hold for it to apply, and a negated operator is true when its key is
    absent: an IAM user's request carries no aws:SourceArn, so it is denied; CloudWatch's request
    carries the alarm's ARN (and, being a service principal, no aws:PrincipalArn), so it is
    denied unless the alarm is one of the construct's.
    """
    # The topic's policy replaces SNS's default one, so the alarms need an Allow of their own.
    _publish_statement(
        topic,
        "AllowAlarmsToPublish",
        iam.ServicePrincipal("cloudwatch.amazonaws.com"),
        conditions={
            "StringEquals": {"aws:SourceAccount": Aws.ACCOUNT_ID},
            "ArnLike": {"aws:SourceArn": alarm_arns},
        },
    )
    _allow_function_and_deny_anyone_else(
        topic, role, also_not={"ArnNotLike": {"aws:SourceArn": alarm_arns}}
    )


def allow_only_function_to_publish(topic: sns.Topic, role: iam.IRole) -> None:
    """Let only the alert function's role publish to the topic: no alarm, nobody else (a
    service principal's request has no aws:PrincipalArn, so the Deny applies to it too)."""
    _allow_function_and_deny_anyone_else(topic, role, also_not={})


def _allow_function_and_deny_anyone_else(
    topic: sns.Topic, role: iam.IRole, *, also_not: dict[str, Any]
) -> None:
    """Allow the function's role; deny everyone else, except whom `also_not` leaves out (more
    negated conditions, which must all hold too for the Deny to apply)."""
    # Redundant with the role's own policy (same account), but it states the intent here too.
    _publish_statement(topic, "AllowFunctionToPublish", iam.ArnPrincipal(role.role_arn))
    _publish_statement(
        topic,
        "DenyPublishByAnyoneElse",
        iam.StarPrincipal(),
        effect=iam.Effect.DENY,
        conditions={"ArnNotEquals": {"aws:PrincipalArn": role.role_arn}, **also_not},
    )


def _publish_statement(
    topic: sns.Topic, sid: str, principal: iam.IPrincipal, **options: Any
) -> None:
    """A statement on sns:Publish to the topic (an Allow unless `options` say otherwise)."""
    topic.add_to_resource_policy(
        iam.PolicyStatement(
            sid=sid,
            principals=[principal],
            actions=["sns:Publish"],
            resources=[topic.topic_arn],
            **options,
        )
    )
