"""The construct's two KMS keys, and which AWS services may use them for what."""

from typing import Any

from aws_cdk import ArnFormat, Aws, Duration, RemovalPolicy, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct

from maintenance_window_alerts import constants
from maintenance_window_alerts.alarms import own_alarm_arns

# The actions AWS documents for a CloudWatch Logs log group's key ("Encrypt log data in CloudWatch
# Logs using AWS Key Management Service").
LOGS_KEY_ACTIONS = (
    "kms:Encrypt*",
    "kms:Decrypt*",
    "kms:ReEncrypt*",
    "kms:GenerateDataKey*",
    "kms:Describe*",
)


def message_key(scope: Construct, *, sweep_queue: bool = False) -> kms.Key:
    """The key of messages in flight: the topics and the dead-letter queues of the construct
    `scope`, and with `sweep_queue` (organization mode) the sweep's queue."""
    queues = (
        "its dead-letter queues and the sweep queue" if sweep_queue else "its dead-letter queues"
    )
    key = _rotating_key(
        scope,
        constants.KEY_ID,
        description=f"Encrypts the maintenance-window alert topic and {queues}",
        # It only protects messages in flight, which are deleted with the topic and queues.
        removal_policy=RemovalPolicy.DESTROY,
        pending_window=Duration.days(7),
    )
    # The construct's alarms publishing to the alert topic, told by their name prefix:
    # CloudWatch's requests carry the alarm's ARN and account. (A list of every alarm's ARN
    # could outgrow the key policy's 32 KB with many windows.)
    _allow_service(
        key,
        "cloudwatch",
        ("kms:Decrypt", "kms:GenerateDataKey"),
        {
            "StringEquals": {"aws:SourceAccount": Aws.ACCOUNT_ID},
            "ArnLike": {"aws:SourceArn": own_alarm_arns(scope)},
        },
    )
    # EventBridge sending to the rules' dead-letter queue: the statement AWS documents for
    # encrypted EventBridge targets, without source conditions (EventBridge's KMS requests do
    # not carry them, and a condition would silently drop dead letters). The queue's own
    # policy admits only this construct's rules.
    _allow_service(key, "events", ("kms:Decrypt", "kms:GenerateDataKey"))
    return key


def data_key(scope: Construct) -> kms.Key:
    """The key of data at rest: the idempotency and streak tables and the function's log
    group."""
    key = _rotating_key(
        scope,
        constants.DATA_KEY_ID,
        description="Encrypts the maintenance-window alert function's tables and logs",
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


def _rotating_key(
    scope: Construct,
    construct_id: str,
    *,
    description: str,
    removal_policy: RemovalPolicy,
    pending_window: Duration | None = None,
) -> kms.Key:
    """A customer managed key that rotates every year, whose grants only AWS services make."""
    key = kms.Key(
        scope,
        construct_id,
        description=description,
        enable_key_rotation=True,
        removal_policy=removal_policy,
        pending_window=pending_window,
    )
    _deny_grants_not_for_aws_resources(key)
    return key


def _deny_grants_not_for_aws_resources(key: kms.Key) -> None:
    """No grant on the key but those an AWS service creates for its own use of it (AWS Control
    Tower's CT.KMS.PR.3): a grant is a key permission that no key or IAM policy shows.

    Nothing here needs another: DynamoDB creates its grants on the table's key through
    CloudFormation's call (kms:GrantIsForAWSResource is true); CloudWatch Logs, SNS, SQS and
    EventBridge use the key by the key policy's statements, Lambda by its role's policy. The
    account keeps administering the key (this denies only kms:CreateGrant), and can lift it with
    kms:PutKeyPolicy."""
    key.add_to_resource_policy(
        iam.PolicyStatement(
            sid="DenyGrantsNotForAwsResources",
            effect=iam.Effect.DENY,
            principals=[iam.AnyPrincipal()],
            actions=["kms:CreateGrant"],
            resources=["*"],
            conditions={
                # Both false: a grant that no AWS service asked for, by no service principal.
                # IfExists: a request without the key is denied too.
                "BoolIfExists": {
                    "kms:GrantIsForAWSResource": "false",
                    "aws:PrincipalIsAWSService": "false",
                }
            },
        )
    )


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
