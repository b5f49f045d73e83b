"""Failure streaks (mwalerts.streaks): each delivery's view and the stored state equal a
recomputation from the history of executions, whatever the order and repeats of deliveries, and
an interrupted write heals on the next delivery."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from mwalerts.model import WindowExecution
from mwalerts.streaks import (
    REFRESH_BEFORE_SECONDS,
    STATE_TTL_SECONDS,
    Advance,
    Since,
    StreakView,
    TargetStreak,
    WindowState,
    advance,
    failing_errors,
)

NOW = datetime(2026, 11, 30, 3, 0, tzinfo=UTC)
NIGHT_ONE = datetime(2026, 11, 1, 2, 0, tzinfo=UTC)
TARGETS = ("i-0000000000000000a", "i-0000000000000000b", "i-0000000000000000c", "Lambda-task")


@dataclass(frozen=True)
class Run:
    """One execution of the window: its failing targets (target -> error) and whether it
    alerts."""

    number: int
    failing: Mapping[str, str]
    alerting: bool
    status: str = "FAILED"

    @property
    def execution(self) -> WindowExecution:
        start = NIGHT_ONE + timedelta(days=self.number)
        return WindowExecution(
            "123456789012",
            "eu-west-1",
            "mw-0123456789abcdef0",
            f"00000000-0000-4000-8000-{self.number:012d}",
            self.status,
            start,
            start + timedelta(minutes=20),
        )


@dataclass
class MemoryStore:
    """The window's items as DynamoDB would hold them after each write."""

    state: WindowState | None = None
    streaks: dict[str, TargetStreak] = field(default_factory=dict)

    def step(self, run: Run, now: datetime = NOW) -> Advance:
        """The run applied to the stored state, not written yet."""
        return advance(
            self.state,
            dict(self.streaks),
            run.execution,
            run.failing,
            alerting=run.alerting,
            now=now,
        )

    def deliver(self, run: Run, now: datetime = NOW) -> Advance:
        step = self.step(run, now)
        self.write(step)
        return step

    def write(self, step: Advance, *, transaction: int = 100, cut: int | None = None) -> None:
        """Write as mwalerts.streak_store does: the window's state in one transaction with the
        first `transaction` - 1 changed targets, then the rest, of which only the first `cut`
        when the write is cut short."""
        changes: list[tuple[str, TargetStreak | None]] = [(p.target, p) for p in step.puts]
        changes += [(target, None) for target in step.deletes]
        if step.window is not None:
            self.state = step.window
            atomic, changes = changes[: transaction - 1], changes[transaction - 1 :]
            self._apply(atomic)
        self._apply(changes[:cut])

    def _apply(self, changes: list[tuple[str, TargetStreak | None]]) -> None:
        for target, streak in changes:
            if streak is None:
                self.streaks.pop(target, None)
            else:
                self.streaks[target] = streak


def expected_view(applied: Sequence[Run]) -> dict[str, tuple[int, str]]:
    """Recomputed from the history: each target failing in the last run -> (its consecutive
    failed runs, the execution ID of the first of them)."""
    last = applied[-1]
    view = {}
    for target in last.failing:
        first = len(applied) - 1
        while first > 0 and target in applied[first - 1].failing:
            first -= 1
        view[target] = (len(applied) - first, applied[first].execution.window_execution_id)
    return view


def expected_resolution(applied: Sequence[Run]) -> tuple[str, int] | None:
    """(first failing execution, failing runs) when the last run is clean after failing ones."""
    if len(applied) < 2 or applied[-1].alerting or not applied[-2].alerting:
        return None
    first = len(applied) - 2
    while first > 0 and applied[first - 1].alerting:
        first -= 1
    return applied[first].execution.window_execution_id, len(applied) - 1 - first


def shown(view: StreakView) -> dict[str, tuple[int, str]]:
    return {t: (v.count, v.since.window_execution_id) for t, v in view.targets.items()}


def stored(store: MemoryStore) -> dict[str, tuple[int, str]]:
    """The stored streaks as counts at the state's sequence number."""
    assert store.state is not None
    seq = store.state.seq
    return {
        target: (streak.count(seq), streak.since.window_execution_id)
        for target, streak in store.streaks.items()
        if streak.since.seq <= seq
    }


def run(number: int, *failing: str, alerting: bool | None = None, error: str = "FAILED") -> Run:
    errors = dict.fromkeys(failing, error)
    return Run(number, errors, bool(failing) if alerting is None else alerting)


