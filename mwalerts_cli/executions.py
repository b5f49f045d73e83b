"""Finding window executions: by ID, a window's latest, a window's since a time; and checking
their window (the function's own SSM reads, with a not-found said in the command's words)."""

from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from mwalerts.enrich import WindowInfo, window_info
from mwalerts.errors import error_code
from mwalerts.model import WindowExecution
from mwalerts.pipeline import TASK_CONCURRENCY
from mwalerts.ssm import iter_window_executions, list_window_ids
from mwalerts_cli.aws import Place
from mwalerts_cli.errors import CliError

if TYPE_CHECKING:
    from mypy_boto3_ssm import SSMClient

NOT_FOUND = "DoesNotExistException"
# How far from an execution's start time its window is looked for (the filters' bounds are not
# documented as inclusive or exclusive, and they take whole seconds).
_START_SLACK = timedelta(minutes=1)


def execution_by_id(
    ssm: "SSMClient", execution_id: str, place: Place, window_id: str | None = None
) -> WindowExecution:
    """GetMaintenanceWindowExecution, and the window it belongs to."""
    try:
        found = ssm.get_maintenance_window_execution(WindowExecutionId=execution_id)
    except ClientError as error:
        if error_code(error) == NOT_FOUND:
            raise CliError(f"window execution {execution_id} not found in {place}") from None
        raise
    start = found.get("StartTime")
    if start is None and window_id:  # not started: nothing to check the given window by
        return _execution(found, window_id, place)
    # A given window is checked too (one call): a digest must not name the wrong window.
    owner = _window_of(ssm, execution_id, start, [window_id] if window_id else list_window_ids(ssm))
    if owner is None and window_id:
        raise CliError(f"window execution {execution_id} is not one of window {window_id}")
    if owner is None:
        raise CliError(
            f"window execution {execution_id} belongs to no window of {place} (was the window "
            "deleted?): pass its --window-id"
        )
    return _execution(found, owner, place)


def latest_execution(ssm: "SSMClient", window_id: str, place: Place) -> WindowExecution:
    """The window's execution with the latest start time (every page: AWS documents no order)."""
    items = [item for item in iter_window_executions(ssm, window_id) if item.get("StartTime")]
    if not items:
        raise CliError(f"window {window_id} has no executions in {place}")
    latest = max(items, key=lambda item: item["StartTime"])
    return _execution(latest, window_id, place)


def executions_since(
    ssm: "SSMClient", window_id: str, place: Place, since: datetime, until: datetime | None
) -> list[WindowExecution]:
    """The window's executions that started in [since, until], oldest first."""
    found = [
        _execution(item, window_id, place)
        for item in iter_window_executions(ssm, window_id, since, until)
        if item.get("StartTime")
    ]
    return sorted(found, key=lambda execution: execution.start_time or since)


def checked_window(ssm: "SSMClient", window_id: str, place: Place) -> WindowInfo:
    """The window's name and description, as the alert shows them; an unknown window is an error.

    `window_info` (the function's own call) says nothing when it fails; only then is the
    window asked again, to tell a missing window from a name that could not be read.
    """
    window = window_info(ssm, window_id)
    if window.name is None:
        try:
            ssm.get_maintenance_window(WindowId=window_id)
        except ClientError as error:
            if error_code(error) == NOT_FOUND:
                raise CliError(f"window {window_id} not found in {place}") from None
            # As in the function: the report goes on without the name.
    return window


def _window_of(
    ssm: "SSMClient", execution_id: str, start: datetime | None, window_ids: list[str]
) -> str | None:
    """Which of the windows an execution belongs to: GetMaintenanceWindowExecution does not say,
    so each window is asked for its executions around that start time (one call per window)."""
    if start is None:
        return None
    after, before = start - _START_SLACK, start + _START_SLACK

    def has_it(window_id: str) -> bool:
        return any(
            item["WindowExecutionId"] == execution_id
            for item in iter_window_executions(ssm, window_id, after, before)
        )

    with ThreadPoolExecutor(TASK_CONCURRENCY, thread_name_prefix="ssm") as pool:
        for window_id, found in zip(window_ids, pool.map(has_it, window_ids), strict=True):
            if found:
                return window_id
    return None


def _execution(item: Any, window_id: str, place: Place) -> WindowExecution:
    return WindowExecution.described(
        item, account=place.account, region=place.region, window_id=window_id
    )
