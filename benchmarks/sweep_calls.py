"""The sweep's SSM calls: an account-region with 500 maintenance windows on daily schedules spread
over the day, 20 of them starting within the 45 minutes the sweep looks back over.

    python -m benchmarks.sweep_calls

Both sweeps run through the function's code (mwalerts.sweep) against the fake SSM APIs, the
world rebuilt at each sweep's time (windows with a NextExecutionTime consistent with their
schedule, runs of 10 to 40 minutes), the smart sweep's memory in moto's DynamoDB. Printed: the
calls of the exhaustive sweep (today's), of the smart sweep's first sweep after a deploy and of
the next one 15 minutes later, against the issue's target; then the calls of a day at the default
interval, simulated for the smart sweep (96 consecutive sweeps) and computed for the exhaustive
one, whose calls are the same at every sweep (every window, one page each).
"""

import logging
import math
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

import boto3
from moto import mock_aws

from local_aws.environment import create_idempotency_table, use_function_environment
from local_aws.fake_ssm import FakeSsmExecutions

use_function_environment()

from mwalerts import contract  # noqa: E402 - needs the function's environment
from mwalerts.model import Outcome, WindowExecution  # noqa: E402
from mwalerts.sweep import (  # noqa: E402
    MAX_WINDOW_DURATION,
    SweptPlace,
    ended_executions,
    sweep_windows,
)
from mwalerts.sweep_memory import SweepMemory, encode  # noqa: E402

SWEEP_HEADING = "## Sweep: SSM calls per sweep and per day"
ACCOUNT, REGION = "123456789012", "us-east-2"
TABLE = "sweep-calls"
WINDOWS = 500
RECENT = 20  # windows that start within the look-back before the measured sweep
SWEEP_TIME = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)  # the measured sweep
INTERVAL = timedelta(minutes=contract.DEFAULT_SWEEP_INTERVAL_MINUTES)
LOOKBACK = INTERVAL * contract.SWEEP_LOOKBACK_PERIODS
SWEEPS_PER_DAY = int(timedelta(days=1) / INTERVAL)
DESCRIBE_WINDOWS = "DescribeMaintenanceWindows"
DESCRIBE_EXECUTIONS = "DescribeMaintenanceWindowExecutions"
_LOGGERS = ("mwalerts.sweep", "mwalerts.sweep_memory")


class Say(Protocol):
    def say(self, text: str = "") -> None: ...


class PrintReport:
    def say(self, text: str = "") -> None:
        print(text, flush=True)


