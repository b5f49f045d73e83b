"""Backfilling the function's CloudWatch metrics for past window executions (PutMetricData).

The data points are exactly those the function emits for an ended execution
(`mwalerts.metrics.execution_metrics`, fleet-wide and per `window_dimensions`), stamped with the
execution's own end time, so a dashboard shows the executions as if the function had seen them.
`central` gives them the dimensions of central mode (Account, Region, WindowId), where one
function, and one dashboard, serves many accounts and regions.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from mwalerts.metrics import execution_metrics, window_dimensions
from mwalerts.model import WindowExecution
from mwalerts.tally import ExecutionReport

# PutMetricData's limits (botocore's CloudWatch model): "no more than 1000 different metrics" per
# request, 1 MB per request (1,000 of these data points are about 150 KB), and time stamps "as
# much as two weeks before the current date".
MAX_DATA_PER_REQUEST = 1_000
MAX_AGE = timedelta(days=14)
# The requests go out a little after the check: an execution right at the limit is left out
# rather than refused.
AGE_MARGIN = timedelta(minutes=10)


@dataclass
class Backfill:
    data: list[dict[str, Any]] = field(default_factory=list)
    executions: int = 0
    too_old: list[str] = field(default_factory=list)  # window execution IDs
    not_ended: list[str] = field(default_factory=list)


def plan(
    results: Sequence[tuple[WindowExecution, ExecutionReport]],
    now: datetime,
    *,
    central: bool = False,
) -> Backfill:
    """The data points of every execution PutMetricData still accepts."""
    backfill = Backfill()
    oldest = now - MAX_AGE + AGE_MARGIN
    for execution, report in results:
        stamp = execution.end_time or execution.start_time
        if not execution.is_terminal or stamp is None:
            # The function records an execution once it has ended, never before.
            backfill.not_ended.append(execution.window_execution_id)
        elif stamp < oldest:
            backfill.too_old.append(execution.window_execution_id)
        else:
            backfill.executions += 1
            backfill.data += data_points(execution, report, stamp, central=central)
    return backfill


def data_points(
    execution: WindowExecution, report: ExecutionReport, stamp: datetime, *, central: bool = False
) -> list[dict[str, Any]]:
    """Each of the function's metrics twice: fleet-wide (no dimension) and per window."""
    per_window = window_dimensions(execution, central=central)
    dimensions = [[{"Name": name, "Value": value} for name, value in per_window.items()]]
    return [
        {
            "MetricName": name,
            "Unit": unit.value,
            "Value": value,
            "Timestamp": stamp,
            **({"Dimensions": series} if series else {}),
        }
        for series in ([], *dimensions)
        for name, unit, value in execution_metrics(execution, report)
    ]


def batches(data: Sequence[dict[str, Any]]) -> list[Sequence[dict[str, Any]]]:
    return [
        data[start : start + MAX_DATA_PER_REQUEST]
        for start in range(0, len(data), MAX_DATA_PER_REQUEST)
    ]
