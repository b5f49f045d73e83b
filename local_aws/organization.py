"""Organization mode on in-process AWS: moto's Organizations, STS, SQS, DynamoDB and SNS, the fake
StackSet instances (local_aws.fake_stacksets) and a fake SSM per member account-region.

    with local_aws() as aws:
        org = LocalOrganization(aws, units={"prod": None, "web": "prod"}, regions=REGIONS)
        member = org.add_account("web-1", "web")
        org.deliver(schedule_event(time))              # the fan-out: one message per place
        for event in org.sweep_batches():              # the queue's messages, as SQS events
            org.deliver(event)                         # {"batchItemFailures": [...]}

The central account is moto's default account, the organization's management account (CallAs
SELF). Every AssumeRole is recorded (`assumed`); `refuse(account)` makes STS deny it, and
`close(account)` suspends the account as well.
"""

import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import asdict
from typing import Any

import boto3
from botocore.exceptions import ClientError

from local_aws.environment import LambdaContext, LocalAws
from local_aws.fake_ssm import FakeSsmExecutions
from local_aws.fake_stacksets import FakeStackSets
from local_aws.scenario import REGION
from mwalerts import contract, handler
from mwalerts.clients import MemberClients, member_ssm_client
from mwalerts.function_settings import FunctionSettings
from mwalerts.invocation import Invocation
from mwalerts.membership import StackSetMembers
from mwalerts.service import handle_event

SWEEP_QUEUE_NAME = "maintenance-window-alerts-sweep"
SQS_BATCH_SIZE = 10  # the event source mapping's batch size (the stack's)


