"""`mwalerts streaks`: a window's failure streaks read from the stack's streak table (seeded here
as the function writes it: mwalerts.streaks.advance, then StreakStore.save), as a table or JSON,
and the errors an operator can act on."""

import json
import random
import re
import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from local_aws.environment import STREAK_TABLE_NAME, LocalAws
from local_aws.scenario import ACCOUNT, REGION, WINDOW_ID
from mwalerts import contract
from mwalerts.model import WindowExecution
from mwalerts.streak_store import StreakStore
from mwalerts.streaks import Advance, Since, TargetStreak, advance
from mwalerts_cli.aws import Clients
from mwalerts_cli.main import main
from mwalerts_cli.output import Ui
from tests.cli.harness import WIDTH, Cli, cli_clients, no_aws, stack_found
from tests.docs.pages import doc_page

STACK = contract.STACK_NAME
OUTPUTS = {
    contract.OUTPUT_FUNCTION_NAME: "maintenance-window-alerts",
    contract.OUTPUT_STREAK_TABLE_NAME: STREAK_TABLE_NAME,
}
FIRST_NIGHT = datetime(2026, 11, 18, 2, 0, tzinfo=UTC)
# Three nights of one window: a target failing all three, one failing two, one that recovered,
# and two new on the last night (a runbook's task ARN among them: Automation without instances).
NIGHTS: tuple[Mapping[str, str], ...] = (
    {"i-d488cac4e5a9414b8": "FAILED: Failed", "i-3c9fe60368a83efc8": "TIMED_OUT: DeliveryTimedOut"},
    {
        "i-d488cac4e5a9414b8": "FAILED: Failed",
        "i-3c9fe60368a83efc8": "TIMED_OUT: DeliveryTimedOut",
        "i-ec6a2894db3e4bd3a": "FAILED: Failed",
    },
    {
        "i-d488cac4e5a9414b8": "TIMED_OUT: DeliveryTimedOut",
        "i-ec6a2894db3e4bd3a": "FAILED: Failed",
        "i-b58d97f4a95331356": "FAILED: Failed",
        "AWS-RestartEC2Instance": "CANCELLED: Cancelled",
    },
)


def execution_ids(count: int) -> list[str]:
    rng = random.Random(14)
    return [str(uuid.UUID(int=rng.getrandbits(128), version=4)) for _ in range(count)]


def seed_nights(
    nights: Sequence[Mapping[str, str]],
    *,
    account: str = ACCOUNT,
    region: str = REGION,
    window_id: str = WINDOW_ID,
) -> list[Advance]:
    """One execution a night (FAILED when a target fails), applied and saved as the function
    does; what each changed."""
    store = StreakStore(STREAK_TABLE_NAME, boto3.client("dynamodb", region_name=REGION))
    key = contract.streak_window_key(account, region, window_id)
    steps = []
    for night, (failing, execution_id) in enumerate(
        zip(nights, execution_ids(len(nights)), strict=True)
    ):
        start = FIRST_NIGHT + timedelta(days=night)
        execution = WindowExecution(
            account=account,
            region=region,
            window_id=window_id,
            window_execution_id=execution_id,
            status="FAILED" if failing else "SUCCESS",
            start_time=start,
            end_time=start + timedelta(minutes=15),
        )
        state, streaks = store.load(key)
        step = advance(
            state,
            streaks,
            execution,
            failing,
            alerting=bool(failing),
            now=start + timedelta(hours=1),
        )
        store.save(key, step)
        steps.append(step)
    return steps


def stack(outputs: Mapping[str, str], name: str = STACK) -> Any:
    """A CloudFormation client that finds stack `name` with `outputs` (once)."""
    cloudformation = boto3.client("cloudformation", region_name=REGION)
    stub = Stubber(cloudformation)
    stack_found(stub, name, outputs, "UPDATE_COMPLETE")
    stub.activate()
    return cloudformation


def streaks(cli: Cli, *options: str, outputs: Mapping[str, str] = OUTPUTS, **made: Any) -> Any:
    """`mwalerts streaks --window-id WINDOW_ID --stack STACK OPTIONS`."""
    return cli(
        "streaks",
        "--window-id",
        WINDOW_ID,
        "--stack",
        STACK,
        *options,
        cloudformation=stack(outputs),
        **made,
    )


def table_rows(out: str) -> list[list[str]]:
    """The streak table's rows, split at runs of two or more spaces."""
    lines = out.splitlines()
    rule = next(index for index, line in enumerate(lines) if line.startswith("─"))
    rows = lines[rule + 1 : lines.index("", rule)]
    return [re.split(r"\s{2,}", row.strip()) for row in rows]


