"""Exactly one alert per failed window execution: duplicates, failures part-way, and the sweep
that finds executions whose events never came."""

import json
import threading
import types
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aws_lambda_powertools.utilities.idempotency.persistence import base as persistence_base
from aws_lambda_powertools.utilities.idempotency.persistence import datarecord

from local_aws.environment import LambdaContext, LocalAws
from local_aws.scenario import SeededExecution, TaskPlan, schedule_event, seed_window_execution
from mwalerts import handler, pipeline
from mwalerts.errors import SweepIncompleteError
from mwalerts.idempotency import RECORD_TTL_SECONDS
from mwalerts.invocation import Invocation
from mwalerts.service import handle_event
from tests.function.concurrency import run_in_threads
from tests.support import emf_documents

FAILING = [TaskPlan({"SUCCESS": 150, "FAILED": 3}), TaskPlan({"SUCCESS": 40, "TIMED_OUT": 1})]
HEALTHY = [TaskPlan({"SUCCESS": 120})]
T0 = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)


def deliver(aws: LocalAws, event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    return handler.handler(event, context or LambdaContext(), clients=aws.clients)


def alerts_for(aws: LocalAws) -> Counter[str]:
    """How many SNS messages each window execution got."""
    return Counter(
        json.loads(json.loads(p["message"])["default"])["windowExecutionId"]
        for p in aws.published()
    )


def execution_metric_documents(printed: str) -> list[dict[str, Any]]:
    return [doc for doc in emf_documents(printed) if "WindowExecutions" in doc]


# -- duplicates ------------------------------------------------------------------------------


def test_the_same_event_delivered_five_times_alerts_and_counts_once(aws, capsys):
    execution = seed_window_execution(aws.ssm, FAILING)
    results = [deliver(aws, execution.event()) for _ in range(5)]

    assert alerts_for(aws) == {execution.window_execution_id: 1}
    assert [r["replayed"] for r in results] == [False, True, True, True, True]
    assert {r["message_id"] for r in results} == {results[0]["message_id"]}
    assert len(execution_metric_documents(capsys.readouterr().out)) == 1


def test_a_redelivery_hours_later_is_still_recognised(aws, monkeypatch):
    execution = seed_window_execution(aws.ssm, FAILING)
    deliver(aws, execution.event())

    # Powertools reads the clock through `dt` in these two modules: move it on 20 hours.
    later = types.SimpleNamespace(datetime=_clock_at(timedelta(hours=20)), timedelta=timedelta)
    for module in (persistence_base, datarecord):
        monkeypatch.setattr(module, "dt", later)
    result = deliver(aws, execution.event())

    assert result["replayed"] is True
    assert alerts_for(aws) == {execution.window_execution_id: 1}
    assert RECORD_TTL_SECONDS >= 14 * 24 * 3600  # outlives the dead-letter queues' retention


def test_concurrent_deliveries_alert_once(aws, capsys):
    execution = seed_window_execution(aws.ssm, FAILING)
    start = threading.Barrier(8)
    results: list[dict[str, Any]] = []
    errors: list[BaseException] = []

    def one_delivery() -> None:
        start.wait()
        try:
            results.append(deliver(aws, execution.event()))
        except BaseException as error:  # reported by the assertion below
            errors.append(error)

    run_in_threads(one_delivery, 8)

    assert errors == []
    assert alerts_for(aws) == {execution.window_execution_id: 1}
    processed = [r for r in results if r["action"] == "alerted" and not r["replayed"]]
    assert len(processed) == 1
    assert all(
        r["replayed"] or r["action"] == "in-progress-elsewhere"
        for r in results
        if r not in processed
    )
    assert len(execution_metric_documents(capsys.readouterr().out)) == 1


def test_a_run_that_failed_part_way_is_redone_in_full_by_the_next_delivery(aws, capsys):
    execution = seed_window_execution(aws.ssm, FAILING)
    aws.clients.sns.delete_topic(TopicArn=aws.topic_arn)  # SNS rejects the publish

    def pages() -> int:
        return sum(c.operation.startswith("Describe") for c in aws.ssm.calls)

    with pytest.raises(Exception, match="NotFound"):
        deliver(aws, execution.event())
    first_calls = pages()
    aws.clients.sns.create_topic(Name=aws.topic_arn.rsplit(":", 1)[1])
    result = deliver(aws, execution.event())

    assert result["action"] == "alerted"
    assert result["replayed"] is False
    assert pages() == 2 * first_calls  # every page read again
    assert len(aws.published()) == 1
    assert len(execution_metric_documents(capsys.readouterr().out)) == 1


# -- the sweep -----------------------------------------------------------------------------


def _seed(
    aws: LocalAws,
    plans: list[TaskPlan],
    *,
    window: int,
    seed: int,
    ended: timedelta,
    status: str | None = None,
) -> SeededExecution:
    """An execution of window number `window` that ended `ended` before the sweep at T0."""
    duration = timedelta(minutes=15, seconds=41, milliseconds=785)
    return seed_window_execution(
        aws.ssm,
        plans,
        window_id=f"mw-{window:017x}",
        seed=seed,
        start_time=T0 - ended - duration,
        status=status,
    )


def test_the_sweep_alerts_each_execution_whose_event_was_dropped_once(aws, capsys):
    delivered = _seed(aws, FAILING, window=1, seed=1, ended=timedelta(minutes=20))
    dropped = [
        _seed(aws, FAILING, window=1, seed=2, ended=timedelta(minutes=5)),
        _seed(aws, FAILING, window=2, seed=3, ended=timedelta(minutes=30)),
    ]
    healthy = _seed(aws, HEALTHY, window=3, seed=4, ended=timedelta(minutes=10))
    too_old = _seed(aws, FAILING, window=3, seed=5, ended=timedelta(hours=2))
    deliver(aws, delivered.event())

    outcome = deliver(aws, schedule_event(T0))
    again = deliver(aws, schedule_event(T0 + timedelta(minutes=15)))

    missed = {e.window_execution_id for e in [*dropped, healthy]}
    assert set(outcome["recovered"]) == missed
    assert outcome["examined"] == 4  # the delivered one, the 2 dropped, the healthy one
    assert again["recovered"] == []
    assert alerts_for(aws) == {
        delivered.window_execution_id: 1,
        dropped[0].window_execution_id: 1,
        dropped[1].window_execution_id: 1,
    }
    assert too_old.window_execution_id not in outcome["recovered"]
    documents = emf_documents(capsys.readouterr().out)
    sweeps = [doc for doc in documents if "SweepRuns" in doc]
    assert [(d["SweepRuns"], d["SweepRecoveredExecutions"]) for d in sweeps] == [
        ([1.0], [3.0]),
        ([1.0], [0.0]),
    ]


def test_an_event_arriving_after_the_sweep_does_not_alert_again(aws):
    late = _seed(aws, FAILING, window=1, seed=1, ended=timedelta(minutes=5))
    deliver(aws, schedule_event(T0))
    result = deliver(aws, late.event())

    assert result["replayed"] is True
    assert alerts_for(aws) == {late.window_execution_id: 1}


def test_the_sweep_ignores_executions_still_running(aws):
    running = _seed(
        aws, HEALTHY, window=1, seed=1, ended=timedelta(minutes=5), status="IN_PROGRESS"
    )
    outcome = deliver(aws, schedule_event(T0))

    assert outcome["examined"] == 0
    assert running.window_execution_id not in outcome["recovered"]


def test_the_sweep_reads_every_page_of_windows_and_executions(aws):
    for window in range(1, 121):  # two pages of windows
        _seed(
            aws,
            HEALTHY[:0] or [TaskPlan({"SUCCESS": 1})],
            window=window,
            seed=window,
            ended=timedelta(minutes=window % 40),
        )
    busy = [
        _seed(
            aws,
            [TaskPlan({"SUCCESS": 1})],
            window=1,
            seed=1000 + n,
            ended=timedelta(minutes=n % 40, seconds=n),
        )
        for n in range(150)  # two pages of executions of one window
    ]
    outcome = deliver(aws, schedule_event(T0))

    assert outcome["examined"] == 120 + 150
    assert set(outcome["recovered"]) >= {e.window_execution_id for e in busy}
    listing = [
        c
        for c in aws.ssm.calls
        if c.operation in ("DescribeMaintenanceWindows", "DescribeMaintenanceWindowExecutions")
    ]
    assert all(c.params["MaxResults"] == 100 for c in listing)
    assert [c.operation for c in listing].count("DescribeMaintenanceWindows") == 2
    window_one = [c for c in listing if c.params.get("WindowId") == f"mw-{1:017x}"]
    assert len(window_one) == 2
    assert window_one[0].params["Filters"][0]["Key"] == "ExecutedAfter"


def test_a_sweep_short_of_time_stops_and_the_next_one_finishes(aws, capsys):
    for n in range(3):
        _seed(aws, FAILING, window=1, seed=n, ended=timedelta(minutes=5 + n))
    short = deliver(aws, schedule_event(T0), LambdaContext(remaining_time_ms=30_000))
    full = deliver(aws, schedule_event(T0 + timedelta(minutes=1)))

    assert short["stopped_early"] is True
    assert short["examined"] == 0
    assert len(full["recovered"]) == 3
    assert len(aws.published()) == 3
    sweeps = [d for d in emf_documents(capsys.readouterr().out) if "SweepRecoveredExecutions" in d]
    # The heartbeat only from the sweep that finished: a sweep that keeps running out of time
    # raises the sweep alarm.
    assert ["SweepRuns" in d for d in sweeps] == [False, True]


def test_one_bad_execution_does_not_stop_the_sweep_which_then_fails_to_be_retried(
    aws, capsys, monkeypatch
):
    bad = _seed(aws, FAILING, window=1, seed=1, ended=timedelta(minutes=5))
    good = _seed(aws, FAILING, window=2, seed=2, ended=timedelta(minutes=5))
    real_count = pipeline.count_invocations

    def count_or_fail(ssm: Any, window_execution_id: str, *args: Any, **kwargs: Any) -> Any:
        if window_execution_id == bad.window_execution_id:
            raise RuntimeError("SSM is having a bad day")
        return real_count(ssm, window_execution_id, *args, **kwargs)

    monkeypatch.setattr(pipeline, "count_invocations", count_or_fail)

    with pytest.raises(SweepIncompleteError, match=bad.window_execution_id):
        deliver(aws, schedule_event(T0))
    assert alerts_for(aws) == {good.window_execution_id: 1}
    sweeps = [d for d in emf_documents(capsys.readouterr().out) if "SweepRecoveredExecutions" in d]
    assert len(sweeps) == 1
    assert "SweepRuns" not in sweeps[0]  # no heartbeat: the sweep did not complete

    monkeypatch.setattr(pipeline, "count_invocations", real_count)  # SSM recovers
    retry = deliver(aws, schedule_event(T0))
    assert retry["recovered"] == [bad.window_execution_id]
    assert alerts_for(aws) == {good.window_execution_id: 1, bad.window_execution_id: 1}


def _clock_at(offset: timedelta) -> type:
    class Later(datetime):
        @classmethod
        def now(cls, tz: Any = None) -> "Later":
            return cls.fromtimestamp((datetime.now(UTC) + offset).timestamp(), tz)

    return Later


def test_outside_lambda_without_a_context_an_event_still_alerts_once(aws):
    # As in local runs and benchmarks: no Lambda context, so no in-progress expiry to register.
    execution = seed_window_execution(aws.ssm, FAILING)
    invocation = Invocation(handler.settings, aws.clients, handler.metrics)

    # Powertools says it cannot tell the time left; the in-progress record then has no expiry.
    with pytest.warns(UserWarning, match="remaining time"):
        first, second = (handle_event(execution.event(), invocation) for _ in range(2))

    assert alerts_for(aws) == {execution.window_execution_id: 1}
    assert (vars(first)["replayed"], vars(second)["replayed"]) == (False, True)
