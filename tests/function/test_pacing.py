"""SSM calls paced to the account's shared rate (mwalerts.pacing): throttling slows the client
down and is retried until the invocation's deadline, so it never costs an alert that had time.

The pacers run on virtual time (tests/conftest.py), except where the fake's rate limit, which
refills in real time, decides (`real_time`)."""

import json

import boto3
import botocore.session
import pytest
from botocore.exceptions import ClientError

from local_aws.environment import LocalAws
from local_aws.scenario import TaskPlan, seed_window_execution
from mwalerts import handler
from mwalerts.pacing import (
    CALM_CUT,
    CALM_CUT_INTERVAL,
    CUT,
    IDLE_RESET,
    MAX_RATE_CEILING,
    MIN_RATE,
    QUIET,
    Pacer,
    pacer_of,
)
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


def test_a_client_is_not_paced_until_ssm_first_throttles_it():
    # Driven through the handlers botocore calls, with a clock that only sleeping moves.
    clock = VirtualTime()
    paced = Pacer(clock=clock.monotonic, sleep=clock.sleep)
    for _ in range(50):
        answer(paced, attempt(paced), throttled=False)
    assert paced.rate is None
    assert clock.slept == 0  # no attempt waited: most nights no limit is met


def sent_over(paced: Pacer, clock: VirtualTime, count: int, seconds: float) -> "list[_Request]":
    """`count` attempts, evenly spread over `seconds` (from the first to the last)."""
    sent = []
    for index in range(count):
        sent.append(attempt(paced))
        if index < count - 1:
            clock.sleep(seconds / (count - 1))
    return sent


def far_over(paced: Pacer, clock: VirtualTime) -> None:
    """10 attempts over 0.09 s (111 a second), every one throttled."""
    for request in sent_over(paced, clock, 10, 0.09):
        answer(paced, request, throttled=True)


def test_far_over_the_rate_the_client_is_paced_at_a_share_of_what_it_was_sending():
    clock = VirtualTime()
    paced = Pacer(clock=clock.monotonic, sleep=clock.sleep)

    far_over(paced, clock)  # judged from the 10th answer: all throttles

    assert paced.rate == pytest.approx(CUT * 10 / 0.09, rel=1e-2)
    assert paced.stats.throttled == 10


def test_each_throttle_far_over_the_rate_of_an_attempt_sent_after_the_last_cut_cuts_again():
    clock = VirtualTime()
    paced = Pacer(clock=clock.monotonic, sleep=clock.sleep)
    far_over(paced, clock)
    rate = paced.rate
    in_flight = attempt(paced)

    answer(paced, in_flight, throttled=True)
    assert paced.rate == pytest.approx(rate * CUT)
    answer(paced, in_flight, throttled=True)  # sent before that cut: answered by it
    assert paced.rate == pytest.approx(rate * CUT)


def test_a_few_throttles_among_many_answers_cut_gently_and_seldom():
    clock = VirtualTime()
    paced = Pacer(clock=clock.monotonic, sleep=clock.sleep)
    sent = sent_over(paced, clock, 20, 0.5)
    answer(paced, sent[0], throttled=True)
    for request in sent[1:]:
        answer(paced, request, throttled=False)
    assert paced.rate is None  # a throttle in a client's first seconds: not paced yet

    for request in sent_over(paced, clock, 20, CALM_CUT_INTERVAL):  # about 10 a second
        answer(paced, request, throttled=False)
    answer(paced, attempt(paced), throttled=True)  # 1 of the last 20, seconds in
    rate = paced.rate
    assert rate is not None
    assert 0.7 * 10 < rate <= CALM_CUT * 12  # a gentle cut of the rate it was sending at
    answer(paced, attempt(paced), throttled=True)
    assert paced.rate is not None
    assert paced.rate >= rate  # not cut again within CALM_CUT_INTERVAL


@pytest.mark.parametrize("rate", [5.0, 40.0, MAX_RATE_CEILING])
def test_attempts_go_at_the_rate_in_force_however_high(rate):
    clock = VirtualTime()
    paced = Pacer(max_rate=rate, clock=clock.monotonic, sleep=clock.sleep)
    attempt(paced)
    start = clock.monotonic()
    for _ in range(int(2 * rate)):
        attempt(paced)
    # 2 seconds' worth, less the first attempt's turn of credit (plus the real time spent here):
    # not capped by how often a waiting attempt looks (it slept a whole _NAP each time: 40/s).
    assert 2.0 - 1 / rate - 0.01 < clock.monotonic() - start < 2.0 + 0.1


def test_paced_attempts_are_spaced_by_the_rate_and_a_quiet_client_returns_to_slow_start():
    clock = VirtualTime()
    paced = Pacer(clock=clock.monotonic, sleep=clock.sleep)
    far_over(paced, clock)
    rate = paced.rate
    assert rate is not None
    start = clock.monotonic()
    for _ in range(4):
        answer(paced, attempt(paced), throttled=False)
    assert clock.monotonic() - start >= 3 / (rate * 1.2)  # about 1/rate apart, growing slowly
    assert not paced.slow_start

    clock.sleep(QUIET + 0.1)
    answer(paced, attempt(paced), throttled=False)
    assert paced.slow_start  # no throttle for QUIET seconds: growing fast again


