"""The sweep's failures, in the function (botocore Stubber, no moto): organization mode's fan-out
fails loudly rather than lose a place, a worker retries (reports in batchItemFailures) every place
it did not finish, without counting it, and the in-invocation sweep fails after the other places
when one cannot be listed."""

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from botocore.exceptions import EndpointConnectionError
from botocore.stub import ANY, Stubber

from local_aws.environment import LambdaContext
from local_aws.scenario import schedule_event
from mwalerts import contract, handler, sweep, sweep_worker
from mwalerts.clients import AwsClients, create_clients
from mwalerts.errors import SweepIncompleteError
from mwalerts.events import ScheduledEvent, parse_event
from mwalerts.function_settings import FunctionSettings, load_settings
from mwalerts.invocation import Invocation
from mwalerts.sweep import SWEEP_TIME_RESERVE_MS, PlaceSweep
from mwalerts.sweep_fanout import SEND_BATCH_SIZE, enqueue_sweep
from tests.support import emf_documents, log_records

REGION = "eu-west-1"
QUEUE_URL = f"https://sqs.{REGION}.amazonaws.com/111111111111/sweep"
COMMON = {
    contract.ENV_ALERT_TOPIC_ARN: f"arn:aws:sns:{REGION}:111111111111:alerts",
    contract.ENV_IDEMPOTENCY_TABLE: "alerts-idempotency",
}
ORGANIZATION = {
    **COMMON,
    contract.ENV_MEMBER_STACK_SET: "MaintenanceWindowAlerts-Members",
    contract.ENV_MEMBER_STACK_SET_CALL_AS: "SELF",
    contract.ENV_MEMBER_REGIONS: REGION,
    contract.ENV_SWEEP_QUEUE_URL: QUEUE_URL,
}
SWEEP_TIME = datetime(2026, 11, 20, 2, 30, tzinfo=UTC)
PLACES = [(f"{n:012d}", REGION) for n in range(1, SEND_BATCH_SIZE + 3)]  # two batches


class Places:
    """A membership of fixed places."""

    description = "the listed places"

    def __init__(self, places: list[tuple[str, str]]) -> None:
        self._places = places

    def admits(self, account: str, region: str) -> bool:
        return (account, region) in self._places

    def places(self) -> list[tuple[str, str]]:
        return list(self._places)


@pytest.fixture(scope="module")
def clients() -> AwsClients:
    # One per module: a new session loads botocore's data again (~0.25 s).
    return create_clients(
        region_name=REGION,
        credentials={"aws_access_key_id": "testing", "aws_secret_access_key": "testing"},
    )


def invocation(clients: AwsClients, settings: FunctionSettings, context: Any = None) -> Invocation:
    return Invocation(settings, clients, handler.metrics, context, membership=Places(PLACES))


def the_schedule() -> ScheduledEvent:
    event = parse_event(schedule_event(SWEEP_TIME))
    assert isinstance(event, ScheduledEvent)
    return event


# -- the fan-out ---------------------------------------------------------------------------------


@pytest.fixture
def stubbed(clients: AwsClients) -> Iterator[tuple[Stubber, Stubber]]:
    with Stubber(clients.dynamodb) as dynamodb, Stubber(clients.sqs) as sqs:
        yield dynamodb, sqs
        dynamodb.assert_no_pending_responses()
        sqs.assert_no_pending_responses()


def sent(count: int, refused: int = 0) -> dict[str, Any]:
    return {
        "Successful": [
            {"Id": str(n), "MessageId": f"m-{n}", "MD5OfMessageBody": "0" * 32}
            for n in range(count - refused)
        ],
        "Failed": [
            {"Id": str(n), "SenderFault": False, "Code": "InternalError"}
            for n in range(count - refused, count)
        ],
    }


def test_a_message_the_queue_refuses_fails_the_fan_out_so_the_schedule_is_retried(
    clients, stubbed, capsys
):
    dynamodb, sqs = stubbed
    dynamodb.add_response("put_item", {})  # the sweep's counter
    sqs.add_response("send_message_batch", sent(SEND_BATCH_SIZE))
    sqs.add_response(
        "send_message_batch", sent(2, refused=1), {"QueueUrl": QUEUE_URL, "Entries": ANY}
    )

    with pytest.raises(SweepIncompleteError, match="refused 1 message"):
        enqueue_sweep(the_schedule(), invocation(clients, load_settings(ORGANIZATION)))

    # Not reported as enqueued, and no heartbeat: the retried schedule event sends them all again
    # (the places already sent are counted once: mwalerts.sweep_progress).
    documents = emf_documents(capsys.readouterr().out)
    assert not [d for d in documents if contract.METRIC_SWEEP_PLACES in d]
    assert not [d for d in documents if contract.METRIC_SWEEP_RUNS in d]


def test_only_organization_mode_fans_the_sweep_out(clients, stubbed):
    per_account = Invocation(load_settings(COMMON), clients, handler.metrics)

    # Nothing is written or sent (the stubbers have no responses).
    with pytest.raises(SweepIncompleteError, match="organization mode only"):
        enqueue_sweep(the_schedule(), per_account)


# -- the workers ---------------------------------------------------------------------------------


def record(number: int, body: dict[str, Any] | str) -> dict[str, Any]:
    return {
        "messageId": f"m-{number}",
        "receiptHandle": f"r-{number}",
        "body": body if isinstance(body, str) else json.dumps(body),
        "attributes": {},
        "messageAttributes": {},
        "md5OfBody": "0" * 32,
        "eventSource": "aws:sqs",
        "eventSourceARN": sweep_worker.queue_arn(QUEUE_URL),
        "awsRegion": REGION,
    }


