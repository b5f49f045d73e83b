"""The deployable stack: the alerts construct and the outputs an operator needs.

The same stack in every mode: for the CLI's account and region, for one of `deployments`, or as
the central stack of central or organization mode (`central`), where the alerts, dashboard and
alarms of all the member accounts and regions are (and in organization mode the StackSet of the
member resources).
"""

from typing import Any

from aws_cdk import CfnOutput, Stack
from constructs import Construct

from maintenance_window_alerts import constants
from maintenance_window_alerts.alerts import MaintenanceWindowAlerts
from maintenance_window_alerts.layout_model import Central, Organization
from maintenance_window_alerts.settings import Settings
from mwalerts import contract


class MaintenanceWindowAlertsStack(Stack):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        settings: Settings,
        central: Central | Organization | None = None,
        **kwargs: Any,
    ) -> None:
        role = (
            ", organization's central account"
            if isinstance(central, Organization)
            else ", central account"
            if central
            else ""
        )
        super().__init__(
            scope,
            construct_id,
            description=(
                f"Alerts on failed SSM maintenance-window runs (maintenance-window-alerts{role})"
            ),
            **kwargs,
        )
        self.alerts = MaintenanceWindowAlerts(
            self, constants.ALERTS_ID, settings=settings, central=central
        )
        add_outputs(self.alerts)


def add_outputs(alerts: MaintenanceWindowAlerts) -> None:
    """The stack outputs of the construct's stack: what an operator needs, and what the operator
    command reads (`mwalerts redrive --stack NAME`: the function and the dead-letter queues).

    A stack of your own that holds the construct calls it to get the same outputs (one
    construct per stack: the output names are fixed)."""
    outputs = {
        contract.OUTPUT_TOPIC_ARN: (
            alerts.topic.topic_arn,
            "SNS topic of the alerts: subscribe e-mail, chat or paging tools to it",
        ),
        contract.OUTPUT_FUNCTION_NAME: (
            alerts.function.function_name,
            "The alert function (its logs show every run it processed)",
        ),
        contract.OUTPUT_DASHBOARD_NAME: (
            alerts.dashboard.dashboard_name,
            "CloudWatch dashboard of maintenance-window runs",
        ),
        contract.OUTPUT_RULE_DLQ_URL: (
            alerts.rule_dead_letter_queue.queue_url,
            "Events EventBridge could not deliver to the function",
        ),
        contract.OUTPUT_FUNCTION_DLQ_URL: (
            alerts.function_failure_queue.queue_url,
            "Events the function failed on after its retries",
        ),
        contract.OUTPUT_STREAK_TABLE_NAME: (
            alerts.streak_table.table_name,
            "DynamoDB table of the failure streaks, per window and target (`mwalerts streaks` "
            "reads it)",
        ),
        contract.OUTPUT_SELF_TEST_ALARM_NAME: (
            alerts.self_test_alarm.alarm_name,
            "Alarm that `mwalerts selftest` sets to ALARM to prove alarms reach the topic",
        ),
    }
    if alerts.chat_topic is not None:
        outputs[contract.OUTPUT_CHAT_TOPIC_ARN] = (
            alerts.chat_topic.topic_arn,
            "SNS topic of the alerts for chat: subscribe an Amazon Q Developer in chat "
            "applications channel configuration (Slack, Microsoft Teams) to it",
        )
    if alerts.central is not None and alerts.event_bus is not None:
        outputs[contract.OUTPUT_EVENT_BUS_ARN] = (
            alerts.event_bus.event_bus_arn,
            "Event bus the member stacks forward their maintenance-window events to",
        )
    if alerts.organization is not None and alerts.sweep is not None:
        outputs[contract.OUTPUT_STACK_SET_NAME] = (
            alerts.organization.stack_set_name,
            "StackSet of the member resources, deployed to every account of the covered "
            "organizational units in the covered regions",
        )
        outputs[contract.OUTPUT_SWEEP_QUEUE_URL] = (
            alerts.sweep.queue.queue_url,
            "Queue of the sweep's account-regions (one message each), which the function works "
            "through",
        )
        outputs[contract.OUTPUT_SWEEP_DLQ_URL] = (
            alerts.sweep.dead_letter_queue.queue.queue_url,
            "Account-regions the sweep could not list after 3 attempts (read one for the cause; "
            "purge once it is fixed: the next sweeps cover them again)",
        )
    stack = Stack.of(alerts)
    for output_id, (value, description) in outputs.items():
        CfnOutput(stack, output_id, value=value, description=description)
