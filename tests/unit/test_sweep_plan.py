"""The smart sweep's rule (mwalerts.sweep_plan): a window's executions are listed when nothing is
remembered of it, its description changed, a run came due, or a run was still going; what is
remembered after a sweep, and what is kept when a listing was not processed in full."""

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from mwalerts.sweep_plan import (
    EVERY_SWEEP,
    SCHEDULE_FIELDS,
    SETTLE,
    WindowState,
    due_time,
    fingerprint,
    next_memory,
    parse_execution_time,
    windows_to_list,
)

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
TOMORROW_2AM = "2026-11-21T02:00Z"
DAILY = "mw-0000000000000000a"
OTHER = "mw-0000000000000000b"


def window(window_id: str = DAILY, **fields: Any) -> dict[str, Any]:
    """A daily 02:00 window as DescribeMaintenanceWindows describes it, with `fields` changed
    (None removes one)."""
    described: dict[str, Any] = {
        "WindowId": window_id,
        "Name": "patching",
        "Enabled": True,
        "Duration": 2,
        "Cutoff": 1,
        "Schedule": "cron(0 2 ? * * *)",
        "NextExecutionTime": TOMORROW_2AM,
        **fields,
    }
    return {name: value for name, value in described.items() if value is not None}


def epoch(text: str) -> int:
    return int(datetime.fromisoformat(text).timestamp())


def settled_state(described: dict[str, Any], *, running: bool = False) -> WindowState:
    """What a finished listing of `described`, long after any run came due, remembers."""
    return WindowState(due_time(described), fingerprint(described), running)


# -- (a) nothing remembered ------------------------------------------------------------------------


def test_the_first_sweep_after_a_deploy_lists_every_window():
    windows = [window(DAILY), window(OTHER)]

    assert windows_to_list(windows, {}, NOW) == [DAILY, OTHER]


def test_a_new_window_is_listed_and_a_quiet_known_one_is_not():
    known = window(DAILY)

    listed = windows_to_list([known, window(OTHER)], {DAILY: settled_state(known)}, NOW)

    assert listed == [OTHER]


# -- (b) a changed description ---------------------------------------------------------------------

CHANGES = {
    "Enabled": False,
    "Schedule": "cron(0 3 ? * * *)",
    "ScheduleTimezone": "Europe/Berlin",
    "ScheduleOffset": 2,
    "Duration": 4,
    "Cutoff": 0,
    "StartDate": "2026-12-01T00:00:00Z",
    "EndDate": "2026-11-20T12:30:00Z",
    "NextExecutionTime": "2026-11-20T12:05Z",
}


def test_every_schedule_field_has_a_change_here():
    assert set(CHANGES) == set(SCHEDULE_FIELDS)


@pytest.mark.parametrize(("name", "value"), CHANGES.items())
def test_a_change_of_any_schedule_field_lists_the_window(name, value):
    before = window()

    assert windows_to_list([window(**{name: value})], {DAILY: settled_state(before)}, NOW) == [
        DAILY
    ]


def test_a_removed_schedule_field_lists_the_window():
    before = window(EndDate="2027-01-01T00:00:00Z")

    assert windows_to_list([window()], {DAILY: settled_state(before)}, NOW) == [DAILY]


def test_a_new_name_or_description_alone_does_not_list_the_window():
    before = window()
    renamed = window(Name="patching-renamed", Description="weekly")

    assert windows_to_list([renamed], {DAILY: settled_state(before)}, NOW) == []


# -- (c) a run came due, or its time cannot be read ------------------------------------------------


@pytest.mark.parametrize(
    ("due", "listed"),
    [
        (NOW - timedelta(minutes=1), True),
        (NOW, True),  # at or before now
        (NOW + timedelta(seconds=1), False),
    ],
)
def test_a_window_is_listed_once_its_remembered_next_run_came_due(due, listed):
    described = window()
    state = WindowState(int(due.timestamp()), fingerprint(described), open=False)

    assert windows_to_list([described], {DAILY: state}, NOW) == ([DAILY] if listed else [])