def test_a_target_failing_night_after_night_counts_up_from_its_first_failure() -> None:
    store = MemoryStore()
    a, b = TARGETS[:2]
    first = store.deliver(run(1, a))
    second = store.deliver(run(2, a, b))
    third = store.deliver(run(3, a, b))
    assert shown(first.view) == {a: (1, run(1).execution.window_execution_id)}
    assert (second.view.new_failures, second.view.still_failing) == (1, 1)
    assert shown(third.view) == {
        a: (3, run(1).execution.window_execution_id),
        b: (2, run(2).execution.window_execution_id),
    }
    assert (third.view.chronic, third.view.longest) == (2, 3)
    assert third.view.still_failing_since == Since(
        run(1).execution.window_execution_id, "2026-11-02T02:00:00.000Z", 1
    )


def test_a_fixed_target_ends_its_streak_and_comes_back_as_new() -> None:
    store = MemoryStore()
    a, b = TARGETS[:2]
    store.deliver(run(1, a, b))
    healed = store.deliver(run(2, a))
    again = store.deliver(run(3, a, b))
    assert healed.deletes == (b,)
    assert (healed.view.ended, healed.view.changed) == (1, True)
    assert shown(again.view)[b] == (1, run(3).execution.window_execution_id)


def test_a_clean_run_after_failing_ones_resolves_naming_the_first_failure() -> None:
    store = MemoryStore()
    store.deliver(run(1))
    for number in (2, 3, 4):
        store.deliver(run(number, TARGETS[0]))
    clean = store.deliver(run(5))
    assert clean.view.resolved is not None
    assert clean.view.resolved.since.window_execution_id == run(2).execution.window_execution_id
    assert clean.view.resolved.failed_executions == 3
    assert clean.view.ended == 1
    assert store.deliver(run(6)).view.resolved is None  # only once


def test_the_same_failures_again_are_no_change_but_a_new_cause_is_not_a_new_streak() -> None:
    store = MemoryStore()
    store.deliver(run(1, TARGETS[0]))
    same = store.deliver(run(2, TARGETS[0]))
    other_error = store.deliver(run(3, TARGETS[0], error="TIMED_OUT"))
    assert not same.view.changed
    assert same.writes == 1  # the window's state only: a continuing streak is not rewritten
    assert not other_error.view.changed
    assert [p.error for p in other_error.puts] == ["TIMED_OUT"]
    assert shown(other_error.view)[TARGETS[0]][0] == 3


def test_a_window_status_change_is_a_change() -> None:
    store = MemoryStore()
    store.deliver(run(1, TARGETS[0]))
    timed_out = store.deliver(Run(2, {TARGETS[0]: "FAILED"}, True, status="TIMED_OUT"))
    assert timed_out.view.changed


def test_a_repeat_of_the_last_execution_shows_what_it_showed_and_writes_nothing() -> None:
    store = MemoryStore()
    store.deliver(run(1, TARGETS[0]))
    store.deliver(run(2, TARGETS[0], TARGETS[1]))
    applied = store.deliver(run(3, TARGETS[1]))
    again = store.deliver(run(3, TARGETS[1]))
    assert again.outcome == "again"
    assert again.writes == 0
    assert again.view == applied.view


def test_an_older_execution_changes_nothing_and_shows_no_history() -> None:
    store = MemoryStore()
    store.deliver(run(1, TARGETS[0]))
    store.deliver(run(3, TARGETS[0]))
    before = (store.state, dict(store.streaks))
    late = store.deliver(run(2))
    assert (late.outcome, late.writes, late.view.tracked) == ("older", 0, False)
    assert (store.state, store.streaks) == before


def test_a_skipped_execution_is_not_a_run() -> None:
    store = MemoryStore()
    store.deliver(run(1, TARGETS[0]))
    skipped = store.deliver(Run(2, {}, False, status="SKIPPED_OVERLAPPING"))
    assert (skipped.outcome, skipped.writes) == ("skipped", 0)
    assert shown(store.deliver(run(3, TARGETS[0])).view)[TARGETS[0]][0] == 2


def test_a_streak_close_to_expiry_is_written_again() -> None:
    store = MemoryStore()
    store.deliver(run(1, TARGETS[0]), now=NOW)
    later = NOW + timedelta(seconds=STATE_TTL_SECONDS - REFRESH_BEFORE_SECONDS + 60)
    refreshed = store.deliver(run(2, TARGETS[0]), now=later)
    assert [p.target for p in refreshed.puts] == [TARGETS[0]]
    assert refreshed.puts[0].expires == int(later.timestamp()) + STATE_TTL_SECONDS
    assert refreshed.puts[0].since.seq == 1  # the same streak, kept alive


