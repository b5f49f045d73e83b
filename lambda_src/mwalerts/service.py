"""Handling one invocation: a window execution event, the schedule that runs the sweep (in
organization mode, fans it out: mwalerts.sweep_fanout), a batch of the sweep queue's places
(mwalerts.sweep_worker), or a self-test (mwalerts.self_test, which proves the function's hops and
answers with each one's result).

Both paths end in `process_window_execution`, wrapped in `ExactlyOnce`: the pipeline's
assessment of the execution (mwalerts.pipeline: every page of every task, the alert), then its
effects: the alert published once, the metrics recorded. The sweep (mwalerts.sweep) finds the
executions no event brought and hands each to `handle_once`.
"""

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Literal

from aws_lambda_powertools import Logger
from botocore.exceptions import ClientError

from mwalerts import contract
from mwalerts.alert import Alert
from mwalerts.clients import AwsClients
from mwalerts.enrich import Enrichment
from mwalerts.errors import InvalidEventError, error_code
from mwalerts.events import (
    ScheduledEvent,
    SelfTestEvent,
    WindowExecutionEvent,
    is_sqs_batch,
    parse_invocation_event,
)
from mwalerts.function_settings import FunctionSettings
from mwalerts.invocation import Invocation
from mwalerts.membership import Membership
from mwalerts.metrics import record_invalid_event, record_window_execution
from mwalerts.model import Outcome, WindowExecution
from mwalerts.pipeline import assess_execution
from mwalerts.publish import publish_alert, publish_chat
from mwalerts.resolved import render_resolved
from mwalerts.self_test import SelfTestResult, run_self_test
from mwalerts.streak_store import StreakStore
from mwalerts.streaks import StreakView, advance, failing_errors, untracked
from mwalerts.sweep import SweepOutcome, sweep
from mwalerts.sweep_fanout import FanOutOutcome, enqueue_sweep
from mwalerts.sweep_worker import process_sweep_batch
from mwalerts.tally import ExecutionReport

logger = Logger(service=contract.SERVICE_NAME, child=True)


def check_member(event: WindowExecutionEvent, membership: Membership | None) -> None:
    """Central and organization mode accept events only from their members' accounts and
    regions (per-account mode has no membership: its rule admits its own account only)."""
    if membership is not None and not membership.admits(event.account, event.region):
        raise InvalidEventError(
            f"account {event.account} in {event.region} is not a member of "
            f"{membership.description}: its events are not processed"
        )


Action = Literal["alerted", "suppressed", "resolved", "all-clear"]
Result = Outcome | SweepOutcome | FanOutOutcome | SelfTestResult | dict[str, Any]


def handle_event(raw_event: Any, invocation: Invocation) -> Result:
    """What the invocation did; for the sweep queue's SQS events, the partial batch response."""
    if is_sqs_batch(raw_event):
        return process_sweep_batch(
            raw_event, invocation, lambda execution: handle_once(execution, invocation)
        )
    event = _accepted(raw_event, invocation)
    if isinstance(event, SelfTestEvent):
        return run_self_test(event.detail.id, invocation)
    if isinstance(event, ScheduledEvent):
        if invocation.settings.member_stack_set is not None:
            return enqueue_sweep(event, invocation)
        return sweep(event, invocation, lambda execution: handle_once(execution, invocation))
    execution = event.execution
    if not execution.is_terminal:
        logger.info(
            "Ignored non-terminal window execution event", extra={"status": execution.status}
        )
        return Outcome("ignored", execution.window_execution_id, execution.status)
    return handle_once(execution, invocation)


def _accepted(
    raw_event: Any, invocation: Invocation
) -> WindowExecutionEvent | ScheduledEvent | SelfTestEvent:
    """The parsed event, if valid and (a window's) from a member; else the InvalidEvents metric
    and InvalidEventError."""
    try:
        event = parse_invocation_event(raw_event)
        if isinstance(event, WindowExecutionEvent):
            check_member(event, invocation.membership)
    except InvalidEventError as error:
        logger.error("Rejected event", extra={"reason": str(error)})
        record_invalid_event(invocation.metrics)
        raise
    return event


def handle_once(execution: WindowExecution, invocation: Invocation) -> Outcome:
    """Process the execution unless an earlier delivery did (or is doing) it."""
    outcome = invocation.once.run(
        execution,
        lambda item: process_window_execution(item, invocation),
        invocation.context,
    )
    if outcome.replayed or outcome.action == "in-progress-elsewhere":
        logger.info(
            "Window execution already handled",
            extra={"windowExecutionId": execution.window_execution_id, "outcome": outcome.action},
        )
    return outcome


