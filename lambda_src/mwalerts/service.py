"""Handling one invocation: a window execution event, or the schedule that runs the sweep.

Both paths end in `process_window_execution`, wrapped in `ExactlyOnce`: read every page of every
task, alert once, record metrics.
"""

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal

from aws_lambda_powertools import Logger, Metrics
from botocore.exceptions import ClientError

from mwalerts import contract
from mwalerts.alert import failure_record, render_alert, should_alert
from mwalerts.clients import AwsClients, MemberClients, member_clients
from mwalerts.enrich import Enrichment, command_outputs, window_info
from mwalerts.errors import InvalidEventError, SweepIncompleteError, error_code
from mwalerts.events import ScheduledEvent, WindowExecutionEvent, parse_event
from mwalerts.function_settings import FunctionSettings
from mwalerts.idempotency import ExactlyOnce
from mwalerts.metrics import record_invalid_event, record_sweep, record_window_execution
from mwalerts.model import Mapper, Outcome, WindowExecution
from mwalerts.publish import publish_alert, publish_chat
from mwalerts.ssm import iter_invocations, list_task_executions
from mwalerts.sweep import ended_executions
from mwalerts.tally import ExecutionReport, Failure, TaskSummary, combine, summarise_task

if TYPE_CHECKING:
    from collections.abc import Callable, Collection, Iterable, Sequence

    from aws_lambda_powertools.utilities.typing import LambdaContext
    from mypy_boto3_ssm import SSMClient
    from mypy_boto3_ssm.type_defs import (
        MaintenanceWindowExecutionTaskIdentityTypeDef as TaskExecution,
    )
    from mypy_boto3_ssm.type_defs import (
        MaintenanceWindowExecutionTaskInvocationIdentityTypeDef as TaskInvocation,
    )

    Watch = Callable[[TaskExecution, Iterable[TaskInvocation]], Iterable[TaskInvocation]]

logger = Logger(service=contract.SERVICE_NAME, child=True)

# Task page chains read at the same time. SSM allows 20 tasks per window, so every chain of a
# window runs at once; the clients' adaptive retry mode, shared by the threads, paces them all
# down to the rate SSM accepts when it throttles, instead of each thread retrying on its own.
TASK_CONCURRENCY = 20
# Member accounts and regions whose executions the central sweep lists at the same time.
PLACE_CONCURRENCY = 10

# The sweep stops starting new executions when less than this is left of the invocation; the
# next sweep's look-back covers what it did not reach.
SWEEP_TIME_RESERVE_MS = 60_000


@dataclass(frozen=True)
class SweepOutcome:
    action: Literal["swept"] = "swept"
    examined: int = 0
    recovered: list[str] = field(default_factory=list)  # processed here: no event did it first
    stopped_early: bool = False
    # Central mode: members whose reader role could not be assumed (their stack not deployed
    # yet, or its trust changed): skipped, and no heartbeat, so a lasting one raises an alarm.
    unreachable: list[str] = field(default_factory=list)


@dataclass
class Invocation:
    """What one invocation works with: settings, AWS clients, metrics and Lambda's context."""

    settings: FunctionSettings
    clients: AwsClients
    metrics: Metrics
    context: "LambdaContext | None" = None
    members: MemberClients | None = None  # central mode: clients for the member accounts

    def __post_init__(self) -> None:
        self.once = ExactlyOnce(self.settings.idempotency_table, self.clients.dynamodb)
        if self.settings.members is not None and self.members is None:
            self.members = member_clients(self.clients, self.settings.member_external_id)

    def clients_for(self, account: str, region: str) -> AwsClients:
        """This account's clients, or in central mode those of the member that ran the window."""
        if self.members is None:
            return self.clients
        return self.members.for_member(account, region)


def check_member(event: WindowExecutionEvent, settings: FunctionSettings) -> None:
    """Central mode accepts events only from the member accounts and regions it was set up for."""
    if not settings.is_member(event.account, event.region):
        raise InvalidEventError(
            f"account {event.account} in {event.region} is not a member of this central "
            f"deployment ({contract.ENV_MEMBER_ACCOUNTS}): its events are not processed"
        )


