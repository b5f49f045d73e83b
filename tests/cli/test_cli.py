"""`mwalerts`, the operator command line, against in-process AWS: moto (STS, SNS, SQS, CloudWatch)
and the fake SSM maintenance-window execution APIs, behind the same boto3 clients it would use."""

import json
import math
import subprocess
import sys
from collections import Counter
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from local_aws.environment import FUNCTION_ENVIRONMENT, LambdaContext, LocalAws
from local_aws.scenario import (
    ACCOUNT,
    REGION,
    WINDOW_ID,
    TaskPlan,
    seed_window_execution,
    window_execution_event,
)
from mwalerts import contract, handler
from mwalerts.clients import MemberClients, aws_session
from mwalerts.invocation import Invocation
from mwalerts.service import handle_event
from mwalerts_cli import redrive
from mwalerts_cli.aws import Clients
from mwalerts_cli.main import main
from mwalerts_cli.options import moment
from mwalerts_cli.output import Ui, clock, time_range, utc
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


class NoAws:
    """Clients a command must not use: any use fails the test (it was to stop before AWS)."""

    def __getattr__(self, name: str) -> Any:
        pytest.fail(f"the command used its AWS clients ({name}) before stopping")


def no_aws() -> Any:
    return NoAws()


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


CENTRAL_ACCOUNT = "999999999999"
CENTRAL_REGION = "eu-west-1"


def central_profile(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, name: str) -> dict[str, str]:
    """A profile whose credentials are another account's (moto's: a role assumed in it), the
    only one in the shared files; returns its credentials."""
    assumed = boto3.client("sts", region_name=REGION).assume_role(
        RoleArn=f"arn:aws:iam::{CENTRAL_ACCOUNT}:role/operator", RoleSessionName="operator"
    )["Credentials"]
    keys = {
        "aws_access_key_id": assumed["AccessKeyId"],
        "aws_secret_access_key": assumed["SecretAccessKey"],
        "aws_session_token": assumed["SessionToken"],
    }
    lines = [f"[{name}]", *(f"{key} = {value}" for key, value in keys.items())]
    (tmp_path / "credentials").write_text("\n".join(lines) + "\n")
    (tmp_path / "config").write_text("")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "credentials"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "config"))
    return keys


def central_emf(aws: LocalAws, execution: Any, capsys) -> dict[str, Any]:
    """The EMF document of the execution's metrics, as the central function prints it."""
    settings = handler.settings.model_copy(update={"members": {ACCOUNT: (REGION,)}})
    # The member's SSM is the fake this test seeded (its reader role assumed in moto's STS).
    members = MemberClients(aws.clients, make_ssm=lambda _region, _credentials: aws.clients.ssm)
    invocation = Invocation(settings, aws.clients, handler.metrics, LambdaContext(), members)
    capsys.readouterr()
    handle_event(execution.event(), invocation)
    (document,) = [
        d for d in emf_documents(capsys.readouterr().out) if contract.METRIC_WINDOW_EXECUTIONS in d
    ]
    return document


