"""Send dead-lettered events back through the deployed function.

    make redrive          # both dead-letter queues of the alerts stack, found by its name
    mwalerts redrive [--stack NAME] [--dry-run] [--max N] [--profile P] [--region R]
    python -m mwalerts_cli.redrive ...   # the same, without the installed command

An event lands in a dead-letter queue when EventBridge could not deliver it, or when the function
failed on it three times (SNS or KMS down, SSM throttling beyond the retries...). Once the cause
is fixed, this reinvokes the function asynchronously with each original event and deletes the
message; the function's idempotency makes that safe, even for executions the sweep has alerted on
since. A message whose event cannot be reinvoked stays in its queue.

Without --stack, the stack is the first that exists, in the credentials' account and region, of
MaintenanceWindowAlerts (a single stack), MaintenanceWindowAlerts-<account>-<region> (the
`deployments` layout) and MaintenanceWindowAlerts-Central-<account>-<region> (central mode).
"""

import argparse
import json
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from mwalerts import contract
from mwalerts.errors import error_code
from mwalerts_cli.aws import Clients, Place
from mwalerts_cli.errors import AWS_FAILED, USAGE, CliError, explain
from mwalerts_cli.output import Ui
from mwalerts_cli.runner import add_aws_options, execute

if TYPE_CHECKING:
    from mypy_boto3_lambda import LambdaClient
    from mypy_boto3_sqs import SQSClient

# `mwalerts redrive`: its help is this module's docstring.
NAME = "redrive"
SUMMARY = "send dead-lettered events back through the deployed function"
DESCRIPTION, EPILOG = (__doc__ or "").split("\n\n", 1)

Invoke = Callable[[dict[str, Any]], None]
# How long a received message stays hidden from other readers while it is being redriven.
VISIBILITY_SECONDS = 120


@dataclass
class RedriveReport:
    redriven: list[str] = field(default_factory=list)  # SQS message IDs
    failed: list[str] = field(default_factory=list)
    unreadable: list[str] = field(default_factory=list)


def original_event(body: str) -> dict[str, Any]:
    """The event a dead-letter message carries.

    Lambda's on-failure destination wraps it in an invocation record (`requestPayload`, with the
    error in `responsePayload`); EventBridge's dead-letter queue holds the event itself.
    """
    try:
        message = json.loads(body)
    except ValueError:
        raise ValueError("the message is not JSON") from None
    if not isinstance(message, dict):
        raise ValueError("the message is not a JSON object")
    if "requestContext" in message and "requestPayload" in message:
        message = message["requestPayload"]
    if not isinstance(message, dict) or "detail-type" not in message:
        raise ValueError("the message holds no EventBridge event")
    return message


def redrive(
    sqs: "SQSClient",
    queue_url: str,
    invoke: Invoke,
    *,
    dry_run: bool = False,
    limit: int | None = None,
    out: Callable[[str], None] = print,
) -> RedriveReport:
    """Reinvoke the function with every message's event; delete the messages that went out."""
    report = RedriveReport()
    for message in _messages(sqs, queue_url, limit):
        message_id = message["MessageId"]
        try:
            event = original_event(message["Body"])
        except ValueError as error:
            report.unreadable.append(message_id)
            out(f"  {message_id}: left in the queue, {error}")
            continue
        label = (
            f"{event.get('detail-type')} {event.get('detail', {}).get('window-execution-id', '')}"
        )
        if dry_run:
            out(f"  {message_id}: would redrive {label.strip()}")
            continue
        try:
            invoke(event)
        except (ClientError, BotoCoreError) as error:
            report.failed.append(message_id)
            reason = explain(error) or error
            out(f"  {message_id}: left in the queue, the function could not be invoked: {reason}")
            continue
        sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
        report.redriven.append(message_id)
        out(f"  {message_id}: redriven {label.strip()}")
    return report


def lambda_invoker(function_name: str, client: "LambdaClient") -> Invoke:
    """Asynchronous invocation: the redriven event gets the same retries and on-failure queue."""

    def invoke(event: dict[str, Any]) -> None:
        client.invoke(
            FunctionName=function_name, InvocationType="Event", Payload=json.dumps(event).encode()
        )

    return invoke


def stack_outputs(cloudformation: Any, stack_name: str) -> dict[str, str]:
    """The deployed stack's outputs: its queues, function and topic."""
    stack = cloudformation.describe_stacks(StackName=stack_name)["Stacks"][0]
    return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}


def stack_candidates(place: Place) -> list[str]:
    """The names the alerts stack has in an account and region, by layout: a single stack, a
    `deployments` entry, a central stack."""
    return [
        contract.STACK_NAME,
        contract.deployment_stack_name(place.account, place.region),
        contract.central_stack_name(place.account, place.region),
    ]


