"""MaintenanceWindowAlerts: the whole feature in one construct, reusable by other CDK apps."""

from collections.abc import Sequence
from typing import Any

from aws_cdk import (
    Acknowledgment,
    ArnFormat,
    Aws,
    Duration,
    RemovalPolicy,
    Stack,
    Validations,
)
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cloudwatch_actions
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_destinations as destinations
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_ssm as ssm
from constructs import Construct, IConstruct

from mwalerts import names
from stacks import constants
from stacks.settings import Settings

PERIOD = Duration.minutes(5)
SSM_ACTIONS = (
    "ssm:DescribeMaintenanceWindowExecutionTasks",
    "ssm:DescribeMaintenanceWindowExecutionTaskInvocations",
)


class MaintenanceWindowAlerts(Construct):
    """Alerts on every SSM maintenance-window run that ends with failed invocations.

    EventBridge sends each finished window execution to a Lambda that reads its invocations from
    SSM, publishes an alert to an encrypted SNS topic and emits CloudWatch metrics; an alarm and a
    dashboard watch those metrics. Events that cannot be delivered or processed land in one of two
    dead-letter queues instead of being lost.
    """

    def __init__(self, scope: Construct, construct_id: str, *, settings: Settings) -> None:
        super().__init__(scope, construct_id)
        self.settings = settings
        self.key = self._key()
        self.topic = self._topic()
        self.rule_dead_letter_queue = self._dead_letter_queue(
            constants.RULE_DLQ_ID, "events EventBridge could not deliver to the function"
        )
        self.function_failure_queue = self._dead_letter_queue(
            constants.FUNCTION_DLQ_ID, "events the function failed on after its retries"
        )
        self.function = self._function()
        self.rule = self._rule()
        self.alarm = self._alarm()
        self.dashboard = self._dashboard()

    def _key(self) -> kms.Key:
        key = kms.Key(
            self,
            constants.KEY_ID,
            description="Encrypts the maintenance-window alert topic and its dead-letter queues",
            enable_key_rotation=True,
            # It only protects messages in flight, which are deleted with the topic and queues.
            removal_policy=RemovalPolicy.DESTROY,
            pending_window=Duration.days(7),
        )
        # Services that write to the encrypted topic and queues ("*" in a key policy is this key).
        # CloudWatch alarms publishing to the topic: scoped to this account's alarms (their exact
        # ARNs would make a cycle: key -> topic -> alarm -> key).
        alarms = Stack.of(self).format_arn(
            service="cloudwatch",
            resource="alarm",
            resource_name="*",
            arn_format=ArnFormat.COLON_RESOURCE_NAME,
        )
        _let_service_encrypt(
            key,
            "cloudwatch",
            {
                "StringEquals": {"aws:SourceAccount": Aws.ACCOUNT_ID},
                "ArnLike": {"aws:SourceArn": alarms},
            },
        )
        # EventBridge sending to the rule's dead-letter queue: the statement AWS documents for
        # encrypted EventBridge targets, without source conditions (EventBridge's KMS requests do
        # not carry them, and a condition would silently drop dead letters). The queue's own
        # policy admits only this rule.
        _let_service_encrypt(key, "events")
        return key

    def _topic(self) -> sns.Topic:
        topic = sns.Topic(
            self,
            constants.TOPIC_ID,
            display_name="Maintenance window alerts",
            master_key=self.key,
            enforce_ssl=True,
        )
        for email in self.settings.alert_emails:
            subscription = topic.add_subscription(subscriptions.EmailSubscription(email))
            _acknowledge(
                subscription.node.default_child,
                "Serverless-SNSRedrivePolicy",
                "E-mail subscription: SNS retries delivery itself, and a redrive queue of "
                "undelivered mails would need a reader of its own; every alert is also in the "
                "function's logs and metrics, and the alarm state shows on the dashboard.",
            )
        return topic

    def _dead_letter_queue(self, construct_id: str, holds: str) -> sqs.Queue:
        queue = sqs.Queue(
            self,
            construct_id,
            encryption=sqs.QueueEncryption.KMS,
            encryption_master_key=self.key,
            enforce_ssl=True,
            retention_period=Duration.days(14),  # the maximum: time to notice and redrive
        )
        reason = (
            f"This queue is itself a dead-letter queue (it holds {holds}); "
            "a dead-letter queue of a dead-letter queue would only move the problem."
        )
        for rule_id in ("AwsSolutions-SQS3", "Serverless-SQSRedrivePolicy"):
            _acknowledge(queue.node.default_child, rule_id, reason)
        return queue

    def _function(self) -> lambda_.Function:
        log_group = logs.LogGroup(
            self, constants.LOG_GROUP_ID, retention=self.settings.log_retention
        )
        role, ssm_read = self._execution_role(log_group)
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
                names.ENV_ALERT_TOPIC_ARN: self.topic.topic_arn,
                names.ENV_ALERT_STATUSES: ",".join(self.settings.alert_statuses),
                names.ENV_METRICS_NAMESPACE: self.settings.metrics_namespace,
                # No POWERTOOLS_SERVICE_NAME: it would add a "service" dimension to every metric
                # and break the dimensionless fleet-wide series the alarm reads.
                "POWERTOOLS_LOG_LEVEL": constants.LOG_LEVEL,
            },
            retry_attempts=2,
            max_event_age=Duration.hours(6),
            on_failure=destinations.SqsDestination(self.function_failure_queue),
        )
        function.node.add_dependency(ssm_read)  # no first invocation before the policy exists
        self.topic.grant_publish(function)

        cfn_function = function.node.default_child
        for rule_id in ("AwsSolutions-L1", "Serverless-LambdaLatestVersion"):
            _acknowledge(
                cfn_function,
                rule_id,
                f"Pinned to {constants.LAMBDA_RUNTIME.name}, the runtime of the AWS-published "
                f"Powertools {constants.POWERTOOLS_VERSION} layer it uses and of the tests.",
            )
        _acknowledge(
            cfn_function,
            "Serverless-LambdaDLQ",
            "Failed asynchronous invocations go to an SQS on-failure destination (the "
            "function's EventInvokeConfig), which supersedes a dead-letter queue and also "
            "records the error.",
        )
        # The grants above and tracing=ACTIVE wrote the role's default policy.
        default_policy = role.node.find_child("DefaultPolicy").node.default_child
        _acknowledge(
            default_policy,
            "AwsSolutions-IAM5[Resource::*]",
            "Only xray:PutTraceSegments and xray:PutTelemetryRecords (tracing=ACTIVE) have "
            "Resource '*': X-Ray supports no resource-level permissions for them.",
        )
        for action, grants in (
            ("kms:GenerateDataKey*", "topic.grant_publish and queue.grant_send_messages"),
            ("kms:ReEncrypt*", "queue.grant_send_messages"),
        ):
            _acknowledge(
                default_policy,
                f"AwsSolutions-IAM5[Action::{action}]",
                f"Written by CDK's {grants} for the KMS-encrypted topic and on-failure queue; "
                "the statement's only Resource is this construct's key.",
            )
        return function

    def _execution_role(self, log_group: logs.LogGroup) -> tuple[iam.Role, iam.Policy]:
        """The function's role, and its SSM read policy (on its own, to acknowledge it alone)."""
        # Not AWSLambdaBasicExecutionRole: this role may write to its own log group only.
        role = iam.Role(
            self,
            constants.ROLE_ID,
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description="Maintenance-window alert function",
        )
        log_group.grant_write(role)
        ssm_read = iam.Policy(
            self,
            constants.SSM_POLICY_ID,
            roles=[role],
            statements=[iam.PolicyStatement(actions=list(SSM_ACTIONS), resources=["*"])],
        )
        _acknowledge(
            ssm_read.node.default_child,
            "AwsSolutions-IAM5[Resource::*]",
            "ssm:DescribeMaintenanceWindowExecutionTasks and "
            "ssm:DescribeMaintenanceWindowExecutionTaskInvocations support no resource-level "
            "permissions (Service Authorization Reference for AWS Systems Manager: no resource "
            "type), so Resource must be '*'; the policy allows only these two read actions.",
        )
        return role, ssm_read

    def _rule(self) -> events.Rule:
        return events.Rule(
            self,
            constants.RULE_ID,
            description="SSM maintenance-window executions that have ended",
            event_pattern=events.EventPattern(
                source=[names.EVENT_SOURCE],
                detail_type=[names.WINDOW_EXECUTION_DETAIL_TYPE],
                detail={"status": list(names.TERMINAL_STATUSES)},
            ),
            targets=[
                targets.LambdaFunction(
                    self.function,
                    dead_letter_queue=self.rule_dead_letter_queue,
                    max_event_age=Duration.hours(24),
                    retry_attempts=185,  # EventBridge's maximum
                )
            ],
        )

    def _alarm(self) -> cloudwatch.Alarm | None:
        """Failed invocations > 0 across all windows; None if no alert status has a metric."""
        metric_names = [
            names.STATUS_METRICS[status]
            for status in self.settings.alert_statuses
            if status in names.STATUS_METRICS
        ]
        if not metric_names:
            return None
        # The function emits all status metrics in one document, so they share their timestamps.
        using = {f"m{i}": self._fleet_metric(name) for i, name in enumerate(metric_names)}
        statuses = _one_of([s for s in self.settings.alert_statuses if s in names.STATUS_METRICS])
        alarm = cloudwatch.MathExpression(
            expression=" + ".join(using),
            using_metrics=using,
            label=f"Invocations {statuses}, all windows",
            period=PERIOD,
        ).create_alarm(
            self,
            constants.ALARM_ID,
            threshold=0,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
            evaluation_periods=1,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            alarm_description=(
                f"Maintenance-window task invocations ended {statuses} in the last 5 minutes. "
                "On-call: 1) read the alert this topic received for the run: it names the "
                "window, the task and the failed targets with their status details; "
                "2) no such alert? Check the alert function's logs and both dead-letter queues "
                "(stack outputs); 3) fix the cause, then rerun the window's tasks or wait for "
                "its next run, and check the dashboard for windows that keep failing."
            ),
        )
        alarm.add_alarm_action(cloudwatch_actions.SnsAction(self.topic))
        # The topic's own policy (SSL only) replaces SNS's default one, so alarms need a grant.
        self.topic.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AllowAlarmToPublish",
                principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
                actions=["sns:Publish"],
                resources=[self.topic.topic_arn],
                conditions={
                    "StringEquals": {"aws:SourceAccount": Aws.ACCOUNT_ID},
                    "ArnEquals": {"aws:SourceArn": alarm.alarm_arn},
                },
            )
        )
        return alarm

    def _dashboard(self) -> cloudwatch.Dashboard:
        per_window = [
            _graph(f"{metric} per window", [self._per_window(metric, "Sum")])
            for metric in names.STATUS_METRICS.values()
        ]
        fleet = _graph(
            "Invocations by status, all windows",
            [self._fleet_metric(m, label=s) for s, m in names.STATUS_METRICS.items()],
            width=8,
        )
        durations = _graph(
            "Window execution duration (max, seconds)",
            [self._per_window(names.METRIC_WINDOW_EXECUTION_DURATION, "Maximum")],
            width=8,
        )
        health: list[cloudwatch.IWidget] = [
            _graph(
                "Alert function: errors, throttles and duration",
                [self.function.metric_errors(), self.function.metric_throttles()],
                right=[self.function.metric_duration(statistic="Maximum")],
                width=12,
            ),
            _graph(
                "Events not alerted on: dead-letter queues and invalid events",
                [
                    self.rule_dead_letter_queue.metric_approximate_number_of_messages_visible(
                        label="Rule dead-letter queue"
                    ),
                    self.function_failure_queue.metric_approximate_number_of_messages_visible(
                        label="Function failure queue"
                    ),
                    self._fleet_metric(names.METRIC_INVALID_EVENTS),
                ],
                width=12,
            ),
        ]
        overview: list[cloudwatch.IWidget] = [fleet, durations]
        if self.alarm is not None:
            overview.append(cloudwatch.AlarmWidget(alarm=self.alarm, title="Alarm", width=8))
        return cloudwatch.Dashboard(
            self,
            constants.DASHBOARD_ID,
            default_interval=Duration.days(7),
            widgets=[per_window, overview, health],
        )

    def _fleet_metric(self, metric_name: str, label: str | None = None) -> cloudwatch.Metric:
        """The dimensionless series: one per metric, summed over all windows."""
        return cloudwatch.Metric(
            namespace=self.settings.metrics_namespace,
            metric_name=metric_name,
            statistic="Sum",
            period=PERIOD,
            label=label,
        )

    def _per_window(self, metric_name: str, statistic: str) -> cloudwatch.MathExpression:
        """A series per WindowId, found by SEARCH: new windows appear without a redeploy."""
        query = (
            f'{{"{self.settings.metrics_namespace}",{names.DIMENSION_WINDOW_ID}}} '
            f'MetricName="{metric_name}"'
        )
        return cloudwatch.MathExpression(
            expression=f"SEARCH('{query}', '{statistic}', {PERIOD.to_seconds():.0f})",
            label=f"${{PROP('Dim.{names.DIMENSION_WINDOW_ID}')}}",
            period=PERIOD,
        )


