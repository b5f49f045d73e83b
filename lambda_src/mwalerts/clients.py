"""The one seam between the logic and AWS: the clients it uses, created once per container."""

import threading
import weakref
from collections import OrderedDict
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from functools import cache, cached_property
from typing import TYPE_CHECKING, Any

import boto3
import botocore.session
from botocore.config import Config
from botocore.utils import parse_timestamp

from mwalerts import contract
from mwalerts.fast_parse import FastParserFactory
from mwalerts.links import partition
from mwalerts.pacing import Pacer

if TYPE_CHECKING:
    from collections.abc import Callable

    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_sns import SNSClient
    from mypy_boto3_sqs import SQSClient
    from mypy_boto3_ssm import SSMClient
    from mypy_boto3_sts import STSClient

# A member's credentials are renewed this long before they expire, so no call runs with stale ones.
CREDENTIALS_MARGIN = timedelta(minutes=5)

# SNS, DynamoDB and the rest: adaptive mode retries throttling with backoff and slows the client
# down to the rate the service accepts.
RETRY_CONFIG = Config(
    retries={"mode": "adaptive", "total_max_attempts": 10},
    connect_timeout=5,
    read_timeout=20,
    max_pool_connections=20,  # one per concurrent task chain (service.TASK_CONCURRENCY)
)
# SSM: its rate is shared with every tool in the account, so the client's Pacer (mwalerts.pacing)
# paces it and decides its retries, until the invocation's deadline rather than for a fixed number
# of attempts. botocore's own handler is removed; with one attempt it would retry nothing anyway.
SSM_CONFIG = RETRY_CONFIG.merge(Config(retries={"mode": "standard", "total_max_attempts": 1}))


def paced_ssm_client(session: boto3.Session, **kwargs: Any) -> "SSMClient":
    """An SSM client of `session` with its own Pacer (one per account-region and container)."""
    client: SSMClient = session.client("ssm", config=SSM_CONFIG, **kwargs)
    return Pacer().install(client)


@dataclass(frozen=True)
class AwsClients:
    ssm: "SSMClient"
    sns: "SNSClient"
    dynamodb: "DynamoDBClient"  # the idempotency records
    # The session these came from, to make more: a new session loads botocore's data again.
    session: boto3.Session | None = field(default=None, compare=False, repr=False)

    # Organization mode's clients, made on first use in the SSM client's region: the other modes
    # never pay for them at cold start. (cached_property writes the instance's __dict__, which a
    # frozen dataclass allows; tests replace them by setting that entry.)
    @cached_property
    def cloudformation(self) -> Any:  # the StackSet's instances (no stubs for CloudFormation)
        return self._session().client("cloudformation", config=RETRY_CONFIG)

    @cached_property
    def sqs(self) -> "SQSClient":  # the sweep queue
        return self._session().client("sqs", config=RETRY_CONFIG)

    def _session(self) -> boto3.Session:
        return self.session or aws_session(region_name=self.ssm.meta.region_name)


def epoch_timestamp(value: Any) -> datetime:
    """botocore's timestamp parser, fast for the epoch seconds the JSON protocol sends.

    Every invocation has two timestamps, and botocore's default parser (dateutil, with the local
    zone) was the largest part of the function's CPU time; this one gives the same instants.
    """
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value, UTC)
    parsed: datetime = parse_timestamp(value)
    return parsed


def aws_session(
    *,
    region_name: str | None = None,
    credentials: dict[str, str] | None = None,
    profile_name: str | None = None,
) -> boto3.Session:
    """A session from the standard credential chain (a profile, if named), or from the given
    (assumed-role) credentials, whose clients parse timestamps with `epoch_timestamp` and the
    two hot SSM responses with mwalerts.fast_parse."""
    core = botocore.session.get_session()
    parsers = FastParserFactory()
    parsers.set_parser_defaults(timestamp_parser=epoch_timestamp)
    core.register_component("response_parser_factory", parsers)
    return boto3.Session(
        botocore_session=core,
        region_name=region_name,
        profile_name=profile_name,
        **(credentials or {}),
    )


def create_clients(
    *,
    region_name: str | None = None,
    credentials: dict[str, str] | None = None,
    profile_name: str | None = None,
) -> AwsClients:
    session = aws_session(
        region_name=region_name, credentials=credentials, profile_name=profile_name
    )
    return AwsClients(
        ssm=paced_ssm_client(session),
        sns=session.client("sns", config=RETRY_CONFIG),
        dynamodb=session.client("dynamodb", config=RETRY_CONFIG),
        session=session,
    )


# Member clients come from one session: a session per member would load botocore's endpoint and
# service data again each time (a sweep worker reads hundreds of members). boto3 documents
# sessions as not thread-safe, so clients are made one at a time.
_member_session_lock = threading.Lock()


@cache
def _member_session() -> boto3.Session:
    return aws_session()


def member_ssm_client(region_name: str, credentials: dict[str, str]) -> "SSMClient":
    keys: Any = credentials
    with _member_session_lock:
        return paced_ssm_client(_member_session(), region_name=region_name, **keys)


