"""The alert function: its code and runtime, its environment, its log group and its table."""

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_destinations as destinations
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_ssm as ssm
from constructs import Construct

from maintenance_window_alerts import compliance, constants
from maintenance_window_alerts.layout_model import Central
from maintenance_window_alerts.settings import Settings
from mwalerts import contract


def idempotency_table(scope: Construct, data_key: kms.IKey) -> dynamodb.Table:
    """Powertools' idempotency records: which executions were already alerted on."""
    table = dynamodb.Table(
        scope,
        constants.TABLE_ID,
        partition_key=dynamodb.Attribute(
            name=contract.IDEMPOTENCY_PARTITION_KEY, type=dynamodb.AttributeType.STRING
        ),
        time_to_live_attribute=contract.IDEMPOTENCY_TTL_ATTRIBUTE,
        billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,  # a few writes an hour
        encryption=dynamodb.TableEncryption.CUSTOMER_MANAGED,
        encryption_key=data_key,
        point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
            point_in_time_recovery_enabled=True
        ),
        # A cache of what was alerted on, expiring after 15 days, and useless without the
        # function: deleted with the stack. Losing it costs at most a repeated alert.
        removal_policy=RemovalPolicy.DESTROY,
    )
    compliance.acknowledge_idempotency_table(table)
    return table


def function_log_group(scope: Construct, settings: Settings, data_key: kms.IKey) -> logs.LogGroup:
    """The function's own log group, encrypted with the data key."""
    return logs.LogGroup(
        scope, constants.LOG_GROUP_ID, retention=settings.log_retention, encryption_key=data_key
    )


def function_environment(
    settings: Settings,
    central: Central | None,
    *,
    topic: sns.ITopic,
    chat_topic: sns.ITopic | None,
    table: dynamodb.ITable,
    log_group: logs.ILogGroup,
) -> dict[str, str]:
    """What the function reads at start-up (mwalerts.function_settings)."""
    return {
        contract.ENV_ALERT_TOPIC_ARN: topic.topic_arn,
        contract.ENV_ALERT_STATUSES: ",".join(settings.alert_statuses),
        contract.ENV_METRICS_NAMESPACE: settings.metrics_namespace,
        contract.ENV_IDEMPOTENCY_TABLE: table.table_name,
        contract.ENV_SWEEP_LOOKBACK_MINUTES: str(settings.sweep_lookback_minutes),
        contract.ENV_ERROR_DETAILS_LIMIT: str(settings.error_details_limit),
        contract.ENV_CHAT_NOTIFICATIONS: settings.chat_notifications,
        **({contract.ENV_CHAT_TOPIC_ARN: chat_topic.topic_arn} if chat_topic is not None else {}),
        # For the link to the failed invocations in Logs Insights in each alert.
        contract.ENV_LOG_GROUP_NAME: log_group.log_group_name,
        **_central_environment(central),
        # No POWERTOOLS_SERVICE_NAME: it would add a "service" dimension to every metric
        # and break the dimensionless fleet-wide series the alarms read.
        "POWERTOOLS_LOG_LEVEL": constants.LOG_LEVEL,
    }


def alert_function(
    scope: Construct,
    *,
    role: iam.IRole,
    environment: dict[str, str],
    log_group: logs.ILogGroup,
    failure_queue: sqs.IQueue,
) -> lambda_.Function:
    """The function: plain source on the AWS-published Powertools layer, traced, logging JSON;
    an event it fails on after its retries goes to `failure_queue`."""
    layer = lambda_.LayerVersion.from_layer_version_arn(
        scope,
        constants.POWERTOOLS_LAYER_ID,
        # Resolved at deploy time from AWS's public parameter: no lookup at synth, any region.
        ssm.StringParameter.value_for_string_parameter(scope, constants.POWERTOOLS_LAYER_PARAMETER),
    )
    function = lambda_.Function(
        scope,
        constants.FUNCTION_ID,
        description="Alerts on SSM maintenance-window runs with failed invocations",
        runtime=constants.LAMBDA_RUNTIME,
        architecture=constants.LAMBDA_ARCHITECTURE,
        handler=constants.LAMBDA_HANDLER,
        code=lambda_.Code.from_asset(
            str(constants.LAMBDA_SOURCE), exclude=list(constants.LAMBDA_ASSET_EXCLUDE)
        ),
        layers=[layer],
        role=role,
        memory_size=512,
        # A large window means hundreds of paged SSM calls, slowed down further by adaptive
        # retries when SSM throttles.
        timeout=Duration.minutes(5),
        tracing=lambda_.Tracing.ACTIVE,
        log_group=log_group,
        logging_format=lambda_.LoggingFormat.JSON,
        application_log_level_v2=lambda_.ApplicationLogLevel[constants.LOG_LEVEL],
        environment=environment,
        retry_attempts=2,
        max_event_age=Duration.hours(6),
        on_failure=destinations.SqsDestination(failure_queue),
    )
    compliance.acknowledge_alert_function(function)
    return function


def _central_environment(central: Central | None) -> dict[str, str]:
    """Central mode: the member accounts and regions, and the external ID their roles need."""
    if central is None:
        return {}
    variables = {contract.ENV_MEMBER_ACCOUNTS: central.member_accounts_json}
    if central.external_id is not None:
        variables[contract.ENV_MEMBER_EXTERNAL_ID] = central.external_id
    return variables
