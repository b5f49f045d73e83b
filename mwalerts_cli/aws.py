"""The AWS clients a command uses: one session from the standard credential chain, each client
made on first use, with the function's own retry settings and timestamp parser."""

from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any

import boto3
from botocore.config import Config

from mwalerts.clients import RETRY_CONFIG, aws_session, paced_ssm_client
from mwalerts.pacing import Pacer, pacer_of
from mwalerts_cli.errors import USAGE, CliError

if TYPE_CHECKING:
    from mypy_boto3_sns import SNSClient
    from mypy_boto3_ssm import SSMClient
    from mypy_boto3_sts import STSClient


@dataclass(frozen=True)
class Place:
    """Where the command looks: the credentials' account and the session's region."""

    account: str
    region: str

    def __str__(self) -> str:
        return f"account {self.account} / region {self.region}"


class Clients:
    """Clients made lazily from one session, so a command creates only those it calls.

    Tests hand in clients bound to in-process AWS: `Clients(session, ssm=fake_attached_client)`.
    """

    def __init__(self, session: boto3.Session, *, profile: str | None = None, **made: Any) -> None:
        self.session = session
        self.profile = profile  # as given: the session names "default" even when there is none
        self._made: dict[str, Any] = dict(made)

    @classmethod
    def from_chain(cls, *, profile: str | None, region: str | None) -> "Clients":
        # The function's session: the standard chain (or --profile), and its fast timestamp
        # parser, so times are the same instants the function sees.
        return cls(aws_session(region_name=region, profile_name=profile), profile=profile)

    def client(self, service: str, config: Config = RETRY_CONFIG) -> Any:
        """The service's client, made on first use with `config` (the function's retries, or
        e.g. a read timeout longer than a synchronous invoke's)."""
        if service not in self._made:
            self._made[service] = self.session.client(service, config=config)  # type: ignore[call-overload]
        return self._made[service]

    @property
    def ssm(self) -> "SSMClient":
        """The function's SSM client: paced (mwalerts.pacing), as the account's budget is shared."""
        if "ssm" not in self._made:
            self._made["ssm"] = paced_ssm_client(self.session)
        ssm: SSMClient = self._made["ssm"]
        return ssm

    def ssm_at_most(self, max_rate: float) -> "SSMClient":
        """The SSM client, never sending more than `max_rate` requests a second (--max-rate)."""
        ssm = self.ssm
        pacer = pacer_of(ssm)
        if pacer is None:  # a client handed in unpaced
            pacer = Pacer()
            pacer.install(ssm)
        pacer.limit(max_rate)
        return ssm

    @property
    def sns(self) -> "SNSClient":
        sns: SNSClient = self.client("sns")
        return sns

    @property
    def cloudwatch(self) -> Any:  # no type stubs for CloudWatch in this project
        return self.client("cloudwatch")

    @property
    def region(self) -> str:
        if not self.session.region_name:
            raise CliError("no AWS region: pass --region or set AWS_REGION.", USAGE)
        return self.session.region_name

    @cached_property
    def place(self) -> Place:
        """The account comes from STS (one call): it is also the first check of the credentials."""
        region = self.region
        sts: STSClient = self.client("sts")
        return Place(sts.get_caller_identity()["Account"], region)

    def other(self, *, profile: str, region: str) -> "Clients":
        """Clients of another profile (another account's credentials), e.g. for its CloudWatch."""
        return Clients.from_chain(profile=profile, region=region)

    def in_region(self, region: str) -> "Clients":
        """These clients, or new ones from the same credential chain in another region."""
        if self.session.region_name == region:
            return self
        session = aws_session(region_name=region, profile_name=self.profile)
        return Clients(session, profile=self.profile)
