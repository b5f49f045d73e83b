"""The reconciliation sweep: find window executions that ended recently, event or no event.

SSM delivers its events best effort, so a schedule runs this: every window's executions that ended
within the look-back (in central mode, in every member account and region, swept at the same
time; in organization mode one place per message of the sweep queue: mwalerts.sweep_fanout) go
through the same exactly-once processing as events, which makes the sweep a no-op for
those already handled and an alert for those whose event never came. Its metrics say whether it
completed: the heartbeat the sweep alarm watches.

A place's windows are all described (DescribeMaintenanceWindows), but only those that can have
ended an execution since the last sweep have their executions listed (mwalerts.sweep_plan, with
what the last sweep remembered: mwalerts.sweep_memory); `ended_executions` is the exhaustive
listing, the reference the smart one is tested and benchmarked against.
"""

import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Literal

from aws_lambda_powertools import Logger
from botocore.exceptions import ClientError

from mwalerts import contract
from mwalerts.errors import SweepIncompleteError, error_code
from mwalerts.events import ScheduledEvent
from mwalerts.invocation import Invocation
from mwalerts.metrics import record_sweep
from mwalerts.model import Outcome, WindowExecution
from mwalerts.ssm import iter_window_executions, list_window_ids, list_windows
from mwalerts.sweep_memory import SweepMemory
from mwalerts.sweep_plan import next_memory, windows_to_list

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
    windows: int = 0  # described, in every place swept
    windows_listed: int = 0  # of those, the windows whose executions were listed


@dataclass
class PlaceSweep:
    """What sweeping one account-region did (`sweep_place`)."""

    examined: int = 0
    recovered: list[str] = field(default_factory=list)  # processed here: no event did it first
    failed: list[str] = field(default_factory=list)  # executions that could not be processed
    stopped_early: bool = False
    windows: int = 0
    windows_listed: int = 0


@dataclass(frozen=True)
class WindowListing:
    """One window's executions as the sweep lists them."""

    window_id: str
    ended: list[WindowExecution]  # terminal, ended at or after the look-back's start
    open: bool  # an execution not yet terminal: the window is listed again next sweep


def list_window(
    ssm: "SSMClient", window_id: str, *, account: str, region: str, since: datetime
) -> WindowListing:
    """The window's executions that reached a terminal status at or after `since`, and whether
    one is still running."""
    ended: list[WindowExecution] = []
    running = False
    for item in iter_window_executions(ssm, window_id, since - MAX_WINDOW_DURATION):
        execution = WindowExecution.described(
            item, account=account, region=region, window_id=window_id
        )
        finished = execution.end_time or execution.start_time
        if not execution.is_terminal:
            running = True
        elif finished is not None and finished >= since:
            ended.append(execution)
    # Oldest first, whatever order SSM lists them in: failure streaks apply a window's
    # executions in start-time order, and skip one older than the last applied.
    ended.sort(key=lambda execution: _started(execution) or since)
    return WindowListing(window_id, ended, running)


def _started(execution: WindowExecution) -> datetime | None:
    return execution.start_time or execution.end_time


def ended_executions(
    ssm: "SSMClient", *, account: str, region: str, since: datetime
) -> Iterator[WindowExecution]:
    """Every execution of every window that reached a terminal status at or after `since`: the
    exhaustive sweep's listing, the reference the smart one is tested and benchmarked against."""
    for window_id in list_window_ids(ssm):
        yield from list_window(ssm, window_id, account=account, region=region, since=since).ended


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
        windows=sum(place.windows for place in swept),
        windows_listed=sum(place.windows_listed for place in swept),
    )
    logger.info("Sweep finished", extra={"since": since.isoformat(), **vars(result)})
    return result


