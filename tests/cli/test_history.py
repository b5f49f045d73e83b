"""`mwalerts history`: a window's executions over a time range, one line (or JSON record) each,
and with --emit-metrics the metrics the function would have sent for them, to this account or to a
central one."""

import json
from collections import Counter
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import boto3
import pytest

from local_aws.environment import LambdaContext, LocalAws
from local_aws.scenario import ACCOUNT, REGION, WINDOW_ID, TaskPlan, seed_window_execution
from mwalerts import contract, handler
from mwalerts.clients import MemberClients
from mwalerts.invocation import Invocation
from mwalerts.service import handle_event
from mwalerts_cli.aws import Clients
from mwalerts_cli.main import main
from mwalerts_cli.options import moment
from mwalerts_cli.output import clock, time_range, utc
from tests.cli.harness import PATCHING, RESTART
from tests.support import emf_documents


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


def test_history_prints_one_line_per_execution_oldest_first(aws, cli):
    executions = seed_history(aws, 103, days=29)  # more than a page of 100
    seed_window_execution(  # before --since: not listed
        aws.ssm,
        [TaskPlan({"SUCCESS": 1})],
        seed=999,
        start_time=datetime.now(UTC) - timedelta(days=31),
    )

    code, out, err = cli("history", "--window-id", WINDOW_ID, "--since", "30d")

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


def test_history_json_lists_each_execution_with_its_counts(aws, cli):
    executions = seed_history(aws, 4, days=5)

    code, out, err = cli("history", "--window-id", WINDOW_ID, "--since", "6d", "--output", "json")

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


STREAK_METRICS = (
    contract.METRIC_TARGETS_FAILING_CONSECUTIVELY,
    contract.METRIC_LONGEST_FAILURE_STREAK,
)


def test_history_emit_metrics_sends_the_functions_metrics_batched_and_time_stamped(
    aws, cli, capsys
):
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

    code, _, err = cli(
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
    # ... but the failure-streak metrics, which need the window's history before the backfill.
    for name in STREAK_METRICS:
        del emitted[name]
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
    aws, cli, capsys, monkeypatch, tmp_path
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

    code, _, err = cli(
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
    for name in STREAK_METRICS:  # not backfilled (see above)
        del emitted[name]
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


def test_history_shows_times_with_an_offset_in_utc(aws, cli):
    seed_history(aws, 2, days=3)

    code, out, _ = cli(
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