def test_history_emit_metrics_to_a_central_account_sends_the_central_functions_series(
    aws, capsys, monkeypatch, tmp_path
):
    execution = seed_window_execution(
        aws.ssm, [PATCHING, RESTART], start_time=datetime.now(UTC) - timedelta(days=2)
    )
    keys = central_profile(monkeypatch, tmp_path, "monitoring")
    requests: list[dict[str, Any]] = []
    other = Clients.other

    def recorded(self: Clients, *, profile: str, region: str) -> Clients:
        made = other(self, profile=profile, region=region)
        made.session.events.register(
            "provide-client-params.cloudwatch.PutMetricData",
            lambda params, **_: requests.append(params),
        )
        return made

    monkeypatch.setattr(Clients, "other", recorded)

    code, _, err = run_cli(
        aws,
        capsys,
        "history",
        "--window-id",
        WINDOW_ID,
        "--since",
        "7d",
        "--emit-metrics",
        "--metrics-profile",
        "monitoring",
        "--metrics-region",
        CENTRAL_REGION,
    )

    assert code == 0
    assert "Sent 16 data points for 1 executions to CloudWatch namespace MaintenanceWindows " in err
    assert "through profile monitoring in eu-west-1" in err
    assert "and per Account, Region, WindowId" in err
    data = [datum for request in requests for datum in request["MetricData"]]
    assert {datum["Timestamp"] for datum in data} == {execution.end_time}

    # The series the central function emits for the same execution: the same dimension sets
    # (Account and Region: those read, with --profile's credentials), metrics and values.
    document = central_emf(aws, execution, capsys)
    directive = document["_aws"]["CloudWatchMetrics"][0]
    emitted = {m["Name"]: (m["Unit"], sum(document[m["Name"]])) for m in directive["Metrics"]}
    dimension_sets = [
        [(name, document[name]) for name in names_] for names_ in directive["Dimensions"]
    ]
    assert dimension_sets == [
        [],
        [("Account", ACCOUNT), ("Region", REGION), ("WindowId", WINDOW_ID)],
    ]
    for dimensions in dimension_sets:
        series = [
            d
            for d in data
            if [(x["Name"], x["Value"]) for x in d.get("Dimensions", [])] == dimensions
        ]
        assert {d["MetricName"]: (d["Unit"], d["Value"]) for d in series} == emitted
    assert len(data) == 2 * len(emitted)  # no other series

    # ... in the profile's account and the given region, where the central dashboard reads them.
    central = boto3.client("cloudwatch", region_name=CENTRAL_REGION, **keys)
    stored = central.list_metrics(Namespace="MaintenanceWindows", MetricName="Invocations")
    assert sorted(
        [(d["Name"], d["Value"]) for d in metric["Dimensions"]] for metric in stored["Metrics"]
    ) == sorted(dimension_sets)
    for region in (REGION, CENTRAL_REGION):  # nothing in the account that was read
        assert boto3.client("cloudwatch", region_name=region).list_metrics()["Metrics"] == []


def test_history_shows_times_with_an_offset_in_utc(aws, capsys):
    seed_history(aws, 2, days=3)

    code, out, _ = run_cli(
        aws,
        capsys,
        "history",
        "--window-id",
        WINDOW_ID,
        "--since",
        "2026-11-01T00:00+02:00",
        "--until",
        "2099-01-01T12:00-05:00",
    )

    assert code == 0
    assert (
        "2 executions started since 2026-10-31 22:00:00 to 2099-01-01 17:00:00 UTC, oldest first"
        in out
    )
    listing = [c for c in aws.ssm.calls if c.operation == "DescribeMaintenanceWindowExecutions"]
    assert listing[0].params["Filters"] == [
        {"Key": "ExecutedAfter", "Values": ["2026-10-31T22:00:00Z"]},
        {"Key": "ExecutedBefore", "Values": ["2099-01-01T17:00:00Z"]},
    ]


def test_times_shown_as_utc_are_converted_to_utc():
    plus_two = timezone(timedelta(hours=2))
    start = datetime(2026, 11, 20, 1, 30, tzinfo=plus_two)  # 2026-11-19 23:30 UTC
    end = datetime(2026, 11, 20, 2, 15, tzinfo=plus_two)  # 2026-11-20 00:15 UTC
    assert utc(start) == "2026-11-19 23:30:00"
    assert utc(datetime(2026, 11, 20, 2)) == "2026-11-20 02:00:00"  # no zone: UTC, as --since
    assert time_range(start, end) == ("2026-11-19 23:30:00 to 2026-11-20 00:15:00 UTC (45m 00s)")
    assert clock(end, datetime(2026, 11, 20, tzinfo=UTC)) == "00:15:00"
    assert clock(start, datetime(2026, 11, 20, tzinfo=UTC)) == "2026-11-19 23:30:00"