def test_a_client_idle_for_a_minute_forgets_its_rate():
    clock = VirtualTime()
    paced = Pacer(clock=clock.monotonic, sleep=clock.sleep)
    far_over(paced, clock)
    assert paced.rate is not None

    clock.sleep(IDLE_RESET + 1)
    attempt(paced)
    assert paced.rate is None


def test_the_rate_never_falls_below_the_minimum_nor_rises_above_the_limit():
    clock = VirtualTime()
    paced = Pacer(clock=clock.monotonic, sleep=clock.sleep)
    for _ in range(40):
        answer(paced, attempt(paced), throttled=True)
    assert paced.rate == MIN_RATE

    paced.limit(2.0)
    clock.sleep(QUIET + 1)
    for _ in range(20):
        answer(paced, attempt(paced), throttled=False)
    assert paced.rate == 2.0
    clock.sleep(IDLE_RESET + 1)
    start = clock.monotonic()
    for _ in range(5):  # not paced again, but never above the limit (one turn of credit)
        answer(paced, attempt(paced), throttled=False)
    assert clock.monotonic() - start >= 3 / 2.0
    with pytest.raises(ValueError, match="positive"):
        paced.limit(0)


def test_a_turn_that_would_come_after_the_deadline_fails_the_call_as_throttled():
    clock = VirtualTime()
    paced = Pacer(clock=clock.monotonic, sleep=clock.sleep)
    for _ in range(30):
        answer(paced, attempt(paced), throttled=True)
    assert paced.rate is not None
    assert paced.rate < 0.5  # a turn every 2 s or more
    paced.finish_within(1.0)
    slept = clock.slept

    with pytest.raises(ClientError, match=r"ThrottlingException.*before the invocation's deadline"):
        attempt(paced)
    assert clock.slept == slept  # it did not wait for a turn it could not use
    assert paced.stats.gave_up == 1


def test_a_client_is_paced_once():
    client = boto3.Session(region_name="us-east-2").client("ssm")
    Pacer().install(client)
    with pytest.raises(ValueError, match="paced already"):
        Pacer().install(client)


def test_no_retry_is_started_that_could_not_begin_before_the_deadline(aws, context, virtual_time):
    execution = seed_window_execution(aws.ssm, [PATCHING])
    aws.ssm.throttle(1.0)
    context._remaining_time_ms = 15_000  # 10 s of it is the reserve for publishing

    with pytest.raises(ClientError, match="ThrottlingException"):
        handler.handler(execution.event(), context, clients=aws.clients)
    # 5 s to retry in, turns ever further apart: it stops when the next would come too late.
    assert 2.0 < virtual_time.slept <= 5.5
    assert pacer(aws).stats.gave_up >= 1
    assert aws.published() == []


def test_a_server_error_is_retried_with_backoff(aws, context, virtual_time):
    execution = seed_window_execution(aws.ssm, [PATCHING])
    aws.ssm.fail_next(2, "InternalServerError")

    handler.handler(execution.event(), context, clients=aws.clients)

    assert alert_of(aws)["windowExecutionId"] == execution.window_execution_id
    assert pacer(aws).stats.throttled == 0
    assert pacer(aws).stats.retried == 2
    assert pacer(aws).rate is None  # a server error is not a reason to slow down


@pytest.mark.real_time
def test_an_account_rate_limit_is_met_by_pacing_and_every_invocation_is_counted(aws, context):
    execution = seed_window_execution(aws.ssm, LARGE)
    aws.ssm.rate_limit(20.0, burst=3)

    handler.handler(execution.event(), context, clients=aws.clients)

    digest = alert_of(aws)
    assert (digest["totalInvocations"], digest["failedInvocations"]) == (2_500, 50)
    assert digest["counts"] == {"SUCCESS": 2_450, "FAILED": 50}
    paced = pacer(aws)
    assert paced.stats.throttled > 0
    assert paced.stats.gave_up == 0
    assert paced.rate is not None
    # It found a rate near the limit and kept to it: most attempts went through (the throttles
    # are the first second's, while it finds the rate). Its rate at the end is not asserted: on a
    # busy machine the function sends slower than the limit, and the rate grows meanwhile.
    assert paced.stats.throttled < paced.stats.sent / 2


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
    parsed: dict[str, object] = {"ResponseMetadata": {"HTTPStatusCode": status}}
    if throttled:
        parsed["Error"] = {"Code": "ThrottlingException", "Message": "Rate exceeded"}
    return paced._needs_retry(
        request_dict={"context": request.context},
        response=(_Http(status), parsed),
        attempts=1,
        caught_exception=None,
        operation=_OPERATION,
    )
