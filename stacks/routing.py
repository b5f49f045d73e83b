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
from maintenance_window_alerts.layout_model import Central, Organization
from mwalerts import contract

RETRY_ATTEMPTS = 185  # EventBridge's maximum


def window_execution_pattern(
    accounts: Sequence[str] = (), regions: Sequence[str] = ()
) -> events.EventPattern:
    """SSM's events for window executions that have ended (from these accounts and regions
    only, if any)."""
    return events.EventPattern(
        source=[contract.EVENT_SOURCE],
        detail_type=[contract.WINDOW_EXECUTION_DETAIL_TYPE],
        detail={"status": list(contract.TERMINAL_STATUSES)},
        account=list(accounts) or None,
        region=list(regions) or None,
    )


def central_event_bus(scope: Construct, central: Central | Organization) -> events.EventBus:
    """The bus members forward their events to; only the members (or, with an organization ID,
    the accounts of that organization) may put events on it, and only SSM's window execution
    events (EventBridge User Guide, "Example policy: Send events to a custom bus in a different
    account": events:source and events:detail-type conditions), which must be in the request."""
    bus = events.EventBus(
        scope,
        constants.CENTRAL_BUS_ID,
        event_bus_name=central.event_bus_name,
        description="Maintenance-window executions forwarded by the member accounts",
    )
    principals: list[iam.IPrincipal] = (
        [iam.OrganizationPrincipal(central.organization_id)]
        if central.organization_id
        else [iam.ArnPrincipal(central.account_root_arn(a)) for a in _member_accounts(central)]
    )
    bus.add_to_resource_policy(
        iam.PolicyStatement(
            sid=constants.BUS_POLICY_SID,
            principals=principals,
            actions=["events:PutEvents"],
            resources=[bus.event_bus_arn],
            conditions={
                "ForAllValues:StringEquals": {
                    "events:source": [contract.EVENT_SOURCE],
                    "events:detail-type": [contract.WINDOW_EXECUTION_DETAIL_TYPE],
                },
                # ForAllValues is true when the key is absent from the request (IAM User Guide,
                # "Single-valued vs. multivalued context keys"): both keys must be present.
                "Null": {"events:source": "false", "events:detail-type": "false"},
            },
        )
    )
    return bus


def _member_accounts(central: Central | Organization) -> list[str]:
    """Central mode's listed members; organization mode has no list (its bus admits the
    organization)."""
    return [m.account for m in central.members] if isinstance(central, Central) else []


def execution_rule(
    scope: Construct,
    *,
    function: lambda_.IFunction,
    dead_letter_queue: sqs.IQueue,
    event_bus: events.IEventBus | None,
    central: Central | Organization | None,
) -> events.Rule:
    """Ended window executions to the function: this account's, or in central mode only the
    member accounts' in their regions (as forwarded, with their own account and region),
    whoever else the bus admits; in organization mode any account's (the bus admits the
    organization's) in a covered region. A member forwarding from an uncovered region pages
    nobody."""
    accounts = _member_accounts(central) if central is not None else []
    regions = central.member_regions if central is not None else ()
    return events.Rule(
        scope,
        constants.RULE_ID,
        description="SSM maintenance-window executions that have ended",
        event_bus=event_bus,
        event_pattern=window_execution_pattern(accounts, regions),
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
