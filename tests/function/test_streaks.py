"""Failure streaks through the handler, on moto's DynamoDB and SNS and the fake SSM APIs: nights of
one window (fail, fail, succeed, fail...), each alert's new / still-failing split, the resolved
notice, suppression with on-change, duplicates and out-of-order deliveries."""

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from botocore.exceptions import ClientError

from local_aws.environment import STREAK_TABLE_NAME, LambdaContext, LocalAws
from local_aws.scenario import TaskPlan, schedule_event, seed_window_execution
from mwalerts import contract, handler
from mwalerts.errors import StreakConflictError, StreakWriteError
from mwalerts.invocation import Invocation
from mwalerts.model import WindowExecution
from mwalerts.service import handle_event
from mwalerts.streak_store import StreakStore
from mwalerts.streaks import advance
from tests.support import emf_documents

NIGHT = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)
FLEET = [f"i-0{n:016x}" for n in range(1, 9)]
A, B, C = FLEET[:3]


def night(aws: LocalAws, number: int, failing: set[str], seed: int | None = None) -> Any:
    """The window's run on night `number`: the fleet, `failing` of it failed."""
    plan = TaskPlan.fleet({i: "FAILED" if i in failing else "SUCCESS" for i in FLEET})
    return seed_window_execution(
        aws.ssm,
        [plan],
        seed=number if seed is None else seed,
        start_time=NIGHT + timedelta(days=number),
    )


def deliver(aws: LocalAws, execution: Any, **settings: Any) -> dict[str, Any]:
    """The execution's event through the handler (with these settings changed)."""
    if not settings:
        return handler.handler(execution.event(), LambdaContext(), clients=aws.clients)
    changed = handler.settings.model_copy(update=settings)
    invocation = Invocation(changed, aws.clients, handler.metrics, LambdaContext())
    result = handle_event(execution.event(), invocation)
    return result.__dict__


def messages(aws: LocalAws) -> list[dict[str, Any]]:
    """Each message published: subject, attributes and its JSON default body."""
    return [
        {
            "subject": p["subject"],
            "attributes": {k: v["Value"] for k, v in p["attributes"].items()},
            "body": json.loads(json.loads(p["message"])["default"]),
            "email": json.loads(p["message"])["email"],
        }
        for p in aws.published()
    ]


def test_nights_of_one_window_split_new_from_still_failing_and_resolve(aws):
    first, second, clean, again = (
        night(aws, 1, {A}),
        night(aws, 2, {A, B}),
        night(aws, 3, set()),
        night(aws, 4, {A}),
    )
    outcomes = [deliver(aws, run)["action"] for run in (first, second, clean, again)]
    assert outcomes == ["alerted", "alerted", "resolved", "alerted"]
    one, two, resolved, four = messages(aws)

    assert one["body"]["streaks"]["newFailures"] == 1
    assert one["attributes"][contract.ATTRIBUTE_NEW_FAILURES] == "1"

    streaks = two["body"]["streaks"]
    assert (streaks["newFailures"], streaks["stillFailing"]) == (1, 1)
    by_target = {f["instanceIds"][0]: f for f in two["body"]["failures"]}
    assert by_target[A]["consecutiveFailures"] == 2
    assert by_target[A]["failingSince"]["windowExecutionId"] == first.window_execution_id
    assert by_target[B]["consecutiveFailures"] == 1
    assert two["body"]["failures"][0]["instanceIds"] == [B]  # new first
    assert "1 new" in two["subject"]

    assert resolved["attributes"][contract.ATTRIBUTE_STATUS] == contract.STATUS_RESOLVED
    assert resolved["body"]["notice"] == "resolved"
    assert resolved["body"]["windowExecutionId"] == clean.window_execution_id
    assert resolved["body"]["resolved"]["failedExecutions"] == 2
    assert resolved["body"]["resolved"]["failingSince"]["windowExecutionId"] == (
        first.window_execution_id
    )

    assert four["body"]["streaks"]["newFailures"] == 1  # A's streak ended with the clean night
    assert four["body"]["failures"][0]["consecutiveFailures"] == 1


def test_the_same_targets_failing_again_say_so_in_the_subject_and_attribute(aws):
    for number in (1, 2):
        deliver(aws, night(aws, number, {A, B}))
    latest = messages(aws)[-1]
    assert "all still failing" in latest["subject"]
    assert latest["attributes"][contract.ATTRIBUTE_NEW_FAILURES] == "0"


def test_on_change_suppresses_repeats_until_a_streak_starts_or_ends(aws):
    on_change = {"repeat_alerts": {contract.REPEAT_ALL_WINDOWS: contract.REPEAT_ON_CHANGE}}
    nights = [{A}, {A}, {A, B}, {A, B}, {B}, {B}]
    actions = [deliver(aws, night(aws, n, f), **on_change)["action"] for n, f in enumerate(nights)]
    assert actions == ["alerted", "suppressed", "alerted", "suppressed", "alerted", "suppressed"]
    assert len(aws.published()) == 3


