"""`mwalerts replay`: the function's work on a saved event (mwalerts.pipeline), printed or
published."""

import argparse
import json
import sys

from botocore.exceptions import ClientError
from rich.text import Text

from mwalerts.alert import Alert
from mwalerts.errors import InvalidEventError, error_code
from mwalerts.events import ScheduledEvent, WindowExecutionEvent, parse_event
from mwalerts.model import WindowExecution
from mwalerts.pipeline import AlertRules, Assessment, assess_execution
from mwalerts.publish import publish_alert
from mwalerts_cli import options
from mwalerts_cli.aws import Clients
from mwalerts_cli.errors import USAGE, CliError
from mwalerts_cli.executions import NOT_FOUND
from mwalerts_cli.output import ReadingProgress, Ui

NAME = "replay"
SUMMARY = "run the function's logic on a saved event; print or publish the alert"
DESCRIPTION = """\
Run the function's logic on a saved EventBridge event (a window execution state change, or a
record from the function's on-failure queue): read every page of the execution, build the alert,
and print it (--dry-run) or publish it to a topic you may publish to (--topic-arn)."""
EPILOG = """\
examples:
  mwalerts replay event.json --dry-run
  mwalerts replay event.json --topic-arn arn:aws:sns:eu-west-1:123456789012:alerts-test

Replay does not publish to the stack's alert topic: its policy admits only the function and the
stack's alarms. To send an event through the deployed function instead (its topic, idempotency
and metrics), use `mwalerts redrive` on the dead-letter queues.

Replay does not use the function's idempotency table: it publishes every time it runs, even for
an execution the function has already alerted on. Like the function, it publishes nothing for an
execution without failures, and ignores events of executions that have not ended. It publishes
the alert alone: a chat card (chatNotifications) is not sent."""
# Without --dry-run or --topic-arn there is nowhere replay may publish: why, and what instead.
NO_TOPIC = (
    "replay needs --dry-run or --topic-arn: the stack's alert topic admits only the function and "
    "its alarms, so replay cannot publish there. Use --dry-run to see the alert, --topic-arn ARN "
    "to send it to a topic of yours, or `mwalerts redrive` to send events back through the "
    "deployed function."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("event", metavar="EVENT.json", help="the event's file, or - for stdin")
    parser.add_argument(
        "--dry-run", action="store_true", help="print the alert (subject, email, digest) only"
    )
    parser.add_argument(
        "--topic-arn",
        metavar="ARN",
        help="publish the alert to this topic, one the credentials may publish to (a test "
        "topic, say): not the stack's alert topic, which admits only the function and its alarms",
    )
    options.add_output_option(parser, "text", "json")
    options.add_digest_options(parser)


def run(args: argparse.Namespace, clients: Clients, ui: Ui) -> int:
    if not args.dry_run and not args.topic_arn:
        raise CliError(NO_TOPIC, USAGE)
    topic_arn = None if args.dry_run else str(args.topic_arn)
    event = _read_event(args.event)
    execution = event.execution
    if not execution.is_terminal:
        ui.info(
            f"Ignored: window execution {execution.window_execution_id} is {execution.status}; "
            "the function acts only on ended executions."
        )
        return 0
    if args.region and args.region != execution.region:
        raise CliError(f"the event is from region {execution.region}, not {args.region}", USAGE)
    clients = clients.in_region(execution.region)  # where the execution ran, as the function
    place = clients.place
    if place.account != execution.account:
        raise CliError(
            f"the event is from account {execution.account}, but the credentials are for "
            f"{place.account}: use a profile of that account",
            USAGE,
        )

    assessed = _assess(clients, execution, options.alert_rules(args), ui)
    report = assessed.report
    if not assessed.alerting:
        ui.info(
            f"All clear: {report.total_invocations:,} invocations, none in an alert status, and "
            f"the execution ended {execution.status}. The function publishes nothing for it."
        )
        if args.output == "json":
            ui.json({"alerting": False, "published": None, "counts": dict(report.counts)})
        return 0
    message_id = None
    if topic_arn is not None:
        message_id = publish_alert(clients.sns, topic_arn, assessed.alert)
    _show(ui, args.output, assessed.alert, topic_arn, message_id)
    return 0


def _assess(clients: Clients, execution: WindowExecution, rules: AlertRules, ui: Ui) -> Assessment:
    """The function's pipeline on the execution, with a progress display; no failure logged."""
    try:
        with ui.progress() as progress:
            return assess_execution(
                clients.ssm,
                execution,
                rules,
                watcher=ReadingProgress(progress),
                log_failures=False,
            )
    except ClientError as error:
        if error_code(error) == NOT_FOUND:
            raise CliError(
                f"window execution {execution.window_execution_id} not found in {clients.place}"
            ) from None
        raise


def _read_event(path: str) -> WindowExecutionEvent:
    try:
        text = sys.stdin.read() if path == "-" else open(path, encoding="utf-8").read()  # noqa: SIM115
    except (OSError, UnicodeDecodeError) as error:
        raise CliError(f"cannot read the event: {error}", USAGE) from None
    try:
        raw = json.loads(text)
    except ValueError as error:
        raise CliError(f"{path} is not JSON: {error}", USAGE) from None
    # A record from the function's on-failure queue carries the event as its requestPayload.
    if isinstance(raw, dict) and "requestContext" in raw and "requestPayload" in raw:
        raw = raw["requestPayload"]
    try:
        event = parse_event(raw)
    except InvalidEventError as error:
        raise CliError(f"{path}: {error}", USAGE) from None
    if isinstance(event, ScheduledEvent):
        raise CliError(
            f"{path} is the sweep's schedule event: replay takes a window execution event", USAGE
        )
    return event


def _show(ui: Ui, output: str, alert: Alert, topic_arn: str | None, message_id: str | None) -> None:
    email = json.loads(alert.message)["email"]
    if output == "json":
        ui.json(
            {
                "alerting": True,
                "published": message_id,
                "topicArn": topic_arn,
                "subject": alert.subject,
                "attributes": alert.attributes,
                "email": email,
                "digest": alert.digest,
            }
        )
        return
    attributes = ", ".join(
        f"{key}={value['StringValue']}" for key, value in alert.attributes.items()
    )
    ui.line(Text("Subject     ", style="bold").append(alert.subject, style=""))
    ui.line(Text("Attributes  ", style="bold").append(attributes, style=""))
    if message_id is None:
        ui.line()
        ui.line("Email body", style="bold")
        ui.line(email.rstrip("\n"))
        ui.line()
        ui.line("JSON digest (SQS, HTTPS, Lambda and email-json subscribers)", style="bold")
        ui.json(alert.digest)
        ui.line()
        ui.line("Dry run: nothing was published.", style="dim")
    else:
        ui.line(f"Published to {topic_arn} as message {message_id}.", style="green")
