"""CloudWatch metrics for a window execution, in embedded metric format (no API calls)."""

from aws_lambda_powertools import Metrics
from aws_lambda_powertools.metrics import MetricUnit

from mwalerts import names
from mwalerts.events import WindowExecutionEvent
from mwalerts.tally import ExecutionReport


def record_window_execution(
    metrics: Metrics, event: WindowExecutionEvent, report: ExecutionReport
) -> None:
    """Add the execution's metrics, once fleet-wide and once per window, in one EMF document.

    The primary dimension set stays empty (an EMF DimensionSet may be empty: fleet-wide series)
    and a second set adds WindowId. Execution IDs go to metadata: as dimensions they would create
    a metric series per run.
    """
    detail = event.detail
    metrics.add_dimensions(**{names.DIMENSION_WINDOW_ID: detail.window_id})
    metrics.add_metadata("windowExecutionId", detail.window_execution_id)
    metrics.add_metadata("account", event.account)
    metrics.add_metadata("region", event.region)

    metrics.add_metric(names.METRIC_INVOCATIONS, MetricUnit.Count, report.total_invocations)
    for status, metric_name in names.STATUS_METRICS.items():
        metrics.add_metric(metric_name, MetricUnit.Count, report.counts.get(status, 0))
    metrics.add_metric(names.METRIC_WINDOW_EXECUTIONS, MetricUnit.Count, 1)
    metrics.add_metric(
        names.METRIC_WINDOW_EXECUTIONS_FAILED, MetricUnit.Count, int(detail.status != "SUCCESS")
    )
    if detail.end_time is not None:
        duration = (detail.end_time - detail.start_time).total_seconds()
        metrics.add_metric(
            names.METRIC_WINDOW_EXECUTION_DURATION, MetricUnit.Seconds, max(duration, 0.0)
        )


def record_invalid_event(metrics: Metrics) -> None:
    metrics.add_metric(names.METRIC_INVALID_EVENTS, MetricUnit.Count, 1)
