"""Prove each hop of a deployed alerts stack with real calls, and clean up after itself.

    mwalerts selftest [--stack NAME] [--wait SECONDS] [--profile P] [--region R]
    make selftest SELFTEST_ARGS="--stack NAME --profile P"

The hops, each with its result and time:
  function          the function, invoked with a self-test event, publishes a marked test message
                    to the alert topic (its role, SNS, the topic's KMS key), writes and deletes an
                    item in its idempotency table (DynamoDB, the data key), writes, reads and
                    deletes one in its streak table, and emits a metric
  delivery          the test message arrives on a temporary encrypted queue subscribed to the topic
  alarm -> topic    the stack's self-test alarm, set to OK, then ALARM (a change CloudWatch
                    notifies), then back to OK, notifies the topic (CloudWatch may use the KMS key
                    and publish to the topic)
  dead-letter queue each queue is KMS-encrypted, no redrive source, and its queue and key policies
                    admit what writes to it (read through the API: nothing is sent or received);
                    in organization mode also the sweep queue's (found by the sweep queue's
                    RedrivePolicy), whose RedriveAllowPolicy admits the sweep queue

The function's hops are the ones its answer lists (organization mode adds "member": it reads one
member account through the member's reader role).

The temporary queue and its subscription are removed at the end, whatever happened. Exit 0 when
every hop passed (or was skipped), 1 when one failed, 2 when the command cannot start.
"""

import argparse
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from mwalerts import contract
from mwalerts.self_test_check import (
    INVOKE_CONFIG,
    Hop,
    describe_aws_error,
    new_test_id,
    run_self_test,
)
from mwalerts_cli.aws import Clients
from mwalerts_cli.errors import USAGE
from mwalerts_cli.output import Column, Ui
from mwalerts_cli.redrive import add_stack_argument, alerts_stack
from mwalerts_cli.selftest_hops import (
    TemporarySubscription,
    Writer,
    dead_letter_problems,
    is_alarm_notification,
    is_test_message,
    sweep_dead_letter_queue,
)

# `mwalerts selftest`: its help is this module's docstring.
NAME = "selftest"
SUMMARY = "prove each hop of the deployed alert path with real calls, and clean up"
DESCRIPTION, EPILOG = (__doc__ or "").split("\n\n", 1)

DEFAULT_WAIT_SECONDS = 60
MAX_WAIT_SECONDS = 900
REQUIRED_OUTPUTS = (
    contract.OUTPUT_TOPIC_ARN,
    contract.OUTPUT_FUNCTION_NAME,
    *contract.DEAD_LETTER_QUEUE_OUTPUTS,
)
COLUMNS = (
    Column("hop", limit=60),
    Column("result", status=True),
    Column("seconds", right=True),
    Column("detail", limit=160),
)
OK, FAILED, SKIPPED = "ok", "FAILED", "skipped"


@dataclass(frozen=True)
class Row:
    hop: str
    result: str  # OK, FAILED or SKIPPED
    seconds: float | None
    detail: str

    @classmethod
    def of(cls, hop: Hop, prefix: str = "function: ") -> "Row":
        return cls(prefix + hop.hop, OK if hop.ok else FAILED, hop.seconds, hop.detail)

    def cells(self) -> list[str]:
        seconds = "-" if self.seconds is None else f"{self.seconds:.2f}"
        return [self.hop, self.result, seconds, self.detail]


@dataclass(frozen=True)
class Target:
    """The stack under test: its name and outputs."""

    stack: str
    outputs: dict[str, str]

    @property
    def topic_arn(self) -> str:
        return self.outputs[contract.OUTPUT_TOPIC_ARN]

    @property
    def function_name(self) -> str:
        return self.outputs[contract.OUTPUT_FUNCTION_NAME]


def wait_seconds(text: str) -> int:
    try:
        seconds = contract.whole_number(text)
    except ValueError:
        seconds = 0
    if not 1 <= seconds <= MAX_WAIT_SECONDS:
        raise argparse.ArgumentTypeError(
            f"expected a whole number of seconds from 1 to {MAX_WAIT_SECONDS}, got {text!r}"
        )
    return seconds


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_stack_argument(parser)
    parser.add_argument(
        "--wait",
        type=wait_seconds,
        default=DEFAULT_WAIT_SECONDS,
        metavar="SECONDS",
        help="how long to wait for each notification on the temporary queue (default: %(default)s)",
    )


