"""Fixtures: in-process AWS, a Lambda context, and clean Powertools state between tests."""

import functools
import time
from collections.abc import Iterator

import botocore.endpoint
import botocore.loaders
import botocore.retries.bucket
import botocore.session
import pytest

from local_aws.environment import (
    LambdaContext,
    LocalAws,
    follow_stdout,
    local_aws,
    use_function_environment,
)

# The handler reads its environment when imported: set it before anything imports the handler.
use_function_environment()

from mwalerts import handler, pacing  # noqa: E402

# Tests read the function's logs and EMF metrics from one captured stream, as CloudWatch Logs does.
follow_stdout(handler.logger)


@pytest.fixture(scope="session", autouse=True)
def _one_botocore_loader() -> Iterator[None]:
    """One botocore data loader per data path for the whole run. Each new session otherwise
    parses botocore's JSON service models and endpoint rules again (about 0.3 s), and the tests
    make one or more sessions each. The files do not change during a run, and a session's clients
    already share its loader's parsed data, so sessions sharing the loader behave the same."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(
            botocore.session, "create_loader", functools.cache(botocore.loaders.create_loader)
        )
        yield


@pytest.fixture
def aws() -> Iterator[LocalAws]:
    with local_aws() as environment:
        yield environment


@pytest.fixture
def context() -> LambdaContext:
    return LambdaContext()


@pytest.fixture(autouse=True)
def _clear_metrics() -> Iterator[None]:
    # Powertools keeps metrics in class-level state; a test that raises mid-way must not leak its
    # metrics into the next one.
    yield
    handler.metrics.clear_metrics()


class VirtualTime:
    """time.monotonic and time.sleep for the SSM clients' pacers: sleeping moves the clock on at
    once, so pacing and retry deadlines play out in full without the wait."""

    def __init__(self) -> None:
        self.slept = 0.0

    def monotonic(self) -> float:
        return time.monotonic() + self.slept

    def sleep(self, seconds: float) -> None:
        self.slept += max(0.0, seconds)


@pytest.fixture(autouse=True)
def virtual_time(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> VirtualTime:
    """Pacers on virtual time, except in tests marked `real_time` (the fake's rate limit refills
    in real time)."""
    clock = VirtualTime()
    if request.node.get_closest_marker("real_time") is None:
        monkeypatch.setattr(pacing, "time", clock)
    return clock


@pytest.fixture(autouse=True)
def no_retry_waits(monkeypatch: pytest.MonkeyPatch) -> None:
    """Retries happen as configured, without the waiting: botocore's backoff sleeps (through
    botocore.endpoint's `time`) and adaptive mode's client-side rate limiter (a token bucket that
    blocks in real time) would make throttling tests take minutes."""

    class _NoSleep:
        @staticmethod
        def sleep(_seconds: float) -> None:
            return None

    monkeypatch.setattr(botocore.endpoint, "time", _NoSleep)
    monkeypatch.setattr(botocore.retries.bucket.TokenBucket, "acquire", lambda *_a, **_k: True)