def _let_service_encrypt(
    key: kms.Key, service: str, conditions: dict[str, Any] | None = None
) -> None:
    """Let an AWS service encrypt with the key what it writes to the topic or a queue."""
    key.add_to_resource_policy(
        iam.PolicyStatement(
            sid=f"Allow{service.capitalize()}ToEncrypt",
            principals=[iam.ServicePrincipal(f"{service}.amazonaws.com")],
            actions=["kms:Decrypt", "kms:GenerateDataKey"],
            resources=["*"],  # in a key policy, "*" is this key
            conditions=conditions,
        )
    )


def _graph(
    title: str,
    left: Sequence[cloudwatch.IMetric],
    *,
    right: Sequence[cloudwatch.IMetric] = (),
    width: int = 6,
) -> cloudwatch.GraphWidget:
    return cloudwatch.GraphWidget(
        title=title, left=list(left), right=list(right), width=width, height=6
    )


def _one_of(words: Sequence[str]) -> str:
    """'A', 'A or B', 'A, B or C'."""
    return " or ".join(filter(None, (", ".join(words[:-1]), words[-1])))


def _acknowledge(construct: IConstruct | None, rule_id: str, reason: str) -> None:
    """Acknowledge one cdk-nag finding on one construct, with the reason it is acceptable."""
    assert construct is not None, rule_id  # an L2 without its L1 would be a CDK bug
    Validations.of(construct).acknowledge(Acknowledgment(id=rule_id, reason=reason))
