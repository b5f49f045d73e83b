"""What one invocation of the function works with: its settings, AWS clients (and in central and
organization mode the member accounts' and the membership), metrics, exactly-once records, failure
streaks and Lambda's context."""

from dataclasses import dataclass
from typing import TYPE_CHECKING

from aws_lambda_powertools import Metrics

from mwalerts.clients import AwsClients, MemberClients, member_clients
from mwalerts.function_settings import FunctionSettings
from mwalerts.idempotency import ExactlyOnce
from mwalerts.membership import Membership, membership_for
from mwalerts.pacing import pacer_of
from mwalerts.streak_store import StreakStore

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

# SSM calls stop retrying throttling this long before the timeout: enough to publish the alert
# and record the outcome, so that a throttled invocation fails cleanly and Lambda retries it.
PACING_RESERVE_MS = 10_000


@dataclass
class Invocation:
    settings: FunctionSettings
    clients: AwsClients
    metrics: Metrics
    context: "LambdaContext | None" = None
    # Central and organization mode: clients for the member accounts, and who the members are.
    members: MemberClients | None = None
    membership: Membership | None = None

    def __post_init__(self) -> None:
        settings = self.settings
        self.once = ExactlyOnce(settings.idempotency_table, self.clients.dynamodb)
        self.streaks = (
            StreakStore(settings.streak_table, self.clients.dynamodb)
            if settings.streak_table
            else None
        )
        if settings.spans_accounts and self.members is None:
            self.members = member_clients(
                self.clients, settings.member_external_id, settings.name_qualifier
            )
        if self.membership is None:
            self.membership = membership_for(settings, self.clients)

    def clients_for(self, account: str, region: str) -> AwsClients:
        """This account's clients, or in central and organization mode those of the member that
        ran the window."""
        clients = self.clients if self.members is None else self.members.for_member(account, region)
        pacer = pacer_of(clients.ssm)
        if pacer is not None:  # the container's client outlives the invocation: renew its deadline
            left_ms = None if self.context is None else self.time_left_ms() - PACING_RESERVE_MS
            pacer.finish_within(None if left_ms is None else left_ms / 1000)
        return clients

    def time_left_ms(self) -> int:
        """What is left of Lambda's timeout (outside Lambda, plenty)."""
        if self.context is None:
            return 2**31
        return self.context.get_remaining_time_in_millis()
