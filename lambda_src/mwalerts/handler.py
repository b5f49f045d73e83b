"""Lambda entry point (handler string "mwalerts.handler.handler"): observability around one call."""

from dataclasses import asdict
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from mwalerts import contract
from mwalerts.clients import AwsClients, default_clients
from mwalerts.function_settings import get_settings
from mwalerts.invocation import Invocation
from mwalerts.metrics import function_metrics
from mwalerts.service import handle_event

# Read at start-up, so a broken environment fails the init phase with a clear message.
settings = get_settings()

logger = Logger(service=contract.SERVICE_NAME)
# No Powertools Tracer: the X-Ray SDK creates two botocore clients when imported (~140 ms of cold
# start, more than all the rest of this code). The function's active tracing still records each
# invocation, its init and its duration in X-Ray.
# No `service` dimension, even where POWERTOOLS_SERVICE_NAME is set (mwalerts.metrics). The logic
# prints each set of metrics itself, so no log_metrics decorator.
metrics = function_metrics(settings.metrics_namespace)


@logger.inject_lambda_context(correlation_id_path='detail."window-execution-id"')
def handler(
    event: dict[str, Any], context: LambdaContext, clients: AwsClients | None = None
) -> dict[str, Any]:
    """`clients` is the seam tests use to hand in clients bound to in-process AWS."""
    invocation = Invocation(settings, clients or default_clients(), metrics, context)
    result = handle_event(event, invocation)
    return result if isinstance(result, dict) else asdict(result)  # dict: SQS batch response