def handle_event(raw_event: Any, invocation: Invocation) -> Outcome | SweepOutcome:
    try:
        event = parse_event(raw_event)
        if isinstance(event, WindowExecutionEvent):
            check_member(event, invocation.settings)
    except InvalidEventError as error:
        logger.error("Rejected event", extra={"reason": str(error)})
        record_invalid_event(invocation.metrics)
        raise
    if isinstance(event, ScheduledEvent):
        return sweep(event, invocation)
    execution = event.execution
    if not execution.is_terminal:
        logger.info(
            "Ignored non-terminal window execution event", extra={"status": execution.status}
        )
        return Outcome("ignored", execution.window_execution_id, execution.status)
    return handle_once(execution, invocation)


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
    """Alert (at most one message) and record metrics for one ended window execution.

    Metrics are printed only once the alert is out, so a failed publish that is retried does not
    count the execution twice; the idempotency record completes after both.
    """
    settings = invocation.settings
    clients = invocation.clients_for(execution.account, execution.region)
    ssm, execution_id = clients.ssm, execution.window_execution_id
    with ThreadPoolExecutor(TASK_CONCURRENCY, thread_name_prefix="ssm") as pool:
        # The window's name is read while the tasks are listed: both are one call.
        window_future = pool.submit(window_info, ssm, execution.window_id)
        tasks = list_task_executions(ssm, execution_id)
        window = window_future.result()
        # Every record of this execution (one per failed invocation among them) names its window.
        keys = {"windowId": execution.window_id, "windowName": window.name}
        logger.append_keys(**keys, windowExecutionId=execution_id)
        try:
            report = collect_report(ssm, execution_id, tasks, settings.alert_statuses, pool.map)
        finally:
            logger.remove_keys([*keys, "windowExecutionId"])
        alerting = should_alert(execution.status, report, settings.alert_statuses)
        outputs = (
            command_outputs(ssm, report.failures, settings.error_details_limit, pool.map)
            if alerting
            else {}
        )
    message_id = chat_message_id = None
    if alerting:
        enrichment = Enrichment(window, outputs, settings.log_group_name)
        alert = render_alert(
            execution,
            report,
            enrichment,
            chat_body=settings.chat_mode == contract.CHAT_DEFAULT_BODY,
        )
        message_id = publish_alert(clients.sns, settings.alert_topic_arn, alert)
        logger.info(
            "Published alert",
            extra={
                "messageId": message_id,
                "messageBytes": alert.size,
                "omittedFailures": alert.digest["omittedFailures"],
            },
        )
        if settings.chat_topic_arn and settings.chat_mode == contract.CHAT_SEPARATE_TOPIC:
            chat_message_id = publish_chat(clients.sns, settings.chat_topic_arn, alert)
    record_window_execution(
        invocation.metrics, execution, report, central=settings.members is not None
    )
    outcome = Outcome(
        "alerted" if message_id else "all-clear",
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


def collect_report(
    ssm: "SSMClient",
    window_execution_id: str,
    tasks: "Sequence[TaskExecution]",
    alert_statuses: "Collection[str]",
    run: "Mapper[TaskExecution, TaskSummary]" = map,
    *,
    on_failure: "Callable[[Failure], None] | None" = None,
    watch: "Watch | None" = None,
) -> ExecutionReport:
    """Every page of every task's invocations, each task counted in one pass.

    `run` maps over the tasks: a thread pool's map reads their page chains at the same time
    (results stay in task order), so the slowest chain, not their sum, sets the time.
    `on_failure` sees each failed invocation (default: one log record each); `watch` wraps each
    task's stream of invocations (the operator command prints them as they are counted).
    """

    def summarise(task: "TaskExecution") -> TaskSummary:
        invocations = iter_invocations(ssm, window_execution_id, task["TaskExecutionId"])
        return summarise_task(
            task,
            watch(task, invocations) if watch else invocations,
            alert_statuses,
            on_failure=on_failure or _log_failure,
        )

    return combine(list(run(summarise, tasks)))


def sweep(event: ScheduledEvent, invocation: Invocation) -> SweepOutcome:
    """Process every execution that ended within the look-back and that no event has handled:
    in this account and region, or in central mode in every member's.

    One execution (or member) failing does not stop the others; the sweep then fails as a whole
    (so Lambda retries it and the Errors alarm shows it), and the executions done stay done. A
    member whose role cannot be assumed is skipped without failing the sweep (while member
    stacks roll out, the central one is deployed first), and a sweep that skipped one or ran out
    of time sends no heartbeat: the sweep alarm fires when that lasts two intervals.
    """
    settings = invocation.settings
    since = event.time - timedelta(minutes=settings.sweep_lookback_minutes)
    places = (
        [(account, region) for account, regions in settings.members.items() for region in regions]
        if settings.members is not None
        else [(event.account, event.region)]
    )
    failed: list[str] = []
    unreachable: list[str] = []
    examined, recovered, stopped_early = 0, [], False
    for execution in _ended_everywhere(places, invocation, since, failed, unreachable):
        if _time_left_ms(invocation.context) < SWEEP_TIME_RESERVE_MS:
            stopped_early = True
            logger.warning("Sweep stopped before the timeout", extra={"examined": examined})
            break
        examined += 1
        if _processed_by_sweep(execution, invocation, failed):
            recovered.append(execution.window_execution_id)
    completed = not (failed or unreachable or stopped_early)
    record_sweep(invocation.metrics, recovered=len(recovered), completed=completed)
    if failed:
        raise SweepIncompleteError(f"sweep could not process {failed}")
    result = SweepOutcome(
        examined=examined,
        recovered=recovered,
        stopped_early=stopped_early,
        unreachable=unreachable,
    )
    logger.info("Sweep finished", extra={"since": since.isoformat(), **vars(result)})
    return result


def _ended_everywhere(
    places: "Sequence[tuple[str, str]]",
    invocation: Invocation,
    since: datetime,
    failed: list[str],
    unreachable: list[str],
) -> "list[WindowExecution]":
    """The ended executions of every (account, region), listed at the same time (a central
    account may sweep a hundred); one that cannot be listed is noted in `failed`, a member
    whose role cannot be assumed in `unreachable`."""

    def listed(place: tuple[str, str]) -> "list[WindowExecution]":
        account, region = place
        try:
            ssm = invocation.clients_for(account, region).ssm
        except ClientError as error:
            if error_code(error) != "AccessDenied":
                raise
            logger.warning(
                "Sweep skipped a member whose reader role it may not assume: is its member "
                "stack deployed?",
                extra={"account": account, "region": region, "error": str(error)},
            )
            unreachable.append(f"{account}/{region}")
            return []
        return list(ended_executions(ssm, account=account, region=region, since=since))

    def listed_or_noted(place: tuple[str, str]) -> "list[WindowExecution]":
        try:
            return listed(place)
        except Exception:
            logger.exception("Sweep could not list window executions", extra={"in": place[1]})
            failed.append("/".join(place))
            return []

    with ThreadPoolExecutor(min(PLACE_CONCURRENCY, len(places)), "sweep") as pool:
        return [execution for found in pool.map(listed_or_noted, places) for execution in found]


def _processed_by_sweep(
    execution: WindowExecution, invocation: Invocation, failed: list[str]
) -> bool:
    """Handle one execution; True if the sweep processed it (no event had), and a failure is
    noted in `failed`."""
    execution_id = execution.window_execution_id
    try:
        outcome = handle_once(execution, invocation)
    except Exception:
        logger.exception("Sweep could not process window execution", extra={"id": execution_id})
        failed.append(execution_id)
        return False
    if outcome.replayed or outcome.action == "in-progress-elsewhere":
        return False
    logger.warning(
        "Sweep processed a window execution no event had",
        extra={"windowExecutionId": execution_id, "outcome": outcome.action},
    )
    return True


def _time_left_ms(context: "LambdaContext | None") -> int:
    return context.get_remaining_time_in_millis() if context is not None else 2**31


def _log_failure(failure: Failure) -> None:
    # One record per failure, so Logs Insights lists them all even when the alert is cut.
    logger.warning("Failed invocation", extra=failure_record(failure))