def test_failing_errors_read_status_and_details() -> None:
    assert failing_errors({"i-1": ("FAILED", "Failed"), "i-2": ("TIMED_OUT", None)}) == {
        "i-1": "FAILED: Failed",
        "i-2": "TIMED_OUT",
    }


# A history of up to 8 runs: each fails some of the targets, and may alert on the window's
# status alone (a run can fail with no failed invocation).
_runs = st.lists(
    st.tuples(st.sets(st.sampled_from(TARGETS)), st.booleans(), st.sampled_from(["E1", "E2"])),
    min_size=1,
    max_size=8,
).map(
    lambda specs: [
        Run(n, dict.fromkeys(sorted(failing), error), bool(failing) or window_failed)
        for n, (failing, window_failed, error) in enumerate(specs, start=1)
    ]
)


@st.composite
def deliveries(draw: st.DrawFn) -> tuple[list[Run], list[Run]]:
    """A history, and the order its runs are delivered in: mostly in order, with repeats and
    late ones (the sweep finding a run after a newer one)."""
    history = draw(_runs)
    order = list(history)
    for _ in range(draw(st.integers(0, 3))):
        order.insert(draw(st.integers(0, len(order))), draw(st.sampled_from(history)))
    if draw(st.booleans()):
        order = draw(st.permutations(order))
    return history, order


@settings(max_examples=150, deadline=None)
@given(deliveries())
def test_every_delivery_equals_a_recomputation_from_the_runs_applied(
    case: tuple[list[Run], list[Run]],
) -> None:
    _history, order = case
    store = MemoryStore()
    applied: list[Run] = []
    for delivered in order:
        step = store.deliver(delivered)
        if applied and delivered is applied[-1]:
            assert step.outcome == "again"
        elif applied and delivered.number <= applied[-1].number:
            assert (step.outcome, step.view.tracked) == ("older", False)
            continue
        else:
            assert step.outcome == "applied"
            applied.append(delivered)
        assert shown(step.view) == expected_view(applied)
        assert stored(store) == expected_view(applied)
        before = set(applied[-2].failing) if len(applied) > 1 else set()
        assert step.view.ended == len(before - set(applied[-1].failing))
        resolution = expected_resolution(applied)
        got = step.view.resolved
        shown_resolution = (got.since.window_execution_id, got.failed_executions) if got else None
        assert shown_resolution == resolution


@settings(max_examples=100, deadline=None)
@given(_runs, st.data())
def test_a_write_cut_short_heals_on_the_next_delivery_of_the_same_run(
    history: list[Run], data: st.DataObject
) -> None:
    """A mass change (here: more than one changed target after the window's state) whose
    batches were cut short: Lambda's retry of the same run makes the rest."""
    store = MemoryStore()
    for number, current in enumerate(history):
        step = store.step(current)
        store.write(step, transaction=2, cut=data.draw(st.integers(0, step.writes)))
        retried = store.deliver(current)  # Lambda's retry: the same run again
        assert retried.outcome == "again"
        assert shown(retried.view) == expected_view(history[: number + 1])
        assert stored(store) == expected_view(history[: number + 1])
        assert store.deliver(current).writes == 0  # healed: nothing left to write


@settings(max_examples=100, deadline=None)
@given(_runs, st.data())
def test_two_runs_applied_at_once_count_as_if_applied_one_after_the_other(
    history: list[Run], data: st.DataObject
) -> None:
    """Two runs of the window computed from the same state (two invocations at once): the
    second to write loses its whole transaction and is retried, as Lambda does."""
    store = MemoryStore()
    applied: list[Run] = []
    pending = list(history)
    while pending:
        if len(pending) > 1 and data.draw(st.booleans()):
            first, second = pending[:2]
            winner, loser = (first, second) if data.draw(st.booleans()) else (second, first)
            steps = {run.number: store.step(run) for run in (winner, loser)}
            store.write(steps[winner.number], transaction=2)  # all of it; the loser: nothing
            applied.append(winner)
            if store.deliver(loser).outcome == "applied":  # the retry
                applied.append(loser)
            pending = pending[2:]
        else:
            store.deliver(pending[0])
            applied.append(pending.pop(0))
        assert stored(store) == expected_view(applied)


@settings(max_examples=100, deadline=None)
@given(_runs)
def test_writes_are_at_most_the_changed_targets_plus_the_window(history: list[Run]) -> None:
    store = MemoryStore()
    before: Mapping[str, str] = {}
    for current in history:
        step = store.deliver(current)
        changed = {t for t in current.failing if before.get(t) != current.failing[t]}
        changed |= set(before) - set(current.failing)
        assert step.writes <= len(changed) + 1
        before = current.failing