def run(args: argparse.Namespace, clients: Clients, ui: Ui) -> int:
    """Every hop, then the table; 1 if a hop failed or something could not be cleaned up."""
    target = _target(args, clients, ui)
    rows, leftovers = _live_hops(args, clients, ui, target)
    ui.info("Checking the dead-letter queues through the API (nothing is sent or received)")
    rows += [_dead_letter_row(clients, target, key) for key in contract.DEAD_LETTER_QUEUE_OUTPUTS]
    sweep_queue = target.outputs.get(contract.OUTPUT_SWEEP_QUEUE_URL)
    if sweep_queue:
        rows.append(_sweep_dead_letter_row(clients, sweep_queue))
    ui.table(COLUMNS, [row.cells() for row in rows])
    for leftover in leftovers:
        ui.error(f"could not remove the temporary {leftover}: delete it by hand")
    failed = [row.hop for row in rows if row.result == FAILED]
    ui.info(f"{len(rows) - len(failed)} of {len(rows)} hops passed or skipped")
    return 1 if failed or leftovers else 0


def _target(args: argparse.Namespace, clients: Clients, ui: Ui) -> Target:
    stack, outputs = alerts_stack(
        args.stack, clients, ui.info, wanted=REQUIRED_OUTPUTS, command="test", exit_code=USAGE
    )
    return Target(stack, outputs)


def _live_hops(
    args: argparse.Namespace, clients: Clients, ui: Ui, target: Target
) -> tuple[list[Row], list[str]]:
    """The hops through the topic, on a temporary subscription removed whatever happens."""
    test_id = new_test_id()
    queue = TemporarySubscription(
        clients.client("sqs"), clients.sns, target.topic_arn, f"mwalerts-selftest-{test_id[:16]}"
    )
    rows: list[Row] = []
    try:
        ui.info(f"Self-test {test_id}: subscribing a temporary encrypted queue to the alert topic")
        queue.open()
        ui.info(f"Invoking {target.function_name} with the self-test event")
        check = run_self_test(
            clients.client("lambda", config=INVOKE_CONFIG), target.function_name, test_id
        )
        rows += [Row.of(hop) for hop in check.hops]
        rows.append(_delivery_row(queue, test_id, published=check.ok, wait=args.wait, ui=ui))
        rows.append(_alarm_row(clients, queue, target, test_id, wait=args.wait, ui=ui))
    finally:
        leftovers = queue.close()
        if not leftovers:
            ui.info("Removed the temporary queue and its subscription")
    return rows, leftovers


def _delivery_row(
    queue: TemporarySubscription, test_id: str, *, published: bool, wait: int, ui: Ui
) -> Row:
    if not published:
        return Row(
            "delivery", SKIPPED, None, "the function's hops failed: no test message to wait for"
        )
    ui.info(f"Waiting up to {wait} s for the test message on the temporary queue")
    started = queue.clock()
    envelope = queue.wait_for(is_test_message(test_id), wait)
    seconds = queue.clock() - started
    if envelope is None:
        return Row(
            "delivery",
            FAILED,
            seconds,
            f"no test message within {wait} s: check the topic's delivery status logs and its "
            "subscriptions",
        )
    return Row("delivery", OK, seconds, f"test message {envelope.get('MessageId')} arrived")