class ManualClock:
    """A monotonic clock that moves only when told (the membership's TTL)."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class LocalOrganization:
    """An organization whose OUs `units` (name -> parent OU name, None: under the root) are
    covered by the member StackSet in `regions` (`covered`: the OU names, default all)."""

    def __init__(
        self,
        aws: LocalAws,
        *,
        units: Mapping[str, str | None],
        regions: Sequence[str],
        covered: Sequence[str] | None = None,
        qualifier: str = "",
        ssm_latency: float = 0.0,
    ) -> None:
        self.aws = aws
        self.regions = tuple(regions)
        self.ssm_latency = ssm_latency
        self.organizations = boto3.client("organizations", region_name="us-east-1")
        self.organization_id = self.organizations.create_organization(FeatureSet="ALL")[
            "Organization"
        ]["Id"]
        self.root = self.organizations.list_roots()["Roots"][0]["Id"]
        self.units: dict[str, str] = {}
        for name, parent in units.items():
            self.units[name] = self.organizations.create_organizational_unit(
                ParentId=self.units[parent] if parent else self.root, Name=name
            )["OrganizationalUnit"]["Id"]
        stack_set = contract.stack_set_name(qualifier)
        self.stack_sets = FakeStackSets(
            stack_set, [self.units[name] for name in covered or units], self.regions
        )
        self.stack_sets.attach(aws.clients.cloudformation)
        sqs = aws.clients.sqs
        self.queue_url = sqs.create_queue(QueueName=SWEEP_QUEUE_NAME)["QueueUrl"]
        self.queue_arn = sqs.get_queue_attributes(
            QueueUrl=self.queue_url, AttributeNames=["QueueArn"]
        )["Attributes"]["QueueArn"]
        self.settings = self._settings(stack_set, qualifier)
        self.clock = ManualClock()
        self.membership = StackSetMembers(
            lambda: aws.clients.cloudformation,
            stack_set=stack_set,
            call_as=contract.CALL_AS_SELF,
            regions=self.regions,
            clock=self.clock,
        )
        self.ssm: dict[tuple[str, str], FakeSsmExecutions] = {}
        self.assumed: list[dict[str, Any]] = []
        self.sts = boto3.client("sts", region_name=REGION)
        self.sts.meta.events.register("provide-client-params.sts.AssumeRole", self._assume)
        self._refused: set[str] = set()
        self.members = MemberClients(
            aws.clients, qualifier=qualifier, sts=self.sts, make_ssm=self._member_ssm
        )

    def _settings(self, stack_set: str, qualifier: str) -> FunctionSettings:
        return handler.settings.model_copy(
            update={
                "name_qualifier": qualifier,
                "member_stack_set": stack_set,
                "member_stack_set_call_as": contract.CALL_AS_SELF,
                "member_regions": self.regions,
                "sweep_queue_url": self.queue_url,
            }
        )

    # -- the organization ---------------------------------------------------------------------

    def add_account(self, name: str, unit: str | None) -> str:
        """A new account in OU `unit` (None: the root); its ID."""
        account: str = self.organizations.create_account(
            AccountName=name, Email=f"{name}@example.com"
        )["CreateAccountStatus"]["AccountId"]
        if unit is not None:
            self.move(account, unit)
        return account

    def move(self, account: str, unit: str | None) -> None:
        """Move `account` to OU `unit` (None: the root)."""
        source = self.organizations.list_parents(ChildId=account)["Parents"][0]["Id"]
        destination = self.units[unit] if unit else self.root
        self.organizations.move_account(
            AccountId=account, SourceParentId=source, DestinationParentId=destination
        )

    def close(self, account: str) -> None:
        """Close `account` (moto: SUSPENDED at once): StackSets keeps its instances, flagged
        SKIPPED_SUSPENDED_ACCOUNT, and no role in it can be assumed any more."""
        self.organizations.close_account(AccountId=account)
        self.refuse(account)

    def member_ssm(self, account: str, region: str) -> FakeSsmExecutions:
        """The fake SSM of one member account-region (made on first use)."""
        key = (account, region)
        if key not in self.ssm:
            self.ssm[key] = FakeSsmExecutions(latency=self.ssm_latency)
        return self.ssm[key]

    def refuse(self, account: str) -> None:
        """STS denies AssumeRole into `account` (as for a member whose role does not exist)."""
        self._refused.add(account)

    def _assume(self, params: dict[str, Any], **_: Any) -> None:
        self.assumed.append(params)
        account = params["RoleArn"].split(":")[4]
        if account in self._refused:
            raise ClientError(
                {"Error": {"Code": "AccessDenied", "Message": "not authorized to assume"}},
                "AssumeRole",
            )

    def _member_ssm(self, region: str, credentials: dict[str, str]) -> Any:
        # Whose credentials are these? moto's STS answers as AWS would: the role's account.
        keys: Any = credentials
        account = boto3.client("sts", region_name=region, **keys).get_caller_identity()["Account"]
        return self.member_ssm(account, region).attach(member_ssm_client(region, credentials))

    # -- the function ------------------------------------------------------------------------

    def invocation(self, context: Any = None) -> Invocation:
        """An organization-mode invocation: this organization's membership and member clients."""
        return Invocation(
            self.settings,
            self.aws.clients,
            handler.metrics,
            context or LambdaContext(),
            members=self.members,
            membership=self.membership,
        )

    def deliver(self, event: Any, context: Any = None) -> dict[str, Any]:
        """The function's answer to `event`, as the handler returns it."""
        result = handle_event(event, self.invocation(context))
        return dict(result) if isinstance(result, dict) else asdict(result)

    def sweep_messages(self) -> list[dict[str, Any]]:
        """Every message of the sweep queue (received, so hidden for its visibility timeout)."""
        received: list[dict[str, Any]] = []
        while True:
            batch = self.aws.clients.sqs.receive_message(
                QueueUrl=self.queue_url, MaxNumberOfMessages=10, AttributeNames=["All"]
            )
            if not batch.get("Messages"):
                return received
            received.extend(dict(message) for message in batch["Messages"])

    def sweep_batches(self, messages: Sequence[dict[str, Any]] | None = None) -> Iterator[dict]:
        """SQS events of up to SQS_BATCH_SIZE records, as the event source mapping sends them."""
        messages = self.sweep_messages() if messages is None else messages
        for start in range(0, len(messages), SQS_BATCH_SIZE):
            yield self.sqs_event(messages[start : start + SQS_BATCH_SIZE])

    def sqs_event(self, messages: Sequence[dict[str, Any]]) -> dict[str, Any]:
        return {"Records": [self._record(message) for message in messages]}

    def _record(self, message: dict[str, Any]) -> dict[str, Any]:
        return {
            "messageId": message["MessageId"],
            "receiptHandle": message["ReceiptHandle"],
            "body": message["Body"],
            "attributes": message.get("Attributes", {}),
            "messageAttributes": {},
            "md5OfBody": message["MD5OfBody"],
            "eventSource": "aws:sqs",
            "eventSourceARN": self.queue_arn,
            "awsRegion": REGION,
        }


def message_bodies(messages: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    return [json.loads(message["Body"]) for message in messages]
