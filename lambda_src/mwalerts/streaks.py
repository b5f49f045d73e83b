"""Failure streaks: how many consecutive executions of a window each target has failed, whether
the window just recovered, and what an execution changes of that state. Pure: no AWS (the state
lives in DynamoDB: mwalerts.streak_store).

The state of one window is a `WindowState` and a `TargetStreak` per target failing now. Only what
changes is written: a target that starts failing gets a streak, one that stops loses it, and a
target that fails again is not written at all, as its count follows from the window's sequence
number (`WindowState.seq`, the executions applied so far) and its streak's first one.

Executions are applied in order of start time, each once:
- a newer execution than the last applied one advances the state;
- the last applied one again (a retry after its alert could not be published) changes nothing,
  and is shown as it was applied, from the state it left (writes it left undone are made);
- an older one (the sweep processing a run whose event never came, after a newer run) changes
  nothing, and its alert carries no streaks: it cannot say what came after it.
SKIPPED_OVERLAPPING executions ran nothing, so they are not applied either.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Literal

from mwalerts.model import WindowExecution, iso

# State nobody touches expires (DynamoDB TTL): a deleted window's streaks go within 90 days. A
# streak still running is written again once less than half of that is left, so it never expires.
STATE_TTL_SECONDS = 90 * 24 * 60 * 60
REFRESH_BEFORE_SECONDS = STATE_TTL_SECONDS // 2
# A target whose streak is at least this long counts as failing consecutively (the metric).
CHRONIC_STREAK = 2
NOT_APPLIED_STATUSES = frozenset({"SKIPPED_OVERLAPPING"})


@dataclass(frozen=True)
class Since:
    """The execution a streak (or a run of failing executions) started with."""

    window_execution_id: str
    time: str | None  # its start, ISO 8601 UTC (mwalerts.model.iso)
    seq: int  # its sequence number in the window


@dataclass(frozen=True)
class TargetStreak:
    """One target failing in the last applied execution, and every one before it since `since`."""

    target: str
    since: Since
    error: str  # the last failure's status and details, as `mwalerts streaks` shows it
    expires: int  # epoch seconds (DynamoDB TTL)

    def count(self, seq: int) -> int:
        """Consecutive failed executions up to the execution numbered `seq`."""
        return seq - self.since.seq + 1


@dataclass(frozen=True)
class Applied:
    """What applying the last execution changed: kept in the window's state, so that a retry of
    that execution renders the same alert and notice."""

    changed: bool  # the failing targets or the window's status differ from the execution before
    ended: int  # streaks the execution ended (targets that failed before and not in it)
    resolved: "Resolution | None" = None


@dataclass(frozen=True)
class Resolution:
    """A window ran clean after failing: since when, and how many executions in a row."""

    since: Since
    failed_executions: int


@dataclass(frozen=True)
class WindowState:
    seq: int  # executions applied
    last_execution_id: str
    last_start: str  # ISO 8601 UTC: executions are applied in this order
    last_status: str
    failing: bool  # the last applied execution met the alert condition
    failing_since: Since | None  # the first of the window's current run of failing executions
    applied: Applied
    expires: int


@dataclass(frozen=True)
class TargetView:
    """One failing target as the alert shows it."""

    count: int  # consecutive failed executions, this one included (1: a new failure)
    since: Since


@dataclass(frozen=True)
class StreakView:
    """An execution's failing targets set against their history: what the alert and the metrics
    say. `tracked` is False for an execution that was not applied (older than the state, or
    skipped): every failure then reads as new, without counts."""

    tracked: bool
    targets: Mapping[str, TargetView] = field(default_factory=dict)
    changed: bool = True
    ended: int = 0
    resolved: Resolution | None = None

    @property
    def new_failures(self) -> int:
        """Targets failing for the first time in a row (all of them, when not tracked)."""
        return sum(1 for view in self.targets.values() if view.count == 1)

    @property
    def still_failing(self) -> int:
        return len(self.targets) - self.new_failures

    @property
    def still_failing_since(self) -> Since | None:
        """The start of the oldest streak still running."""
        old = [view.since for view in self.targets.values() if view.count > 1]
        return min(old, key=lambda since: since.seq) if old else None

    @property
    def chronic(self) -> int:
        """Targets with a streak of CHRONIC_STREAK or more (TargetsFailingConsecutively)."""
        return sum(1 for view in self.targets.values() if view.count >= CHRONIC_STREAK)

    @property
    def longest(self) -> int:
        return max((view.count for view in self.targets.values()), default=0)


@dataclass(frozen=True)
class Advance:
    """An execution applied to a window's state: what it shows, and what to write (nothing when
    the execution was not applied, or applied before)."""

    outcome: Literal["applied", "again", "older", "skipped"]
    view: StreakView
    window: WindowState | None = None  # the new window state to write (None: none to write)
    previous_seq: int | None = None  # the window's seq it was computed from (a write condition)
    puts: tuple[TargetStreak, ...] = ()
    deletes: tuple[str, ...] = ()

    @property
    def writes(self) -> int:
        """Items written: every put and delete, and the window's state."""
        return len(self.puts) + len(self.deletes) + (self.window is not None)