def _alarm_row(
    clients: Clients,
    queue: TemporarySubscription,
    target: Target,
    test_id: str,
    *,
    wait: int,
    ui: Ui,
) -> Row:
    hop = "alarm -> topic"
    alarm = target.outputs.get(contract.OUTPUT_SELF_TEST_ALARM_NAME)
    if not alarm:
        return Row(
            hop,
            SKIPPED,
            None,
            f"the stack has no {contract.OUTPUT_SELF_TEST_ALARM_NAME} output (deployed by an "
            "older version): redeploy it to test this hop",
        )
    cloudwatch = clients.cloudwatch
    started = queue.clock()
    ui.info(f"Setting alarm {alarm} to OK, then ALARM; waiting up to {wait} s for its notification")
    try:
        _raise_alarm(cloudwatch, alarm, test_id)
    except (BotoCoreError, ClientError) as error:
        return Row(hop, FAILED, queue.clock() - started, describe_aws_error(error))
    try:
        envelope = queue.wait_for(is_alarm_notification(alarm, test_id), wait)
    finally:
        reset = _reset_alarm(cloudwatch, alarm, test_id)
    seconds = queue.clock() - started
    if envelope is None:
        detail = (
            f"no notification from {alarm} within {wait} s: check the alarm's history, and that "
            "the topic's and the key's policies admit this stack's alarms"
        )
        return Row(hop, FAILED, seconds, detail + reset)
    if reset:
        return Row(hop, FAILED, seconds, "the notification arrived" + reset)
    return Row(hop, OK, seconds, f"{alarm} notified the topic; set back to OK")


def _raise_alarm(cloudwatch: Any, alarm: str, test_id: str) -> None:
    """OK, then ALARM. CloudWatch notifies only a change of state: an alarm left in ALARM (by an
    interrupted run, or another run at the same time) would send nothing for ALARM alone."""
    _set_alarm(cloudwatch, alarm, "OK", f"mwalerts selftest {test_id}: starting")
    _set_alarm(cloudwatch, alarm, "ALARM", f"mwalerts selftest {test_id}: a test, not a failure")


def _set_alarm(cloudwatch: Any, alarm: str, state: str, reason: str) -> None:
    cloudwatch.set_alarm_state(AlarmName=alarm, StateValue=state, StateReason=reason)


def _reset_alarm(cloudwatch: Any, alarm: str, test_id: str) -> str:
    """Set the alarm back to OK; "" if done, else what went wrong (to append to a detail)."""
    try:
        _set_alarm(cloudwatch, alarm, "OK", f"mwalerts selftest {test_id}: done")
    except (BotoCoreError, ClientError) as error:
        return f"; could not set it back to OK: {describe_aws_error(error)}"
    return ""


def _dead_letter_row(clients: Clients, target: Target, key: str) -> Row:
    hop = f"dead-letter queue: {key}"
    try:
        writer = _writer(clients, target, key)
        return _judged(hop, clients, target.outputs[key], writer)
    except (BotoCoreError, ClientError) as error:
        return Row(hop, FAILED, None, describe_aws_error(error))


def _sweep_dead_letter_row(clients: Clients, sweep_queue_url: str) -> Row:
    hop = f"dead-letter queue: {contract.OUTPUT_SWEEP_QUEUE_URL}'s"
    try:
        found = sweep_dead_letter_queue(clients.client("sqs"), sweep_queue_url)
        if found is None:
            return Row(
                hop, FAILED, None, "the sweep queue has no dead-letter queue (RedrivePolicy)"
            )
        return _judged(hop, clients, *found)
    except (BotoCoreError, ClientError) as error:
        return Row(hop, FAILED, None, describe_aws_error(error))


def _judged(hop: str, clients: Clients, queue_url: str, writer: Writer) -> Row:
    """The row of one dead-letter queue; raises the AWS errors of reading it."""
    problems = dead_letter_problems(clients.client("sqs"), clients.client("kms"), queue_url, writer)
    if problems:
        return Row(hop, FAILED, None, "; ".join(problems))
    if writer.source_queue_arn:
        allowed = f"RedriveAllowPolicy admits {writer.label}"
    else:
        allowed = f"RedriveAllowPolicy denyAll, its policies admit {writer.label}"
    return Row(hop, OK, None, f"KMS-encrypted, {allowed}")


def _writer(clients: Clients, target: Target, key: str) -> Writer:
    if key == contract.OUTPUT_RULE_DLQ_URL:
        return Writer("EventBridge", service="events.amazonaws.com")
    role = clients.client("lambda").get_function_configuration(FunctionName=target.function_name)[
        "Role"
    ]
    return Writer(f"the function role {role.rsplit('/', 1)[-1]}", role_arn=role)
