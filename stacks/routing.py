"""How window executions reach the function, and where events go that cannot.

EventBridge sends SSM's events for ended window executions (a rule on the account's default bus,
or in central mode on a bus of its own that the members forward to) and a sweep on a schedule to
the function; what it cannot deliver, and what the function fails on, waits in dead-letter
queues.
"""

from collections.abc import Sequence

from aws_cdk import Duration
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from maintenance_window_alerts import compliance, constants
from maintenance_window_alerts.layout_model import Central
from mwalerts import contract

RETRY_ATTEMPTS = 185  # EventBridge's maximum


def window_execution_pattern(accounts: Sequence[str] = ()) -> events.EventPattern:
    """SSM's events for window executions that have ended (from these accounts only, if any)."""
    return events.EventPattern(
        source=[contract.EVENT_SOURCE],
        detail_type=[contract.WINDOW_EXECUTION_DETAIL_TYPE],
        detail={"status": list(contract.TERMINAL_STATUSES)},
        account=list(accounts) or None,
    )


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


def execution_rule(
    scope: Construct,
    *,
    function: lambda_.IFunction,
    dead_letter_queue: sqs.IQueue,
    event_bus: events.IEventBus | None,
    central: Central | None,
) -> events.Rule:
    """Ended window executions to the function: this account's, or in central mode only the
    member accounts' (as forwarded, with their own account and region), whoever else the bus
    admits."""
    accounts = [m.account for m in central.members] if central else []
    return events.Rule(
        scope,
        constants.RULE_ID,
        description="SSM maintenance-window executions that have ended",
        event_bus=event_bus,
        event_pattern=window_execution_pattern(accounts),
        targets=[_function_target(function, dead_letter_queue, max_event_age=Duration.hours(24))],
    )


def sweep_schedule(
    scope: Construct,
    *,
    function: lambda_.IFunction,
    dead_letter_queue: sqs.IQueue,
    interval: Duration,
) -> events.Rule:
    """The reconciliation sweep: finds ended executions whose event never arrived."""
    return events.Rule(
        scope,
        constants.SCHEDULE_ID,
        description="Reconciliation sweep of maintenance-window executions",
        schedule=events.Schedule.rate(interval),
        # The scheduled event as it is (no input transformation): the function tells it from
        # SSM's by its source and detail-type. A sweep older than one interval is superseded by
        # the next one, which looks back over several intervals anyway.
        targets=[_function_target(function, dead_letter_queue, max_event_age=interval)],
    )


def dead_letter_queue(
    scope: Construct, construct_id: str, *, holds: str, key: kms.IKey | None = None
) -> sqs.Queue:
    """A queue for what could not be delivered or processed: TLS only, kept 14 days (the
    maximum), encrypted with `key`, or with SQS's own key (SSE-SQS) without one, and no other
    queue's dead-letter queue."""
    queue = sqs.Queue(
        scope,
        construct_id,
        encryption=sqs.QueueEncryption.KMS if key else sqs.QueueEncryption.SQS_MANAGED,
        encryption_master_key=key,
        enforce_ssl=True,
        retention_period=Duration.days(14),  # the maximum: time to notice and redrive
        # No queue may name it as its dead-letter queue: what lands here is only what EventBridge
        # or Lambda could not deliver or process. (Control Tower's ct-sqs-pr-1 reads denyAll as
        # "not a dead-letter queue": compliance.acknowledge_dead_letter_queue says why.)
        redrive_allow_policy=sqs.RedriveAllowPolicy(
            redrive_permission=sqs.RedrivePermission.DENY_ALL
        ),
    )
    compliance.acknowledge_dead_letter_queue(queue, holds=holds)
    return queue


def _function_target(
    function: lambda_.IFunction, dead_letter_queue: sqs.IQueue, *, max_event_age: Duration
) -> targets.LambdaFunction:
    """The function as a rule's target: retried for up to `max_event_age`, then kept in the
    dead-letter queue."""
    return targets.LambdaFunction(
        function,
        dead_letter_queue=dead_letter_queue,
        max_event_age=max_event_age,
        retry_attempts=RETRY_ATTEMPTS,
    )