@pytest.mark.parametrize(
    ("text", "instant"),
    [
        # The AWS CLI's example output (awscli/examples/ssm/describe-maintenance-windows.rst).
        ("2020-02-12T23:19:20.596Z", datetime(2020, 2, 12, 23, 19, 20, 596_000, tzinfo=UTC)),
        # The Systems Manager user guide's walkthrough (a window in America/Los_Angeles).
        ("2019-02-03T02:00-08:00", datetime(2019, 2, 3, 10, 0, tzinfo=UTC)),
        ("2019-11-16T02:00Z", datetime(2019, 11, 16, 2, 0, tzinfo=UTC)),
        # No offset: the earliest instant it can name (UTC+14), so the window is due early.
        ("2019-11-16T02:00", datetime(2019, 11, 15, 12, 0, tzinfo=UTC)),
        ("next Tuesday", None),
        ("", None),
        (1_574_000_000, None),
    ],
)
def test_next_execution_times_are_read_in_the_formats_ssm_writes(text, instant):
    assert parse_execution_time(text) == instant


def test_an_unreadable_next_execution_time_lists_the_window_at_every_sweep():
    described = window(NextExecutionTime="soon")
    memory = next_memory([described], {}, {DAILY: False}, NOW)

    assert memory[DAILY].due == EVERY_SWEEP
    assert windows_to_list([described], memory, NOW) == [DAILY]


@pytest.mark.parametrize("enabled", [True, None])  # Enabled is optional in the API's shape
def test_an_enabled_window_without_a_next_execution_time_is_listed_at_every_sweep(enabled):
    described = window(NextExecutionTime=None, Enabled=enabled)
    memory = next_memory([described], {}, {DAILY: False}, NOW)

    assert windows_to_list([described], memory, NOW + timedelta(minutes=15)) == [DAILY]


def test_a_disabled_window_without_a_next_execution_time_is_not_listed_by_time():
    described = window(NextExecutionTime=None, Enabled=False)
    first = next_memory([described], {}, {DAILY: False}, NOW)
    assert windows_to_list([described], first, NOW + timedelta(minutes=15)) == [DAILY]  # once more
    memory = next_memory([described], first, {DAILY: False}, NOW + timedelta(minutes=15))

    assert memory[DAILY].due is None
    assert windows_to_list([described], memory, NOW + timedelta(days=30)) == []


# -- (d) a run still going -------------------------------------------------------------------------


def test_a_run_still_going_at_one_sweep_is_listed_at_the_next_until_seen_ended():
    described = window()  # next run tomorrow: only the open run makes it due
    memory = next_memory([described], {}, {DAILY: True}, NOW)
    later = NOW + timedelta(minutes=15)

    assert windows_to_list([described], memory, later) == [DAILY]
    still_open = next_memory([described], memory, {DAILY: True}, later)
    assert windows_to_list([described], still_open, later + timedelta(minutes=15)) == [DAILY]
    ended = next_memory([described], still_open, {DAILY: False}, later + timedelta(minutes=15))
    assert windows_to_list([described], ended, later + timedelta(minutes=30)) == []


def test_a_window_disabled_mid_run_is_listed_until_its_run_is_seen_ended():
    at_run = datetime(2026, 11, 21, 2, 10, tzinfo=UTC)
    running = window(NextExecutionTime="2026-11-22T02:00Z")
    disabled = window(Enabled=False, NextExecutionTime=None)
    memory = next_memory([running], {}, {DAILY: True}, at_run)

    # Disabled between two sweeps, the run still going: listed (changed and open).
    next_sweep = at_run + timedelta(minutes=15)
    assert windows_to_list([disabled], memory, next_sweep) == [DAILY]
    memory = next_memory([disabled], memory, {DAILY: True}, next_sweep)
    # Unchanged since, but the run was still going: listed again, and it has ended now.
    after = next_sweep + timedelta(minutes=15)
    assert windows_to_list([disabled], memory, after) == [DAILY]
    memory = next_memory([disabled], memory, {DAILY: False}, after)
    # Disabled, nothing running: no run can start until its description changes.
    assert windows_to_list([disabled], memory, after + timedelta(days=2)) == []