# How many members' SSM clients a container keeps. Each is a botocore client (hundreds of KB), and
# in organization mode SQS spreads thousands of account-regions over the sweep workers at random,
# so unbounded they would grow with the fleet until the function ran out of memory: the least
# recently used is dropped, and made again from its member's cached credentials if it comes back.
MEMBER_CACHE_SIZE = 100


@dataclass(frozen=True, slots=True)
class _MemberCredentials:
    keys: dict[str, str]  # aws_access_key_id, aws_secret_access_key, aws_session_token
    expiration: datetime

    def fresh(self) -> bool:
        return self.expiration - datetime.now(UTC) > CREDENTIALS_MARGIN


@dataclass(frozen=True, slots=True)
class _MemberClient:
    clients: AwsClients
    credentials: _MemberCredentials  # the ones its SSM client was made with


class MemberClients:
    """Central and organization mode: clients for a member account and region, whose SSM client
    works with the credentials of that member's reader role; SNS and DynamoDB stay the central
    account's.

    Two caches, so that this container assumes each member's role at most once per credential
    lifetime (renewed CREDENTIALS_MARGIN before expiry), however many members it meets:
    - the credentials of every member, until they near expiry (pruned at each AssumeRole): small,
      about 1.6 KB each with their key (measured with tracemalloc and a 1,000-character session
      token, most of it), so 4,000 members hold about 6.5 MB;
    - the SSM clients of the MEMBER_CACHE_SIZE most recently used members; a member whose client
      was dropped gets a new one from its cached credentials, without an AssumeRole.
    The bound holds per container (function instance) only. In organization mode SQS hands each
    sweep message to any of the sweep workers, with no affinity, and no container can use
    another's cache: across the fleet a member's role is assumed up to min(sweepConcurrency,
    sweeps per credential lifetime) times per lifetime.
    """

    def __init__(
        self,
        central: AwsClients,
        *,
        external_id: str | None = None,
        qualifier: str = "",
        sts: "STSClient | None" = None,
        make_ssm: "Callable[[str, dict[str, str]], SSMClient]" = member_ssm_client,
    ) -> None:
        self._central = central
        self._external_id = external_id
        self._qualifier = qualifier
        self._sts = sts
        self._make_ssm = make_ssm
        self._credentials: dict[tuple[str, str], _MemberCredentials] = {}
        self._clients: OrderedDict[tuple[str, str], _MemberClient] = OrderedDict()
        self._lock = threading.Lock()  # the central sweep reads members from several threads

    def role_name(self, region: str) -> str:
        return contract.member_role_name(region, self._qualifier)

    def for_member(self, account: str, region: str) -> AwsClients:
        place = (account, region)
        with self._lock:
            credentials = self._credentials.get(place)
            cached = self._clients.get(place)
            if credentials and credentials.fresh() and cached and cached.credentials is credentials:
                self._clients.move_to_end(place)
                return cached.clients
        if credentials is None or not credentials.fresh():
            credentials = self._assume_role(account, region)
            with self._lock:
                self._prune_credentials()
                self._credentials[place] = credentials
        clients = replace(self._central, ssm=self._make_ssm(region, credentials.keys))
        with self._lock:
            self._clients[place] = _MemberClient(clients, credentials)
            self._clients.move_to_end(place)
            while len(self._clients) > MEMBER_CACHE_SIZE:
                self._clients.popitem(last=False)
        return clients

    def _assume_role(self, account: str, region: str) -> _MemberCredentials:
        role = f"arn:{partition(region)}:iam::{account}:role/{self.role_name(region)}"
        request: dict[str, Any] = {"RoleArn": role, "RoleSessionName": contract.ROLE_SESSION_NAME}
        if self._external_id:
            request["ExternalId"] = self._external_id
        if self._sts is None:  # created on first use: per-account mode never needs it
            self._sts = aws_session().client("sts", config=RETRY_CONFIG)
        credentials = self._sts.assume_role(**request)["Credentials"]
        keys = {
            "aws_access_key_id": credentials["AccessKeyId"],
            "aws_secret_access_key": credentials["SecretAccessKey"],
            "aws_session_token": credentials["SessionToken"],
        }
        return _MemberCredentials(keys, credentials["Expiration"])

    def _prune_credentials(self) -> None:
        """Drop the credentials too near expiry to use (the caller holds the lock)."""
        cutoff = datetime.now(UTC) + CREDENTIALS_MARGIN
        stale = [place for place, held in self._credentials.items() if held.expiration <= cutoff]
        for place in stale:
            del self._credentials[place]

    @property
    def cached(self) -> int:
        """How many members' clients are cached (at most MEMBER_CACHE_SIZE)."""
        return len(self._clients)

    @property
    def credentials_cached(self) -> int:
        """How many members' credentials are cached (every member met, until near expiry)."""
        return len(self._credentials)


# One per container and central clients: the member credentials they cache outlive invocations.
_members: "weakref.WeakKeyDictionary[AwsClients, MemberClients]" = weakref.WeakKeyDictionary()


def member_clients(
    central: AwsClients, external_id: str | None, qualifier: str = ""
) -> MemberClients:
    if central not in _members:
        _members[central] = MemberClients(central, external_id=external_id, qualifier=qualifier)
    return _members[central]


@cache
def default_clients() -> AwsClients:
    """Clients reused by every invocation of this container (connection reuse, no re-init cost)."""
    return create_clients()