def advance(
    state: WindowState | None,
    streaks: Mapping[str, TargetStreak],
    execution: WindowExecution,
    failing: Mapping[str, str],
    *,
    alerting: bool,
    now: datetime,
) -> Advance:
    """Apply `execution` (its failing targets: target -> error text; whether it alerts) to the
    window's `state` and current `streaks`."""
    start = execution_start(execution)
    if execution.status in NOT_APPLIED_STATUSES or start is None:
        return Advance("skipped", untracked(failing))
    if state is not None and state.last_execution_id == execution.window_execution_id:
        return _again(state, streaks, failing, int(now.timestamp()))
    if state is not None and start <= state.last_start:
        return Advance("older", untracked(failing))
    return _apply(
        state,
        streaks,
        Since(execution.window_execution_id, start, (state.seq if state else 0) + 1),
        execution.status,
        failing,
        alerting=alerting,
        now=int(now.timestamp()),
    )


def failing_errors(failing_targets: Mapping[str, tuple[str, str | None]]) -> dict[str, str]:
    """Each failing target's cause as a streak keeps it: "FAILED: Failed" (status: details)."""
    return {
        target: f"{status}: {details}" if details else status
        for target, (status, details) in failing_targets.items()
    }


def untracked(failing: Mapping[str, str]) -> StreakView:
    """Every failing target as new, with no history (the execution itself is not known)."""
    return StreakView(False, dict.fromkeys(failing, _FIRST))


_FIRST = TargetView(1, Since("", None, 0))


def execution_start(execution: WindowExecution) -> str | None:
    """The time executions are ordered by: the start, else the end."""
    return iso(execution.start_time or execution.end_time)


def _apply(
    state: WindowState | None,
    streaks: Mapping[str, TargetStreak],
    here: Since,
    status: str,
    failing: Mapping[str, str],
    *,
    alerting: bool,
    now: int,
) -> Advance:
    """`here`: the execution to apply, numbered one after the state."""
    seq = here.seq
    expires = now + STATE_TTL_SECONDS
    puts: list[TargetStreak] = []
    targets: dict[str, TargetView] = {}
    for target, error in failing.items():
        known = _running(streaks.get(target), seq)
        if known is None:
            puts.append(TargetStreak(target, here, error, expires))
            targets[target] = TargetView(1, here)
            continue
        if known.error != error or known.expires - now < REFRESH_BEFORE_SECONDS:
            puts.append(replace(known, error=error, expires=expires))
        targets[target] = TargetView(known.count(seq), known.since)
    deletes = tuple(sorted(target for target in streaks if target not in failing))
    ended = sum(1 for target in deletes if _running(streaks[target], seq))
    was_failing = state is not None and state.failing
    new = any(view.count == 1 for view in targets.values())
    changed = (
        not was_failing or new or ended > 0 or (state is not None and state.last_status != status)
    )
    resolution = None
    if was_failing and not alerting and state is not None and state.failing_since is not None:
        resolution = Resolution(state.failing_since, state.seq - state.failing_since.seq + 1)
    applied = Applied(changed=changed, ended=ended, resolved=resolution)
    window = WindowState(
        seq=seq,
        last_execution_id=here.window_execution_id,
        last_start=here.time or "",
        last_status=status,
        failing=alerting,
        failing_since=(
            (state.failing_since if was_failing and state is not None else here)
            if alerting
            else None
        ),
        applied=applied,
        expires=expires,
    )
    view = StreakView(True, targets, changed, ended, resolution)
    return Advance(
        "applied",
        view,
        window,
        state.seq if state else None,
        tuple(puts),
        deletes,
    )


def _running(streak: TargetStreak | None, seq: int) -> TargetStreak | None:
    """The stored streak, if it runs up to the execution before `seq` (one written by an apply
    that never finished, numbered `seq` or later, counts as none)."""
    return streak if streak is not None and streak.since.seq < seq else None


def _again(
    state: WindowState, streaks: Mapping[str, TargetStreak], failing: Mapping[str, str], now: int
) -> Advance:
    """The last applied execution again: shown as it was applied, from the streaks it left. If
    its writes after the window's state were cut short (a mass change's batches), they are made
    now: a streak for each failing target without one, none for the others."""
    here = Since(state.last_execution_id, state.last_start, state.seq)
    targets = {}
    puts = []
    for target, error in failing.items():
        streak = _running(streaks.get(target), state.seq + 1)
        if streak is None:
            puts.append(TargetStreak(target, here, error, now + STATE_TTL_SECONDS))
            targets[target] = TargetView(1, here)
        else:
            targets[target] = TargetView(streak.count(state.seq), streak.since)
    deletes = tuple(sorted(target for target in streaks if target not in failing))
    applied = state.applied
    view = StreakView(True, targets, applied.changed, applied.ended, applied.resolved)
    return Advance("again", view, puts=tuple(puts), deletes=deletes)
