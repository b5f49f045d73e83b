"""SSM calls paced to the account's shared rate (mwalerts.pacing): throttling slows the client
down and is retried until the invocation's deadline, so it never costs an alert that had time.

The pacers run on virtual time (tests/conftest.py), except where the fake's rate limit, which
refills in real time, decides (`real_time`)."""

import json

import botocore.session
import pytest
from botocore.exceptions import ClientError

from local_aws.environment import LocalAws
from local_aws.scenario import TaskPlan, seed_window_execution
from mwalerts import handler
from mwalerts.pacing import CUT, IDLE_RESET, MIN_RATE, QUIET, START_RATE, Pacer, pacer_of
from tests.conftest import VirtualTime

PATCHING = TaskPlan({"SUCCESS": 240, "FAILED": 8, "TIMED_OUT": 2})
# 5 tasks x 500: 6 pages of the page chains, a few enrichment reads
LARGE = [TaskPlan({"SUCCESS": 490, "FAILED": 10})] * 5


def alert_of(aws: LocalAws) -> dict[str, object]:
    (published,) = aws.published()
    digest: dict[str, object] = json.loads(json.loads(published["message"])["default"])
    return digest


def pacer(aws: LocalAws) -> Pacer:
    found = pacer_of(aws.clients.ssm)
    assert found is not None
    return found


def test_throttling_longer_than_a_fixed_retry_count_still_alerts_once(aws, context):
    execution = seed_window_execution(aws.ssm, [PATCHING])
    aws.ssm.fail_next(15)  # adaptive mode gave up after 10 attempts

    handler.handler(execution.event(), context, clients=aws.clients)

    digest = alert_of(aws)
    assert digest["windowExecutionId"] == execution.window_execution_id
    assert pacer(aws).stats.throttled == 15
    assert pacer(aws).stats.gave_up == 0


def test_each_throttle_of_an_attempt_sent_after_the_last_cut_cuts_the_rate():
    # Driven through the handlers botocore calls, with a clock that only sleeping moves.
    clock = VirtualTime()
    paced = Pacer(clock=clock.monotonic, sleep=clock.sleep)
    sent_before_the_cut = attempt(paced)
    sent_before_the_cut_too = attempt(paced)

    answer(paced, sent_before_the_cut, throttled=True)
    answer(paced, sent_before_the_cut_too, throttled=True)  # the cut already answered it
    assert paced.rate == pytest.approx(START_RATE * CUT)

    answer(paced, attempt(paced), throttled=True)
    assert paced.rate == pytest.approx(START_RATE * CUT * CUT)
    assert paced.stats.throttled == 3


def test_attempts_are_spaced_by_the_rate_and_a_quiet_client_returns_to_slow_start():
    clock = VirtualTime()
    paced = Pacer(clock=clock.monotonic, sleep=clock.sleep)
    answer(paced, attempt(paced), throttled=True)
    rate = paced.rate
    start = clock.monotonic()
    for _ in range(4):
        answer(paced, attempt(paced), throttled=False)
    assert clock.monotonic() - start >= 3 / (rate * (1 + 0.2))  # about 1/rate apart
    assert not paced.slow_start

    clock.sleep(QUIET + 0.1)
    answer(paced, attempt(paced), throttled=False)
    assert paced.slow_start  # no throttle for QUIET seconds: probing fast again


def test_a_client_idle_for_a_minute_starts_again_from_the_start_rate():
    clock = VirtualTime()
    paced = Pacer(clock=clock.monotonic, sleep=clock.sleep)
    for _ in range(8):
        answer(paced, attempt(paced), throttled=True)
    assert paced.rate < START_RATE * CUT**7

    clock.sleep(IDLE_RESET + 1)
    attempt(paced)
    assert paced.rate == START_RATE


def test_the_rate_never_falls_below_the_minimum_nor_rises_above_the_limit():
    clock = VirtualTime()
    paced = Pacer(clock=clock.monotonic, sleep=clock.sleep)
    for _ in range(40):
        answer(paced, attempt(paced), throttled=True)
    assert paced.rate == MIN_RATE

    paced.limit(2.0)
    clock.sleep(IDLE_RESET + 1)
    for _ in range(20):
        answer(paced, attempt(paced), throttled=False)
    assert paced.rate == 2.0
    with pytest.raises(ValueError, match="positive"):
        paced.limit(0)


def test_no_retry_is_started_that_could_not_begin_before_the_deadline(aws, context, virtual_time):
    execution = seed_window_execution(aws.ssm, [PATCHING])
    aws.ssm.throttle(1.0)
    context._remaining_time_ms = 15_000  # 10 s of it is the reserve for publishing

    with pytest.raises(ClientError, match="ThrottlingException"):
        handler.handler(execution.event(), context, clients=aws.clients)
    # 5 s to retry in; the window's name is read alongside, and on virtual time the two
    # threads' waits add up rather than overlap: hence the second.
    assert 4.0 < virtual_time.slept <= 6.0
    assert pacer(aws).stats.gave_up >= 1
    assert aws.published() == []


def test_a_server_error_is_retried_with_backoff(aws, context, virtual_time):
    execution = seed_window_execution(aws.ssm, [PATCHING])
    aws.ssm.fail_next(2, "InternalServerError")

    handler.handler(execution.event(), context, clients=aws.clients)

    assert alert_of(aws)["windowExecutionId"] == execution.window_execution_id
    assert pacer(aws).stats.throttled == 0
    assert pacer(aws).stats.retried == 2
    assert pacer(aws).rate > START_RATE  # a server error is not a reason to slow down


@pytest.mark.real_time
def test_an_account_rate_limit_is_met_by_pacing_and_every_invocation_is_counted(aws, context):
    execution = seed_window_execution(aws.ssm, LARGE)
    aws.ssm.rate_limit(20.0, burst=3)

    handler.handler(execution.event(), context, clients=aws.clients)

    digest = alert_of(aws)
    assert (digest["totalInvocations"], digest["failedInvocations"]) == (2_500, 50)
    assert digest["counts"] == {"SUCCESS": 2_450, "FAILED": 50}
    answered = [call for call in aws.ssm.calls if call.error is None]
    throttled = [call for call in aws.ssm.calls if call.error == "ThrottlingException"]
    assert len(throttled) <= len(answered) // 3  # paced, not hammering until let through


# -- helpers ------------------------------------------------------------------------------------

_OPERATION = (
    botocore.session.get_session()
    .get_service_model("ssm")
    .operation_model("DescribeMaintenanceWindowExecutionTasks")
)


class _Request:
    def __init__(self) -> None:
        self.context: dict[str, object] = {}


class _Http:
    def __init__(self, status: int) -> None:
        self.status_code = status


def attempt(paced: Pacer) -> _Request:
    """An attempt as botocore makes it: its turn taken at before-sign."""
    request = _Request()
    paced._wait_turn(request)
    return request


def answer(paced: Pacer, request: _Request, *, throttled: bool) -> float | None:
    """SSM's answer to it, as botocore's needs-retry event hands it over."""
    status = 400 if throttled else 200
    parsed = (
        {"Error": {"Code": "ThrottlingException", "Message": "Rate exceeded"}} if throttled else {}
    )
    parsed["ResponseMetadata"] = {"HTTPStatusCode": status}
    return paced._needs_retry(
        request_dict={"context": request.context},
        response=(_Http(status), parsed),
        attempts=1,
        caught_exception=None,
        operation=_OPERATION,
    )