def place_message(account: str) -> dict[str, str]:
    since = SWEEP_TIME - timedelta(minutes=45)
    return {
        "sweep": SWEEP_TIME.isoformat(),
        "account": account,
        "region": REGION,
        "since": since.isoformat(),
    }


class Worker:
    """The worker with `sweep_place` and the count of finished places replaced by recorders."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, result: PlaceSweep) -> None:
        self.swept: list[str] = []
        self.counted: list[str] = []
        self.result = result
        monkeypatch.setattr(sweep_worker, "sweep_place", self._sweep_place)
        monkeypatch.setattr(sweep_worker, "SweepProgress", lambda *_: self)

    def _sweep_place(self, account: str, *_: Any) -> PlaceSweep:
        self.swept.append(account)
        return self.result

    def place_done(self, sweep: str, account: str, region: str) -> bool:
        self.counted.append(account)
        return False


def failures(response: dict[str, Any]) -> list[str]:
    return [failure["itemIdentifier"] for failure in response["batchItemFailures"]]


def failed_places(printed: str) -> list[str]:
    return [
        d["account"] for d in emf_documents(printed) if contract.METRIC_SWEEP_PLACES_FAILED in d
    ]


def test_with_too_little_time_left_no_place_is_started_and_every_message_is_retried(
    clients, monkeypatch, capsys
):
    worker = Worker(monkeypatch, PlaceSweep())
    context = LambdaContext(remaining_time_ms=SWEEP_TIME_RESERVE_MS - 1)
    event = {
        "Records": [record(1, place_message(PLACES[0][0])), record(2, place_message("2" * 12))]
    }

    response = sweep_worker.process_sweep_batch(
        event, invocation(clients, load_settings(ORGANIZATION), context), lambda _: None
    )

    assert failures(response) == ["m-1", "m-2"]
    assert (worker.swept, worker.counted) == ([], [])
    assert failed_places(capsys.readouterr().out) == [PLACES[0][0], "2" * 12]


@pytest.mark.parametrize(
    ("result", "reason"),
    [
        (PlaceSweep(examined=2, failed=["exec-1"]), "could not process ['exec-1']"),
        (PlaceSweep(examined=1, stopped_early=True), "ran out of time"),
    ],
)
def test_a_place_not_finished_is_retried_uncounted_with_the_reason_logged(
    clients, monkeypatch, capsys, result, reason
):
    worker = Worker(monkeypatch, result)
    account = PLACES[0][0]
    event = {"Records": [record(1, place_message(account))]}

    response = sweep_worker.process_sweep_batch(
        event, invocation(clients, load_settings(ORGANIZATION), LambdaContext()), lambda _: None
    )

    assert failures(response) == ["m-1"]
    assert (worker.swept, worker.counted) == ([account], [])  # no heartbeat can follow
    printed = capsys.readouterr().out
    assert failed_places(printed) == [account]
    (logged,) = [r for r in log_records(printed) if r["level"] == "ERROR"]
    assert reason in logged["exception"]


def test_a_malformed_message_fails_alone_and_the_others_are_swept(clients, monkeypatch):
    worker = Worker(monkeypatch, PlaceSweep(examined=1))
    account = PLACES[0][0]
    broken = {**place_message("2" * 12), "account": "not-an-account", "since": "yesterday"}
    event = {"Records": [record(1, broken), record(2, "{"), record(3, place_message(account))]}

    response = sweep_worker.process_sweep_batch(
        event, invocation(clients, load_settings(ORGANIZATION), LambdaContext()), lambda _: None
    )

    assert failures(response) == ["m-1", "m-2"]  # on to the dead-letter queue after 3 receives
    assert (worker.swept, worker.counted) == ([account], [account])


def test_outside_lambda_a_place_is_swept_whatever_the_time(clients, monkeypatch):
    # Local runs and benchmarks have no Lambda context, hence no deadline to keep a reserve for.
    worker = Worker(monkeypatch, PlaceSweep(examined=1))
    account = PLACES[0][0]

    response = sweep_worker.process_sweep_batch(
        {"Records": [record(1, place_message(account))]},
        invocation(clients, load_settings(ORGANIZATION)),
        lambda _: None,
    )

    assert failures(response) == []
    assert (worker.swept, worker.counted) == ([account], [account])


# -- the in-invocation sweep (per-account and central mode) --------------------------------------


def test_a_member_that_cannot_be_listed_fails_the_sweep_after_the_others(
    clients, monkeypatch, capsys
):
    # Not a ClientError: the member region's endpoint did not answer.
    (reached, _), (broken, _) = PLACES[:2]

    def sweep_place(account: str, region: str, *_: Any) -> PlaceSweep:
        if account == broken:
            raise EndpointConnectionError(endpoint_url=f"https://ssm.{region}.amazonaws.com")
        return PlaceSweep(examined=1, recovered=["exec-a"])

    monkeypatch.setattr(sweep, "sweep_place", sweep_place)
    members = json.dumps({reached: [REGION], broken: [REGION]})
    central = load_settings({**COMMON, contract.ENV_MEMBER_ACCOUNTS: members})
    central_invocation = Invocation(central, clients, handler.metrics)

    with pytest.raises(SweepIncompleteError, match=f"{broken}/{REGION}"):
        sweep.sweep(the_schedule(), central_invocation, lambda _: None)

    (document,) = emf_documents(capsys.readouterr().out)
    assert document[contract.METRIC_SWEEP_RECOVERED] == [1.0]  # the reachable member was swept
    assert contract.METRIC_SWEEP_RUNS not in document  # and no heartbeat
