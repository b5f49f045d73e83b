"""The reconciliation sweep: find window executions that ended recently, event or no event.

SSM delivers its events best effort, so a schedule runs this: every window's executions that ended
within the look-back (in central mode, in every member account and region, swept at the same
time; in organization mode one place per message of the sweep queue: mwalerts.sweep_fanout) go
through the same exactly-once processing as events, which makes the sweep a no-op for
those already handled and an alert for those whose event never came. Its metrics say whether it
completed: the heartbeat the sweep alarm watches.
"""

import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Literal

from aws_lambda_powertools import Logger
from botocore.exceptions import ClientError

from mwalerts import contract
from mwalerts.errors import SweepIncompleteError, error_code
from mwalerts.events import ScheduledEvent
from mwalerts.invocation import Invocation
from mwalerts.metrics import record_sweep
from mwalerts.model import Outcome, WindowExecution
from mwalerts.ssm import iter_window_executions, list_window_ids

if TYPE_CHECKING:
    from mypy_boto3_ssm import SSMClient

logger = Logger(service=contract.SERVICE_NAME, child=True)

# Member accounts and regions whose executions the central sweep lists at the same time.
PLACE_CONCURRENCY = 10

# The sweep stops starting new executions when less than this is left of the invocation; the
# next sweep's look-back covers what it did not reach.
SWEEP_TIME_RESERVE_MS = 60_000

# SSM's longest maintenance window: an execution that ended after `since` started at most this
# long before it. DescribeMaintenanceWindowExecutions filters on start time only.
MAX_WINDOW_DURATION = timedelta(hours=24)


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
class PlaceSweep:
    """What sweeping one account-region did (`sweep_place`)."""

    examined: int = 0
    recovered: list[str] = field(default_factory=list)  # processed here: no event did it first
    failed: list[str] = field(default_factory=list)  # executions that could not be processed
    stopped_early: bool = False


def ended_executions(
    ssm: "SSMClient", *, account: str, region: str, since: datetime
) -> Iterator[WindowExecution]:
    """Every execution, of every window, that reached a terminal status at or after `since`."""
    started_after = since - MAX_WINDOW_DURATION
    for window_id in list_window_ids(ssm):
        for item in iter_window_executions(ssm, window_id, started_after):
            execution = WindowExecution.described(
                item, account=account, region=region, window_id=window_id
            )
            ended = execution.end_time or execution.start_time
            if execution.is_terminal and ended is not None and ended >= since:
                yield execution


def sweep(
    event: ScheduledEvent, invocation: Invocation, process: Callable[[WindowExecution], Outcome]
) -> SweepOutcome:
    """Process every execution that ended within the look-back and that no event has handled:
    in this account and region, or in central mode in every member's. `process` handles one
    execution exactly once (mwalerts.service.handle_once).

    One execution (or member) failing does not stop the others; the sweep then fails as a whole
    (so Lambda retries it and the Errors alarm shows it), and the executions done stay done. A
    member whose role cannot be assumed is skipped without failing the sweep (while member
    stacks roll out, the central one is deployed first), and a sweep that skipped one or ran out
    of time sends no heartbeat: the sweep alarm fires when that lasts two intervals.
    """
    since = event.time - timedelta(minutes=invocation.settings.sweep_lookback_minutes)
    membership = invocation.membership
    places = membership.places() if membership else [(event.account, event.region)]
    failed: list[str] = []
    unreachable: list[str] = []
    swept = _swept_everywhere(
        places, invocation, since, process, failed=failed, unreachable=unreachable
    )
    recovered = [execution_id for place in swept for execution_id in place.recovered]
    failed += [execution_id for place in swept for execution_id in place.failed]
    stopped_early = any(place.stopped_early for place in swept)
    completed = not (failed or unreachable or stopped_early)
    record_sweep(invocation.metrics, recovered=len(recovered), completed=completed)
    if failed:
        raise SweepIncompleteError(f"sweep could not process {failed}")
    result = SweepOutcome(
        examined=sum(place.examined for place in swept),
        recovered=recovered,
        stopped_early=stopped_early,
        unreachable=unreachable,
    )
    logger.info("Sweep finished", extra={"since": since.isoformat(), **vars(result)})
    return result


def sweep_place(
    account: str,
    region: str,
    since: datetime,
    invocation: Invocation,
    process: Callable[[WindowExecution], Outcome],
) -> PlaceSweep:
    """Every execution of one account-region that ended at or after `since`, each through
    `process`: the sweep of one place, whether this invocation sweeps them all or the sweep
    queue brought this one (mwalerts.sweep_worker).

    Reaching or listing the place may raise (AccessDenied from AssumeRole among others); one
    execution that fails is noted in the result and does not stop the others. Processing stops
    when less than SWEEP_TIME_RESERVE_MS is left of the invocation.
    """
    ssm = invocation.clients_for(account, region).ssm
    executions = list(ended_executions(ssm, account=account, region=region, since=since))
    result = PlaceSweep()
    for execution in executions:
        if invocation.time_left_ms() < SWEEP_TIME_RESERVE_MS:
            result.stopped_early = True
            logger.warning(
                "Sweep stopped before the timeout",
                extra={"account": account, "region": region, "examined": result.examined},
            )
            break
        result.examined += 1
        if _processed_by_sweep(execution, process, result.failed):
            result.recovered.append(execution.window_execution_id)
    return result


def _swept_everywhere(
    places: Sequence[tuple[str, str]],
    invocation: Invocation,
    since: datetime,
    process: Callable[[WindowExecution], Outcome],
    *,
    failed: list[str],
    unreachable: list[str],
) -> list[PlaceSweep]:
    """Every (account, region) swept, several at the same time (a central account may sweep a
    hundred); one that cannot be listed is noted in `failed`, a member whose role cannot be
    assumed in `unreachable`. Executions are processed one at a time: each prints its metrics
    through the one Metrics object, whose dimensions must not mix."""
    processing = threading.Lock()

    def process_alone(execution: WindowExecution) -> Outcome:
        with processing:
            return process(execution)

    def swept(place: tuple[str, str]) -> PlaceSweep | None:
        account, region = place
        try:
            return sweep_place(account, region, since, invocation, process_alone)
        except ClientError as error:
            if error_code(error) != "AccessDenied":
                _note_failure(place, failed)
                return None
            logger.warning(
                "Sweep skipped a member whose reader role it may not assume: is its member "
                "stack deployed?",
                extra={"account": account, "region": region, "error": str(error)},
            )
            unreachable.append(f"{account}/{region}")
            return None
        except Exception:
            _note_failure(place, failed)
            return None

    with ThreadPoolExecutor(min(PLACE_CONCURRENCY, len(places)), "sweep") as pool:
        return [result for result in pool.map(swept, places) if result is not None]


def _note_failure(place: tuple[str, str], failed: list[str]) -> None:
    logger.exception("Sweep could not list window executions", extra={"in": place[1]})
    failed.append("/".join(place))


def _processed_by_sweep(
    execution: WindowExecution,
    process: Callable[[WindowExecution], Outcome],
    failed: list[str],
) -> bool:
    """Handle one execution; True if the sweep processed it (no event had), and a failure is
    noted in `failed`."""
    execution_id = execution.window_execution_id
    try:
        outcome = process(execution)
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
