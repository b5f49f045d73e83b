"""What failure streaks cost (issue 14): the DynamoDB items written and calls made per execution
over nights of one window, and the latency tracking adds to an alert.

    python -m benchmarks.streaks [--latency 0.05] [--targets 5000] [--runs 15]

Nights of one window of `targets` Run Command targets, through the real handler (moto's DynamoDB
and SNS, the fake SSM APIs): 3 fail; the same 3 and 1 new; the same 4; 2 of them, 1 timed out
instead of failing; clean; all fail; clean again. For each night: its failing targets; the targets
it changes, computed here from the nights' failing sets and not by the function (streaks started,
streaks ended, streaks going on with another error); the streak table's items written and its
DynamoDB calls, counted at the client (each item of TransactItems, each PutItem, DeleteItem,
UpdateItem, BatchWriteItem item on the table); the message sent; and whether writes <= changed + 1.

Then the latency tracking adds to an alert: a typical night (the night before's 3 and 1 new)
handled with the streak table and without it (the function's settings without a table), `runs`
times each, interleaved, each in a fresh world whose window ran the night before. Median wall
time at zero latency and with `latency` per SSM call, SNS publish and DynamoDB call. The DynamoDB
sleep is added here, by a before-call hook on the DynamoDB client: the other sections give
DynamoDB no latency. It applies to the idempotency record's calls too, alike with and without
the table.
"""

import argparse
import contextlib
import io
import json
import os
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from moto.core.botocore_stubber import BotocoreStubber

from local_aws.environment import (
    STREAK_TABLE_NAME,
    LambdaContext,
    LocalAws,
    create_idempotency_table,
    follow_stdout,
    local_aws,
    use_function_environment,
)
from local_aws.scenario import SeededExecution, TaskPlan, seed_window_execution

use_function_environment()

from mwalerts import handler  # noqa: E402 - needs the function's environment
from mwalerts.invocation import Invocation  # noqa: E402
from mwalerts.model import Outcome  # noqa: E402
from mwalerts.service import handle_event  # noqa: E402
from mwalerts.streak_store import StreakStore  # noqa: E402

follow_stdout(handler.logger)  # the function's logs go where stdout goes: away, while measuring

STREAKS_HEADING = "## Failure streaks: DynamoDB writes per execution, extra latency per alert"
NIGHT = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)
FAILED, TIMED_OUT = "FAILED", "TIMED_OUT"
ITEM_WRITES = frozenset({"PutItem", "DeleteItem", "UpdateItem"})
TARGETS = 5_000
UNTRACKED_IDEMPOTENCY_TABLE = "maintenance-window-alerts-idempotency-untracked"
RUNS = 15
CONTEXT = LambdaContext()


@dataclass(frozen=True)
class Night:
    label: str
    failing: Mapping[str, str]  # target -> the status it ended in


def fleet_of(size: int) -> list[str]:
    """The window's Run Command targets: instance IDs."""
    return [f"i-{n:017x}" for n in range(size)]


def nights_of(fleet: Sequence[str]) -> list[Night]:
    """The seven nights over `fleet` (at least 4 targets); the few failing ones spread over it,
    so over the invocation pages."""
    quarter = len(fleet) // 4
    a, b, c, d = (fleet[quarter * k] for k in range(4))
    three = dict.fromkeys((a, b, c), FAILED)
    four = {**three, d: FAILED}
    return [
        Night("3 fail", three),
        Night("the same 3 + 1 new", four),
        Night("the same 4 (nothing changes)", four),
        Night("2 of them, 1 timed out instead of failing", {a: FAILED, b: TIMED_OUT}),
        Night("clean", {}),
        Night(f"all {len(fleet):,} fail (mass failure)", dict.fromkeys(fleet, FAILED)),
        Night("clean again", {}),
    ]


def changed_targets(before: Mapping[str, str], after: Mapping[str, str]) -> int:
    """Targets whose streak a night changes: started, ended, or failing with another status."""
    started = after.keys() - before.keys()
    ended = before.keys() - after.keys()
    other_status = {
        target for target in after.keys() & before.keys() if after[target] != before[target]
    }
    return len(started) + len(ended) + len(other_status)


