"""`mwalerts replay`: an event file through the function's pipeline, the alert printed (--dry-run)
or published to a topic of the operator's."""

import json

import pytest

from local_aws.environment import LambdaContext
from local_aws.scenario import seed_window_execution
from mwalerts import contract, handler
from mwalerts_cli.main import main
from mwalerts_cli.output import Ui
from tests.cli.harness import (
    LOG_GROUP,
    PATCHING,
    RESTART,
    SCRIPT,
    WIDTH,
    event_file,
    no_aws,
    published_digest,
)
from tests.support import without_streaks


def test_replay_dry_run_prints_the_alert_and_publishes_nothing(aws, cli, tmp_path):
    execution = seed_window_execution(aws.ssm, [PATCHING, RESTART, SCRIPT])

    code, out, err = cli("replay", event_file(tmp_path, execution.event()), "--dry-run")

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


def test_replay_publishes_the_functions_alert_once(aws, cli, tmp_path):
    execution = seed_window_execution(aws.ssm, [PATCHING, RESTART, SCRIPT])

    code, out, _ = cli(
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
    # The function's own alert, to the letter but for its failure streaks (replay tracks none).
    assert without_streaks(published_digest(aws)) == replayed


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


def test_replay_of_a_run_without_failures_publishes_nothing(aws, cli, tmp_path):
    execution = seed_window_execution(aws.ssm, [SCRIPT])

    code, _, err = cli(
        "replay", event_file(tmp_path, execution.event()), "--topic-arn", aws.topic_arn
    )

    assert code == 0
    assert err.startswith("All clear: 240 invocations, none in an alert status")
    assert aws.published() == []


def test_replay_reads_the_event_of_an_on_failure_queue_record(aws, cli, tmp_path):
    execution = seed_window_execution(aws.ssm, [PATCHING])
    record = {
        "requestContext": {"condition": "RetriesExhausted"},
        "requestPayload": execution.event(),
    }

    code, out, _ = cli("replay", event_file(tmp_path, record), "--dry-run", "--output", "json")

    assert code == 0
    shown = json.loads(out)
    assert shown["published"] is None
    assert shown["digest"]["windowExecutionId"] == execution.window_execution_id