def find_stack(cloudformation: Any, place: Place) -> tuple[str, dict[str, str]]:
    """The first of `stack_candidates` that exists, and its outputs."""
    tried = stack_candidates(place)
    for name in tried:
        try:
            return name, stack_outputs(cloudformation, name)
        except ClientError as error:
            if not _no_such_stack(error):
                raise
    raise CliError(
        f"no alerts stack in {place}: tried {', '.join(tried)}. Pass --stack NAME (and "
        "--profile and --region of the account and region it is deployed in).",
        USAGE,
    )


def add_stack_argument(parser: argparse.ArgumentParser) -> None:
    """--stack, the alerts stack that alerts_stack looks up."""
    parser.add_argument(
        "--stack",
        metavar="NAME",
        help=f"the alerts stack (default: the first that exists of {contract.STACK_NAME}, "
        f"{contract.STACK_NAME}-<account>-<region> and "
        f"{contract.CENTRAL_STACK_PREFIX}-<account>-<region>, in the credentials' account and "
        "region)",
    )


def alerts_stack(
    stack_name: str | None,
    clients: Clients,
    say: Callable[[str], None],
    *,
    wanted: Sequence[str],
    command: str,
    exit_code: int = AWS_FAILED,
) -> tuple[str, dict[str, str]]:
    """The alerts stack, `stack_name` or else the first of `stack_candidates` that exists (said
    with `say`), and its outputs; a CliError with `exit_code` when it lacks one of `wanted`."""
    cloudformation = clients.client("cloudformation")
    if stack_name:
        stack, outputs = stack_name, stack_outputs(cloudformation, stack_name)
        say(f"Stack {stack}")
    else:
        place = clients.place
        stack, outputs = find_stack(cloudformation, place)
        say(f"Stack {stack} (found in {place}; --stack chooses another)")
    missing = [key for key in wanted if key not in outputs]
    if missing:
        raise CliError(
            f"stack {stack} has no {', '.join(missing)} output: is it the alerts stack? "
            f"(A member stack of central mode has no function: {command} the central stack.)",
            exit_code,
        )
    return stack, outputs


def _no_such_stack(error: ClientError) -> bool:
    # DescribeStacks says so with a ValidationError: "Stack with id NAME does not exist".
    message = str(error.response.get("Error", {}).get("Message", ""))
    return error_code(error) == "ValidationError" and "does not exist" in message


def _messages(sqs: "SQSClient", queue_url: str, limit: int | None) -> Iterator[Any]:
    seen = 0
    while limit is None or seen < limit:
        batch = sqs.receive_message(
            QueueUrl=queue_url,
            MaxNumberOfMessages=10 if limit is None else min(10, limit - seen),
            VisibilityTimeout=VISIBILITY_SECONDS,
            WaitTimeSeconds=1,
        ).get("Messages", [])
        if not batch:
            return
        seen += len(batch)
        yield from batch


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The redrive's own options (`mwalerts redrive` adds --profile and --region for all)."""
    add_stack_argument(parser)
    parser.add_argument("--dry-run", action="store_true", help="list the events, change nothing")
    parser.add_argument("--max", type=int, help="redrive at most this many messages per queue")


def run(args: argparse.Namespace, clients: Clients, ui: Ui) -> int:
    """Redrive both queues of the stack; 1 if a message stayed in its queue."""
    _, outputs = alerts_stack(
        args.stack,
        clients,
        ui.line,
        wanted=(*contract.DEAD_LETTER_QUEUE_OUTPUTS, contract.OUTPUT_FUNCTION_NAME),
        command="redrive",
    )
    invoke = lambda_invoker(outputs[contract.OUTPUT_FUNCTION_NAME], clients.client("lambda"))
    sqs = clients.client("sqs")
    totals = RedriveReport()
    for key in contract.DEAD_LETTER_QUEUE_OUTPUTS:
        ui.line(f"{key}: {outputs[key]}")
        report = redrive(
            sqs, outputs[key], invoke, dry_run=args.dry_run, limit=args.max, out=ui.line
        )
        for name in ("redriven", "failed", "unreadable"):
            getattr(totals, name).extend(getattr(report, name))
    ui.line(
        f"{len(totals.redriven)} redriven, {len(totals.failed)} failed, "
        f"{len(totals.unreadable)} unreadable (left in their queues)"
    )
    return 1 if totals.failed or totals.unreadable else 0


def main(argv: list[str] | None = None, *, clients: Clients | None = None) -> int:
    """`python -m mwalerts_cli.redrive` (`make redrive`): the same as `mwalerts redrive`."""
    parser = argparse.ArgumentParser(prog="python -m mwalerts_cli.redrive", description=DESCRIPTION)
    add_arguments(parser)
    add_aws_options(parser)
    parser.set_defaults(run=run)
    return execute(parser.parse_args(argv), clients=clients)


if __name__ == "__main__":
    sys.exit(main())
