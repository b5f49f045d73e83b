"""`mwalerts`, the operator command line, against in-process AWS: moto (STS, SNS, SQS, CloudWatch)
and the fake SSM maintenance-window execution APIs, behind the same boto3 clients it would use."""

import json
import math
import subprocess
import sys
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

import handler
from local_aws.environment import FUNCTION_ENVIRONMENT, LambdaContext, LocalAws
from local_aws.scenario import (
    ACCOUNT,
    REGION,
    WINDOW_ID,
    TaskPlan,
    seed_window_execution,
    window_execution_event,
)
from mwalerts import names
from mwalerts.clients import aws_session
from mwalerts_cli.aws import Clients
from mwalerts_cli.main import main
from mwalerts_cli.output import Ui
from tests.support import assert_valid_digest, emf_documents, printed_json

WIDTH = 160
LOG_GROUP = FUNCTION_ENVIRONMENT["ALERT_LOG_GROUP_NAME"]
UNKNOWN_EXECUTION = "0b5a3b2e-4f4d-4c1e-9d7a-1c2b3a4d5e6f"
OTHER_WINDOW = "mw-0123456789abcdef0"
PATCHING = TaskPlan({"SUCCESS": 233, "FAILED": 5, "TIMED_OUT": 2})
RESTART = TaskPlan({"SUCCESS": 59, "CANCELLED": 1}, "AUTOMATION", "AWS-RestartEC2Instance")
SCRIPT = TaskPlan({"SUCCESS": 240}, "RUN_COMMAND", "AWS-RunShellScript")


class Recorded:
    """A client that records what was asked of one of its operations, then lets moto answer."""

    def __init__(self, client: Any, operation: str) -> None:
        self._client = client
        self._operation = operation
        self.requests: list[dict[str, Any]] = []

    def __getattr__(self, name: str) -> Any:
        method = getattr(self._client, name)
        if name != self._operation:
            return method

        def call(**params: Any) -> Any:
            self.requests.append(params)
            return method(**params)

        return call


def cli_clients(aws: LocalAws, **made: Any) -> Clients:
    """The command's clients: its SSM client is the one the fake answers; the rest is moto."""
    return Clients(
        aws_session(region_name=REGION), ssm=aws.clients.ssm, sns=aws.clients.sns, **made
    )


def run_cli(aws: LocalAws, capsys, *argv: str, **made: Any) -> tuple[int, str, str]:
    capsys.readouterr()  # what earlier steps (the handler's logs) printed is not the command's
    code = main(list(argv), clients=cli_clients(aws, **made), ui=Ui.plain(WIDTH))
    out, err = capsys.readouterr()
    return code, out, err


def invocation_table(out: str) -> str:
    """The report's invocation table: from its header to the task summary."""
    return out[out.index("#  Task") : out.index("\nTasks (")]


def published_digest(aws: LocalAws) -> dict[str, Any]:
    (envelope,) = aws.sqs_messages()
    digest: dict[str, Any] = json.loads(envelope["Message"])
    return digest


def event_file(tmp_path: Path, event: Any, name: str = "event.json") -> str:
    path = tmp_path / name
    path.write_text(event if isinstance(event, str) else json.dumps(event))
    return str(path)


# -- report ---------------------------------------------------------------------------------------


def test_report_lists_every_invocation_of_every_page_exactly_once(aws, capsys):
    plans = [TaskPlan({"SUCCESS": 245, "FAILED": 5}) for _ in range(3)]  # 3 tasks x 250
    execution = seed_window_execution(aws.ssm, plans)

    code, out, err = run_cli(
        aws, capsys, "report", "--window-execution-id", execution.window_execution_id
    )

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


def test_report_table_shows_the_window_the_run_and_each_invocation(aws, capsys):
    execution = seed_window_execution(aws.ssm, [PATCHING, RESTART, SCRIPT])

    _, out, _ = run_cli(
        aws, capsys, "report", "--window-execution-id", execution.window_execution_id
    )

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


