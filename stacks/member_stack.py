"""A member stack: in central mode one per member account and region; in organization mode the
template of the StackSet that every covered account and region gets (environment-agnostic).

It holds no function, topic or alarm: an EventBridge rule forwards the region's ended window
executions to the central account's bus, and a read-only role lets the central function read
this account's and region's maintenance windows (the sweep, and the details of each alert).
"""

from typing import Any

from aws_cdk import Aws, CfnOutput, Stack, Token
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from constructs import Construct

from maintenance_window_alerts import compliance, constants, routing, security
from maintenance_window_alerts.layout_model import Central, Organization
from mwalerts import contract


class MaintenanceWindowAlertsMemberStack(Stack):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        central: Central | Organization,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            scope,
            construct_id,
            description=(
                "Forwards SSM maintenance-window runs to the central account "
                f"{central.account} (maintenance-window-alerts, member account)"
            ),
            **kwargs,
        )
        # Central mode's member stacks are each in one member account and region; organization
        # mode's template is deployed by the StackSet anywhere (AWS::AccountId, AWS::Region).
        if isinstance(central, Central) and Token.is_unresolved(self.region):
            raise ValueError(f"{construct_id}: a member stack needs an account and a region")
        self.central = central
        # Encrypted with SQS's own key (SSE-SQS) rather than a customer managed one, on purpose:
        # it holds only SSM's state-change events (IDs, statuses and times: no parameters,
        # command output or secrets), usually nothing at all, and a key in every member account
        # and region would cost $1 a month each across the fleet. TLS is enforced, and its
        # policy admits only this stack's rule.
        self.dead_letter_queue = routing.dead_letter_queue(
            self,
            constants.FORWARD_DLQ_ID,
            holds="events EventBridge could not forward to the central account's bus",
        )
        self.forward_role = self._forward_role()
        # Cross-account and cross-region event bus targets need a role that may put events on
        # the target bus (EventBridge: "the sending event bus must have IAM roles attached").
        self.rule = events.Rule(
            self,
            constants.FORWARD_RULE_ID,
            # A fixed name: the forward role's trust names the rule's ARN (a reference to the
            # rule would be circular, as the rule names the role).
            rule_name=contract.forward_rule_name(central.qualifier),
            description="SSM maintenance-window executions that have ended, to the central bus",
            event_pattern=routing.window_execution_pattern(),
            targets=[
                targets.EventBus(
                    events.EventBus.from_event_bus_arn(
                        self, constants.MEMBER_BUS_ID, central.event_bus_arn
                    ),
                    role=self.forward_role,
                    dead_letter_queue=self.dead_letter_queue,
                )
            ],
        )
        compliance.acknowledge_forward_role_policy(self.forward_role)
        self.reader_role = self._reader_role()
        for output_id, value, description in (
            (
                contract.OUTPUT_FORWARD_DLQ_URL,
                self.dead_letter_queue.queue_url,
                "Events EventBridge could not forward to the central account (the central "
                "sweep still finds their executions)",
            ),
            (
                contract.OUTPUT_READER_ROLE_ARN,
                self.reader_role.role_arn,
                "Read-only role the central alert function assumes in this account and region",
            ),
        ):
            CfnOutput(self, output_id, value=value, description=description)

    def _forward_role(self) -> iam.Role:
        """The role EventBridge uses to put the events on the central bus (the target adds the
        events:PutEvents statement on that bus's ARN): only for this account's forwarding rule
        (aws:SourceAccount, aws:SourceArn: the confused deputy's guard)."""
        # From pseudo parameters: the same in a member stack and in the StackSet's template.
        rule_arn = (
            f"arn:{Aws.PARTITION}:events:{Aws.REGION}:{Aws.ACCOUNT_ID}:rule/"
            f"{contract.forward_rule_name(self.central.qualifier)}"
        )
        return iam.Role(
            self,
            constants.FORWARD_ROLE_ID,
            assumed_by=iam.ServicePrincipal("events.amazonaws.com").with_conditions(
                {
                    "StringEquals": {"aws:SourceAccount": Aws.ACCOUNT_ID},
                    "ArnEquals": {"aws:SourceArn": rule_arn},
                }
            ),
            description="Forwards maintenance-window events to the central account's bus",
        )

    def _reader_role(self) -> iam.Role:
        """The role the central function assumes to read SSM here: it trusts that function's
        role only (by ARN, as a condition on its account rather than as the principal, which IAM
        would reject while that role does not exist: `cdk deploy --exclusively` may deploy a
        member before the central stack), with the external ID or from the organization."""
        central = self.central
        conditions: dict[str, dict[str, str]] = {
            "ArnEquals": {"aws:PrincipalArn": central.function_role_arn}
        }
        if central.organization_id is not None:
            conditions.setdefault("StringEquals", {})["aws:PrincipalOrgID"] = (
                central.organization_id
            )
        if central.external_id is not None:
            conditions.setdefault("StringEquals", {})["sts:ExternalId"] = central.external_id
        role = iam.Role(
            self,
            constants.READER_ROLE_ID,
            role_name=contract.member_role_name(self.region, central.qualifier),
            assumed_by=iam.ArnPrincipal(central.account_root_arn(central.account)).with_conditions(
                conditions
            ),
            description=(
                f"Read-only access to this region's maintenance windows for the central alert "
                f"function ({central.account}, {central.region})"
            ),
        )
        security.ssm_read_policy(
            self,
            role,
            command_output=central.settings.error_details_limit > 0,
            description="Read maintenance windows and their executions (central alert function)",
        )
        return role
