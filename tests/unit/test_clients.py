"""The container's AWS clients: made once, reused by every invocation it serves."""

from collections.abc import Iterator

import pytest

from mwalerts.clients import default_clients


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