@dataclass(frozen=True)
class DailyWindow:
    window_id: str
    start: timedelta  # its daily start, after midnight UTC
    minutes: int  # how long its runs last
    failing: bool

    def starts(self, before: datetime) -> Iterator[datetime]:
        """Its runs that started in the listing's range up to `before` (older ones the sweep's
        filter leaves out), earliest first."""
        midnight = before.replace(hour=0, minute=0, second=0, microsecond=0)
        for days in (-2, -1, 0):
            start = midnight + timedelta(days=days) + self.start
            if before - LOOKBACK - MAX_WINDOW_DURATION <= start <= before:
                yield start

    def next_run(self, moment: datetime) -> datetime:
        midnight = moment.replace(hour=0, minute=0, second=0, microsecond=0)
        today = midnight + self.start
        return today if today > moment else today + timedelta(days=1)

    def described(self, moment: datetime) -> dict[str, Any]:
        hours, minutes = divmod(int(self.start.total_seconds() // 60), 60)
        return {
            "WindowId": self.window_id,
            "Name": f"patching-{self.window_id[-3:]}",
            "Enabled": True,
            "Duration": 2,
            "Cutoff": 1,
            "Schedule": f"cron({minutes} {hours} ? * * *)",
            "NextExecutionTime": self.next_run(moment).strftime("%Y-%m-%dT%H:%MZ"),
        }

    def execution(self, start: datetime, moment: datetime) -> dict[str, Any]:
        end = start + timedelta(minutes=self.minutes)
        ended = end <= moment
        item: dict[str, Any] = {
            "WindowId": self.window_id,
            "WindowExecutionId": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{self.window_id}/{start}")),
            "Status": ("FAILED" if self.failing else "SUCCESS") if ended else "IN_PROGRESS",
            "StartTime": start,
        }
        if ended:
            item["EndTime"] = end
        return item


def account_windows() -> list[DailyWindow]:
    """RECENT windows starting 44 to 6 minutes before the measured sweep, the others spread from
    then until 22 h 30 min later (so none of their runs ends within the look-back)."""
    measured = SWEEP_TIME - SWEEP_TIME.replace(hour=0, minute=0)
    spread = timedelta(hours=22, minutes=30) / (WINDOWS - RECENT)
    starts = [measured - timedelta(minutes=44 - 2 * n) for n in range(RECENT)] + [
        measured + timedelta(minutes=1) + spread * n for n in range(WINDOWS - RECENT)
    ]
    return [
        DailyWindow(
            window_id=f"mw-{n:017x}",
            start=timedelta(minutes=int(start.total_seconds() // 60)) % timedelta(days=1),
            minutes=10 + (7 * n) % 31,
            failing=n % 10 == 0,
        )
        for n, start in enumerate(starts)
    ]


def ssm_at(windows: list[DailyWindow], moment: datetime) -> FakeSsmExecutions:
    """The account's SSM as it is at `moment`."""
    fake = FakeSsmExecutions()
    for window in windows:
        fake.add_window(window.described(moment))
        for start in window.starts(moment):
            fake.add_window_execution(window.execution(start, moment))
    return fake


class Handled:
    """An exactly-once record: which executions a sweep processed."""

    def __init__(self) -> None:
        self.ids: set[str] = set()

    def __call__(self, execution: WindowExecution) -> Outcome:
        execution_id = execution.window_execution_id
        replayed = execution_id in self.ids
        self.ids.add(execution_id)
        return Outcome("alerted", execution_id, execution.status, replayed=replayed)


@dataclass
class Calls:
    ssm: Counter[str] = field(default_factory=Counter)
    dynamodb: Counter[str] = field(default_factory=Counter)
    listed: int = 0

    @property
    def ssm_total(self) -> int:
        return sum(self.ssm.values())


@dataclass
class Account:
    windows: list[DailyWindow]
    session: boto3.Session
    memory: SweepMemory
    dynamodb_calls: Counter[str]
    smart: Handled = field(default_factory=Handled)
    exhaustive: Handled = field(default_factory=Handled)

    def smart_sweep(self, moment: datetime) -> Calls:
        fake = ssm_at(self.windows, moment)
        ssm = fake.attach(self.session.client("ssm"))
        self.dynamodb_calls.clear()
        place = SweptPlace(ACCOUNT, REGION, moment - LOOKBACK, moment)
        swept = sweep_windows(ssm, self.memory, place, self.smart, lambda: 2**31)
        calls = Calls(Counter(c.operation for c in fake.calls), Counter(self.dynamodb_calls))
        calls.listed = swept.windows_listed
        return calls

    def exhaustive_sweep(self, moment: datetime) -> Calls:
        fake = ssm_at(self.windows, moment)
        ssm = fake.attach(self.session.client("ssm"))
        since = moment - LOOKBACK
        for execution in ended_executions(ssm, account=ACCOUNT, region=REGION, since=since):
            self.exhaustive(execution)
        calls = Calls(Counter(c.operation for c in fake.calls))
        calls.listed = calls.ssm[DESCRIBE_EXECUTIONS]
        return calls


@contextmanager
def account() -> Iterator[Account]:
    with mock_aws(), _quiet():
        session = boto3.Session(region_name=REGION)
        dynamodb = session.client("dynamodb")
        create_idempotency_table(dynamodb, TABLE)
        counted: Counter[str] = Counter()

        def count(model: Any, **_: Any) -> None:
            counted[model.name] += 1

        dynamodb.meta.events.register("before-call.dynamodb.*", count)
        yield Account(account_windows(), session, SweepMemory(dynamodb, TABLE), counted)


@contextmanager
def _quiet() -> Iterator[None]:
    """The sweep's log lines (one a sweep, one per execution it processed) left out."""
    loggers = [logging.getLogger(f"{contract.SERVICE_NAME}.{name}") for name in _LOGGERS]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)


@dataclass(frozen=True)
class SweepFigures:
    exhaustive: Calls
    first: Calls
    again: Calls
    warm: Calls
    day: Calls  # the smart sweep's, summed over a day
    handled_alike: bool
    handled: int
    memory_bytes: int  # the memory item's encoded windows


def measure() -> SweepFigures:
    with account() as acct:
        before = SWEEP_TIME - INTERVAL
        acct.exhaustive_sweep(before - INTERVAL)
        acct.exhaustive_sweep(before)
        exhaustive = acct.exhaustive_sweep(SWEEP_TIME)
        first = acct.smart_sweep(before - INTERVAL)
        again = acct.smart_sweep(before)
        warm = acct.smart_sweep(SWEEP_TIME)
        alike, handled = acct.smart.ids == acct.exhaustive.ids, len(acct.exhaustive.ids)
        day = Calls()
        for k in range(1, SWEEPS_PER_DAY + 1):
            calls = acct.smart_sweep(SWEEP_TIME + INTERVAL * k)
            day.ssm.update(calls.ssm)
            day.dynamodb.update(calls.dynamodb)
            day.listed += calls.listed
        remembered = acct.memory.load(ACCOUNT, REGION).windows
    return SweepFigures(
        exhaustive, first, again, warm, day, alike, handled, len(encode(remembered))
    )


def sweep_section(report: Say) -> SweepFigures:
    figures = measure()
    _report(report.say, figures)
    return figures


def _report(say: Callable[[str], None], figures: SweepFigures) -> None:
    pages = 1  # each window's executions in the listing's range: 2 at most, one page
    target = math.ceil(WINDOWS / contract.SSM_PAGE_SIZE) + RECENT * pages + 5
    warm = figures.warm.ssm_total
    say("")
    say(SWEEP_HEADING)
    say("")
    say(
        f"One account-region: {WINDOWS} maintenance windows on daily cron schedules spread over "
        f"the day, {RECENT} of them starting 44 to 6 minutes before the measured sweep (runs of "
        f"10 to 40 minutes), so {RECENT} can have ended an execution in its "
        f"{LOOKBACK.seconds // 60}-minute look-back. Both sweeps through the function's code "
        "against the fake SSM APIs, the smart sweep's memory in moto's DynamoDB."
    )
    say("")
    say(
        f"| sweep | {DESCRIBE_WINDOWS} | {DESCRIBE_EXECUTIONS} | SSM calls | windows listed "
        "| DynamoDB (its memory) |"
    )
    say("|---|---|---|---|---|---|")
    rows = (
        ("exhaustive (today), at every sweep", figures.exhaustive),
        ("smart, the first after a deploy", figures.first),
        ("smart, the next (each window's first listing is repeated once)", figures.again),
        ("smart, 15 minutes later (the measured one)", figures.warm),
    )
    for name, calls in rows:
        memory = ", ".join(f"{n} {op}" for op, n in sorted(calls.dynamodb.items())) or "none"
        say(
            f"| {name} | {calls.ssm[DESCRIBE_WINDOWS]} | {calls.ssm[DESCRIBE_EXECUTIONS]} | "
            f"{calls.ssm_total} | {calls.listed} of {WINDOWS} | {memory} |"
        )
    say("")
    say(
        f"Target: at most ceil({WINDOWS}/{contract.SSM_PAGE_SIZE}) + {RECENT} x pages + 5 = "
        f"{math.ceil(WINDOWS / contract.SSM_PAGE_SIZE)} + {RECENT} x {pages} + 5 = {target} SSM "
        f"calls per sweep (one page of executions per window listed); measured {warm} "
        f"({'met' if warm <= target else 'NOT met'}), against {figures.exhaustive.ssm_total} "
        f"for the exhaustive sweep. Checked: after the three sweeps both handled the same "
        f"{figures.handled} executions ({'yes' if figures.handled_alike else 'NO'})."
    )
    exhaustive_day = figures.exhaustive.ssm_total * SWEEPS_PER_DAY
    smart_day = figures.day.ssm_total
    dynamodb_day = ", ".join(f"{n:,} {op}" for op, n in sorted(figures.day.dynamodb.items()))
    say("")
    say(
        f"Per day at the default {INTERVAL.seconds // 60}-minute interval ({SWEEPS_PER_DAY} "
        f"sweeps): exhaustive {figures.exhaustive.ssm_total} x {SWEEPS_PER_DAY} = "
        f"{exhaustive_day:,} SSM calls (computed: the same calls at every sweep); smart "
        f"{smart_day:,} (simulated: the {SWEEPS_PER_DAY} sweeps after the measured one, each "
        f"window running once; {figures.day.listed:,} window listings, "
        f"{figures.day.listed / WINDOWS:.1f} per run), {smart_day / exhaustive_day:.1%} of "
        f"today's, for {dynamodb_day} on the memory's item ({figures.memory_bytes:,} bytes "
        f"of zlib'd JSON for {WINDOWS} windows)."
    )


if __name__ == "__main__":
    sweep_section(PrintReport())