def process_window_execution(execution: WindowExecution, invocation: Invocation) -> Outcome:
    """Alert (at most one message: the alert, or the resolved notice) and record metrics for one
    ended window execution.

    The window's failure streaks are written before anything is published, so a retry after a
    failed publish renders the same message from them; metrics are printed only once the message
    is out, so a retry does not count the execution twice; the idempotency record completes
    after both.
    """
    settings = invocation.settings
    clients = invocation.clients_for(execution.account, execution.region)
    assessed = assess_execution(
        clients.ssm, execution, settings.alert_rules, track=_tracker(execution, invocation)
    )
    report, streaks = assessed.report, assessed.streaks
    action: Action = "all-clear"
    message_id = chat_message_id = None
    if assessed.alerting and _suppressed(streaks, settings.repeat_mode(*_window_of(execution))):
        action = "suppressed"
    elif assessed.alerting:
        action = "alerted"
        message_id, chat_message_id = _publish(clients, settings, assessed.alert)
    elif streaks is not None and streaks.resolved is not None and settings.resolved_notices:
        action = "resolved"
        notice = render_resolved(
            execution,
            report,
            Enrichment(assessed.window, {}, settings.log_group_name),
            streaks.resolved,
            recovered=streaks.ended,
            chat_body=settings.alert_rules.chat_body,
        )
        message_id, chat_message_id = _publish(clients, settings, notice)
    record_window_execution(
        invocation.metrics, execution, report, central=settings.spans_accounts, streaks=streaks
    )
    outcome = Outcome(
        action,
        execution.window_execution_id,
        execution.status,
        report.total_invocations,
        report.failure_count,
        message_id,
        chat_message_id=chat_message_id,
    )
    logger.info(
        "Processed window execution",
        extra={
            "windowId": execution.window_id,
            "windowExecutionId": execution.window_execution_id,
            "outcome": outcome.action,
            "counts": report.counts,
        },
    )
    return outcome


def _window_of(execution: WindowExecution) -> tuple[str, str, str]:
    return execution.account, execution.region, execution.window_id


def _suppressed(streaks: StreakView | None, repeat_mode: str) -> bool:
    """On-change windows skip an alert that changes no streak (the same targets failing, with
    the same window status, as the execution before)."""
    return (
        repeat_mode == contract.REPEAT_ON_CHANGE
        and streaks is not None
        and streaks.tracked
        and not streaks.changed
    )


def _tracker(
    execution: WindowExecution, invocation: Invocation
) -> Callable[[ExecutionReport, bool], StreakView | None] | None:
    """Sets the execution's failing targets against the window's streaks, and stores the
    result, once the execution is counted (None without a streak table)."""
    store = invocation.streaks
    if store is None:
        return None

    def track(report: ExecutionReport, alerting: bool) -> StreakView:
        failing = failing_errors(report.failing_targets)
        try:
            return _tracked(store, execution, failing, alerting=alerting)
        except ClientError as error:
            if not _lasting(error):
                raise  # throttling, a conflicting transaction: Lambda's retry applies it
            # A table the function cannot use: the alert matters more than its history, and
            # goes out without streaks (every failure as new); the self-test names the cause.
            logger.error(
                "Could not track failure streaks; alerting without them",
                extra={"reason": str(error)},
            )
            return untracked(failing)

    return track


# Streak-table errors a retry does not cure (permissions, a missing table, its key).
LASTING_ERRORS = frozenset(
    {
        "AccessDeniedException",
        "ResourceNotFoundException",
        "UnrecognizedClientException",
        "ValidationException",
    }
)


def _lasting(error: ClientError) -> bool:
    code = error_code(error)
    return code in LASTING_ERRORS or code.startswith("KMS")


def _tracked(
    store: StreakStore, execution: WindowExecution, failing: dict[str, str], *, alerting: bool
) -> StreakView:
    """Read the window's streaks, apply the execution, write what changed: its view."""
    key = contract.streak_window_key(*_window_of(execution))
    state, streaks = store.load(key)
    step = advance(state, streaks, execution, failing, alerting=alerting, now=datetime.now(UTC))
    written = store.save(key, step)
    logger.info(
        "Failure streaks",
        extra={
            "streaks": step.outcome,
            "itemsWritten": written,
            "newFailures": step.view.new_failures,
            "stillFailing": step.view.still_failing,
            "recovered": step.view.ended,
        },
    )
    return step.view


def _publish(
    clients: AwsClients, settings: FunctionSettings, alert: Alert
) -> tuple[str, str | None]:
    """The alert to its topic, and in chat mode separate-topic the chat card to its own; their
    message IDs (the card's None when it could not be sent)."""
    message_id = publish_alert(clients.sns, settings.alert_topic_arn, alert)
    logger.info(
        "Published alert",
        extra={
            "messageId": message_id,
            "messageBytes": alert.size,
            "omittedFailures": alert.digest["omittedFailures"],
        },
    )
    chat_message_id = None
    if settings.chat_topic_arn and settings.chat_mode == contract.CHAT_SEPARATE_TOPIC:
        chat_message_id = publish_chat(clients.sns, settings.chat_topic_arn, alert)
    return message_id, chat_message_id