def seed_night(aws: LocalAws, fleet: Sequence[str], night: Night, number: int) -> SeededExecution:
    plan = TaskPlan.fleet({target: night.failing.get(target, "SUCCESS") for target in fleet})
    return seed_window_execution(
        aws.ssm, [plan], seed=number, start_time=NIGHT + timedelta(days=number)
    )


@dataclass
class TableCalls:
    """One table's DynamoDB calls by operation (a Query call per page) and the items they wrote,
    counted as the client sends them (a before-parameter-build hook)."""

    table: str
    calls: Counter[str] = field(default_factory=Counter)
    items_written: int = 0

    def __call__(self, params: Mapping[str, Any], model: Any, **_: Any) -> None:
        operation = model.name
        written = self._items(operation, params)
        if written or params.get("TableName") == self.table:
            self.calls[operation] += 1
            self.items_written += written

    def _items(self, operation: str, params: Mapping[str, Any]) -> int:
        if operation == "TransactWriteItems":
            return sum(
                1
                for action in params["TransactItems"]
                for kind, request in action.items()
                if kind != "ConditionCheck" and request["TableName"] == self.table
            )
        if operation == "BatchWriteItem":
            return len(params["RequestItems"].get(self.table, []))
        return int(operation in ITEM_WRITES and params.get("TableName") == self.table)


@contextlib.contextmanager
def counting(client: Any, table: str) -> Iterator[TableCalls]:
    counter = TableCalls(table)
    client.meta.events.register("before-parameter-build.dynamodb", counter)
    try:
        yield counter
    finally:
        client.meta.events.unregister("before-parameter-build.dynamodb", counter)


@dataclass(frozen=True)
class NightRow:
    number: int
    night: Night
    changed: int  # computed from the nights' failing sets
    started: int  # of those, streaks started: the alert's expected new failures
    items_written: int
    calls: Counter[str]
    messages: list[dict[str, Any]]  # each published message's digest

    @property
    def within_bound(self) -> bool:
        return self.items_written <= self.changed + 1

    @property
    def notices(self) -> list[str]:
        """What each message sent was: "alert" or "resolved"."""
        return [str(digest["notice"]) for digest in self.messages]


def measure_nights(aws: LocalAws, targets: int) -> list[NightRow]:
    """Each night's execution through the handler, in order, with what it wrote and sent."""
    fleet = fleet_of(targets)
    rows: list[NightRow] = []
    before: Mapping[str, str] = {}
    for number, night in enumerate(nights_of(fleet), start=1):
        execution = seed_night(aws, fleet, night, number)
        published = len(aws.published())
        with (
            counting(aws.clients.dynamodb, STREAK_TABLE_NAME) as counted,
            contextlib.redirect_stdout(io.StringIO()),
        ):
            handler.handler(execution.event(), CONTEXT, clients=aws.clients)
        digests = [_digest(message) for message in aws.published()[published:]]
        started = len(night.failing.keys() - before.keys())
        changed = changed_targets(before, night.failing)
        rows.append(
            NightRow(number, night, changed, started, counted.items_written, counted.calls, digests)
        )
        before = night.failing
    return rows


def _digest(published: Mapping[str, Any]) -> dict[str, Any]:
    digest: dict[str, Any] = json.loads(json.loads(published["message"])["default"])
    return digest


def message_text(row: NightRow) -> str:
    """The message a night sent, as the table shows it."""
    if not row.messages:
        return "none"
    return "; ".join(_one_message(digest) for digest in row.messages)


def _one_message(digest: Mapping[str, Any]) -> str:
    if digest["notice"] == "resolved":
        runs = digest["resolved"]["failedExecutions"]
        return f"resolved (ran clean after {_plural(runs, 'failed run')})"
    streaks = digest.get("streaks") or {}
    new, still = streaks.get("newFailures", 0), streaks.get("stillFailing", 0)
    return f"alert: {new:,} new, {still:,} still failing"


@dataclass(frozen=True)
class Timed:
    wall: float  # the handling, seconds
    store: float  # of which in the streak store's calls (StreakStore.load and save)
    moto: float  # of which moto answering them: AWS's side
    calls: Counter[str]  # the streak table's calls


