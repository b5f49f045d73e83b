"""The streaks benchmark's nights (benchmarks.streaks) on a 50-target window: each execution writes
at most the targets it changes plus the window's own state, as the issue asks of the benchmark's
5,000, and the counts it reports are the ones the function produced."""

from collections.abc import Iterator

import pytest

from benchmarks.streaks import NightRow, measure_nights
from local_aws.environment import local_aws

FLEET = 50


@pytest.fixture(scope="module")
def nights() -> Iterator[list[NightRow]]:
    """The seven nights, measured once for the module (each is a handler run)."""
    with local_aws() as aws:
        yield measure_nights(aws, FLEET)


def test_each_night_writes_at_most_the_targets_it_changes_plus_one(nights):
    written = [(row.night.label, row.changed, row.items_written) for row in nights]
    assert all(row.within_bound for row in nights), written
    assert all(row.items_written >= 1 for row in nights), written  # the window's state, at least
    mass_failure, recovery = nights[5], nights[6]
    assert mass_failure.items_written == recovery.items_written == FLEET + 1


def test_each_night_reads_its_window_once_and_sends_the_expected_message(nights):
    assert [row.notices for row in nights] == [["alert"]] * 4 + [
        ["resolved"],
        ["alert"],
        ["resolved"],
    ]
    assert all(row.calls["Query"] == 1 for row in nights)
    alerts = [row for row in nights if row.notices == ["alert"]]
    # New failures as the benchmark computes them from the nights' failing sets.
    assert [row.messages[0]["streaks"]["newFailures"] for row in alerts] == [
        row.started for row in alerts
    ]