def test_a_date_alone_means_its_midnight_utc_and_the_help_says_so(capsys):
    assert moment("2026-11-20") == datetime(2026, 11, 20, tzinfo=UTC)
    assert moment("2026-11-20T02:00+02:00") == datetime(2026, 11, 20, tzinfo=UTC)

    with pytest.raises(SystemExit):
        main(["history", "--help"])

    help_text = " ".join(capsys.readouterr().out.split())
    assert "--since WHEN executions that started since: 30d, 12h or an ISO 8601 date or time" in (
        help_text
    )
    assert "(a date alone means its 00:00 UTC; default: 30d)" in help_text
    assert "--until WHEN ... and before: the same forms (a date alone means its 00:00 UTC" in (
        help_text
    )
    # The example that backfills until a deployment gives its time, not a date alone.
    assert "--until 2026-11-20T14:30" in help_text
    assert "--until 2026-11-20 " not in help_text


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


def test_replay_without_a_topic_stops_before_any_aws_call_and_says_why(capsys, tmp_path):
    # The stack's alert topic admits only the function and its alarms (stacks/security.py):
    # publishing there would fail with AuthorizationError on real AWS, where moto accepts it.
    path = event_file(tmp_path, {"not": "even read"})

    code = main(["replay", path], clients=no_aws(), ui=Ui.plain(WIDTH))

    out, err = capsys.readouterr()
    assert (code, out) == (2, "")
    assert err == (
        "mwalerts: error: replay needs --dry-run or --topic-arn: the stack's alert topic admits "
        "only the function and its alarms, so replay cannot publish there. Use --dry-run to see "
        "the alert, --topic-arn ARN to send it to a topic of yours, or `mwalerts redrive` to send "
        "events back through the deployed function.\n"
    )


def test_replay_takes_no_stack_to_publish_to(capsys, tmp_path):
    with pytest.raises(SystemExit) as stopped:
        main(
            ["replay", event_file(tmp_path, {}), "--stack", contract.STACK_NAME],
            clients=no_aws(),
            ui=Ui.plain(WIDTH),
        )

    assert stopped.value.code == 2
    assert "unrecognized arguments: --stack" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["replay", "--help"])
    help_text = " ".join(capsys.readouterr().out.split())
    assert "--topic-arn ARN publish the alert to this topic, one the credentials may publish" in (
        help_text
    )
    assert "not the stack's alert topic, which admits only the function and its alarms" in (
        help_text
    )
    assert "--stack" not in help_text


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
        ["history", "--window-id", WINDOW_ID, "--until", "tomorrow"],
        ["replay", "event.json", "--stack", contract.STACK_NAME],
        ["redrive", "--max", "some"],
    ],
)
def test_bad_arguments_stop_before_any_aws_call_with_status_2(capsys, argv):
    with pytest.raises(SystemExit) as stopped:
        main(argv, clients=no_aws(), ui=Ui.plain(WIDTH))

    assert stopped.value.code == 2
    assert "usage: mwalerts" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["report", "--last"], "report --last needs --window-id"),
        (
            ["history", "--window-id", WINDOW_ID, "--since", "2026-11-20", "--until", "2026-11-20"],
            "--since (2026-11-20 00:00:00 UTC) is not before --until (2026-11-20 00:00:00 UTC): "
            "no execution starts in between (a date alone means its 00:00 UTC)",
        ),
        (
            [
                "history",
                "--window-id",
                WINDOW_ID,
                "--since",
                "2026-11-20T03:00+02:00",  # 01:00 UTC
                "--until",
                "2026-11-20T01:00",
            ],
            "--since (2026-11-20 01:00:00 UTC) is not before --until (2026-11-20 01:00:00 UTC)",
        ),
        (
            ["history", "--window-id", WINDOW_ID, "--since", "1d", "--until", "2d"],
            "is not before --until",
        ),
        (
            [
                "history",
                "--window-id",
                WINDOW_ID,
                "--emit-metrics",
                "--metrics-region",
                "eu-west-1",
            ],
            "--metrics-region goes with --metrics-profile",
        ),
        (
            ["history", "--window-id", WINDOW_ID, "--metrics-profile", "monitoring"],
            "--metrics-profile sends metrics: it needs --emit-metrics",
        ),
        (["replay", "event.json"], "replay needs --dry-run or --topic-arn"),
    ],
)
def test_arguments_that_do_not_go_together_stop_before_any_aws_call_with_status_2(
    capsys, argv, message
):
    code = main(argv, clients=no_aws(), ui=Ui.plain(WIDTH))

    out, err = capsys.readouterr()
    assert (code, out) == (2, "")
    assert err.startswith("mwalerts: error: ")
    assert message in err
    assert err.count("\n") == 1  # one line


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