def test_report_failed_only_lists_only_invocations_in_an_alert_status(aws, capsys):
    execution = seed_window_execution(aws.ssm, [PATCHING, RESTART, SCRIPT])

    _, out, _ = run_cli(
        aws,
        capsys,
        "report",
        "--window-execution-id",
        execution.window_execution_id,
        "--failed-only",
    )

    rows = [row for row in invocation_table(out).splitlines()[2:] if row[:1].isdigit()]
    assert Counter(row.split()[3] for row in rows if row.strip()) == {
        "FAILED": 5,
        "TIMED_OUT": 2,
        "CANCELLED": 1,
    }
    assert "Showing 8 of 540 invocations: those in CANCELLED, FAILED, TIMED_OUT." in out
    # Other alert statuses, other rows: TIMED_OUT alone.
    _, out, _ = run_cli(
        aws,
        capsys,
        "report",
        "--window-execution-id",
        execution.window_execution_id,
        "--failed-only",
        "--alert-statuses",
        "timed_out",
    )
    assert "Showing 2 of 540 invocations: those in TIMED_OUT." in out


def test_report_json_is_exactly_the_digest_the_function_publishes(aws, capsys):
    execution = seed_window_execution(aws.ssm, [PATCHING, RESTART, SCRIPT])
    handler.handler(execution.event(), LambdaContext(), clients=aws.clients)
    published = published_digest(aws)

    code, out, err = run_cli(
        aws,
        capsys,
        "report",
        "--window-execution-id",
        execution.window_execution_id,
        "--output",
        "json",
        "--log-group",
        LOG_GROUP,
    )

    assert (code, err) == (0, "")
    assert json.loads(out) == published
    assert_valid_digest(json.loads(out))
    # Without the function's log group, only the Logs Insights link is missing.
    _, out, _ = run_cli(
        aws,
        capsys,
        "report",
        "--window-execution-id",
        execution.window_execution_id,
        "--output",
        "json",
    )
    digest = json.loads(out)
    assert digest["links"]["failures"] is None
    assert digest == {**published, "links": {**published["links"], "failures": None}}


def test_report_prints_none_of_the_functions_log_records(aws, capsys):
    seed_window_execution(aws.ssm, [PATCHING, RESTART])
    # --last reads the window first: its name cannot be read, which the function logs as a
    # warning (JSON on stdout, where the function's logger writes in these tests).
    aws.ssm.fail_next(1, "AccessDeniedException")

    code, out, err = run_cli(aws, capsys, "report", "--window-id", WINDOW_ID, "--last")

    assert code == 0
    assert "Maintenance window mw-0ed7251d3fcf6e0c2\n" in out
    assert err == f"note: could not read the name of window {WINDOW_ID}: it is left out\n"
    assert printed_json(out + err) == []
    assert "No window name" not in out + err


def test_report_last_picks_the_latest_execution_reading_every_page(aws, capsys):
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

    code, out, _ = run_cli(aws, capsys, "report", "--window-id", WINDOW_ID, "--last")

    assert code == 0
    assert f"Execution {expected.window_execution_id}  SUCCESS  2027-05-20 02:00:00" in out
    listing = [c for c in aws.ssm.calls if c.operation == "DescribeMaintenanceWindowExecutions"]
    assert len(listing) == 2  # 106 executions: two pages of 100


def test_report_finds_the_window_of_an_execution_among_all_windows(aws, capsys):
    seed_window_execution(aws.ssm, [TaskPlan({"SUCCESS": 2})], seed=1)
    other = seed_window_execution(
        aws.ssm, [TaskPlan({"FAILED": 2})], seed=2, window_id=OTHER_WINDOW
    )

    code, out, _ = run_cli(
        aws,
        capsys,
        "report",
        "--window-execution-id",
        other.window_execution_id,
        "--output",
        "json",
    )

    assert code == 0
    assert json.loads(out)["windowId"] == OTHER_WINDOW
    assert json.loads(out)["windowName"] == "patching-def0"


