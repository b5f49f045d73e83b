"""The function's metrics as CloudWatch series: fleet-wide, per window, and found by SEARCH."""

from collections.abc import Sequence

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch

from maintenance_window_alerts.settings import split_window_key
from maintenance_window_alerts.text import one_of
from mwalerts import contract

PERIOD = Duration.minutes(5)
TOP_WINDOWS = 10  # rows of the dashboard's table of the windows with the most failures


def metric(
    namespace: str,
    metric_name: str,
    *,
    window: str | None = None,
    statistic: str = "Sum",
    period: Duration = PERIOD,
    label: str | None = None,
) -> cloudwatch.Metric:
    """One of the function's series: fleet-wide (no dimension), or one window's."""
    return cloudwatch.Metric(
        namespace=namespace,
        metric_name=metric_name,
        dimensions_map=window_dimensions(window) if window else None,
        statistic=statistic,
        period=period,
        label=label,
    )


def window_dimensions(window: str) -> dict[str, str]:
    """The dimensions of a window's series: {WindowId}, or in central mode, where the settings
    name it "<account>/<region>/<window ID>", {Account, Region, WindowId}."""
    account, region, window_id = split_window_key(window)
    return contract.window_dimensions(window_id, account, region)


def failed_metrics(
    namespace: str, statuses: Sequence[str], *, window: str | None = None
) -> dict[str, cloudwatch.IMetric]:
    """The alert statuses' metrics, by metric-math ID (m0, m1, ...).

    The function emits all status metrics in one document, so they share their timestamps.
    """
    return {
        f"m{i}": metric(namespace, contract.STATUS_METRICS[status], window=window)
        for i, status in enumerate(statuses)
    }


def failed_invocations(
    namespace: str, statuses: Sequence[str], *, window: str | None = None
) -> cloudwatch.MathExpression:
    """Invocations in an alert status per 5 minutes: fleet-wide, or one window's."""
    using = failed_metrics(namespace, statuses, window=window)
    return cloudwatch.MathExpression(
        expression=" + ".join(using),
        using_metrics=using,
        label=f"Invocations {one_of(statuses)}, {window or 'all windows'}",
        period=PERIOD,
    )


def failure_rate(namespace: str, statuses: Sequence[str]) -> cloudwatch.MathExpression:
    """The share of all invocations that ended in an alert status, in percent (all windows)."""
    failed = failed_metrics(namespace, statuses)
    return cloudwatch.MathExpression(
        expression=f"100 * ({' + '.join(failed)}) / total",
        using_metrics={**failed, "total": metric(namespace, contract.METRIC_INVOCATIONS)},
        label=f"Invocations {one_of(statuses)} (% of all)",
        period=PERIOD,
    )


def search(
    namespace: str,
    metric_names: Sequence[str],
    statistic: str,
    dimensions: Sequence[str] = contract.WINDOW_DIMENSIONS,
) -> str:
    """A SEARCH over the per-window dimensions: a series per window (and metric), new ones too."""
    terms = " OR ".join(f'MetricName="{name}"' for name in metric_names)
    if len(metric_names) > 1:
        terms = f"({terms})"
    schema = f'{{"{namespace}",{",".join(dimensions)}}}'
    return f"SEARCH('{schema} {terms}', '{statistic}', {PERIOD.to_seconds():.0f})"


def window_label(dimensions: Sequence[str]) -> str:
    """A series' window as the settings name it: mw-..., or <account>/<region>/mw-..."""
    return "/".join(f"${{PROP('Dim.{dimension}')}}" for dimension in dimensions)


def per_window_metric(
    namespace: str,
    metric_name: str,
    statistic: str,
    dimensions: Sequence[str] = contract.WINDOW_DIMENSIONS,
) -> cloudwatch.IMetric:
    """A series per window, found by SEARCH: new windows appear without a redeploy."""
    return cloudwatch.MathExpression(
        expression=search(namespace, [metric_name], statistic, dimensions),
        label=window_label(dimensions),
        period=PERIOD,
    )


def most_failed_windows(
    namespace: str, statuses: Sequence[str], dimensions: Sequence[str] = contract.WINDOW_DIMENSIONS
) -> cloudwatch.IMetric:
    """The windows (and alert statuses) with the most failed invocations in the time range."""
    metric_names = [contract.STATUS_METRICS[s] for s in statuses]
    most = search(namespace, metric_names, "Sum", dimensions)
    return cloudwatch.MathExpression(
        expression=f"SORT({most}, SUM, DESC, {TOP_WINDOWS})",
        label=f"{window_label(dimensions)} ${{PROP('MetricName')}}",
        period=PERIOD,
    )