def test_streaks_lists_each_failing_target_longest_first_then_by_target(aws, cli):
    ids = execution_ids(3)
    seed_nights(NIGHTS)

    code, out, err = streaks(cli)

    assert code == 0
    assert f"Stack {STACK}" in err
    lines = out.splitlines()
    assert lines[:3] == [
        f"Window {WINDOW_ID} in account {ACCOUNT} / region {REGION}",
        f"Last execution {ids[2]}  FAILED  started 2026-11-20 02:00:00 UTC",
        f"Failing since 2026-11-18 02:00:00 UTC (execution {ids[0]}): 3 executions in a row",
    ]
    assert table_rows(out) == [
        ["i-d488cac4e5a9414b8", "2026-11-18 02:00:00", ids[0], "3", "TIMED_OUT: DeliveryTimedOut"],
        ["i-ec6a2894db3e4bd3a", "2026-11-19 02:00:00", ids[1], "2", "FAILED: Failed"],
        # Ties by target: a runbook's name sorts before instance IDs.
        ["AWS-RestartEC2Instance", "2026-11-20 02:00:00", ids[2], "1", "CANCELLED: Cancelled"],
        ["i-b58d97f4a95331356", "2026-11-20 02:00:00", ids[2], "1", "FAILED: Failed"],
    ]
    assert lines[-1] == (
        "4 targets failing: 2 for 2 or more executions in a row, the longest for 3."
    )


def test_a_window_that_ran_clean_again_is_not_failing_and_has_no_streaks(aws, cli):
    ids = execution_ids(3)
    seed_nights([NIGHTS[0], NIGHTS[1], {}])

    code, out, _ = streaks(cli)

    assert code == 0
    assert out.splitlines() == [
        f"Window {WINDOW_ID} in account {ACCOUNT} / region {REGION}",
        f"Last execution {ids[2]}  SUCCESS  started 2026-11-20 02:00:00 UTC",
        "Not failing: the last execution raised no alert.",
        "No target is failing.",
    ]


def test_a_window_failing_for_the_first_time_says_so(aws, cli):
    seed_nights([NIGHTS[0]])

    code, out, _ = streaks(cli)

    assert code == 0
    assert ": 1 execution in a row" in out
    assert out.splitlines()[-1] == "2 targets failing, all for the first time in a row."


def test_json_output_names_fields_as_the_digest_does(aws, cli):
    ids = execution_ids(3)
    seed_nights(NIGHTS)

    code, out, _ = streaks(cli, "--output", "json")

    assert code == 0
    document = json.loads(out)
    assert {key: document[key] for key in ("account", "region", "windowId", "table")} == {
        "account": ACCOUNT,
        "region": REGION,
        "windowId": WINDOW_ID,
        "table": STREAK_TABLE_NAME,
    }
    assert document["lastExecution"] == {
        "windowExecutionId": ids[2],
        "startTime": "2026-11-20T02:00:00.000Z",
        "status": "FAILED",
    }
    assert document["failing"] is True
    assert document["failingSince"] == {
        "windowExecutionId": ids[0],
        "time": "2026-11-18T02:00:00.000Z",
    }
    assert document["failedExecutions"] == 3
    assert [s["target"] for s in document["streaks"]] == [
        "i-d488cac4e5a9414b8",
        "i-ec6a2894db3e4bd3a",
        "AWS-RestartEC2Instance",
        "i-b58d97f4a95331356",
    ]
    assert document["streaks"][1] == {
        "target": "i-ec6a2894db3e4bd3a",
        "consecutiveFailures": 2,
        "failingSince": {"windowExecutionId": ids[1], "time": "2026-11-19T02:00:00.000Z"},
        "lastError": "FAILED: Failed",
    }


def test_json_output_of_a_window_not_failing(aws, cli):
    seed_nights([NIGHTS[0], {}])

    code, out, _ = streaks(cli, "--output", "json")

    document = json.loads(out)
    assert (code, document["failing"], document["failingSince"]) == (0, False, None)
    assert (document["failedExecutions"], document["streaks"]) == (0, [])


def test_a_streak_written_by_an_execution_that_never_finished_is_left_out(aws, cli):
    (step,) = seed_nights([NIGHTS[0]])
    assert step.window is not None
    # A streak numbered after the window's state (the function never writes one: its window
    # state goes first; an item written by hand, say) is not a streak of the window.
    unfinished = TargetStreak(
        "i-0a1b2c3d4e5f60718", Since(execution_ids(2)[1], None, 2), "FAILED: Failed", 2**40
    )
    key = contract.streak_window_key(ACCOUNT, REGION, WINDOW_ID)
    store = StreakStore(STREAK_TABLE_NAME, boto3.client("dynamodb", region_name=REGION))
    store.save(key, Advance("applied", step.view, step.window, step.window.seq, (unfinished,)))
    assert "i-0a1b2c3d4e5f60718" in store.load(key)[1]

    code, out, _ = streaks(cli)

    assert code == 0
    assert "i-0a1b2c3d4e5f60718" not in out
    assert [row[0] for row in table_rows(out)] == ["i-3c9fe60368a83efc8", "i-d488cac4e5a9414b8"]