def test_report_refuses_a_window_the_execution_is_not_of(aws, capsys):
    execution = seed_window_execution(aws.ssm, [TaskPlan({"FAILED": 1})])
    seed_window_execution(aws.ssm, [TaskPlan({"SUCCESS": 1})], seed=2, window_id=OTHER_WINDOW)

    code, out, err = run_cli(
        aws,
        capsys,
        "report",
        "--window-execution-id",
        execution.window_execution_id,
        "--window-id",
        OTHER_WINDOW,
    )

    assert (code, out) == (1, "")
    assert err == (
        f"mwalerts: error: window execution {execution.window_execution_id} is not one of "
        f"window {OTHER_WINDOW}\n"
    )


# -- history --------------------------------------------------------------------------------------


def seed_history(aws: LocalAws, count: int, *, days: float) -> list[Any]:
    """`count` executions spread over the last `days`, seeded newest first (the order must not
    matter), each of one Run Command task."""
    now = datetime.now(UTC)
    seeded = []
    for index in range(count):
        start = now - timedelta(days=days * (index + 1) / (count + 1))
        failed = index % 3
        plan = TaskPlan({"SUCCESS": 4, "FAILED": failed}) if failed else TaskPlan({"SUCCESS": 4})
        seeded.append(seed_window_execution(aws.ssm, [plan], seed=index, start_time=start))
    return sorted(seeded, key=lambda execution: execution.start_time)


def test_history_prints_one_line_per_execution_oldest_first(aws, capsys):
    executions = seed_history(aws, 103, days=29)  # more than a page of 100
    seed_window_execution(  # before --since: not listed
        aws.ssm,
        [TaskPlan({"SUCCESS": 1})],
        seed=999,
        start_time=datetime.now(UTC) - timedelta(days=31),
    )

    code, out, err = run_cli(aws, capsys, "history", "--window-id", WINDOW_ID, "--since", "30d")

    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert lines[0] == "Maintenance window prod-web-nightly-patching (mw-0ed7251d3fcf6e0c2)"
    rows = lines[lines.index("") + 3 : lines.index("", lines.index("") + 1)]
    assert [row.split()[2] for row in rows] == [e.window_execution_id for e in executions]
    first = executions[0]
    failed = sum(1 for i in first.invocations.values() for x in i if x["Status"] == "FAILED")
    assert rows[0].split()[3:] == [
        first.status,
        "15m",
        "41s",
        str(4 + failed),
        str(failed),
        *(["4", "SUCCESS,", str(failed), "FAILED"] if failed else ["4", "SUCCESS"]),
    ]
    listing = [c for c in aws.ssm.calls if c.operation == "DescribeMaintenanceWindowExecutions"]
    assert len(listing) == 2
    assert all(c.params["Filters"][0]["Key"] == "ExecutedAfter" for c in listing)
    assert lines[-1].startswith("Total: 103 executions (")


def test_history_json_lists_each_execution_with_its_counts(aws, capsys):
    executions = seed_history(aws, 4, days=5)

    code, out, err = run_cli(
        aws, capsys, "history", "--window-id", WINDOW_ID, "--since", "6d", "--output", "json"
    )

    assert (code, err) == (0, "")
    history = json.loads(out)
    assert (history["windowId"], history["windowName"]) == (WINDOW_ID, "prod-web-nightly-patching")
    assert [e["windowExecutionId"] for e in history["executions"]] == [
        e.window_execution_id for e in executions
    ]
    for record, seeded in zip(history["executions"], executions, strict=True):
        statuses = Counter(x["Status"] for i in seeded.invocations.values() for x in i)
        assert record["counts"] == {s: statuses[s] for s in ("SUCCESS", "FAILED") if statuses[s]}
        assert record["totalInvocations"] == sum(statuses.values())
        assert record["failedInvocations"] == statuses["FAILED"]
        assert record["durationSeconds"] == pytest.approx(941.785)
        assert record["status"] == seeded.status


