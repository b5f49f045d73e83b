"""Lambda entry point (handler string "handler.handler"): observability around one logic call."""

from dataclasses import asdict
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.utilities.typing import LambdaContext

from mwalerts import names
from mwalerts.clients import AwsClients, default_clients
from mwalerts.config import get_settings
from mwalerts.service import Invocation, handle_event

# Read at start-up, so a broken environment fails the init phase with a clear message.
settings = get_settings()

logger = Logger(service=names.SERVICE_NAME)
tracer = Tracer(service=names.SERVICE_NAME)
# No service name on Metrics: it would become a dimension of every metric and break the
# fleet-wide (dimensionless) series the dashboards and alarms read. The logic prints each set of
# metrics itself (mwalerts.metrics), so no log_metrics decorator.
metrics = Metrics(namespace=settings.metrics_namespace)


@logger.inject_lambda_context(correlation_id_path='detail."window-execution-id"')
@tracer.capture_lambda_handler
def handler(
    event: dict[str, Any], context: LambdaContext, clients: AwsClients | None = None
) -> dict[str, Any]:
    """`clients` is the seam tests use to hand in clients bound to in-process AWS."""
    invocation = Invocation(settings, clients or default_clients(), metrics, context)
    return asdict(handle_event(event, invocation))