class AlertTimer:
    """One world for every timed handling: the window's night 1 (3 fail), then nights of the same
    3 failing again and 1 other target new each night (a typical night: 1 streak started, 1
    ended, 3 going on). Each night is handled twice, with the streak table and without it, each
    with its own idempotency table so that both process it; the window's information, which the
    function caches per SSM client, is cached for both."""

    def __init__(self, aws: LocalAws, targets: int) -> None:
        self.aws = aws
        self.fleet = fleet_of(targets)
        self.latency = 0.0
        self.number = 0
        create_idempotency_table(aws.clients.dynamodb, UNTRACKED_IDEMPOTENCY_TABLE)
        untracked = {"streak_table": None, "idempotency_table": UNTRACKED_IDEMPOTENCY_TABLE}
        self.settings = {
            True: handler.settings,
            False: handler.settings.model_copy(update=untracked),
        }
        # Latency per SSM call (the fake's own), SNS publish and DynamoDB call (hooks, as
        # bench.py adds it to the publish): set by `latency`, 0 at first.
        aws.clients.sns.meta.events.register("before-call.sns.Publish", self._sleep)
        aws.clients.dynamodb.meta.events.register("before-call.dynamodb", self._sleep)
        first = nights_of(self.fleet)[0]
        self.handle(self._seed(first), tracked=True)

    def set_latency(self, latency: float) -> None:
        self.latency = self.aws.ssm.latency = latency

    def next_night(self) -> SeededExecution:
        known = list(nights_of(self.fleet)[0].failing)
        others = [target for target in self.fleet if target not in known]
        newcomer = others[self.number % len(others)]
        return self._seed(Night("typical", dict.fromkeys([*known, newcomer], FAILED)))

    def handle(self, execution: SeededExecution, *, tracked: bool) -> Timed:
        invocation = Invocation(self.settings[tracked], self.aws.clients, handler.metrics, CONTEXT)
        with (
            counting(self.aws.clients.dynamodb, STREAK_TABLE_NAME) as counted,
            streak_costs(STREAK_TABLE_NAME) as costs,
            contextlib.redirect_stdout(io.StringIO()),
        ):
            start = time.perf_counter()
            outcome = handle_event(execution.event(), invocation)
            wall = time.perf_counter() - start
        if not isinstance(outcome, Outcome) or outcome.action != "alerted":
            raise RuntimeError(f"a typical night did not alert: {outcome}")
        return Timed(wall, sum(costs.store), sum(costs.moto), counted.calls)

    def _seed(self, night: Night) -> SeededExecution:
        self.number += 1
        return seed_night(self.aws, self.fleet, night, self.number)

    def _sleep(self, **_: Any) -> None:
        if self.latency:
            time.sleep(self.latency)


@dataclass
class StreakCosts:
    """Seconds in the streak store's calls, and of those in moto answering the streak table (in
    Lambda, AWS's side: the function's own cost is the rest)."""

    store: list[float] = field(default_factory=list)
    moto: list[float] = field(default_factory=list)


@contextlib.contextmanager
def streak_costs(table: str) -> Iterator[StreakCosts]:
    """StreakStore.load and save, and moto's before-send handler on requests naming `table`,
    timed while active (patched on their classes, as benchmarks.cpu times moto)."""
    costs = StreakCosts()

    def names_table(*_: Any, request: Any = None, **__: Any) -> bool:
        body = getattr(request, "body", None) or b""
        return (table.encode() if isinstance(body, bytes) else table) in body

    patches = [
        (StreakStore, "load", costs.store, lambda *_, **__: True),
        (StreakStore, "save", costs.store, lambda *_, **__: True),
        (BotocoreStubber, "__call__", costs.moto, names_table),
    ]
    originals = [(owner, name, owner.__dict__[name]) for owner, name, _, _ in patches]
    for owner, name, spent, when in patches:
        setattr(owner, name, _timed(owner.__dict__[name], spent, when))
    try:
        yield costs
    finally:
        for owner, name, original in originals:
            setattr(owner, name, original)


