"""What one invocation of the function works with: its settings, AWS clients (and in central mode
the member accounts'), metrics, exactly-once records and Lambda's context."""

from dataclasses import dataclass
from typing import TYPE_CHECKING

from aws_lambda_powertools import Metrics

from mwalerts.clients import AwsClients, MemberClients, member_clients
from mwalerts.function_settings import FunctionSettings
from mwalerts.idempotency import ExactlyOnce

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext


@dataclass
class Invocation:
    settings: FunctionSettings
    clients: AwsClients
    metrics: Metrics
    context: "LambdaContext | None" = None
    members: MemberClients | None = None  # central mode: clients for the member accounts

    def __post_init__(self) -> None:
        self.once = ExactlyOnce(self.settings.idempotency_table, self.clients.dynamodb)
        if self.settings.members is not None and self.members is None:
            self.members = member_clients(self.clients, self.settings.member_external_id)

    def clients_for(self, account: str, region: str) -> AwsClients:
        """This account's clients, or in central mode those of the member that ran the window."""
        if self.members is None:
            return self.clients
        return self.members.for_member(account, region)

    def time_left_ms(self) -> int:
        """What is left of Lambda's timeout (outside Lambda, plenty)."""
        if self.context is None:
            return 2**31
        return self.context.get_remaining_time_in_millis()