def dead_letter_stack(aws: LocalAws, *messages: dict[str, Any]) -> dict[str, str]:
    """The alerts stack's outputs: two dead-letter queues (the rule's holding `messages`) and
    the function."""
    sqs = boto3.client("sqs", region_name=REGION)
    urls = {
        key: sqs.create_queue(QueueName=key)["QueueUrl"]
        for key in contract.DEAD_LETTER_QUEUE_OUTPUTS
    }
    for message in messages:
        sqs.send_message(
            QueueUrl=urls[contract.OUTPUT_RULE_DLQ_URL], MessageBody=json.dumps(message)
        )
    return {**urls, contract.OUTPUT_FUNCTION_NAME: "maintenance-window-alerts"}


def stack_found(stub: Stubber, name: str, outputs: dict[str, str]) -> None:
    stub.add_response(
        "describe_stacks",
        {
            "Stacks": [
                {
                    "StackName": name,
                    "CreationTime": datetime(2026, 11, 1, tzinfo=UTC),
                    "StackStatus": "CREATE_COMPLETE",
                    "Outputs": [{"OutputKey": k, "OutputValue": v} for k, v in outputs.items()],
                }
            ]
        },
        {"StackName": name},
    )


def stack_missing(stub: Stubber, name: str) -> None:
    stub.add_client_error(
        "describe_stacks",
        service_error_code="ValidationError",
        service_message=f"Stack with id {name} does not exist",
        http_status_code=400,
        expected_params={"StackName": name},
    )


STACK_CANDIDATES = [
    contract.STACK_NAME,
    f"MaintenanceWindowAlerts-{ACCOUNT}-{REGION}",
    f"MaintenanceWindowAlerts-Central-{ACCOUNT}-{REGION}",
]


def test_redrive_is_a_command_too(aws, capsys):
    execution = seed_window_execution(aws.ssm, [PATCHING])
    outputs = dead_letter_stack(aws, execution.event())
    cloudformation = boto3.client("cloudformation", region_name=REGION)
    stub = Stubber(cloudformation)
    stack_found(stub, contract.STACK_NAME, outputs)

    with stub:
        code, out, _ = run_cli(
            aws, capsys, "redrive", "--dry-run", "--max", "1", cloudformation=cloudformation
        )

    assert code == 0
    detail_type = contract.WINDOW_EXECUTION_DETAIL_TYPE
    assert f"would redrive {detail_type} {execution.window_execution_id}" in out
    assert out.endswith("0 redriven, 0 failed, 0 unreadable (left in their queues)\n")


@pytest.mark.parametrize(
    "found", range(len(STACK_CANDIDATES)), ids=["single", "deployments", "central"]
)
def test_redrive_finds_the_stack_of_each_layout_in_the_credentials_account_and_region(
    aws, capsys, found
):
    outputs = dead_letter_stack(aws)
    cloudformation = boto3.client("cloudformation", region_name=REGION)
    stub = Stubber(cloudformation)
    for name in STACK_CANDIDATES[:found]:
        stack_missing(stub, name)
    stack_found(stub, STACK_CANDIDATES[found], outputs)

    with stub:
        code, out, err = run_cli(aws, capsys, "redrive", "--dry-run", cloudformation=cloudformation)
        stub.assert_no_pending_responses()

    assert (code, err) == (0, "")
    assert out.splitlines()[0] == (
        f"Stack {STACK_CANDIDATES[found]} (found in account {ACCOUNT} / region {REGION}; "
        "--stack chooses another)"
    )


