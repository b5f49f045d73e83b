"""CloudWatch metrics in embedded metric format (log lines, no API calls).

Each function adds one set of metrics and prints it as one EMF document straight away: a sweep
handles several window executions in one invocation, each with its own WindowId. The dimension
sets are the contract's (contract.window_dimensions), and nothing else: see `function_metrics`.
"""

from aws_lambda_powertools import Metrics
from aws_lambda_powertools.metrics import MetricUnit

from mwalerts import contract
from mwalerts.model import WindowExecution
from mwalerts.streaks import StreakView
from mwalerts.tally import ExecutionReport


def function_metrics(namespace: str) -> Metrics:
    """The function's Metrics, whose documents carry only the dimensions this module adds.

    Powertools adds a `service` dimension to every metric once it has a service name, and takes
    it from POWERTOOLS_SERVICE_NAME when none is given: a variable many teams set on every
    function. The fleet-wide series (no dimension) that the alarms and dashboards read would then
    get no data. An empty name (not None, which falls back to the variable) means none.
    """
    return Metrics(namespace=namespace, service="")


def window_dimensions(execution: WindowExecution, *, central: bool = False) -> dict[str, str]:
    """The per-window series' dimensions (the fleet-wide series has none)."""
    if central:  # window IDs are per account and region: say whose
        return contract.window_dimensions(execution.window_id, execution.account, execution.region)
    return contract.window_dimensions(execution.window_id, None, None)


def execution_metrics(
    execution: WindowExecution, report: ExecutionReport, streaks: StreakView | None = None
) -> list[tuple[str, MetricUnit, float]]:
    """The metrics of one ended window execution, as (name, unit, value); with tracked
    streaks, how many targets fail again and the longest streak (0 and 0 on a clean run, so
    the series fall back)."""
    values = [(contract.METRIC_INVOCATIONS, MetricUnit.Count, float(report.total_invocations))]
    values += [
        (metric_name, MetricUnit.Count, float(report.counts.get(status, 0)))
        for status, metric_name in contract.STATUS_METRICS.items()
    ]
    values += [
        (contract.METRIC_WINDOW_EXECUTIONS, MetricUnit.Count, 1.0),
        (
            contract.METRIC_WINDOW_EXECUTIONS_FAILED,
            MetricUnit.Count,
            float(execution.status != "SUCCESS"),
        ),
    ]
    if streaks is not None and streaks.tracked:
        values += [
            (contract.METRIC_TARGETS_FAILING_CONSECUTIVELY, MetricUnit.Count, streaks.chronic),
            (contract.METRIC_LONGEST_FAILURE_STREAK, MetricUnit.Count, streaks.longest),
        ]
    if execution.duration_seconds is not None:
        values.append(
            (
                contract.METRIC_WINDOW_EXECUTION_DURATION,
                MetricUnit.Seconds,
                execution.duration_seconds,
            )
        )
    return values


def record_window_execution(
    metrics: Metrics,
    execution: WindowExecution,
    report: ExecutionReport,
    *,
    central: bool = False,
    streaks: StreakView | None = None,
) -> None:
    """Add the execution's metrics, once fleet-wide and once per window, in one EMF document.

    The primary dimension set stays empty (an EMF DimensionSet may be empty: fleet-wide series)
    and a second set adds WindowId. Execution IDs go to metadata: as dimensions they would create
    a metric series per run.
    """
    metrics.add_dimensions(**window_dimensions(execution, central=central))
    metrics.add_metadata("windowExecutionId", execution.window_execution_id)
    metrics.add_metadata("account", execution.account)
    metrics.add_metadata("region", execution.region)
    for name, unit, value in execution_metrics(execution, report, streaks):
        metrics.add_metric(name, unit, value)
    metrics.flush_metrics()


def record_invalid_event(metrics: Metrics) -> None:
    metrics.add_metric(contract.METRIC_INVALID_EVENTS, MetricUnit.Count, 1)
    metrics.flush_metrics()


def record_sweep(metrics: Metrics, *, recovered: int, completed: bool) -> None:
    """Fleet-wide: executions the sweep processed first, and a heartbeat if it completed."""
    metrics.add_metric(contract.METRIC_SWEEP_RECOVERED, MetricUnit.Count, recovered)
    if completed:
        metrics.add_metric(contract.METRIC_SWEEP_RUNS, MetricUnit.Count, 1)
    metrics.flush_metrics()


def record_self_test(metrics: Metrics, test_id: str) -> None:
    """Fleet-wide (no dimension): one self-test ran; its ID in metadata."""
    metrics.add_metric(contract.METRIC_SELF_TESTS, MetricUnit.Count, 1)
    metrics.add_metadata("selfTestId", test_id)
    metrics.flush_metrics()


def record_sweep_places(metrics: Metrics, places: int) -> None:
    """Organization mode, fleet-wide: the account-regions one sweep enqueued."""
    metrics.add_metric(contract.METRIC_SWEEP_PLACES, MetricUnit.Count, places)
    metrics.flush_metrics()


def record_sweep_place_failed(metrics: Metrics, account: str, region: str) -> None:
    """Organization mode, fleet-wide: a place of the sweep failed (its message is retried)."""
    metrics.add_metric(contract.METRIC_SWEEP_PLACES_FAILED, MetricUnit.Count, 1)
    metrics.add_metadata("account", account)
    metrics.add_metadata("region", region)
    metrics.flush_metrics()
