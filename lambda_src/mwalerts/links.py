"""Console deep links: where an operator clicks from an alert to see more."""

import re
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

from mwalerts import contract


def partition(region: str) -> str:
    if region.startswith("cn-"):
        return "aws-cn"
    return "aws-us-gov" if region.startswith("us-gov-") else "aws"


def console(region: str) -> str:
    """The console's address for the region's partition."""
    if region.startswith("cn-"):
        return f"https://{region}.console.amazonaws.cn"
    if region.startswith("us-gov-"):
        return f"https://{region}.console.amazonaws-us-gov.com"
    return f"https://{region}.console.aws.amazon.com"


def window_url(region: str, window_id: str) -> str:
    """The window's page in Systems Manager; its History tab lists each execution."""
    return f"{console(region)}/systems-manager/maintenance-windows/{window_id}?region={region}"


def execution_url(
    region: str, task_type: str | None, execution_id: str | None, instance_id: str | None
) -> str | None:
    """What the console shows for one failed invocation, by task type; None if nothing."""
    if not execution_id:
        return None
    base = console(region)
    if task_type == "RUN_COMMAND" and instance_id:
        return f"{base}/systems-manager/run-command/{execution_id}/{instance_id}?region={region}"
    if task_type == "AUTOMATION":
        return f"{base}/systems-manager/automation/execution/{execution_id}?region={region}"
    if task_type == "STEP_FUNCTIONS" and execution_id.startswith("arn:"):
        return f"{base}/states/home?region={region}#/v2/executions/details/{quote(execution_id)}"
    return None


def failures_query_url(
    region: str,
    log_group: str,
    window_execution_id: str,
    start: datetime | None,
    end: datetime | None,
) -> str:
    """Logs Insights, preloaded with the query that lists every failure of this execution."""
    query = (
        f'{contract.FAILED_INVOCATIONS_QUERY}\n| filter windowExecutionId = "{window_execution_id}"'
    )
    # The console reads its state from the fragment in its own encoding (jsurl, with "*" for
    # "%"); times run from the start of the execution to a day after its end, which covers
    # retries and a late sweep.
    detail = (
        f"~(end~'{_escape(_iso(end, days=1))}~start~'{_escape(_iso(start))}"
        f"~timeType~'ABSOLUTE~tz~'UTC~editorString~'{_escape(query)}"
        f"~source~(~'{_escape(log_group)}))"
    )
    return (
        f"{console(region)}/cloudwatch/home?region={region}"
        f"#logsV2:logs-insights$3FqueryDetail$3D{detail}"
    )


def _iso(moment: datetime | None, *, days: int = 0) -> str:
    moment = (moment or datetime.now(UTC)) + timedelta(days=days)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _escape(text: str) -> str:
    return re.sub(
        r"[^A-Za-z0-9.-]", lambda m: "".join(f"*{b:02x}" for b in m.group().encode()), text
    )