def test_history_emit_metrics_sends_the_functions_metrics_batched_and_time_stamped(aws, capsys):
    executions = seed_history(aws, 70, days=13)  # 70 x 16 data points: two requests
    old = seed_window_execution(
        aws.ssm,
        [TaskPlan({"SUCCESS": 1})],
        seed=500,
        start_time=datetime.now(UTC) - timedelta(days=20),
    )
    running = seed_window_execution(
        aws.ssm,
        [TaskPlan({"SUCCESS": 1})],
        seed=501,
        status="IN_PROGRESS",
        start_time=datetime.now(UTC) - timedelta(hours=1),
    )
    cloudwatch = Recorded(boto3.client("cloudwatch", region_name=REGION), "put_metric_data")

    code, _, err = run_cli(
        aws,
        capsys,
        "history",
        "--window-id",
        WINDOW_ID,
        "--since",
        "30d",
        "--emit-metrics",
        cloudwatch=cloudwatch,
    )

    assert code == 0
    assert "note: 1 executions ended more than 14 days ago" in err
    assert "note: 1 executions have not ended" in err
    assert "Sent 1,120 data points for 70 executions" in err
    assert [len(r["MetricData"]) for r in cloudwatch.requests] == [1000, 120]
    assert {r["Namespace"] for r in cloudwatch.requests} == {"MaintenanceWindows"}
    data = [datum for request in cloudwatch.requests for datum in request["MetricData"]]
    by_time: dict[datetime, list[dict[str, Any]]] = {}
    for datum in data:
        by_time.setdefault(datum["Timestamp"], []).append(datum)
    assert sorted(by_time) == [e.end_time for e in executions]  # stamped with each end
    assert old.end_time not in by_time
    assert running.end_time not in by_time

    # Exactly what the function emits for the same execution, in both series.
    sample = executions[-1]
    capsys.readouterr()
    handler.handler(sample.event(), LambdaContext(), clients=aws.clients)
    (document,) = emf_documents(capsys.readouterr().out)
    directive = document["_aws"]["CloudWatchMetrics"][0]
    emitted = {m["Name"]: (m["Unit"], sum(document[m["Name"]])) for m in directive["Metrics"]}
    assert directive["Dimensions"] == [[], ["WindowId"]]
    fleet = [d for d in by_time[sample.end_time] if "Dimensions" not in d]
    window = [d for d in by_time[sample.end_time] if "Dimensions" in d]
    assert {d["MetricName"]: (d["Unit"], d["Value"]) for d in fleet} == emitted
    assert {d["MetricName"]: (d["Unit"], d["Value"]) for d in window} == emitted
    assert all(d["Dimensions"] == [{"Name": "WindowId", "Value": WINDOW_ID}] for d in window)
    # ... and CloudWatch (moto) took them: every invocation, per window.
    now = datetime.now(UTC)
    stored = boto3.client("cloudwatch", region_name=REGION).get_metric_data(
        MetricDataQueries=[
            {
                "Id": "invocations",
                "MetricStat": {
                    "Metric": {
                        "Namespace": "MaintenanceWindows",
                        "MetricName": "Invocations",
                        "Dimensions": [{"Name": "WindowId", "Value": WINDOW_ID}],
                    },
                    "Period": 86400,
                    "Stat": "Sum",
                },
            }
        ],
        StartTime=now - timedelta(days=15),
        EndTime=now + timedelta(days=1),
    )["MetricDataResults"][0]["Values"]
    assert sum(stored) == sum(
        len(invocations) for e in executions for invocations in e.invocations.values()
    )


# -- replay ---------------------------------------------------------------------------------------


def test_replay_dry_run_prints_the_alert_and_publishes_nothing(aws, capsys, tmp_path):
    execution = seed_window_execution(aws.ssm, [PATCHING, RESTART, SCRIPT])

    code, out, err = run_cli(
        aws, capsys, "replay", event_file(tmp_path, execution.event()), "--dry-run"
    )

    assert (code, err) == (0, "")
    assert aws.published() == []
    assert out.startswith(
        "Subject     [FAILED] prod-web-nightly-patching (mw-0ed7251d3fcf6e0c2): "
        "8 of 540 invocations failed\n"
    )
    assert (
        "Maintenance window prod-web-nightly-patching (mw-0ed7251d3fcf6e0c2) ended FAILED." in out
    )
    digest_text = out[out.index("{\n") : out.rindex("}\n") + 1]
    assert json.loads(digest_text)["failedInvocations"] == 8
    assert out.endswith("Dry run: nothing was published.\n")


