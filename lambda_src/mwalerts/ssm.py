"""Reading maintenance windows, their executions, tasks and invocations from SSM: every page,
MaxResults=100."""

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from mwalerts import contract

if TYPE_CHECKING:
    from mypy_boto3_ssm import SSMClient
    from mypy_boto3_ssm.type_defs import (
        MaintenanceWindowExecutionTaskIdentityTypeDef as TaskExecution,
    )
    from mypy_boto3_ssm.type_defs import (
        MaintenanceWindowExecutionTaskInvocationIdentityTypeDef as Invocation,
    )
    from mypy_boto3_ssm.type_defs import MaintenanceWindowExecutionTypeDef as Execution
    from mypy_boto3_ssm.type_defs import MaintenanceWindowFilterTypeDef, PaginatorConfigTypeDef
    from mypy_boto3_ssm.type_defs import MaintenanceWindowIdentityTypeDef as Window

# botocore's paginators follow NextToken until it is absent or empty; PageSize becomes MaxResults.
_PAGINATION: "PaginatorConfigTypeDef" = {"PageSize": contract.SSM_PAGE_SIZE}


def list_task_executions(ssm: "SSMClient", window_execution_id: str) -> list["TaskExecution"]:
    """All task executions of a window execution, in the order SSM returns them."""
    pages = ssm.get_paginator("describe_maintenance_window_execution_tasks").paginate(
        WindowExecutionId=window_execution_id, PaginationConfig=_PAGINATION
    )
    return [task for page in pages for task in page.get("WindowExecutionTaskIdentities", [])]


def iter_invocations(
    ssm: "SSMClient", window_execution_id: str, task_execution_id: str
) -> Iterator["Invocation"]:
    """Stream every invocation of one task execution, page by page, without holding them all."""
    pages = ssm.get_paginator("describe_maintenance_window_execution_task_invocations").paginate(
        # The API calls it TaskId, but it takes the task *execution* ID.
        WindowExecutionId=window_execution_id,
        TaskId=task_execution_id,
        PaginationConfig=_PAGINATION,
    )
    for page in pages:
        yield from page.get("WindowExecutionTaskInvocationIdentities", [])


def list_windows(ssm: "SSMClient") -> list["Window"]:
    """Every maintenance window of the account and region, as DescribeMaintenanceWindows
    describes it (schedule, enabled, next execution time...)."""
    pages = ssm.get_paginator("describe_maintenance_windows").paginate(PaginationConfig=_PAGINATION)
    return [window for page in pages for window in page.get("WindowIdentities", [])]


def list_window_ids(ssm: "SSMClient") -> list[str]:
    """The IDs of every maintenance window of the account and region."""
    return [window["WindowId"] for window in list_windows(ssm)]


def iter_window_executions(
    ssm: "SSMClient",
    window_id: str,
    started_after: datetime | None = None,
    started_before: datetime | None = None,
) -> Iterator["Execution"]:
    """Executions of one window, optionally only those that started after and before two times
    (the API's filters take whole seconds and do not say whether their bounds are inclusive)."""
    bounds = (("ExecutedAfter", started_after), ("ExecutedBefore", started_before))
    filters: list[MaintenanceWindowFilterTypeDef] = [
        {"Key": key, "Values": [_iso8601(moment)]} for key, moment in bounds if moment is not None
    ]
    pages = ssm.get_paginator("describe_maintenance_window_executions").paginate(
        WindowId=window_id, Filters=filters, PaginationConfig=_PAGINATION
    )
    for page in pages:
        yield from page.get("WindowExecutions", [])


def _iso8601(moment: datetime) -> str:
    """A time as the SSM filters take it: UTC, whole seconds ("2026-11-20T02:00:00Z")."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