# -- what is remembered ----------------------------------------------------------------------------


def test_a_finished_listing_remembers_the_next_run_the_description_and_what_was_running():
    described = window()

    first = next_memory([described], {}, {DAILY: True}, NOW)
    assert first == {DAILY: WindowState(int(NOW.timestamp()), fingerprint(described), True)}

    later = NOW + timedelta(minutes=15)
    memory = next_memory([described], first, {DAILY: True}, later)
    assert memory == {DAILY: WindowState(epoch(TOMORROW_2AM), fingerprint(described), True)}


def test_a_window_whose_processing_failed_or_was_not_reached_keeps_its_older_state():
    old = window(NextExecutionTime="2026-11-20T11:50Z")  # came due before this sweep
    state = settled_state(old)
    now_described = window()  # NextExecutionTime moved on to tomorrow

    memory = next_memory([now_described], {DAILY: state}, {}, NOW)

    assert memory == {DAILY: state}
    assert windows_to_list([now_described], memory, NOW + timedelta(minutes=15)) == [DAILY]


def test_a_new_window_whose_processing_failed_stays_unremembered_so_it_is_listed_again():
    memory = next_memory([window(OTHER)], {}, {}, NOW)

    assert memory == {}
    assert windows_to_list([window(OTHER)], memory, NOW) == [OTHER]


def test_vanished_windows_are_forgotten():
    memory = {DAILY: settled_state(window()), OTHER: settled_state(window(OTHER))}

    assert set(next_memory([window(OTHER)], memory, {}, NOW)) == {OTHER}


def test_a_run_that_came_due_moments_before_a_listing_is_listed_once_more():
    # 02:00 came due; at 02:05 SSM already names tomorrow's run, but may not list today's yet.
    at_due = datetime(2026, 11, 21, 2, 0, tzinfo=UTC)
    before = window(NextExecutionTime="2026-11-21T02:00Z")
    after = window(NextExecutionTime="2026-11-22T02:00Z")
    memory = {DAILY: settled_state(before)}
    soon = at_due + timedelta(minutes=5)

    memory = next_memory([after], memory, {DAILY: False}, soon)

    assert memory[DAILY].due == int(at_due.timestamp())
    next_sweep = soon + timedelta(minutes=15)
    assert windows_to_list([after], memory, next_sweep) == [DAILY]
    # Listed SETTLE or more after it came due, the window moves on to its next run.
    memory = next_memory([after], memory, {DAILY: False}, at_due + SETTLE)
    assert memory[DAILY].due == epoch("2026-11-22T02:00Z")
    assert windows_to_list([after], memory, next_sweep + timedelta(minutes=15)) == []


def test_a_daily_window_is_listed_only_around_its_run():
    """96 sweeps of a day: a run from 02:00 to 02:20 is listed at 3 of them (it came due, it
    was still running, it was seen ended), after the sweep that follows the first listing."""
    start = datetime(2026, 11, 21, 0, 0, tzinfo=UTC)
    memory = next_memory([window(NextExecutionTime="2026-11-21T02:00Z")], {}, {DAILY: False}, start)
    listed_at = []
    for sweep in range(1, 97):
        now = start + timedelta(minutes=15 * sweep)
        run_due = now >= datetime(2026, 11, 21, 2, 0, tzinfo=UTC)
        described = window(
            NextExecutionTime="2026-11-22T02:00Z" if run_due else "2026-11-21T02:00Z"
        )
        running = (
            datetime(2026, 11, 21, 2, 0, tzinfo=UTC)
            <= now
            < datetime(2026, 11, 21, 2, 20, tzinfo=UTC)
        )
        if windows_to_list([described], memory, now):
            listed_at.append(now.strftime("%H:%M"))
            memory = next_memory([described], memory, {DAILY: running}, now)

    assert listed_at == ["00:15", "02:00", "02:15", "02:30"]