def test_replay_publishes_the_functions_alert_once(aws, capsys, tmp_path):
    execution = seed_window_execution(aws.ssm, [PATCHING, RESTART, SCRIPT])

    code, out, _ = run_cli(
        aws,
        capsys,
        "replay",
        event_file(tmp_path, execution.event()),
        "--topic-arn",
        aws.topic_arn,
        "--log-group",
        LOG_GROUP,
    )

    assert code == 0
    assert len(aws.published()) == 1
    assert "Published to " + aws.topic_arn in out
    replayed = published_digest(aws)
    handler.handler(execution.event(), LambdaContext(), clients=aws.clients)
    assert published_digest(aws) == replayed  # the function's own alert, to the letter


def test_replay_publishes_to_the_stacks_topic(aws, capsys, tmp_path):
    execution = seed_window_execution(aws.ssm, [PATCHING])
    cloudformation = boto3.client("cloudformation", region_name=REGION)
    stub = Stubber(cloudformation)
    stub.add_response(
        "describe_stacks",
        {
            "Stacks": [
                {
                    "StackName": "Alerts",
                    "CreationTime": datetime(2026, 11, 1, tzinfo=UTC),
                    "StackStatus": "CREATE_COMPLETE",
                    "Outputs": [{"OutputKey": "AlertTopicArn", "OutputValue": aws.topic_arn}],
                }
            ]
        },
        {"StackName": "Alerts"},
    )

    with stub:
        code, _, _ = run_cli(
            aws,
            capsys,
            "replay",
            event_file(tmp_path, execution.event()),
            "--stack",
            "Alerts",
            cloudformation=cloudformation,
        )

    assert code == 0
    assert len(aws.published()) == 1


def test_replay_of_a_run_without_failures_publishes_nothing(aws, capsys, tmp_path):
    execution = seed_window_execution(aws.ssm, [SCRIPT])

    code, _, err = run_cli(
        aws,
        capsys,
        "replay",
        event_file(tmp_path, execution.event()),
        "--topic-arn",
        aws.topic_arn,
    )

    assert code == 0
    assert err.startswith("All clear: 240 invocations, none in an alert status")
    assert aws.published() == []


def test_replay_reads_the_event_of_an_on_failure_queue_record(aws, capsys, tmp_path):
    execution = seed_window_execution(aws.ssm, [PATCHING])
    record = {
        "requestContext": {"condition": "RetriesExhausted"},
        "requestPayload": execution.event(),
    }

    code, out, _ = run_cli(
        aws, capsys, "replay", event_file(tmp_path, record), "--dry-run", "--output", "json"
    )

    assert code == 0
    shown = json.loads(out)
    assert shown["published"] is None
    assert shown["digest"]["windowExecutionId"] == execution.window_execution_id


# -- errors ---------------------------------------------------------------------------------------