def _timed(
    function: Callable[..., Any], spent: list[float], when: Callable[..., bool]
) -> Callable[..., Any]:
    def timed(*args: Any, **kwargs: Any) -> Any:
        if not when(*args, **kwargs):
            return function(*args, **kwargs)
        start = time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            spent.append(time.perf_counter() - start)

    return timed


@dataclass(frozen=True)
class LatencyFigures:
    latency: float
    tracked: list[Timed]
    untracked: list[Timed]

    @property
    def extra(self) -> float:
        """The median of each night's wall time with the streak table minus without it (the
        same execution, handled both ways back to back), seconds."""
        pairs = zip(self.tracked, self.untracked, strict=True)
        return statistics.median(tracked.wall - untracked.wall for tracked, untracked in pairs)

    @property
    def store(self) -> float:
        """Median seconds in the streak store's calls."""
        return statistics.median(t.store for t in self.tracked)

    @property
    def moto(self) -> float:
        """Median seconds moto spent answering them."""
        return statistics.median(t.moto for t in self.tracked)

    @property
    def own(self) -> float:
        """Median seconds of the streak store's calls on the function's side: neither moto's
        answers nor the latency slept."""
        return statistics.median(
            t.store - t.moto - self.latency * sum(t.calls.values()) for t in self.tracked
        )


def _median_wall(runs: Sequence[Timed]) -> float:
    return statistics.median(run.wall for run in runs)


def measure_latency(timer: AlertTimer, latency: float, runs: int) -> LatencyFigures:
    """`runs` nights, each handled both ways, which goes first alternating: drift and load hit
    both alike."""
    timer.set_latency(latency)
    figures = LatencyFigures(latency, [], [])
    for run in range(runs):
        execution = timer.next_night()
        for tracked in (True, False) if run % 2 == 0 else (False, True):
            timed = timer.handle(execution, tracked=tracked)
            (figures.tracked if tracked else figures.untracked).append(timed)
    return figures


def streaks_section(
    say: Callable[[str], None], latency: float, *, targets: int = TARGETS, runs: int = RUNS
) -> None:
    _intro(say, targets, os.getloadavg()[0])
    with local_aws() as aws:
        rows = measure_nights(aws, targets)
    _nights_table(say, rows)
    with local_aws() as aws:
        timer = AlertTimer(aws, targets)
        measure_latency(timer, 0.0, 1)  # untimed: first-use costs (each operation's first call)
        figures = [measure_latency(timer, delay, runs) for delay in (0.0, latency)]
    _latency_table(say, figures, targets, runs)
    _estimate(say, figures, rows)
    say("")
    say(f"Load average at the end: {os.getloadavg()[0]:.1f}.")


def _intro(say: Callable[[str], None], targets: int, load: float) -> None:
    say("")
    say(STREAKS_HEADING)
    say("")
    say(
        f"One window of {targets:,} Run Command targets, night after night, through the real "
        "handler against moto's DynamoDB and SNS and the fake SSM APIs (the streak table and "
        "the idempotency table in moto). Changed targets are computed by the benchmark from the "
        "nights' failing sets (streaks started + ended + failing with another status), not by "
        "the function; items written and calls are the streak table's, counted at the "
        "DynamoDB client (every item of a TransactWriteItems or BatchWriteItem call). The "
        "issue's bound: items written <= "
        f"changed + 1 (the window's own state). Load average at the start: {load:.1f} "
        f"({os.cpu_count()} cores){_busy(load)}."
    )
    say("")


def _busy(load: float) -> str:
    quiet = 2.5
    return "" if load < quiet else ": other work was running, so the times are noisier"


def _nights_table(say: Callable[[str], None], rows: Sequence[NightRow]) -> None:
    say(
        "| night | failing targets | changed targets | items written | DynamoDB calls "
        "(Query: one a page) | message sent | writes <= changed + 1 |"
    )
    say("|---|---|---|---|---|---|---|")
    for row in rows:
        calls = ", ".join(f"{n:,} {operation}" for operation, n in sorted(row.calls.items()))
        say(
            f"| {row.number}. {row.night.label} | {len(row.night.failing):,} | {row.changed:,} "
            f"| {row.items_written:,} | {calls} | {message_text(row)} "
            f"| {'yes' if row.within_bound else 'NO'} |"
        )
    say("")