def test_a_window_with_no_recorded_execution_is_an_error_that_says_when_streaks_start(aws, cli):
    seed_nights(NIGHTS, window_id="mw-0123456789abcdef0")  # another window's streaks

    code, out, err = streaks(cli)

    assert (code, out) == (1, "")
    assert (
        f"mwalerts: error: no execution of {WINDOW_ID} recorded yet in account {ACCOUNT} / "
        f"region {REGION}: streaks start with the next execution the function handles"
    ) in err


def test_central_mode_reads_the_member_window_named_by_window_account_and_region(aws, cli):
    member, member_region = "222222222222", "eu-west-1"
    seed_nights(NIGHTS, account=member, region=member_region)
    central = {**OUTPUTS, contract.OUTPUT_EVENT_BUS_ARN: "arn:aws:events:...:event-bus/x"}

    code, out, _ = streaks(
        cli, "--window-account", member, "--window-region", member_region, outputs=central
    )
    assert code == 0
    assert out.startswith(f"Window {WINDOW_ID} in account {member} / region {member_region}\n")
    assert len(table_rows(out)) == 4

    # Without them, the window is looked for in the central account and region: not there.
    code, _, err = streaks(cli, outputs=central)
    assert code == 1
    assert "pass the window's --window-account and --window-region" in err


def stopped_at_the_stack(outputs: Mapping[str, str], capsys: Any) -> tuple[int, str, str]:
    """`mwalerts streaks` on a stack with `outputs`, where it must stop before reading the table
    (no in-process AWS needed: CloudFormation is stubbed, DynamoDB must not be used)."""
    clients = Clients(
        boto3.Session(region_name=REGION), cloudformation=stack(outputs), dynamodb=no_aws()
    )
    code = main(
        ["streaks", "--window-id", WINDOW_ID, "--stack", STACK], clients=clients, ui=Ui.plain(WIDTH)
    )
    out, err = capsys.readouterr()
    return code, out, err


def test_a_stack_without_the_streak_table_output_says_redeploy(capsys):
    old = {contract.OUTPUT_FUNCTION_NAME: "maintenance-window-alerts"}

    code, out, err = stopped_at_the_stack(old, capsys)

    assert (code, out) == (2, "")
    assert f"stack {STACK} has no {contract.OUTPUT_STREAK_TABLE_NAME} output" in err
    assert "Redeploy it" in err


def test_a_member_stack_points_to_the_central_stack(capsys):
    member = {contract.OUTPUT_RULE_DLQ_URL: "https://sqs.../forward-dlq"}

    code, _, err = stopped_at_the_stack(member, capsys)

    assert code == 2
    assert "query the central stack" in err


def test_access_denied_on_the_table_names_the_permissions_needed(aws, cli):
    dynamodb = boto3.client("dynamodb", region_name=REGION)
    stub = Stubber(dynamodb)
    stub.add_client_error(
        "query",
        service_error_code="AccessDeniedException",
        service_message="User: arn:aws:sts::123456789012:assumed-role/ops/me is not authorized "
        "to perform: dynamodb:Query",
        http_status_code=400,
    )

    with stub:
        code, out, err = streaks(cli, dynamodb=dynamodb)

    assert (code, out) == (1, "")
    assert f"not allowed to read the streak table {STREAK_TABLE_NAME} (AccessDeniedException" in err
    assert "dynamodb:Query on it and kms:Decrypt on its key" in err


def test_a_deleted_table_is_named(aws, cli):
    gone = {**OUTPUTS, contract.OUTPUT_STREAK_TABLE_NAME: "deleted-by-hand"}

    code, _, err = streaks(cli, outputs=gone)

    assert code == 1
    assert "the streak table deleted-by-hand of stack" in err
    assert "ResourceNotFoundException" in err


@pytest.mark.parametrize(
    ("options", "complaint"),
    [
        (["--window-id", "mw-123"], "not a window ID"),
        (["--window-id", WINDOW_ID, "--window-account", "2222"], "not an AWS account ID"),
        (["--window-id", WINDOW_ID, "--window-region", "Europe"], "not an AWS region name"),
        ([], "the following arguments are required: --window-id"),
    ],
)
def test_bad_arguments_are_a_usage_error_before_any_aws_call(options, complaint, capsys):
    with pytest.raises(SystemExit) as stopped:
        main(["streaks", *options], clients=no_aws(), ui=Ui.plain(WIDTH))

    assert stopped.value.code == 2
    assert complaint in capsys.readouterr().err


def test_the_documented_sample_is_what_the_command_prints(aws: LocalAws, capsys):
    seed_nights(NIGHTS)
    sample = re.search(r"^\$ (mwalerts streaks [^\n]*)\n(.*?)^```", doc_page("cli"), re.M | re.S)
    assert sample, "docs/cli.md lacks its mwalerts streaks sample"

    code = main(
        sample.group(1).split()[1:],
        clients=cli_clients(aws, cloudformation=stack(OUTPUTS)),  # found without --stack
        ui=Ui.plain(WIDTH),
    )

    assert code == 0
    printed = capsys.readouterr()
    # As a terminal shows it: the stack found (stderr), then the result (stdout).
    assert printed.err + printed.out == sample.group(2)