def no_aws_configuration(monkeypatch, tmp_path) -> None:
    """A machine with no credentials anywhere in the standard chain."""
    for name in (
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_PROFILE",
        "AWS_DEFAULT_PROFILE",
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
        "AWS_WEB_IDENTITY_TOKEN_FILE",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


def test_missing_credentials_are_reported_with_status_2(monkeypatch, tmp_path, capsys):
    no_aws_configuration(monkeypatch, tmp_path)

    code = main(
        ["report", "--window-execution-id", UNKNOWN_EXECUTION, "--region", REGION],
        ui=Ui.plain(WIDTH),
    )

    assert code == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith("mwalerts: error: no AWS credentials: Unable to locate credentials.")


def test_an_unknown_profile_is_reported_with_status_2(monkeypatch, tmp_path, capsys):
    no_aws_configuration(monkeypatch, tmp_path)

    code = main(["history", "--window-id", WINDOW_ID, "--profile", "nope"], ui=Ui.plain(WIDTH))

    assert code == 2
    assert "no AWS credentials: The config profile (nope) could not be found" in (
        capsys.readouterr().err
    )


def test_a_missing_region_is_reported_with_status_2(aws, monkeypatch, capsys):
    monkeypatch.delenv("AWS_DEFAULT_REGION", raising=False)
    monkeypatch.delenv("AWS_REGION", raising=False)
    clients = Clients(aws_session(), ssm=aws.clients.ssm)

    code = main(["history", "--window-id", WINDOW_ID], clients=clients, ui=Ui.plain(WIDTH))

    assert code == 2
    assert "no AWS region: pass --region or set AWS_REGION." in capsys.readouterr().err


def test_an_unknown_window_execution_is_reported_with_status_1(aws, capsys):
    code, out, err = run_cli(aws, capsys, "report", "--window-execution-id", UNKNOWN_EXECUTION)

    assert (code, out) == (1, "")
    assert err == (
        f"mwalerts: error: window execution {UNKNOWN_EXECUTION} not found in account "
        f"{ACCOUNT} / region {REGION}\n"
    )


@pytest.mark.parametrize("command", [["report", "--last"], ["history"]])
def test_an_unknown_window_is_reported_with_status_1(aws, capsys, command):
    code, _, err = run_cli(aws, capsys, *command, "--window-id", "mw-0000000000000dead")

    assert code == 1
    assert err == (
        f"mwalerts: error: window mw-0000000000000dead not found in account {ACCOUNT} / "
        f"region {REGION}\n"
    )


def test_throttling_beyond_the_retries_is_reported_with_status_1(aws, capsys):
    execution = seed_window_execution(aws.ssm, [PATCHING])
    aws.ssm.throttle(1.0)

    code, out, err = run_cli(
        aws, capsys, "report", "--window-execution-id", execution.window_execution_id
    )

    assert (code, out) == (1, "")
    assert err == (
        "mwalerts: error: AWS kept throttling GetMaintenanceWindowExecution (ThrottlingException: "
        "Rate exceeded) after 10 attempts. Wait a few minutes and try again, or run it when fewer "
        "tools call the API.\n"
    )
    assert len(aws.ssm.calls) == 10  # the adaptive retry mode's attempts, all throttled


def test_any_other_aws_error_is_reported_with_its_code_and_status_1(aws, capsys):
    execution = seed_window_execution(aws.ssm, [PATCHING])
    aws.ssm.fail_next(1, "AccessDeniedException")

    code, _, err = run_cli(
        aws, capsys, "report", "--window-execution-id", execution.window_execution_id
    )

    assert code == 1
    assert err == (
        "mwalerts: error: GetMaintenanceWindowExecution failed: AccessDeniedException: "
        "Injected AccessDeniedException\n"
    )


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "is not JSON: Expecting property name"),
        (
            '{"source": "aws.ssm", "detail-type": "Maintenance Window Execution State-change '
            'Notification"}',
            "invalid maintenance-window execution event: ",
        ),
        (
            json.dumps(
                window_execution_event(
                    window_id="mw-nope",
                    window_execution_id=UNKNOWN_EXECUTION,
                    status="FAILED",
                    start_time=datetime(2026, 11, 20, tzinfo=UTC),
                    end_time=None,
                )
            ),
            "detail.window-id: String should match pattern",
        ),
        (
            '{"source": "aws.events", "detail-type": "Scheduled Event", "account": "123456789012", '
            '"region": "us-east-2", "time": "2026-11-20T02:00:00Z", "id": "1", "version": "0", '
            '"resources": [], "detail": {}}',
            "is the sweep's schedule event",
        ),
    ],
)
def test_a_malformed_event_file_is_reported_with_status_2(aws, capsys, tmp_path, content, message):
    code, out, err = run_cli(aws, capsys, "replay", event_file(tmp_path, content), "--dry-run")

    assert (code, out) == (2, "")
    assert err.startswith("mwalerts: error: ")
    assert message in err
    assert aws.ssm.calls == []


def test_a_missing_event_file_is_reported_with_status_2(aws, capsys, tmp_path):
    code, _, err = run_cli(aws, capsys, "replay", str(tmp_path / "missing.json"), "--dry-run")

    assert code == 2
    assert "cannot read the event: [Errno 2] No such file or directory" in err


