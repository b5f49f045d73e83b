"""`mwalerts report`: one window execution, every invocation of every task read page by page,
as a table or as exactly the digest the function publishes."""

import json
import math
from collections import Counter
from datetime import UTC, datetime, timedelta

from local_aws.environment import LambdaContext
from local_aws.scenario import ACCOUNT, REGION, WINDOW_ID, TaskPlan, seed_window_execution
from mwalerts import handler
from tests.cli.harness import LOG_GROUP, PATCHING, RESTART, SCRIPT, published_digest
from tests.support import assert_valid_digest, printed_json, without_streaks

OTHER_WINDOW = "mw-0123456789abcdef0"


def invocation_table(out: str) -> str:
    """The report's invocation table: from its header to the task summary."""
    return out[out.index("#  Task") : out.index("\nTasks (")]


def test_report_lists_every_invocation_of_every_page_exactly_once(aws, cli):
    plans = [TaskPlan({"SUCCESS": 245, "FAILED": 5}) for _ in range(3)]  # 3 tasks x 250
    execution = seed_window_execution(aws.ssm, plans)

    code, out, err = cli.report(execution.window_execution_id)

    assert (code, err) == (0, "")
    table = invocation_table(out)
    for task in execution.tasks:
        for invocation in execution.invocations[task["TaskExecutionId"]]:
            (instance,) = json.loads(invocation["Parameters"])["instanceIds"]
            assert table.count(instance) == 1
    assert len(table.splitlines()) == 2 + 750  # header, rule, one line per invocation
    pages = [
        call
        for call in aws.ssm.calls
        if call.operation == "DescribeMaintenanceWindowExecutionTaskInvocations"
    ]
    for task in execution.tasks:
        chain = [page for page in pages if page.params["TaskId"] == task["TaskExecutionId"]]
        assert len(chain) == math.ceil(250 / 100)
        assert all(page.params["MaxResults"] == 100 for page in chain)
        tokens = [page.params.get("NextToken") for page in chain]
        assert tokens[0] is None
        assert len(set(tokens)) == len(tokens)  # no page read twice
    assert "Total: 750 invocations (735 SUCCESS, 15 FAILED); 15 in an alert status" in out


def test_report_table_shows_the_window_the_run_and_each_invocation(aws, cli):
    execution = seed_window_execution(aws.ssm, [PATCHING, RESTART, SCRIPT])

    _, out, _ = cli.report(execution.window_execution_id)

    lines = out.splitlines()
    assert lines[0] == "Maintenance window prod-web-nightly-patching (mw-0ed7251d3fcf6e0c2)"
    assert lines[2] == (
        f"Execution {execution.window_execution_id}  FAILED  "
        "2026-11-20 02:00:00 to 02:15:41 UTC (15m 41s)"
    )
    assert lines[3] == f"Account {ACCOUNT} / region {REGION}"
    # The automation's target is its execution ID; a Run Command's, its instance ID.
    cancelled = next(
        i
        for i in execution.invocations[execution.tasks[1]["TaskExecutionId"]]
        if i["Status"] == "CANCELLED"
    )
    (row,) = [
        line for line in invocation_table(out).splitlines() if cancelled["ExecutionId"] in line
    ]
    assert row.split() == [
        "2",
        "AWS-RestartEC2Instance",
        cancelled["ExecutionId"],
        "CANCELLED",
        "Cancelled",
        "team=platform;env=prod",
        f"{cancelled['StartTime']:%H:%M:%S}",
        f"{cancelled['EndTime']:%H:%M:%S}",
    ]
    assert "1  FAILED     RUN_COMMAND  AWS-RunPatchBaseline" in out
    assert "exit 100: E: Unable to acquire the dpkg frontend lock" in out  # failures by cause


