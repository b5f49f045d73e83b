"""How the commands fail: status 2 when one cannot start (its arguments, the credentials, the
region, the event file), status 1 when AWS refuses or cannot answer; each says why on stderr."""

import json
from datetime import UTC, datetime

import pytest

from local_aws.scenario import (
    ACCOUNT,
    REGION,
    WINDOW_ID,
    seed_window_execution,
    window_execution_event,
)
from mwalerts import contract
from mwalerts.clients import aws_session
from mwalerts_cli.aws import Clients
from mwalerts_cli.main import main
from mwalerts_cli.output import Ui
from tests.cli.harness import PATCHING, WIDTH, event_file, no_aws, no_aws_configuration

UNKNOWN_EXECUTION = "0b5a3b2e-4f4d-4c1e-9d7a-1c2b3a4d5e6f"


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


def test_an_unknown_window_execution_is_reported_with_status_1(cli):
    code, out, err = cli.report(UNKNOWN_EXECUTION)

    assert (code, out) == (1, "")
    assert err == (
        f"mwalerts: error: window execution {UNKNOWN_EXECUTION} not found in account "
        f"{ACCOUNT} / region {REGION}\n"
    )


@pytest.mark.parametrize("command", [["report", "--last"], ["history"]])
def test_an_unknown_window_is_reported_with_status_1(cli, command):
    code, _, err = cli(*command, "--window-id", "mw-0000000000000dead")

    assert code == 1
    assert err == (
        f"mwalerts: error: window mw-0000000000000dead not found in account {ACCOUNT} / "
        f"region {REGION}\n"
    )


def test_throttling_beyond_the_retries_is_reported_with_status_1(aws, cli):
    execution = seed_window_execution(aws.ssm, [PATCHING])
    aws.ssm.throttle(1.0)

    code, out, err = cli.report(execution.window_execution_id)

    assert (code, out) == (1, "")
    attempts = len(aws.ssm.calls)  # all throttled, retried for MAX_WAIT (on virtual time)
    assert err == (
        f"mwalerts: error: AWS kept throttling GetMaintenanceWindowExecution "
        f"(ThrottlingException: Rate exceeded) after {attempts} attempts. Wait a few minutes and "
        "try again, or run it when fewer tools call the API.\n"
    )
    assert attempts > 10


def test_any_other_aws_error_is_reported_with_its_code_and_status_1(aws, cli):
    execution = seed_window_execution(aws.ssm, [PATCHING])
    aws.ssm.fail_next(1, "AccessDeniedException")

    code, _, err = cli.report(execution.window_execution_id)

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
def test_a_malformed_event_file_is_reported_with_status_2(aws, cli, tmp_path, content, message):
    code, out, err = cli("replay", event_file(tmp_path, content), "--dry-run")

    assert (code, out) == (2, "")
    assert err.startswith("mwalerts: error: ")
    assert message in err
    assert aws.ssm.calls == []


def test_a_missing_event_file_is_reported_with_status_2(cli, tmp_path):
    code, _, err = cli("replay", str(tmp_path / "missing.json"), "--dry-run")

    assert code == 2
    assert "cannot read the event: [Errno 2] No such file or directory" in err


def test_an_event_of_another_account_is_refused(aws, cli, tmp_path):
    execution = seed_window_execution(aws.ssm, [PATCHING])

    code, _, err = cli(
        "replay", event_file(tmp_path, execution.event(account="210987654321")), "--dry-run"
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


def test_report_last_needs_a_window(cli):
    code, _, err = cli("report", "--last")

    assert code == 2
    assert err == "mwalerts: error: report --last needs --window-id\n"
