"""The container's AWS clients: made once, reused by every invocation it serves."""

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from mwalerts.clients import (
    CREDENTIALS_MARGIN,
    MEMBER_CACHE_SIZE,
    AwsClients,
    MemberClients,
    default_clients,
)


@pytest.fixture
def fresh_container(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-central-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    default_clients.cache_clear()
    yield
    default_clients.cache_clear()  # no clients of this environment for the next test


def test_the_container_makes_its_clients_once_in_lambdas_region(fresh_container):
    clients = default_clients()

    assert default_clients() is clients  # connections and credentials reused, no new session
    assert {c.meta.region_name for c in (clients.ssm, clients.sns, clients.dynamodb)} == {
        "eu-central-1"
    }
    assert clients.sqs.meta.region_name == "eu-central-1"  # organization mode's, made later


class _Sts:
    """STS answering every AssumeRole with credentials valid for `lifetime`, counting the calls."""

    def __init__(self, lifetime: timedelta = timedelta(hours=1)) -> None:
        self.assumed: list[str] = []
        self.lifetime = lifetime

    def assume_role(self, **request: Any) -> dict[str, Any]:
        self.assumed.append(request["RoleArn"])
        expiration = datetime.now(UTC) + self.lifetime
        keys = {
            "AccessKeyId": f"ASIA{len(self.assumed)}",
            "SecretAccessKey": "secret",  # pragma: allowlist secret
            "SessionToken": "token",
        }
        return {"Credentials": {**keys, "Expiration": expiration}}


class _MadeSsm:
    """The SSM clients made, each with the credentials it was given."""

    def __init__(self) -> None:
        self.made: list[tuple[str, dict[str, str]]] = []

    def __call__(self, region: str, keys: dict[str, str]) -> object:
        self.made.append((region, keys))
        return object()


def _members(sts: Any, make_ssm: Any) -> MemberClients:  # fakes of STS and SSM clients
    unused: Any = object()  # the central clients: never called here
    central = AwsClients(ssm=unused, sns=unused, dynamodb=unused)
    return MemberClients(central, sts=sts, make_ssm=make_ssm)


def test_a_container_keeps_the_clients_of_its_most_recently_used_members_only():
    # Thousands of account-regions reach a sweep worker at random: its clients must not grow with
    # the fleet (each is a botocore client), so the least recently used member's client goes.
    sts, make_ssm = _Sts(), _MadeSsm()
    members = _members(sts, make_ssm)
    places = [(f"{n:012d}", "eu-west-1") for n in range(MEMBER_CACHE_SIZE + 1)]
    for account, region in places[:MEMBER_CACHE_SIZE]:
        members.for_member(account, region)
    kept = members.for_member(*places[0])  # used again: now the most recent
    members.for_member(*places[MEMBER_CACHE_SIZE])  # one more: the least recent client goes

    assert members.cached == MEMBER_CACHE_SIZE
    assert members.credentials_cached == MEMBER_CACHE_SIZE + 1
    assert (len(sts.assumed), len(make_ssm.made)) == (MEMBER_CACHE_SIZE + 1,) * 2
    assert members.for_member(*places[0]) is kept  # its client kept: nothing made
    assert (len(sts.assumed), len(make_ssm.made)) == (MEMBER_CACHE_SIZE + 1,) * 2


def test_a_member_whose_client_was_dropped_gets_a_new_one_from_its_cached_credentials():
    # The bound is on clients only: a member's credentials stay until they near expiry, so "one
    # AssumeRole per account-region per credential lifetime" holds in a container that meets
    # more members than it keeps clients for.
    sts, make_ssm = _Sts(), _MadeSsm()
    members = _members(sts, make_ssm)
    places = [(f"{n:012d}", "eu-west-1") for n in range(MEMBER_CACHE_SIZE + 1)]
    for account, region in places:
        members.for_member(account, region)
    first_keys = make_ssm.made[0][1]

    again = members.for_member(*places[0])  # its client was dropped

    assert len(sts.assumed) == MEMBER_CACHE_SIZE + 1  # no AssumeRole
    assert make_ssm.made[-1] == ("eu-west-1", first_keys)  # a new client, the same credentials
    assert members.for_member(*places[0]) is again
    assert members.cached == MEMBER_CACHE_SIZE


def test_credentials_near_expiry_are_renewed_and_dropped_for_every_member():
    # Credentials that come back already inside the renewal margin are never reused.
    sts = _Sts(lifetime=CREDENTIALS_MARGIN - timedelta(minutes=1))
    make_ssm = _MadeSsm()
    members = _members(sts, make_ssm)
    members.for_member("111111111111", "eu-west-1")
    members.for_member("222222222222", "eu-west-1")
    assert members.credentials_cached == 1  # the first member's were dropped at that AssumeRole

    members.for_member("111111111111", "eu-west-1")

    assert len(sts.assumed) == 3  # assumed again, though its client is still kept
    assert make_ssm.made[-1][1]["aws_access_key_id"] == "ASIA3"  # a client with the new ones
