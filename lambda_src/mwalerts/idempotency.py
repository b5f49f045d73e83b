"""Exactly one alert per window execution, however often and by whichever path it arrives.

Powertools Idempotency keeps a DynamoDB record per window execution ID: the first delivery
processes it; a delivery while that runs, or any later one (an EventBridge or Lambda retry, the
sweep, a redrive), gets the stored outcome instead. If processing fails, Powertools deletes the
record, so the next delivery processes the execution in full.
"""

from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyAlreadyInProgressError,
)
from aws_lambda_powertools.utilities.idempotency.persistence.datarecord import DataRecord
from aws_lambda_powertools.utilities.idempotency.serialization.dataclass import (
    DataclassSerializer,
)

from mwalerts import contract
from mwalerts.model import Outcome, WindowExecution

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext
    from mypy_boto3_dynamodb import DynamoDBClient

# How long a record stops repeats. Longer than anything can bring the same execution back: Lambda
# keeps events 6 hours, EventBridge 24, the dead-letter queues 14 days (a redrive after that would
# find the record gone and alert again, which is the safer failure).
RECORD_TTL_SECONDS = 15 * 24 * 60 * 60
# A stable key prefix: the default (function and module names) would change on a refactor and
# make every recorded execution look new.
KEY_PREFIX = "window-execution"


class ExactlyOnce:
    def __init__(self, table_name: str, dynamodb: "DynamoDBClient") -> None:
        self._store = DynamoDBPersistenceLayer(
            table_name=table_name,
            key_attr=contract.IDEMPOTENCY_PARTITION_KEY,
            expiry_attr=contract.IDEMPOTENCY_TTL_ATTRIBUTE,
            boto3_client=dynamodb,
        )

    def run(
        self,
        execution: WindowExecution,
        process: Callable[[WindowExecution], Outcome],
        context: "LambdaContext | None" = None,
    ) -> Outcome:
        """`process(execution)` unless it already ran (or runs now) for this execution ID."""
        replayed = False

        def from_record(response: Any, idempotent_data: DataRecord) -> Any:
            nonlocal replayed
            replayed = True
            return response

        config = IdempotencyConfig(
            event_key_jmespath="window_execution_id",
            raise_on_no_idempotency_key=True,
            expires_after_seconds=RECORD_TTL_SECONDS,
            response_hook=from_record,
        )
        if context is not None:
            # An in-progress record then expires with this invocation if it times out, so the
            # retry is not locked out.
            config.register_lambda_context(context)

        def process_one(execution: WindowExecution) -> Outcome:
            return process(execution)

        once: Callable[..., Outcome] = idempotent_function(
            process_one,
            data_keyword_argument="execution",
            persistence_store=self._store,
            config=config,
            output_serializer=DataclassSerializer(Outcome),
            key_prefix=KEY_PREFIX,
        )
        try:
            outcome: Outcome = once(execution=execution)
        except IdempotencyAlreadyInProgressError:
            # Another invocation is processing it right now and owns its retries (and the sweep
            # is the safety net), so this delivery has nothing left to do.
            return Outcome("in-progress-elsewhere", execution.window_execution_id, execution.status)
        return replace(outcome, replayed=True) if replayed else outcome