def test_redrive_without_a_stack_found_lists_the_names_tried_with_status_2(aws, capsys):
    cloudformation = boto3.client("cloudformation", region_name=REGION)
    stub = Stubber(cloudformation)
    for name in STACK_CANDIDATES:
        stack_missing(stub, name)

    with stub:
        code, out, err = run_cli(aws, capsys, "redrive", cloudformation=cloudformation)

    assert (code, out) == (2, "")
    assert err == (
        f"mwalerts: error: no alerts stack in account {ACCOUNT} / region {REGION}: tried "
        f"{', '.join(STACK_CANDIDATES)}. Pass --stack NAME (and --profile and --region of the "
        "account and region it is deployed in).\n"
    )


def test_redrive_uses_the_stack_given_and_nothing_else(aws, capsys):
    outputs = dead_letter_stack(aws)
    cloudformation = boto3.client("cloudformation", region_name=REGION)
    stub = Stubber(cloudformation)
    stack_found(stub, "Alerts", outputs)

    with stub:
        code, out, _ = run_cli(
            aws, capsys, "redrive", "--stack", "Alerts", cloudformation=cloudformation, sts=no_aws()
        )

    assert code == 0
    assert out.splitlines()[0] == "Stack Alerts"


@pytest.mark.parametrize("entry", ["mwalerts redrive", "python -m mwalerts_cli.redrive"])
@pytest.mark.parametrize(
    ("stack", "code", "message"),
    [
        # Discovery stops at an error that is not "does not exist": AWS did not answer.
        (None, "AccessDenied", "User is not authorized to perform cloudformation:DescribeStacks"),
        (None, "ValidationError", "1 validation error detected"),
        ("Alerts", "ValidationError", "Stack with id Alerts does not exist"),
    ],
)
def test_redrive_reports_aws_errors_as_every_command_does_with_status_1(
    aws, capsys, entry, stack, code, message
):
    cloudformation = boto3.client("cloudformation", region_name=REGION)
    stub = Stubber(cloudformation)
    stub.add_client_error("describe_stacks", service_error_code=code, service_message=message)
    argv = ["--stack", stack] if stack else []
    clients = cli_clients(aws, cloudformation=cloudformation)

    with stub:
        capsys.readouterr()
        if entry == "mwalerts redrive":
            status = main(["redrive", *argv], clients=clients, ui=Ui.plain(WIDTH))
        else:
            status = redrive.main(argv, clients=clients)

    out, err = capsys.readouterr()
    assert status == 1
    assert out == ""
    assert err == f"mwalerts: error: DescribeStacks failed: {code}: {message}\n"


def test_redrive_of_a_stack_without_queues_says_so_with_status_1(aws, capsys):
    cloudformation = boto3.client("cloudformation", region_name=REGION)
    stub = Stubber(cloudformation)
    stack_found(stub, "Member", {contract.OUTPUT_FORWARD_DLQ_URL: "https://queue"})

    with stub:
        code, _, err = run_cli(
            aws, capsys, "redrive", "--stack", "Member", cloudformation=cloudformation
        )

    assert code == 1
    assert err.startswith(
        "mwalerts: error: stack Member has no RuleDeadLetterQueueUrl, FunctionFailureQueueUrl, "
        "FunctionName output: is it the alerts stack?"
    )


def test_redrive_without_credentials_cannot_start_status_2(monkeypatch, tmp_path, capsys):
    no_aws_configuration(monkeypatch, tmp_path)

    status = redrive.main(["--region", REGION])

    assert status == 2
    assert capsys.readouterr().err.startswith(
        "mwalerts: error: no AWS credentials: Unable to locate credentials."
    )