def _latency_table(
    say: Callable[[str], None], figures: Sequence[LatencyFigures], targets: int, runs: int
) -> None:
    added = {_calls_text(t.calls) for figure in figures for t in figure.tracked}
    untracked = {_calls_text(t.calls) for figure in figures for t in figure.untracked}
    say(
        f"Extra latency per alert: {runs} typical nights of the {targets:,}-target window (the "
        "3 of night 1 failing again and 1 other target new each night), each handled with the "
        "streak table and without it (each way with its own idempotency table, so that both "
        "process it), which goes first alternating. Medians over the nights: wall time of the "
        "handling; the extra, of each night's difference; the streak store's calls, timed in "
        "each handling with the table. Streak "
        f"table calls with it: {' / '.join(sorted(added))} (in every handling: "
        f"{'yes' if len(added) == 1 else 'NO'}); without it: {' / '.join(sorted(untracked))}."
    )
    say("")
    say(
        "| latency per SSM, SNS and DynamoDB call | with the streak table | without | extra per "
        "alert | in the streak store's calls | of which moto answering | the "
        "function's side (neither moto nor latency) |"
    )
    say("|---|---|---|---|---|---|---|")
    for figure in figures:
        say(
            f"| {_ms(figure.latency)} | {_ms(_median_wall(figure.tracked))} "
            f"| {_ms(_median_wall(figure.untracked))} | {_ms(figure.extra)} | {_ms(figure.store)} "
            f"| {_ms(figure.moto)} | {_ms(figure.own)} |"
        )
    say("")


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms"


def _plural(count: int, noun: str) -> str:
    return f"{count:,} {noun}{'' if count == 1 else 's'}"


def _calls_text(calls: Counter[str]) -> str:
    return " + ".join(f"{n:,} {operation}" for operation, n in sorted(calls.items())) or "none"


def _estimate(
    say: Callable[[str], None], figures: Sequence[LatencyFigures], rows: Sequence[NightRow]
) -> None:
    zero, slow = figures[0], figures[-1]
    own = zero.own * 1000
    round_trips = sum(zero.tracked[0].calls.values())
    mass = max(rows, key=lambda row: row.items_written)
    writes = Counter({op: n for op, n in mass.calls.items() if op != "Query"})
    say(
        "moto's DynamoDB answers in this process, which is not a network: what it spends "
        "answering is AWS's side in Lambda, and the function's side is the rest (botocore "
        "building, signing and parsing, and the streak logic). The extra per alert differs from "
        "the streak store's calls by the alert's streak fields and the noise of two whole "
        "handlings. At "
        f"{_ms(slow.latency)} a call the {round_trips} calls add {_ms(round_trips * slow.latency)}"
        f": measured {_ms(slow.store)} in the calls, {_ms(slow.extra)} per alert. Real DynamoDB "
        "is documented by AWS as single-digit millisecond performance at any scale: the "
        f"function's side ({own:.0f} ms) plus {round_trips} round trips of under 10 ms each, "
        f"about {own:.0f} to {own + round_trips * 10:.0f} ms per alert. A mass failure and its "
        f"recovery (nights {rows.index(mass) + 1} and {rows.index(mass) + 2}) write an item per "
        f"target, {_calls_text(writes)}, one after another: "
        f"{_plural(sum(writes.values()), 'round trip')} for {len(mass.night.failing):,} targets, "
        "on those nights only."
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Run the section alone (`python -m benchmarks.bench --only streaks` also writes it to
    RESULTS.md)."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.streaks")
    parser.add_argument("--latency", type=float, default=0.05, help="seconds per call (0.05)")
    parser.add_argument("--targets", type=int, default=TARGETS, help=f"the window's ({TARGETS:,})")
    parser.add_argument("--runs", type=int, default=RUNS, help=f"timed runs of each ({RUNS})")
    args = parser.parse_args(argv)
    streaks_section(_print, args.latency, targets=args.targets, runs=args.runs)
    return 0


def _print(text: str = "") -> None:
    print(text, flush=True)


if __name__ == "__main__":
    sys.exit(main())
