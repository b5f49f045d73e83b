"""`--max-rate`: `history` and `report` read SSM no faster than the operator allows (a small share
of the account's rate by default), paced like the function (mwalerts.pacing). On real time: on the
virtual clock, threads waiting for their turn move time on while another's request is going out,
so the moments measured here would not be the moments the requests went out."""

import time
from datetime import UTC, datetime, timedelta

import pytest

from local_aws.scenario import seed_window_execution
from mwalerts.pacing import MAX_RATE_CEILING, pacer_of
from mwalerts_cli.main import main
from mwalerts_cli.options import DEFAULT_MAX_RATE as COMMAND_DEFAULT
from tests.cli.harness import PATCHING


def sends(aws) -> list[float]:
    """When each SSM request went out (before the fake answers it)."""
    times: list[float] = []
    aws.clients.ssm.meta.events.register_first(
        "before-send.ssm", lambda **_: times.append(time.monotonic())
    )
    return times


# A request goes out (and is timed here) a little after its turn, by however long signing takes on
# a busy machine: the gaps measured here jitter by that much.
SEND_JITTER = 0.1


def at_most_per_second(times: list[float], rate: float) -> bool:
    """No more than `rate` requests in any second, but for one turn of credit (and the jitter
    between a turn and its send: sending twice as fast would still be caught)."""
    allowed = int(rate) + 1
    span = 1.0 - SEND_JITTER
    return all(later - first > span for first, later in zip(times, times[allowed:], strict=False))


@pytest.mark.real_time
def test_report_never_sends_faster_than_the_max_rate(aws, cli):
    execution = seed_window_execution(aws.ssm, [PATCHING] * 3)
    times = sends(aws)

    code, _, _ = cli.report(execution.window_execution_id, "--max-rate", "8")

    assert code == 0
    pacer = pacer_of(aws.clients.ssm)
    assert pacer is not None
    assert pacer.max_rate == 8.0
    assert len(times) >= 5
    assert at_most_per_second(sorted(times), 8.0)
    assert not at_most_per_second(sorted(times), 4.0)  # and it is used


@pytest.mark.real_time
def test_history_takes_a_small_share_of_the_account_rate_by_default(aws, cli):
    start = datetime.now(UTC) - timedelta(days=3)
    for day in range(3):
        seed_window_execution(aws.ssm, [PATCHING], seed=day, start_time=start + timedelta(days=day))
    times = sends(aws)

    code, _, _ = cli("history", "--window-id", "mw-0ed7251d3fcf6e0c2", "--since", "7d")

    assert code == 0
    pacer = pacer_of(aws.clients.ssm)
    assert pacer is not None
    assert pacer.max_rate == COMMAND_DEFAULT < MAX_RATE_CEILING
    assert len(times) >= 10
    assert at_most_per_second(sorted(times), COMMAND_DEFAULT)
    assert not at_most_per_second(sorted(times), COMMAND_DEFAULT / 2)  # and it uses its share


@pytest.mark.parametrize("value", ["0", "-1", "abc", "nan", "1000"])
def test_a_max_rate_that_is_not_a_positive_rate_within_the_ceiling_is_a_usage_error(capsys, value):
    with pytest.raises(SystemExit) as stopped:
        main(["report", "--last", "--window-id", "mw-0ed7251d3fcf6e0c2", "--max-rate", value])

    assert stopped.value.code == 2
    assert (
        f"argument --max-rate: expected requests a second, more than 0 and at most 100, "
        f"got {value!r}" in capsys.readouterr().err
    )