def sweep_place(
    account: str,
    region: str,
    since: datetime,
    invocation: Invocation,
    process: Callable[[WindowExecution], Outcome],
    *,
    now: datetime | None = None,
) -> PlaceSweep:
    """Every execution of one account-region that ended at or after `since`, each through
    `process`: the sweep of one place, whether this invocation sweeps them all or the sweep
    queue brought this one (mwalerts.sweep_worker). `now` (by default the clock) is when SSM is
    read: what the windows' remembered next execution times are compared with.

    Reaching or listing the place may raise (AccessDenied from AssumeRole among others); one
    execution that fails is noted in the result and does not stop the others. Processing stops
    when less than SWEEP_TIME_RESERVE_MS is left of the invocation.
    """
    memory = SweepMemory(invocation.clients.dynamodb, invocation.settings.idempotency_table)
    return sweep_windows(
        invocation.clients_for(account, region).ssm,
        memory,
        SweptPlace(account, region, since, now or datetime.now(UTC)),
        process,
        invocation.time_left_ms,
    )


@dataclass(frozen=True)
class SweptPlace:
    """One account-region as one sweep reads it."""

    account: str
    region: str
    since: datetime  # the look-back's start
    now: datetime  # when SSM is read


def sweep_windows(
    ssm: "SSMClient",
    memory: SweepMemory,
    place: SweptPlace,
    process: Callable[[WindowExecution], Outcome],
    time_left_ms: Callable[[], int],
) -> PlaceSweep:
    """`sweep_place` with its clients given: describe the windows, list those the plan picks,
    process what ended, and remember each window whose listing was processed in full."""
    windows = list_windows(ssm)
    remembered = memory.load(place.account, place.region)
    listings = [
        list_window(ssm, window_id, account=place.account, region=place.region, since=place.since)
        for window_id in windows_to_list(windows, remembered.windows, place.now)
    ]
    result = PlaceSweep(windows=len(windows), windows_listed=len(listings))
    settled = _processed(listings, process, time_left_ms, place, result)
    updated = next_memory(windows, remembered.windows, settled, place.now)
    memory.save(place.account, place.region, updated, previous=remembered, now=place.now)
    logger.info(
        "Sweep listed windows",
        extra={
            "account": place.account,
            "region": place.region,
            "windowsListed": result.windows_listed,
            "windows": result.windows,
        },
    )
    return result


def _processed(
    listings: Sequence[WindowListing],
    process: Callable[[WindowExecution], Outcome],
    time_left_ms: Callable[[], int],
    place: SweptPlace,
    result: PlaceSweep,
) -> dict[str, bool]:
    """Process every ended execution listed, until time runs out; the windows whose executions
    were all processed (an execution another invocation still handles is not), each mapped to
    whether its listing saw one still running."""
    settled: dict[str, bool] = {}
    for listing in listings:
        done = True
        for execution in listing.ended:
            if time_left_ms() < SWEEP_TIME_RESERVE_MS:
                result.stopped_early = True
                logger.warning(
                    "Sweep stopped before the timeout",
                    extra={
                        "account": place.account,
                        "region": place.region,
                        "examined": result.examined,
                    },
                )
                return settled
            result.examined += 1
            done = _processed_by_sweep(execution, process, result) and done
        if done:
            settled[listing.window_id] = listing.open
    return settled


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
    execution: WindowExecution, process: Callable[[WindowExecution], Outcome], result: PlaceSweep
) -> bool:
    """Handle one execution; True if it is done (processed now or before). One the sweep
    processed (no event had) is noted in `result.recovered`, a failure in `result.failed`."""
    execution_id = execution.window_execution_id
    try:
        outcome = process(execution)
    except Exception:
        logger.exception("Sweep could not process window execution", extra={"id": execution_id})
        result.failed.append(execution_id)
        return False
    if outcome.action == "in-progress-elsewhere":
        return False  # another invocation's to finish; if it fails, the next sweep is here
    if outcome.replayed:
        return True
    logger.warning(
        "Sweep processed a window execution no event had",
        extra={"windowExecutionId": execution_id, "outcome": outcome.action},
    )
    result.recovered.append(execution_id)
    return True