def test_report_failed_only_lists_only_invocations_in_an_alert_status(aws, cli):
    execution = seed_window_execution(aws.ssm, [PATCHING, RESTART, SCRIPT])

    _, out, _ = cli.report(execution.window_execution_id, "--failed-only")

    rows = [row for row in invocation_table(out).splitlines()[2:] if row[:1].isdigit()]
    assert Counter(row.split()[3] for row in rows if row.strip()) == {
        "FAILED": 5,
        "TIMED_OUT": 2,
        "CANCELLED": 1,
    }
    assert "Showing 8 of 540 invocations: those in CANCELLED, FAILED, TIMED_OUT." in out
    # Other alert statuses, other rows: TIMED_OUT alone.
    _, out, _ = cli.report(
        execution.window_execution_id, "--failed-only", "--alert-statuses", "timed_out"
    )
    assert "Showing 2 of 540 invocations: those in TIMED_OUT." in out


def test_report_json_is_exactly_the_digest_the_function_publishes(aws, cli):
    execution = seed_window_execution(aws.ssm, [PATCHING, RESTART, SCRIPT])
    handler.handler(execution.event(), LambdaContext(), clients=aws.clients)
    published = published_digest(aws)

    code, out, err = cli.report(
        execution.window_execution_id, "--output", "json", "--log-group", LOG_GROUP
    )

    assert (code, err) == (0, "")
    # The function's digest but for its failure streaks, which the command does not track.
    assert json.loads(out) == without_streaks(published)
    assert published["streaks"] is not None
    assert_valid_digest(json.loads(out))
    # Without the function's log group, only the Logs Insights link is missing.
    _, out, _ = cli.report(execution.window_execution_id, "--output", "json")
    digest = json.loads(out)
    assert digest["links"]["failures"] is None
    assert digest == {
        **without_streaks(published),
        "links": {**published["links"], "failures": None},
    }


def test_report_prints_none_of_the_functions_log_records(aws, cli):
    seed_window_execution(aws.ssm, [PATCHING, RESTART])
    # --last reads the window first: its name cannot be read, which the function logs as a
    # warning (JSON on stdout, where the function's logger writes in these tests).
    aws.ssm.fail_next(1, "AccessDeniedException")

    code, out, err = cli("report", "--window-id", WINDOW_ID, "--last")

    assert code == 0
    assert "Maintenance window mw-0ed7251d3fcf6e0c2\n" in out
    assert err == f"note: could not read the name of window {WINDOW_ID}: it is left out\n"
    assert printed_json(out + err) == []
    assert "No window name" not in out + err


def test_report_last_picks_the_latest_execution_reading_every_page(aws, cli):
    start = datetime(2026, 11, 1, 2, tzinfo=UTC)
    days = list(range(105))
    days.insert(40, 200)  # the latest is listed in the middle, not last
    seeded = [
        seed_window_execution(
            aws.ssm, [TaskPlan({"SUCCESS": 1})], seed=seed, start_time=start + timedelta(days=day)
        )
        for seed, day in enumerate(days)
    ]
    expected = seeded[40]

    code, out, _ = cli("report", "--window-id", WINDOW_ID, "--last")

    assert code == 0
    assert f"Execution {expected.window_execution_id}  SUCCESS  2027-05-20 02:00:00" in out
    listing = [c for c in aws.ssm.calls if c.operation == "DescribeMaintenanceWindowExecutions"]
    assert len(listing) == 2  # 106 executions: two pages of 100


def test_report_finds_the_window_of_an_execution_among_all_windows(aws, cli):
    seed_window_execution(aws.ssm, [TaskPlan({"SUCCESS": 2})], seed=1)
    other = seed_window_execution(
        aws.ssm, [TaskPlan({"FAILED": 2})], seed=2, window_id=OTHER_WINDOW
    )

    code, out, _ = cli.report(other.window_execution_id, "--output", "json")

    assert code == 0
    assert json.loads(out)["windowId"] == OTHER_WINDOW
    assert json.loads(out)["windowName"] == "patching-def0"


def test_report_refuses_a_window_the_execution_is_not_of(aws, cli):
    execution = seed_window_execution(aws.ssm, [TaskPlan({"FAILED": 1})])
    seed_window_execution(aws.ssm, [TaskPlan({"SUCCESS": 1})], seed=2, window_id=OTHER_WINDOW)

    code, out, err = cli.report(execution.window_execution_id, "--window-id", OTHER_WINDOW)

    assert (code, out) == (1, "")
    assert err == (
        f"mwalerts: error: window execution {execution.window_execution_id} is not one of "
        f"window {OTHER_WINDOW}\n"
    )
