"""Keys and resource policies: which AWS services and principals may use what, and nobody else."""

from typing import Any

from aws_cdk import Acknowledgment, ArnFormat, Aws, Duration, RemovalPolicy, Stack, Validations
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from constructs import Construct, IConstruct

from stacks import constants

# The actions AWS documents for a CloudWatch Logs log group's key ("Encrypt log data in CloudWatch
# Logs using AWS Key Management Service").
LOGS_KEY_ACTIONS = (
    "kms:Encrypt*",
    "kms:Decrypt*",
    "kms:ReEncrypt*",
    "kms:GenerateDataKey*",
    "kms:Describe*",
)


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
