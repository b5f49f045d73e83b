"""Organization mode: the sweep queue's messages, one account-region each, swept by this function.

An SQS event source mapping brings up to 10 messages at a time. Powertools' batch utility runs
each record on its own: a place that fails (its reader role refused, SSM throttling, an execution
that could not be processed) is reported in `batchItemFailures`, so SQS redelivers that message
alone after the visibility timeout, and after three receives moves it to the dead-letter queue;
the other places of the batch are done. Each place is `mwalerts.sweep.sweep_place`, the same one
the in-invocation sweep runs, and a finished place is counted once (mwalerts.sweep_progress).
"""

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger

from mwalerts import contract
from mwalerts.errors import InvalidEventError, SweepIncompleteError
from mwalerts.events import parse_sweep_message
from mwalerts.invocation import Invocation
from mwalerts.links import partition
from mwalerts.metrics import record_invalid_event, record_sweep, record_sweep_place_failed
from mwalerts.model import Outcome, WindowExecution
from mwalerts.sweep import SWEEP_TIME_RESERVE_MS, PlaceSweep, sweep_place
from mwalerts.sweep_progress import SweepProgress

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

logger = Logger(service=contract.SERVICE_NAME, child=True)

UNKNOWN_PLACE = "unknown"  # the account and region of a message whose body could not be read


def queue_arn(queue_url: str) -> str:
    """The ARN of the queue at `queue_url` (https://sqs.<region>.<domain>/<account>/<name>)."""
    host, account, name = queue_url.removeprefix("https://").split("/")
    region = host.split(".")[1]
    return f"arn:{partition(region)}:sqs:{region}:{account}:{name}"


def process_sweep_batch(
    raw_event: dict[str, Any],
    invocation: Invocation,
    process: Callable[[WindowExecution], Outcome],
) -> dict[str, Any]:
    """Sweep each record's place; the partial batch response ({"batchItemFailures": [...]})."""
    # Imported here: Powertools' batch utility and its event classes add tens of milliseconds to
    # every cold start, and only organization mode's sweep workers use them.
    from aws_lambda_powertools.utilities.batch import (  # noqa: PLC0415
        BatchProcessor,
        EventType,
        process_partial_response,
    )

    queue_url = invocation.settings.sweep_queue_url
    if queue_url is None:
        record_invalid_event(invocation.metrics)
        raise InvalidEventError("an SQS event, but this function has no sweep queue")
    expected_arn = queue_arn(queue_url)

    def record_handler(record: "SQSRecord") -> PlaceSweep:
        if record.event_source_arn != expected_arn:
            record_invalid_event(invocation.metrics)
            raise InvalidEventError(
                f"a message from {record.event_source_arn}, not the sweep queue {expected_arn}"
            )
        return _sweep_record(record, invocation, process)

    # Every record failed is reported as such too (no BatchProcessingError): Lambda retries each
    # listed message alone either way, and SweepPlacesFailed has counted them.
    processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
    response = process_partial_response(
        event=raw_event,
        record_handler=record_handler,
        processor=processor,
        context=invocation.context,
    )
    return dict(response)


def _sweep_record(
    record: "SQSRecord", invocation: Invocation, process: Callable[[WindowExecution], Outcome]
) -> PlaceSweep:
    try:
        message = parse_sweep_message(record.body)
    except InvalidEventError:
        # Counted like a failed place, so SweepPlacesFailed accounts for every message that will
        # reach the dead-letter queue; the body is not logged, only what is wrong with it.
        logger.exception("Sweep could not read a message", extra={"messageId": record.message_id})
        record_sweep_place_failed(invocation.metrics, UNKNOWN_PLACE, UNKNOWN_PLACE)
        raise
    try:
        if invocation.time_left_ms() < SWEEP_TIME_RESERVE_MS:
            raise SweepIncompleteError("too little time left to start a place")
        swept = sweep_place(message.account, message.region, message.since, invocation, process)
        if swept.failed or swept.stopped_early:
            raise SweepIncompleteError(
                f"could not process {swept.failed}" if swept.failed else "ran out of time"
            )
    except Exception:
        logger.exception(
            "Sweep could not sweep a place; its message will be retried",
            extra={"account": message.account, "region": message.region, "sweep": message.sweep},
        )
        record_sweep_place_failed(invocation.metrics, message.account, message.region)
        raise
    progress = SweepProgress(invocation.clients.dynamodb, invocation.settings.idempotency_table)
    last = progress.place_done(message.sweep, message.account, message.region)
    record_sweep(invocation.metrics, recovered=len(swept.recovered), completed=last)
    if last:
        logger.info("Sweep complete: every place swept", extra={"sweep": message.sweep})
    return swept
