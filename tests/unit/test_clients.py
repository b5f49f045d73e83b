"""The container's AWS clients: made once, reused by every invocation it serves."""

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from mwalerts.clients import MEMBER_CACHE_SIZE, AwsClients, MemberClients, default_clients


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
    """STS answering every AssumeRole with credentials valid for an hour, counting the calls."""

    def __init__(self) -> None:
        self.assumed: list[str] = []

    def assume_role(self, **request: Any) -> dict[str, Any]:
        self.assumed.append(request["RoleArn"])
        expiration = datetime.now(UTC) + timedelta(hours=1)
        keys = {"AccessKeyId": "AKIA", "SecretAccessKey": "secret", "SessionToken": "token"}
        return {"Credentials": {**keys, "Expiration": expiration}}


def test_a_container_keeps_the_clients_of_its_most_recently_used_members_only():
    # Thousands of account-regions reach a sweep worker at random: its cache must not grow with
    # the fleet (each entry holds a botocore client), so the least recently used member goes.
    sts = _Sts()
    central = AwsClients(ssm=object(), sns=object(), dynamodb=object())
    members = MemberClients(central, sts=sts, make_ssm=lambda region, keys: object())
    places = [(f"{n:012d}", "eu-west-1") for n in range(MEMBER_CACHE_SIZE + 1)]
    for account, region in places[:MEMBER_CACHE_SIZE]:
        members.for_member(account, region)
    members.for_member(*places[0])  # used again: now the most recent
    members.for_member(*places[MEMBER_CACHE_SIZE])  # one more: the least recent goes

    assert members.cached == MEMBER_CACHE_SIZE
    assert len(sts.assumed) == MEMBER_CACHE_SIZE + 1
    members.for_member(*places[0])  # kept: no AssumeRole
    assert len(sts.assumed) == MEMBER_CACHE_SIZE + 1
    members.for_member(*places[1])  # dropped: assumed again
    assert len(sts.assumed) == MEMBER_CACHE_SIZE + 2
