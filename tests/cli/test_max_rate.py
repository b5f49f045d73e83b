"""`--max-rate`: `history` and `report` read SSM no faster than the operator allows (a small share
of the account's rate by default), paced like the function (mwalerts.pacing). The pacers run on
virtual time (tests/conftest.py), so the spacing is measured without the wait."""

from datetime import UTC, datetime, timedelta

import pytest

from local_aws.scenario import seed_window_execution
from mwalerts.pacing import DEFAULT_MAX_RATE, pacer_of
from mwalerts_cli.main import main
from mwalerts_cli.options import DEFAULT_MAX_RATE as COMMAND_DEFAULT
from tests.cli.harness import PATCHING


def test_report_never_sends_faster_than_the_max_rate(aws, cli, virtual_time):
    execution = seed_window_execution(aws.ssm, [PATCHING] * 3)

    code, _, _ = cli.report(execution.window_execution_id, "--max-rate", "2")

    assert code == 0
    pacer = pacer_of(aws.clients.ssm)
    assert pacer is not None
    assert pacer.max_rate == 2.0
    calls = len(aws.ssm.calls)
    assert calls >= 5
    assert virtual_time.slept >= (calls - 1) / 2.0 - 1.0  # 2 a second, but for the first turn


def test_history_takes_a_small_share_of_the_account_rate_by_default(aws, cli, virtual_time):
    start = datetime.now(UTC) - timedelta(days=3)
    for day in range(3):
        seed_window_execution(aws.ssm, [PATCHING], seed=day, start_time=start + timedelta(days=day))

    code, _, _ = cli("history", "--window-id", "mw-0ed7251d3fcf6e0c2", "--since", "7d")

    assert code == 0
    pacer = pacer_of(aws.clients.ssm)
    assert pacer is not None
    assert pacer.max_rate == COMMAND_DEFAULT < DEFAULT_MAX_RATE
    assert pacer.rate <= COMMAND_DEFAULT


@pytest.mark.parametrize("value", ["0", "-1", "abc", "nan", "1000"])
def test_a_max_rate_that_is_not_a_positive_rate_within_the_ceiling_is_a_usage_error(capsys, value):
    with pytest.raises(SystemExit) as stopped:
        main(["report", "--last", "--window-id", "mw-0ed7251d3fcf6e0c2", "--max-rate", value])

    assert stopped.value.code == 2
    assert (
        f"argument --max-rate: expected requests a second, more than 0 and at most 100, "
        f"got {value!r}" in capsys.readouterr().err
    )
