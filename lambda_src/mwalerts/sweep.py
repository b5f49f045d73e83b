"""The reconciliation sweep: find window executions that ended recently, event or no event.

SSM delivers its events best effort, so a schedule runs this: every window's executions that ended
within the look-back go through the same exactly-once processing as events, which makes the sweep
a no-op for those already handled and an alert for those whose event never came.
"""

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from mwalerts.model import WindowExecution
from mwalerts.ssm import iter_window_executions, list_window_ids

if TYPE_CHECKING:
    from mypy_boto3_ssm import SSMClient

# SSM's longest maintenance window: an execution that ended after `since` started at most this
# long before it. DescribeMaintenanceWindowExecutions filters on start time only.
MAX_WINDOW_DURATION = timedelta(hours=24)


def ended_executions(
    ssm: "SSMClient", *, account: str, region: str, since: datetime
) -> Iterator[WindowExecution]:
    """Every execution, of every window, that reached a terminal status at or after `since`."""
    started_after = since - MAX_WINDOW_DURATION
    for window_id in list_window_ids(ssm):
        for item in iter_window_executions(ssm, window_id, started_after):
            execution = WindowExecution(
                account=account,
                region=region,
                window_id=window_id,
                window_execution_id=item["WindowExecutionId"],
                status=item.get("Status", "UNKNOWN"),
                start_time=item.get("StartTime"),
                end_time=item.get("EndTime"),
            )
            ended = execution.end_time or execution.start_time
            if execution.is_terminal and ended is not None and ended >= since:
                yield execution
