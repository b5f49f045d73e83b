"""MaintenanceWindowAlerts: the whole feature in one construct, reusable by other CDK apps."""

from collections.abc import Sequence

from aws_cdk import Aws, Duration, RemovalPolicy
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_destinations as destinations
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_ssm as ssm
from constructs import Construct

from maintenance_window_alerts import constants, monitoring, security
from maintenance_window_alerts.layout import Central
from maintenance_window_alerts.security import acknowledge
from maintenance_window_alerts.settings import Settings
from mwalerts import contract

# The only item actions Powertools' DynamoDB idempotency layer calls.
TABLE_ACTIONS = (
    "dynamodb:GetItem",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
)


def window_execution_pattern(accounts: Sequence[str] = ()) -> events.EventPattern:
    """SSM's events for window executions that have ended (from these accounts only, if any)."""
    return events.EventPattern(
        source=[contract.EVENT_SOURCE],
        detail_type=[contract.WINDOW_EXECUTION_DETAIL_TYPE],
        detail={"status": list(contract.TERMINAL_STATUSES)},
        account=list(accounts) or None,
    )


class MaintenanceWindowAlerts(Construct):
    """Alerts on every SSM maintenance-window run that ends with failed invocations.

    EventBridge sends each finished window execution to a Lambda that reads its invocations from
    SSM, publishes an alert to an encrypted SNS topic (and, if configured, to a second topic in
    the chat applications' format) and emits CloudWatch metrics; alarms (fleet-wide, per window,
    and for windows that stop running) and a dashboard watch those metrics. A schedule runs the
    same Lambda as a reconciliation sweep that catches executions whose event never arrived, and
    an idempotency table makes sure that an execution seen twice (a retried event, the sweep, a
    redrive) is alerted on once. Events that cannot be delivered or processed land in one of two
    dead-letter queues instead of being lost, and health alarms page the on-call when the alert
    path itself is broken.

    By default it watches its own account and region. With `central`, it watches the member
    accounts and regions instead: their member stacks forward the events to a bus of its own
    (`event_bus`, or one it creates with a policy that admits the members), and the function
    reads SSM through each member's read-only role, which its role (of a fixed name, which the
    member roles trust) may assume.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        settings: Settings,
        central: Central | None = None,
        event_bus: events.IEventBus | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        self.settings = settings
        self.central = central
        # Where the window execution events arrive: the account's default bus unless told.
        self.event_bus = event_bus or (
            security.central_event_bus(self, central) if central is not None else None
        )
        self.key = security.message_key(self)
        self.data_key = security.data_key(self)
        self.topic = self._topic(constants.TOPIC_ID, "Maintenance window alerts")
        self._subscribe_emails()
        # The alerts in the custom notification format of Amazon Q Developer in chat
        # applications, for a Slack or Teams channel configuration to subscribe.
        self.chat_topic = (
            self._topic(constants.CHAT_TOPIC_ID, "Maintenance window alerts (chat)")
            if settings.chat_notifications == contract.CHAT_SEPARATE_TOPIC
            else None
        )
        self.topics = [t for t in (self.topic, self.chat_topic) if t is not None]
        rule_dlq = self._dead_letter_queue(
            constants.RULE_DLQ_ID,
            constants.RULE_DLQ_ALARM_ID,
            "rule dead-letter queue",
            "events EventBridge could not deliver to the function (window executions, sweeps)",
        )
        function_dlq = self._dead_letter_queue(
            constants.FUNCTION_DLQ_ID,
            constants.FUNCTION_DLQ_ALARM_ID,
            "function failure queue",
            "events the function failed on after its retries",
        )
        self.dead_letter_queues = (rule_dlq, function_dlq)
        self.rule_dead_letter_queue = rule_dlq.queue
        self.function_failure_queue = function_dlq.queue
        self.table = self._table()
        self.function = self._function()
        assert self.function.role is not None  # _function gives it a role of its own
        for topic in self.topics:
            security.allow_only_function_and_alarms_to_publish(topic, self.function.role)
        self.rule = self._rule()
        self.schedule = self._schedule()
        namespace, statuses = settings.metrics_namespace, settings.counted_alert_statuses
        self.alarm = monitoring.failed_invocations_alarm(
            self, namespace=namespace, statuses=statuses, topic=self.topic
        )
        self.window_alarms = monitoring.window_alarms(
            self,
            namespace=namespace,
            statuses=statuses,
            thresholds=settings.window_alarms,
            topic=self.topic,
        )
        self.missed_window_alarms = monitoring.missed_window_alarms(
            self, namespace=namespace, gaps=settings.gaps, topic=self.topic
        )
        self.health_alarms = monitoring.health_alarms(
            self,
            topic=self.topic,
            function=self.function,
            dead_letter_queues=self.dead_letter_queues,
            namespace=namespace,
            sweep_interval=settings.sweep_interval,
        )
        self.dashboard = monitoring.dashboard(
            self,
            namespace=namespace,
            statuses=statuses,
            function=self.function,
            log_group=self.log_group,
            dead_letter_queues=self.dead_letter_queues,
            alarms=self.alarms,
            sweep_interval=settings.sweep_interval,
            dimensions=(
                contract.CENTRAL_WINDOW_DIMENSIONS
                if central is not None
                else contract.WINDOW_DIMENSIONS
            ),
        )

    @property
    def alarms(self) -> list[cloudwatch.Alarm]:
        """Every alarm of the construct: each notifies the alert topic."""
        return [
            a
            for a in (
                self.alarm,
                *self.window_alarms,
                *self.missed_window_alarms,
                *self.health_alarms,
            )
            if a is not None
        ]

    def _topic(self, construct_id: str, display_name: str) -> sns.Topic:
        """A topic for the function's messages: encrypted with the message key, TLS only."""
        return sns.Topic(
            self, construct_id, display_name=display_name, master_key=self.key, enforce_ssl=True
        )

    def _subscribe_emails(self) -> None:
        for email in self.settings.alert_emails:
            subscription = self.topic.add_subscription(subscriptions.EmailSubscription(email))
            acknowledge(
                subscription.node.default_child,
                "Serverless-SNSRedrivePolicy",
                "E-mail subscription: SNS retries delivery itself, and a redrive queue of "
                "undelivered mails would need a reader of its own; every alert is also in the "
                "function's logs and metrics, and the alarm state shows on the dashboard.",
            )

    def _dead_letter_queue(
        self, construct_id: str, alarm_id: str, label: str, holds: str
    ) -> monitoring.DeadLetterQueue:
        queue = security.dead_letter_queue(self, construct_id, holds=holds, key=self.key)
        return monitoring.DeadLetterQueue(queue, alarm_id, label, holds)

    def _table(self) -> dynamodb.Table:
        """Powertools' idempotency records: which executions were already alerted on."""
        table = dynamodb.Table(
            self,
            constants.TABLE_ID,
            partition_key=dynamodb.Attribute(
                name=contract.IDEMPOTENCY_PARTITION_KEY, type=dynamodb.AttributeType.STRING
            ),
            time_to_live_attribute=contract.IDEMPOTENCY_TTL_ATTRIBUTE,
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,  # a few writes an hour
            encryption=dynamodb.TableEncryption.CUSTOMER_MANAGED,
            encryption_key=self.data_key,
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            # A cache of what was alerted on, expiring after 15 days, and useless without the
            # function: deleted with the stack. Losing it costs at most a repeated alert.
            removal_policy=RemovalPolicy.DESTROY,
        )
        acknowledge(
            table.node.default_child,
            "NIST.800.53.R5-DynamoDBInBackupPlan",
            "Point-in-time recovery is on (35 days of restore points), more than this table "
            "needs: it caches for 15 days which executions were already alerted on, and losing "
            "it costs at most one repeated alert per execution. A backup plan would add a vault "
            "and a role for data that expires on its own.",
        )
        return table

    def _function(self) -> lambda_.Function:
        self.log_group = log_group = logs.LogGroup(
            self,
            constants.LOG_GROUP_ID,
            retention=self.settings.log_retention,
            encryption_key=self.data_key,
        )
        role, read_policies = self._execution_role(log_group)
        layer = lambda_.LayerVersion.from_layer_version_arn(
            self,
            constants.POWERTOOLS_LAYER_ID,
            # Resolved at deploy time from AWS's public parameter: no lookup at synth, any region.
            ssm.StringParameter.value_for_string_parameter(
                self, constants.POWERTOOLS_LAYER_PARAMETER
            ),
        )
        function = lambda_.Function(
            self,
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
            environment={
                contract.ENV_ALERT_TOPIC_ARN: self.topic.topic_arn,
                contract.ENV_ALERT_STATUSES: ",".join(self.settings.alert_statuses),
                contract.ENV_METRICS_NAMESPACE: self.settings.metrics_namespace,
                contract.ENV_IDEMPOTENCY_TABLE: self.table.table_name,
                contract.ENV_SWEEP_LOOKBACK_MINUTES: str(self.settings.sweep_lookback_minutes),
                contract.ENV_ERROR_DETAILS_LIMIT: str(self.settings.error_details_limit),
                contract.ENV_CHAT_NOTIFICATIONS: self.settings.chat_notifications,
                **(
                    {contract.ENV_CHAT_TOPIC_ARN: self.chat_topic.topic_arn}
                    if self.chat_topic is not None
                    else {}
                ),
                # For the link to the failed invocations in Logs Insights in each alert.
                contract.ENV_LOG_GROUP_NAME: log_group.log_group_name,
                **self._central_environment(),
                # No POWERTOOLS_SERVICE_NAME: it would add a "service" dimension to every metric
                # and break the dimensionless fleet-wide series the alarms read.
                "POWERTOOLS_LOG_LEVEL": constants.LOG_LEVEL,
            },
            retry_attempts=2,
            max_event_age=Duration.hours(6),
            on_failure=destinations.SqsDestination(self.function_failure_queue),
        )
        # No first invocation before it may read SSM (or assume the member roles that may).
        function.node.add_dependency(*read_policies)
        for topic in self.topics:
            topic.grant_publish(function)
        self.table.grant(function, *TABLE_ACTIONS)
        # DynamoDB decrypts the table key with the caller's permission on the first access to
        # the table (and every 5 minutes after); it generates the table key itself, under the
        # grant it creates with the table. So the caller needs kms:Decrypt only, and only through
        # DynamoDB: the function cannot use the data key for anything else.
        function.add_to_role_policy(
            iam.PolicyStatement(
                actions=["kms:Decrypt"],
                resources=[self.data_key.key_arn],
                conditions={
                    "StringEquals": {"kms:ViaService": f"dynamodb.{Aws.REGION}.{Aws.URL_SUFFIX}"}
                },
            )
        )
        self._acknowledge_function_findings(function, role)
        return function

    def _acknowledge_function_findings(self, function: lambda_.Function, role: iam.Role) -> None:
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
        # The grants above and tracing=ACTIVE wrote the role's default policy.
        default_policy = role.node.find_child("DefaultPolicy").node.default_child
        acknowledge(
            default_policy,
            "AwsSolutions-IAM5[Resource::*]",
            "Only xray:PutTraceSegments and xray:PutTelemetryRecords (tracing=ACTIVE) have "
            "Resource '*': X-Ray supports no resource-level permissions for them.",
        )
        for action, grants in (
            ("kms:GenerateDataKey*", "topic.grant_publish and queue.grant_send_messages"),
            ("kms:ReEncrypt*", "queue.grant_send_messages"),
        ):
            acknowledge(
                default_policy,
                f"AwsSolutions-IAM5[Action::{action}]",
                f"Written by CDK's {grants} for the KMS-encrypted topic and on-failure queue; "
                "the statement's only Resource is this construct's message key.",
            )
        acknowledge(
            default_policy,
            "NIST.800.53.R5-IAMNoInlinePolicy",
            "The role's default policy is where CDK's grants write their least-privilege "
            "statements (each on this construct's own topic, queue, table, key and log group); "
            "it belongs to this one role and is deleted with it, so a customer managed policy "
            "would only add a resource that nothing else may attach.",
        )

    def _central_environment(self) -> dict[str, str]:
        """Central mode: the member accounts and regions, and the external ID their roles need."""
        if self.central is None:
            return {}
        environment = {contract.ENV_MEMBER_ACCOUNTS: self.central.member_accounts_json}
        if self.central.external_id is not None:
            environment[contract.ENV_MEMBER_EXTERNAL_ID] = self.central.external_id
        return environment

    def _execution_role(self, log_group: logs.LogGroup) -> tuple[iam.Role, list[iam.ManagedPolicy]]:
        """The function's role, and the customer managed policies that let it read SSM: this
        account's and region's, or in central mode the member accounts' through their roles."""
        central = self.central
        # Not AWSLambdaBasicExecutionRole: this role may write to its own log group only.
        role = iam.Role(
            self,
            constants.ROLE_ID,
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description="Maintenance-window alert function",
            # In central mode the member roles trust this role by its ARN, so its name is fixed.
            role_name=(
                contract.central_function_role_name(central.region) if central is not None else None
            ),
        )
        log_group.grant_write(role)
        if central is not None:
            return role, security.assume_role_policies(self, role, central.member_role_arns)
        policy = security.ssm_read_policy(
            self,
            role,
            command_output=self.settings.error_details_limit > 0,
            description="Read maintenance windows and their executions (alert function)",
        )
        return role, [policy]

    def _rule(self) -> events.Rule:
        # In central mode, only the member accounts' events (as forwarded, with their own
        # account and region), whoever else the bus admits.
        accounts = [m.account for m in self.central.members] if self.central else []
        return events.Rule(
            self,
            constants.RULE_ID,
            description="SSM maintenance-window executions that have ended",
            event_bus=self.event_bus,
            event_pattern=window_execution_pattern(accounts),
            targets=[
                targets.LambdaFunction(
                    self.function,
                    dead_letter_queue=self.rule_dead_letter_queue,
                    max_event_age=Duration.hours(24),
                    retry_attempts=185,  # EventBridge's maximum
                )
            ],
        )

    def _schedule(self) -> events.Rule:
        """The reconciliation sweep: finds ended executions whose event never arrived."""
        interval = self.settings.sweep_interval
        return events.Rule(
            self,
            constants.SCHEDULE_ID,
            description="Reconciliation sweep of maintenance-window executions",
            schedule=events.Schedule.rate(interval),
            targets=[
                # The scheduled event as it is (no input transformation): the function tells it
                # from SSM's by its source and detail-type.
                targets.LambdaFunction(
                    self.function,
                    dead_letter_queue=self.rule_dead_letter_queue,
                    # A sweep older than one interval is superseded by the next one, which looks
                    # back over several intervals anyway.
                    max_event_age=interval,
                    retry_attempts=185,
                )
            ],
        )
