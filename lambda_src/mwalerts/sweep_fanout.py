"""Organization mode: the schedule fans the sweep out, one SQS message per member account-region.

The schedule's invocation does not sweep: it lists the StackSet's deployed instances, writes the
sweep's counter (mwalerts.sweep_progress) and sends one message per place to the sweep queue, whose
event source mapping runs the places on up to `sweepConcurrency` instances of this function
(mwalerts.sweep_worker). A sweep of no place sends its heartbeat here.
"""

import json
from dataclasses import dataclass
from datetime import timedelta
from typing import Literal

from aws_lambda_powertools import Logger

from mwalerts import contract
from mwalerts.errors import SweepIncompleteError
from mwalerts.events import ScheduledEvent
from mwalerts.invocation import Invocation
from mwalerts.metrics import record_sweep, record_sweep_places
from mwalerts.sweep_progress import SweepProgress

logger = Logger(service=contract.SERVICE_NAME, child=True)

SEND_BATCH_SIZE = 10  # SendMessageBatch's most entries per call


@dataclass(frozen=True)
class FanOutOutcome:
    action: Literal["enqueued"] = "enqueued"
    sweep: str = ""  # the sweep's ID: its schedule time
    places: int = 0  # account-regions enqueued, one message each


def enqueue_sweep(event: ScheduledEvent, invocation: Invocation) -> FanOutOutcome:
    settings = invocation.settings
    if invocation.membership is None or settings.sweep_queue_url is None:
        raise SweepIncompleteError("the sweep fans out in organization mode only")
    sweep_id = event.time.isoformat()
    since = event.time - timedelta(minutes=settings.sweep_lookback_minutes)
    places = invocation.membership.places()
    progress = SweepProgress(invocation.clients.dynamodb, settings.idempotency_table)
    progress.start(sweep_id, len(places))
    bodies = [
        json.dumps(
            {"sweep": sweep_id, "account": account, "region": region, "since": since.isoformat()}
        )
        for account, region in places
    ]
    for start in range(0, len(bodies), SEND_BATCH_SIZE):
        _send(invocation, settings.sweep_queue_url, bodies[start : start + SEND_BATCH_SIZE])
    record_sweep_places(invocation.metrics, len(places))
    if not places:  # nothing to wait for: the sweep is complete now
        record_sweep(invocation.metrics, recovered=0, completed=True)
    logger.info("Sweep enqueued", extra={"sweep": sweep_id, "places": len(places)})
    return FanOutOutcome(sweep=sweep_id, places=len(places))


def _send(invocation: Invocation, queue_url: str, bodies: list[str]) -> None:
    """One SendMessageBatch; an entry SQS refused fails the fan-out, so that Lambda retries the
    schedule event (the places sent twice are counted once: mwalerts.sweep_progress)."""
    response = invocation.clients.sqs.send_message_batch(
        QueueUrl=queue_url,
        Entries=[{"Id": str(index), "MessageBody": body} for index, body in enumerate(bodies)],
    )
    refused = response.get("Failed", [])
    if refused:
        raise SweepIncompleteError(f"the sweep queue refused {len(refused)} message(s): {refused}")