def test_on_change_is_per_window_and_always_is_the_default(aws):
    other = {"repeat_alerts": {"mw-0123456789abcdef0": contract.REPEAT_ON_CHANGE}}
    actions = [deliver(aws, night(aws, n, {A}), **other)["action"] for n in (1, 2)]
    assert actions == ["alerted", "alerted"]


def test_resolved_notices_can_be_turned_off(aws):
    deliver(aws, night(aws, 1, {A}))
    outcome = deliver(aws, night(aws, 2, set()), resolved_notices=False)
    assert outcome["action"] == "all-clear"
    assert len(aws.published()) == 1


def test_a_duplicate_delivery_neither_advances_a_streak_nor_resolves_twice(aws):
    first, second, clean = night(aws, 1, {A}), night(aws, 2, {A}), night(aws, 3, set())
    for run in (first, second, second, first, clean, clean):
        deliver(aws, run)
    subjects = [m["subject"] for m in messages(aws)]
    assert len(subjects) == 3
    state, streaks = StreakStore(STREAK_TABLE_NAME, aws.clients.dynamodb).load(
        contract.streak_window_key(
            first.event()["account"], first.event()["region"], first.window_id
        )
    )
    assert state is not None
    assert (state.seq, streaks) == (3, {})


def test_a_retry_after_a_failed_publish_renders_the_same_split(aws, monkeypatch):
    deliver(aws, night(aws, 1, {A}))
    second = night(aws, 2, {A, B})
    sns_publish = aws.clients.sns.publish
    calls = {"n": 0}

    def failing_once(**kwargs: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("SNS is down")
        return sns_publish(**kwargs)

    monkeypatch.setattr(aws.clients.sns, "publish", failing_once)
    with pytest.raises(RuntimeError):
        deliver(aws, second)
    deliver(aws, second)  # Lambda's retry: the streaks are already written
    latest = messages(aws)[-1]["body"]["streaks"]
    assert (latest["newFailures"], latest["stillFailing"]) == (1, 1)


def test_the_sweep_finding_an_older_run_late_does_not_rewind_the_streaks(aws):
    deliver(aws, night(aws, 1, {A}))
    latest = NIGHT + timedelta(days=3)
    plan = TaskPlan.fleet(dict.fromkeys(FLEET, "SUCCESS"))
    # A clean run 20 minutes before the latest one, whose event never came.
    missed = seed_window_execution(
        aws.ssm, [plan], seed=2, start_time=latest - timedelta(minutes=20)
    )
    deliver(aws, night(aws, 3, {A}))
    swept = handler.handler(
        schedule_event(latest + timedelta(minutes=20)), LambdaContext(), clients=aws.clients
    )
    assert missed.window_execution_id in swept["recovered"]
    key = contract.streak_window_key("123456789012", "us-east-2", missed.window_id)
    state, streaks = StreakStore(STREAK_TABLE_NAME, aws.clients.dynamodb).load(key)
    assert state is not None
    assert streaks[A].count(state.seq) == 2  # nights 1 and 3: the late clean run is not applied
    assert [m["body"]["notice"] for m in messages(aws)] == ["alert", "alert"]


def test_metrics_count_targets_failing_consecutively_and_the_longest_streak(aws, capsys):
    for number, failing in enumerate([{A}, {A, B}, {A, B, C}]):
        deliver(aws, night(aws, number, failing))
    documents = [d for d in emf_documents(capsys.readouterr().out) if "WindowExecutions" in d]
    last = documents[-1]
    assert last[contract.METRIC_TARGETS_FAILING_CONSECUTIVELY] == [2.0]
    assert last[contract.METRIC_LONGEST_FAILURE_STREAK] == [3.0]


def test_two_executions_applied_at_once_cannot_both_advance_the_window(aws):
    store = StreakStore(STREAK_TABLE_NAME, aws.clients.dynamodb)
    first = _execution(1)
    key = contract.streak_window_key(first.account, first.region, first.window_id)
    store.save(key, _step(store, key, first, {A}))
    state, streaks = store.load(key)
    # Both computed from the same state: the second to write loses, writes nothing (not even its
    # new failure, in the same transaction), and Lambda retries it.
    racing = [
        advance(state, streaks, _execution(n), failing, alerting=True, now=NIGHT)
        for n, failing in ((2, {A: "FAILED"}), (3, {A: "FAILED", B: "FAILED"}))
    ]
    store.save(key, racing[0])
    won = store.load(key)
    with pytest.raises(StreakConflictError):
        store.save(key, racing[1])
    assert store.load(key) == won
    state, streaks = won
    assert state is not None
    assert (state.seq, set(streaks)) == (2, {A})


def test_a_mass_failure_is_written_in_one_transaction_and_batches_and_read_back_whole(aws):
    store = StreakStore(STREAK_TABLE_NAME, aws.clients.dynamodb)
    first = _execution(1)
    key = contract.streak_window_key(first.account, first.region, first.window_id)
    fleet = {f"i-{n:017x}" for n in range(250)}
    written = store.save(key, _step(store, key, first, fleet))
    assert written == 251
    state, streaks = store.load(key)
    assert state is not None
    assert (state.seq, set(streaks)) == (1, fleet)
    healed = store.save(key, _step(store, key, _execution(2), set()))
    assert healed == 251  # 250 streaks ended, and the window
    assert store.load(key)[1] == {}


def _step(store: StreakStore, key: str, execution: WindowExecution, failing: set[str]) -> Any:
    state, streaks = store.load(key)
    errors = dict.fromkeys(failing, "FAILED: Failed")
    return advance(state, streaks, execution, errors, alerting=bool(failing), now=NIGHT)


def _execution(number: int) -> WindowExecution:
    start = NIGHT + timedelta(days=number)
    return WindowExecution(
        "123456789012",
        "us-east-2",
        "mw-0ed7251d3fcf6e0c2",
        f"00000000-0000-4000-8000-{number:012d}",
        "FAILED",
        start,
        start + timedelta(minutes=5),
    )


def test_a_streak_table_it_cannot_use_does_not_stop_the_alert(aws, monkeypatch):
    def denied(**_kwargs: Any) -> Any:
        raise ClientError(
            {"Error": {"Code": "AccessDeniedException", "Message": "not authorized"}}, "Query"
        )

    monkeypatch.setattr(aws.clients.dynamodb, "query", denied)
    outcome = deliver(aws, night(aws, 1, {A, B}))
    assert outcome["action"] == "alerted"
    body = messages(aws)[0]["body"]
    assert body["streaks"] is None  # not tracked: every failure reads as new
    assert messages(aws)[0]["attributes"][contract.ATTRIBUTE_NEW_FAILURES] == "2"


def test_writes_dynamodb_leaves_unprocessed_are_sent_again(aws, monkeypatch):
    store = StreakStore(STREAK_TABLE_NAME, aws.clients.dynamodb)
    batch_write = aws.clients.dynamodb.batch_write_item
    calls: list[int] = []

    def half_processed(**kwargs: Any) -> Any:
        (requests,) = kwargs["RequestItems"].values()
        calls.append(len(requests))
        if len(calls) == 1:  # DynamoDB takes the first half, and returns the rest
            batch_write(RequestItems={STREAK_TABLE_NAME: requests[:10]})
            return {"UnprocessedItems": {STREAK_TABLE_NAME: requests[10:]}}
        return batch_write(**kwargs)

    monkeypatch.setattr(aws.clients.dynamodb, "batch_write_item", half_processed)
    first = _execution(1)
    key = contract.streak_window_key(first.account, first.region, first.window_id)
    fleet = {f"i-{n:017x}" for n in range(124)}  # 25 batched, 99 in the transaction
    store.save(key, _step(store, key, first, fleet))
    assert calls == [25, 15]
    assert set(store.load(key)[1]) == fleet


def test_writes_dynamodb_never_takes_fail_the_invocation_for_lambda_to_retry(aws, monkeypatch):
    monkeypatch.setattr(
        aws.clients.dynamodb,
        "batch_write_item",
        lambda **kwargs: {"UnprocessedItems": kwargs["RequestItems"]},
    )
    fleet = [f"i-{n:017x}" for n in range(150)]
    plan = TaskPlan.fleet(dict.fromkeys(fleet, "FAILED"))
    execution = seed_window_execution(aws.ssm, [plan], start_time=NIGHT)
    with pytest.raises(StreakWriteError):
        deliver(aws, execution)
    assert aws.published() == []  # nothing is out yet: the retry sends the alert
    monkeypatch.undo()
    assert deliver(aws, execution)["action"] == "alerted"  # the retry completes the writes
    assert messages(aws)[0]["body"]["streaks"]["newFailures"] == 150


def test_a_throttled_streak_table_fails_the_invocation_rather_than_lose_the_run(aws, monkeypatch):
    def throttled(**_kwargs: Any) -> Any:
        raise ClientError(
            {"Error": {"Code": "ThrottlingException", "Message": "slow down"}}, "Query"
        )

    monkeypatch.setattr(aws.clients.dynamodb, "query", throttled)
    with pytest.raises(ClientError):
        deliver(aws, night(aws, 1, {A}))
    assert aws.published() == []
