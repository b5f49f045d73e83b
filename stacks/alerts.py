"""MaintenanceWindowAlerts: the whole feature in one construct, reusable by other CDK apps.

This module wires the pieces together; each concern has a module of its own: keys and security
(keys, roles, policies), routing (event bus, rules, dead-letter queues), function (the Lambda,
its log group and table), alarms and health (alarms), dashboard, and compliance (every cdk-nag
acknowledgement, with its reason); in organization mode also organization (the StackSet of the
member resources) and sweep_queue (the sweep's fan-out).
"""

from aws_cdk import CfnStackSet
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_events as events
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from maintenance_window_alerts import (
    alarms,
    compliance,
    constants,
    dashboard,
    health,
    keys,
    routing,
    security,
    sweep_queue,
)
from maintenance_window_alerts.function import (
    alert_function,
    function_environment,
    function_log_group,
    function_package,
    idempotency_table,
    streak_table,
)
from maintenance_window_alerts.layout_model import Central, Organization
from maintenance_window_alerts.organization import member_stack_set
from maintenance_window_alerts.self_test import SelfTestOnDeploy
from maintenance_window_alerts.settings import Settings
from mwalerts import contract


class MaintenanceWindowAlerts(Construct):
    """Alerts on every SSM maintenance-window run that ends with failed invocations.

    EventBridge sends each finished window execution to a Lambda that reads its invocations from
    SSM, publishes an alert to an encrypted SNS topic (and, if configured, to a second topic in
    the chat applications' format) and emits CloudWatch metrics; alarms (fleet-wide, per window,
    and for windows that stop running) and a dashboard watch those metrics. A schedule runs the
    same Lambda as a reconciliation sweep that catches executions whose event never arrived, and
    an idempotency table makes sure that an execution seen twice (a retried event, the sweep, a
    redrive) is alerted on once. A streak table keeps, per window, the targets failing now and
    since when, so that alerts tell new failures from known ones and a window that runs clean
    again gets a resolved notice. Events that cannot be delivered or processed land in one of two
    dead-letter queues instead of being lost, and health alarms page the on-call when the alert
    path itself is broken.

    By default it watches its own account and region. With `central`, it watches the member
    accounts and regions instead: their member stacks forward the events to a bus of its own
    (`event_bus`, or one it creates with a policy that admits the members), and the function
    reads SSM through each member's read-only role, which its role (of a fixed name, which the
    member roles trust) may assume. With an `Organization` as `central`, the members are every
    account of its organizational units in its regions: the construct also holds the StackSet
    that deploys the member resources to them (`stack_set`), its bus admits the organization,
    and its sweep fans out through a queue (`sweep`), one message per account-region.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        settings: Settings,
        central: Central | Organization | None = None,
        event_bus: events.IEventBus | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        self.settings = settings
        self.central = central
        self.organization = central if isinstance(central, Organization) else None
        # Where the window execution events arrive: the account's default bus unless told.
        self.event_bus = event_bus or (
            routing.central_event_bus(self, central) if central is not None else None
        )
        self.key = keys.message_key(self, sweep_queue=self.organization is not None)
        self.data_key = keys.data_key(self)
        self.topic = self._topic(constants.TOPIC_ID, "Maintenance window alerts")
        self.email_subscriptions = self._subscribe_emails()
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
            contract.OUTPUT_RULE_DLQ_URL,
        )
        function_dlq = self._dead_letter_queue(
            constants.FUNCTION_DLQ_ID,
            constants.FUNCTION_DLQ_ALARM_ID,
            "function failure queue",
            "events the function failed on after its retries",
            contract.OUTPUT_FUNCTION_DLQ_URL,
        )
        # The queues whose events `mwalerts redrive` sends back to the function.
        self.dead_letter_queues = (rule_dlq, function_dlq)
        self.rule_dead_letter_queue = rule_dlq.queue
        self.function_failure_queue = function_dlq.queue
        self.sweep = (
            sweep_queue.sweep_queue(self, self.key) if self.organization is not None else None
        )
        self.table = idempotency_table(self, self.data_key)
        self.streak_table = streak_table(self, self.data_key)
        self.log_group = function_log_group(self, settings, self.data_key)
        self.package = function_package(self, settings)
        self.function = self._function()
        if self.organization is not None and self.sweep is not None:
            sweep_queue.sweep_through(
                self.function, self.sweep, concurrency=self.organization.sweep_concurrency
            )
        self.rule = routing.execution_rule(
            self,
            function=self.function,
            dead_letter_queue=self.rule_dead_letter_queue,
            event_bus=self.event_bus,
            central=central,
        )
        self.schedule = routing.sweep_schedule(
            self,
            function=self.function,
            dead_letter_queue=self.rule_dead_letter_queue,
            interval=settings.sweep_interval,
        )
        self.alarm = alarms.failed_invocations_alarm(self, settings, self.topic)
        self.window_alarms = alarms.window_alarms(self, settings, self.topic)
        self.missed_window_alarms = alarms.missed_window_alarms(self, settings, self.topic)
        self.chronic_alarm = alarms.chronic_failures_alarm(self, settings, self.topic)
        self.health_alarms = health.health_alarms(
            self,
            settings,
            self.topic,
            function=self.function,
            dead_letter_queues=self.watched_dead_letter_queues,
            fan_out=self.sweep is not None,
        )
        # Not in `alarms`, which the dashboard shows: a self-test is no incident.
        self.self_test_alarm = alarms.self_test_alarm(self, settings, self.topic)
        self.dashboard = dashboard.dashboard(
            self,
            settings,
            function=self.function,
            log_group=self.log_group,
            dead_letter_queues=self.watched_dead_letter_queues,
            alarms=self.alarms,
            dimensions=(
                contract.CENTRAL_WINDOW_DIMENSIONS
                if central is not None
                else contract.WINDOW_DIMENSIONS
            ),
            fan_out=self.sweep is not None,
        )
        self.stack_set = self._member_stack_set()
        self.self_test = self._self_test_on_deploy() if settings.self_test_on_deploy else None

    @property
    def watched_dead_letter_queues(self) -> tuple[health.DeadLetterQueue, ...]:
        """Every dead-letter queue, each with an alarm and on the dashboard: the sweep's too."""
        sweep = (self.sweep.dead_letter_queue,) if self.sweep is not None else ()
        return (*self.dead_letter_queues, *sweep)

    def _member_stack_set(self) -> CfnStackSet | None:
        """Organization mode: the StackSet of the member resources, created once the bus and the
        function's role it names exist (their names are fixed: no reference to them), and the
        bus's policy, so that no member forwards before the bus admits it (a dependency on a
        construct covers its children: the bus's policy is one)."""
        if self.organization is None:
            return None
        stack_set = member_stack_set(self, self.organization)
        stack_set.node.add_dependency(*filter(None, (self.event_bus, self.function.role)))
        return stack_set

    @property
    def alarms(self) -> list[cloudwatch.Alarm]:
        """Every alarm of the construct: each notifies the alert topic."""
        return [
            a
            for a in (
                self.alarm,
                *self.window_alarms,
                *self.missed_window_alarms,
                self.chronic_alarm,
                *self.health_alarms,
            )
            if a is not None
        ]

    def _topic(self, construct_id: str, display_name: str) -> sns.Topic:
        """A topic for the function's messages: encrypted with the message key, TLS only."""
        return sns.Topic(
            self, construct_id, display_name=display_name, master_key=self.key, enforce_ssl=True
        )

    def _subscribe_emails(self) -> list[sns.Subscription]:
        """alertEmails, with no filter policy: alarm notifications carry no message attributes,
        and SNS passes no attribute-less message through an attribute filter policy (not even
        {"selfTest": [{"exists": false}]}), so any filter would drop every alarm mail. They get
        the self-test's marked test message, on the deploys that run it."""
        created = []
        for email in self.settings.alert_emails:
            subscription = self.topic.add_subscription(subscriptions.EmailSubscription(email))
            compliance.acknowledge_email_subscription(subscription)
            created.append(subscription)
        return created

    def _self_test_on_deploy(self) -> SelfTestOnDeploy:
        """The self-test at deploy time, once the whole alert path exists (the subscriptions
        included, so that its test message reaches them as an alert would)."""
        return SelfTestOnDeploy(
            self,
            constants.SELF_TEST_ID,
            settings=self.settings,
            package=self.package,
            alert_function=self.function,
            data_key=self.data_key,
            changes_with=(self.function, self.topic, self.key),
            run_after=(
                self.function,
                self.topic,
                self.table,
                self.streak_table,
                *self.email_subscriptions,
                *self.alarms,
                self.self_test_alarm,
                # Organization mode: its "member" hop reads a member through its reader role.
                *filter(None, (self.stack_set,)),
            ),
        )

    def _dead_letter_queue(
        self, construct_id: str, alarm_id: str, label: str, holds: str, url_output: str
    ) -> health.DeadLetterQueue:
        queue = routing.dead_letter_queue(self, construct_id, holds=holds, key=self.key)
        return health.DeadLetterQueue(queue, alarm_id, label, holds, url_output)

    def _function(self) -> lambda_.Function:
        """The function with its role: what it may do, and who may publish to its topics."""
        role, read_policies = security.execution_role(
            self, self.log_group, settings=self.settings, central=self.central
        )
        function = alert_function(
            self,
            package=self.package,
            role=role,
            environment=function_environment(
                self.settings,
                self.central,
                topic=self.topic,
                chat_topic=self.chat_topic,
                table=self.table,
                streak_table=self.streak_table,
                log_group=self.log_group,
                sweep_queue=self.sweep.queue if self.sweep is not None else None,
            ),
            log_group=self.log_group,
            # The queue by its ARN alone: its destination then grants the SQS actions only, not
            # also kms:Encrypt and kms:ReEncrypt* on its key (queue.grant_send_messages does);
            # grant_function grants what sending needs of the key.
            failure_queue=sqs.Queue.from_queue_arn(
                self, constants.FUNCTION_DLQ_ARN_ID, self.function_failure_queue.queue_arn
            ),
        )
        # No first invocation before it may read SSM (or assume the member roles that may).
        function.node.add_dependency(*read_policies)
        security.grant_function(
            function,
            topics=self.topics,
            message_key=self.key,
            table=self.table,
            streak_table=self.streak_table,
            data_key=self.data_key,
        )
        compliance.acknowledge_function_role_policy(role)
        # The alarms notify the alert topic only; the chat topic admits none.
        security.allow_only_function_and_own_alarms_to_publish(
            self.topic, role, alarms.own_alarm_arns(self)
        )
        if self.chat_topic is not None:
            security.allow_only_function_to_publish(self.chat_topic, role)
        return function
