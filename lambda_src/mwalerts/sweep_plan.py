"""Which windows a sweep lists the executions of, and what it remembers of each for the next
sweep: a pure rule on what DescribeMaintenanceWindows returns (no AWS here).

A window can only have ended an execution since its last listing if that listing saw one still
running, or if a run came due since, or if its description changed (a schedule, a time zone, an
end date, enabled or not). So a sweep lists window w when:

(a) nothing is remembered of w (the first sweep after a deploy, a new window, memory expired);
(b) its description differs from the remembered one (a fingerprint of SCHEDULE_FIELDS, which
    include NextExecutionTime: a run came due, the schedule changed, it was disabled mid-run);
(c) its remembered due time has come: the NextExecutionTime read at its last listing, or "every
    sweep" when that time is unknown (absent on an enabled window, unreadable); after a window's
    first listing, or one that a change of description alone caused, and for SETTLE after a run
    came due, the next sweep (SSM may record an execution a little after its scheduled time);
(d) its last listing saw an execution not yet terminal.

What is remembered of w is what its latest listing saw, once every ended execution that listing
found was processed; a window whose listing or processing did not finish keeps its older state,
so it stays due. Every state written was true at its time and stays true (an execution that ends
later was either running then or starts at or after the due time), so an older state only makes
the sweep list more: which is why overlapping sweeps may overwrite each other's memory.

Blind spot: a description changed and changed back between two sweeps, with a run in between,
reads the same at both (DescribeMaintenanceWindows carries no modification time); that run's
EventBridge event still alerts on it.
"""

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

# What decides when a window runs: a change in any of them may start or move a run.
SCHEDULE_FIELDS = (
    "Enabled",
    "Schedule",
    "ScheduleTimezone",
    "ScheduleOffset",
    "Duration",
    "Cutoff",
    "StartDate",
    "EndDate",
    "NextExecutionTime",
)

# A due time meaning "list it every sweep": the window's next run cannot be read.
EVERY_SWEEP = 0

# A run that came due less than this before a listing is listed once more at the next sweep:
# SSM may record the execution a little after its scheduled time (and NextExecutionTime may
# already name the run after it), so one listing right after the due time proves nothing.
SETTLE = timedelta(minutes=15)

# A NextExecutionTime without a UTC offset is read in the earliest zone there is (UTC+14), so
# the due time can only come early: the window is then listed sooner, never later.
_EARLIEST_OFFSET = timedelta(hours=14)


@dataclass(frozen=True)
class WindowState:
    """What the sweep remembers of one window from its latest finished listing."""

    # Epoch seconds from which a run can have started: EVERY_SWEEP, or None when no run can
    # start without a change of description (a disabled window with no next execution time).
    due: int | None
    fingerprint: str  # of the description's SCHEDULE_FIELDS (`fingerprint`)
    open: bool  # the listing saw an execution not yet terminal


Memory = Mapping[str, WindowState]  # by WindowId


def fingerprint(window: Mapping[str, Any]) -> str:
    """A short digest of the window's schedule fields (absent fields count as null)."""
    described = json.dumps([window.get(name) for name in SCHEDULE_FIELDS], default=str)
    return hashlib.blake2b(described.encode(), digest_size=8).hexdigest()


def due_time(window: Mapping[str, Any]) -> int | None:
    """From when a run of `window` can have started, by its description read now."""
    upcoming = window.get("NextExecutionTime")
    if upcoming is None:
        # A disabled window runs only once enabled, which changes its fingerprint; an enabled one
        # without a next execution time may still run for all we know (Enabled is optional too).
        return None if window.get("Enabled") is False else EVERY_SWEEP
    moment = parse_execution_time(upcoming)
    return EVERY_SWEEP if moment is None else int(moment.timestamp())


def parse_execution_time(text: object) -> datetime | None:
    """An ISO-8601 time as SSM writes NextExecutionTime ("2020-02-12T23:19:20.596Z",
    "2019-02-03T02:00-08:00"), or None if it is not one. Without an offset, the earliest
    instant it can mean."""
    if not isinstance(text, str):
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC) - _EARLIEST_OFFSET
    return moment


def windows_to_list(
    windows: Sequence[Mapping[str, Any]], memory: Memory, now: datetime
) -> list[str]:
    """The IDs of the windows whose executions this sweep lists (rules a-d), in `windows`' order."""
    return [
        window["WindowId"]
        for window in windows
        if _must_list(window, memory.get(window["WindowId"]), now)
    ]


def _must_list(window: Mapping[str, Any], state: WindowState | None, now: datetime) -> bool:
    if state is None or state.open or state.fingerprint != fingerprint(window):
        return True
    return _has_come(state.due, now)


def _has_come(due: int | None, now: datetime) -> bool:
    return due is not None and due <= now.timestamp()


def next_memory(
    windows: Sequence[Mapping[str, Any]],
    memory: Memory,
    settled: Mapping[str, bool],
    now: datetime,
) -> dict[str, WindowState]:
    """The memory after this sweep. `settled` maps each window whose listing and processing
    finished to whether the listing saw an execution not yet terminal; every other window keeps
    what was remembered of it (nothing, if nothing was), and vanished windows are forgotten."""
    remembered: dict[str, WindowState] = {}
    for window in windows:
        window_id = window["WindowId"]
        previous = memory.get(window_id)
        if window_id in settled:
            remembered[window_id] = WindowState(
                due=_settled_due(window, previous, now),
                fingerprint=fingerprint(window),
                open=settled[window_id],
            )
        elif previous is not None:
            remembered[window_id] = previous
    return remembered


def _settled_due(
    window: Mapping[str, Any], previous: WindowState | None, now: datetime
) -> int | None:
    due = due_time(window)
    unexplained = previous is not None and previous.fingerprint != fingerprint(window)
    if previous is None or (unexplained and not _has_come(previous.due, now)):
        # Listed for the first time, or its description changed with no run due: a run that
        # started moments ago may not be recorded yet, so the window is listed once more.
        listed = int(now.timestamp())
        return listed if due is None else min(due, listed)
    if previous.due is None:
        return due
    came_due = previous.due
    if not (now - SETTLE).timestamp() < came_due <= now.timestamp():
        return due
    # The run that came due moments ago may not be listed yet: keep it due (SETTLE).
    return came_due if due is None else min(due, came_due)