def test_an_event_of_another_account_is_refused(aws, capsys, tmp_path):
    execution = seed_window_execution(aws.ssm, [PATCHING])

    code, _, err = run_cli(
        aws,
        capsys,
        "replay",
        event_file(tmp_path, execution.event(account="210987654321")),
        "--dry-run",
    )

    assert code == 2
    assert "the event is from account 210987654321, but the credentials are for " in err


@pytest.mark.parametrize(
    "argv",
    [
        ["report", "--window-execution-id", "not-a-uuid"],
        ["report", "--window-id", "mw-1"],  # neither an execution nor --last
        ["history", "--window-id", WINDOW_ID, "--since", "a month"],
        ["history", "--window-id", WINDOW_ID, "--alert-statuses", "BROKEN"],
        ["history", "--window-id", WINDOW_ID, "--namespace", "AWS/SSM"],
    ],
)
def test_bad_arguments_stop_before_any_aws_call_with_status_2(capsys, argv):
    with pytest.raises(SystemExit) as stopped:
        main(argv, ui=Ui.plain(WIDTH))  # no clients: the arguments fail before any is made

    assert stopped.value.code == 2
    assert "usage: mwalerts" in capsys.readouterr().err


def test_report_last_needs_a_window(aws, capsys):
    code, _, err = run_cli(aws, capsys, "report", "--last")

    assert code == 2
    assert err == "mwalerts: error: report --last needs --window-id\n"


# -- the command itself ---------------------------------------------------------------------------


@pytest.mark.parametrize("command", [[], ["report"], ["history"], ["replay"], ["redrive"]])
def test_every_command_has_help(capsys, command):
    with pytest.raises(SystemExit) as stopped:
        main([*command, "--help"])

    assert stopped.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith(f"usage: mwalerts {' '.join(command)}".rstrip())
    assert "--profile" in out
    assert "--region" in out


def test_the_installed_command_and_the_redrive_module_run():
    bin_dir = Path(sys.executable).parent
    for command in (
        [str(bin_dir / "mwalerts"), "history", "--help"],
        [sys.executable, "-m", "mwalerts_cli.redrive", "--help"],
    ):
        result = subprocess.run(command, capture_output=True, text=True, check=False)
        assert result.returncode == 0, result.stderr
        assert result.stdout.startswith("usage: ")


def test_redrive_is_a_command_too(aws, capsys):
    execution = seed_window_execution(aws.ssm, [PATCHING])
    sqs = boto3.client("sqs", region_name=REGION)
    urls = {
        key: sqs.create_queue(QueueName=key)["QueueUrl"] for key in names.DEAD_LETTER_QUEUE_OUTPUTS
    }
    sqs.send_message(
        QueueUrl=urls[names.OUTPUT_RULE_DLQ_URL], MessageBody=json.dumps(execution.event())
    )
    cloudformation = boto3.client("cloudformation", region_name=REGION)
    outputs = {**urls, names.OUTPUT_FUNCTION_NAME: "maintenance-window-alerts"}
    stub = Stubber(cloudformation)
    stub.add_response(
        "describe_stacks",
        {
            "Stacks": [
                {
                    "StackName": names.STACK_NAME,
                    "CreationTime": datetime(2026, 11, 1, tzinfo=UTC),
                    "StackStatus": "CREATE_COMPLETE",
                    "Outputs": [{"OutputKey": k, "OutputValue": v} for k, v in outputs.items()],
                }
            ]
        },
        {"StackName": names.STACK_NAME},
    )

    with stub:
        code, out, _ = run_cli(
            aws, capsys, "redrive", "--dry-run", "--max", "1", cloudformation=cloudformation
        )

    assert code == 0
    detail_type = names.WINDOW_EXECUTION_DETAIL_TYPE
    assert f"would redrive {detail_type} {execution.window_execution_id}" in out
    assert out.endswith("0 redriven, 0 failed, 0 unreadable (left in their queues)\n")
