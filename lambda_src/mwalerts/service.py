"""Handling one event: validate it, read every page of every task, alert once, record metrics."""

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from aws_lambda_powertools import Logger, Metrics

from mwalerts import names
from mwalerts.alert import failure_record, render_alert, should_alert
from mwalerts.clients import AwsClients
from mwalerts.config import Settings
from mwalerts.errors import InvalidEventError
from mwalerts.events import WindowExecutionEvent, parse_window_execution_event
from mwalerts.metrics import record_invalid_event, record_window_execution
from mwalerts.publish import publish_alert
from mwalerts.ssm import iter_invocations, list_task_executions
from mwalerts.tally import ExecutionReport, Failure, combine, summarise_task

if TYPE_CHECKING:
    from collections.abc import Collection

    from mypy_boto3_ssm import SSMClient

logger = Logger(service=names.SERVICE_NAME, child=True)


@dataclass(frozen=True)
class Outcome:
    action: Literal["ignored", "alerted", "all-clear"]
    window_execution_id: str
    status: str
    total_invocations: int = 0
    failed_invocations: int = 0
    message_id: str | None = None


def handle_event(
    raw_event: Any, *, settings: Settings, clients: AwsClients, metrics: Metrics
) -> Outcome:
    try:
        event = parse_window_execution_event(raw_event)
    except InvalidEventError as error:
        logger.error("Rejected event", extra={"reason": str(error)})
        record_invalid_event(metrics)
        raise
    detail = event.detail
    if not event.is_terminal:
        logger.info("Ignored non-terminal window execution event", extra={"status": detail.status})
        return Outcome("ignored", detail.window_execution_id, detail.status)
    return process_window_execution(event, settings=settings, clients=clients, metrics=metrics)


def process_window_execution(
    event: WindowExecutionEvent, *, settings: Settings, clients: AwsClients, metrics: Metrics
) -> Outcome:
    """Alert (at most one message) and record metrics for one ended window execution.

    Metrics are added only after the alert is out, so a failed publish that Lambda retries does
    not count the execution twice.
    """
    detail = event.detail
    report = collect_report(clients.ssm, detail.window_execution_id, settings.alert_statuses)
    message_id = None
    if should_alert(detail.status, report, settings.alert_statuses):
        alert = render_alert(event, report)
        message_id = publish_alert(clients.sns, settings.alert_topic_arn, alert)
        logger.info(
            "Published alert",
            extra={
                "messageId": message_id,
                "messageBytes": alert.size,
                "omittedFailures": alert.digest["omittedFailures"],
            },
        )
    record_window_execution(metrics, event, report)
    outcome = Outcome(
        "alerted" if message_id else "all-clear",
        detail.window_execution_id,
        detail.status,
        report.total_invocations,
        report.failure_count,
        message_id,
    )
    logger.info(
        "Processed window execution",
        extra={"windowId": detail.window_id, "outcome": outcome.action, "counts": report.counts},
    )
    return outcome


def collect_report(
    ssm: "SSMClient", window_execution_id: str, alert_statuses: "Collection[str]"
) -> ExecutionReport:
    """Every task execution and every page of its invocations, counted in one pass."""
    tasks = list_task_executions(ssm, window_execution_id)
    return combine(
        [
            summarise_task(
                task,
                iter_invocations(ssm, window_execution_id, task["TaskExecutionId"]),
                alert_statuses,
                on_failure=_log_failure,
            )
            for task in tasks
        ]
    )


def _log_failure(failure: Failure) -> None:
    # One record per failure, so Logs Insights lists them all even when the alert is cut.
    logger.warning("Failed invocation", extra=failure_record(failure))
