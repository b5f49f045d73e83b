"""Send dead-lettered events back through the deployed function.

    make redrive          # both dead-letter queues of the MaintenanceWindowAlerts stack
    mwalerts redrive --stack NAME [--dry-run] [--max N] [--profile P] [--region R]
    python -m mwalerts_cli.redrive ...   # the same, without the installed command

An event lands in a dead-letter queue when EventBridge could not deliver it, or when the function
failed on it three times (SNS or KMS down, SSM throttling beyond the retries...). Once the cause
is fixed, this reinvokes the function asynchronously with each original event and deletes the
message; the function's idempotency makes that safe, even for executions the sweep has alerted on
since. A message whose event cannot be reinvoked stays in its queue.
"""

import argparse
import json
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from mwalerts import names

if TYPE_CHECKING:
    from mypy_boto3_lambda import LambdaClient
    from mypy_boto3_sqs import SQSClient

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
            out(f"  {message_id}: left in the queue, the function could not be invoked: {error}")
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
    parser.add_argument("--stack", default=names.STACK_NAME, help="stack name (%(default)s)")
    parser.add_argument("--dry-run", action="store_true", help="list the events, change nothing")
    parser.add_argument("--max", type=int, help="redrive at most this many messages per queue")


def run(args: argparse.Namespace, client: Callable[[str], Any]) -> int:
    """Redrive both queues of the stack; 2 if that cannot start, 1 if a message stayed.

    `client` makes a service's client (a session's `client`, or the command line's clients).
    """
    try:
        outputs = stack_outputs(client("cloudformation"), args.stack)
        queues = {key: outputs[key] for key in names.DEAD_LETTER_QUEUE_OUTPUTS}
        invoke = lambda_invoker(outputs[names.OUTPUT_FUNCTION_NAME], client("lambda"))
        sqs = client("sqs")
        totals = RedriveReport()
        for key, queue_url in queues.items():
            print(f"{key}: {queue_url}")
            report = redrive(sqs, queue_url, invoke, dry_run=args.dry_run, limit=args.max)
            for name in ("redriven", "failed", "unreadable"):
                getattr(totals, name).extend(getattr(report, name))
    except (ClientError, BotoCoreError, KeyError) as error:
        print(f"redrive: {error}", file=sys.stderr)
        return 2
    print(
        f"{len(totals.redriven)} redriven, {len(totals.failed)} failed, "
        f"{len(totals.unreadable)} unreadable (left in their queues)"
    )
    return 1 if totals.failed or totals.unreadable else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m mwalerts_cli.redrive", description=__doc__.split("\n\n")[0]
    )
    add_arguments(parser)
    parser.add_argument("--profile", help="AWS profile (default: the standard credential chain)")
    parser.add_argument("--region", help="AWS region (default: the profile's or environment's)")
    args = parser.parse_args(argv)
    try:
        session = boto3.Session(profile_name=args.profile, region_name=args.region)
    except BotoCoreError as error:  # e.g. an unknown --profile
        print(f"redrive: {error}", file=sys.stderr)
        return 2
    return run(args, session.client)  # type: ignore[arg-type]


if __name__ == "__main__":
    sys.exit(main())
