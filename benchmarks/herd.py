"""Patching windows cluster: many window executions end within minutes, and each runs its own
invocation (its own container and SSM client, so its own pacer) against one per-account budget.

    python -m benchmarks.herd [--rate 40] [--burst 40] [--latency 0.05] [--before]

The fake SSM enforces one token bucket of `rate` requests a second (burst `burst`) shared by every
client, as SSM limits an account's calls to an API. SSM publishes no rate for these APIs; the only
figure SSM publishes for an API's default throughput is Parameter Store's GetParameter, 40
requests a second, hence the default. Each invocation gets the function's own clients (a pacer
per SSM client) or, with `before`, today's adaptive-mode SSM client; an invocation that fails is
retried twice, as Lambda retries an asynchronous event, then counted as dead-lettered.
"""

import argparse
import contextlib
import io
import json
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import cast

from local_aws.environment import (
    REGION,
    LambdaContext,
    LocalAws,
    follow_stdout,
    local_aws,
    use_function_environment,
)
from local_aws.scenario import SeededExecution, failing_plans, seed_window_execution

use_function_environment()

from aws_lambda_powertools import Metrics  # noqa: E402
from aws_lambda_powertools.metrics import EphemeralMetrics  # noqa: E402

from mwalerts import contract, handler  # noqa: E402
from mwalerts.clients import RETRY_CONFIG, AwsClients, create_clients  # noqa: E402
from mwalerts.function_settings import get_settings  # noqa: E402
from mwalerts.invocation import Invocation  # noqa: E402
from mwalerts.service import handle_event  # noqa: E402

follow_stdout(handler.logger)  # the function's logs go where stdout goes: away, while timing

DEFAULT_RATE = 40.0
LAMBDA_ATTEMPTS = 3  # the event, then Lambda's two retries of an asynchronous invocation
FAILURE_RATE = 0.02


@dataclass(frozen=True)
class HerdCase:
    executions: int
    invocations: tuple[int, ...]  # per task

    @property
    def name(self) -> str:
        return f"{self.executions} executions of {len(self.invocations)} x {self.invocations[0]:,}"


HERD_CASES = (HerdCase(50, (500,) * 5), HerdCase(10, (2_000,) * 20))


@dataclass
class HerdRun:
    case: HerdCase
    rate: float
    last_done: float  # seconds from the start until the last invocation finished
    calls: int  # SSM requests answered
    throttled: int  # of those, throttled
    alerts: Counter[str]  # published alerts by window execution ID
    failed_invocations: int  # attempts that raised (Lambda would retry them)
    dead_lettered: int  # events that failed every attempt
    expected: set[str]

    @property
    def served(self) -> int:
        return self.calls - self.throttled

    @property
    def floor(self) -> float:
        return self.served / self.rate

    @property
    def rate_used(self) -> float:
        return self.served / (self.rate * self.last_done)

    @property
    def alerted_once(self) -> bool:
        return set(self.alerts) == self.expected and set(self.alerts.values()) == {1}

    def row(self, label: str) -> str:
        return (
            f"| {self.case.name} | {label} | {self.last_done:.1f} s | {self.floor:.1f} s "
            f"| {self.last_done / self.floor:.2f} | {self.rate_used:.0%} "
            f"| {self.throttled:,} | {'yes' if self.alerted_once else 'NO'} "
            f"| {self.failed_invocations} | {self.dead_lettered} |"
        )

    def lines(self) -> list[str]:
        return [
            f"- {self.case.name}: last done after {self.last_done:.1f} s against a floor of "
            f"{self.floor:.1f} s ({self.served:,} calls at {self.rate:.0f}/s): "
            f"{self.last_done / self.floor:.2f} x the floor; rate used "
            f"{self.rate_used:.0%}; {self.throttled:,} calls "
            f"throttled; every execution alerted exactly once: "
            f"{'yes' if self.alerted_once else 'NO'}; invocations failed "
            f"{self.failed_invocations}, events dead-lettered {self.dead_lettered}."
        ]


def run_herd(
    case: HerdCase,
    *,
    rate: float = DEFAULT_RATE,
    burst: float | None = None,
    latency: float = 0.05,
    before: bool = False,
) -> HerdRun:
    with local_aws(latency=latency) as aws, contextlib.redirect_stdout(io.StringIO()):
        executions = [_seed(aws, case, index) for index in range(case.executions)]
        containers = [_container(aws, before=before) for _ in executions]
        aws.ssm.rate_limit(rate, burst)
        failures: list[int] = [0, 0]  # failed attempts, dead-lettered events
        lock = threading.Lock()
        start = time.perf_counter()
        finished: list[float] = []

        def invoke(clients: AwsClients, execution: SeededExecution) -> None:
            for _attempt in range(LAMBDA_ATTEMPTS):
                try:
                    invocation = _invocation(clients)
                    handle_event(execution.event(), invocation)
                    if invocation.time_left_ms() < 0:  # Lambda would have stopped it
                        raise TimeoutError("the invocation ran past the function's timeout")
                    break
                except Exception:  # counted: Lambda would retry the event
                    with lock:
                        failures[0] += 1
            else:
                with lock:
                    failures[1] += 1
            with lock:
                finished.append(time.perf_counter() - start)

        threads = [
            threading.Thread(target=invoke, args=pair)
            for pair in zip(containers, executions, strict=True)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        calls = aws.ssm.calls
        alerts = Counter(
            json.loads(json.loads(message["message"])["default"])["windowExecutionId"]
            for message in aws.published()
        )
        return HerdRun(
            case=case,
            rate=rate,
            last_done=max(finished),
            calls=len(calls),
            throttled=sum(call.error == "ThrottlingException" for call in calls),
            alerts=alerts,
            failed_invocations=failures[0],
            dead_lettered=failures[1],
            expected={execution.window_execution_id for execution in executions},
        )


def _seed(aws: LocalAws, case: HerdCase, index: int) -> SeededExecution:
    plans = failing_plans(case.invocations, FAILURE_RATE)
    return seed_window_execution(aws.ssm, plans, window_id=f"mw-{index:017x}", seed=index + 1)


def _container(aws: LocalAws, *, before: bool) -> AwsClients:
    """One Lambda container's clients: its own SSM client (and pacer) on the shared fake."""
    clients = create_clients(region_name=REGION)
    if before:  # today's client: adaptive mode, no pacer
        ssm = clients.session.client("ssm", config=RETRY_CONFIG)  # type: ignore[union-attr]
        clients = AwsClients(ssm, clients.sns, clients.dynamodb, session=clients.session)
    aws.ssm.attach(clients.ssm)
    return clients


class CountdownContext(LambdaContext):
    """Lambda's context whose remaining time runs down from the function's timeout, as Lambda's
    does: an invocation that would time out sees its deadline come."""

    def __init__(self) -> None:
        super().__init__(remaining_time_ms=contract.FUNCTION_TIMEOUT_SECONDS * 1000)
        self._started = time.monotonic()

    def get_remaining_time_in_millis(self) -> int:  # type: ignore[override]
        elapsed_ms = int((time.monotonic() - self._started) * 1000)
        return contract.FUNCTION_TIMEOUT_SECONDS * 1000 - elapsed_ms


def _invocation(clients: AwsClients) -> Invocation:
    # Separate containers share no metrics: Powertools' Metrics keeps its set per class.
    metrics = cast("Metrics", EphemeralMetrics(namespace="MaintenanceWindows", service=""))
    return Invocation(get_settings(), clients, metrics, CountdownContext())


def herd_section(say: Callable[[str], None], *, rate: float, latency: float) -> list[HerdRun]:
    say("")
    say("## Herd")
    say("")
    say(
        f"Window executions ending at the same moment, each its own invocation with its own "
        f"clients (as separate Lambda containers), against one SSM budget of {rate:.0f} "
        f"requests a second (burst {rate:.0f}) for the account. Floor: the calls SSM served / "
        f"the rate. Before: the adaptive-mode SSM client pacing replaced; now: paced "
        f"(mwalerts.pacing). An invocation that fails is retried twice, as Lambda retries an "
        f"event, then dead-lettered. Target: every execution alerted exactly once, none failed "
        f"or dead-lettered, the last done within 1.5 x the floor."
    )
    say("")
    say(
        "| case | | last done | floor | x floor | rate used | throttled | alerted once "
        "| invocations failed | dead-lettered |"
    )
    say("|---|---|---|---|---|---|---|---|---|---|")
    runs = []
    for case in HERD_CASES:
        for before in (True, False):
            run = run_herd(case, rate=rate, latency=latency, before=before)
            runs.append(run)
            say(run.row("before" if before else "now"))
    return runs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.herd")
    parser.add_argument("--rate", type=float, default=DEFAULT_RATE)
    parser.add_argument("--burst", type=float, default=None)
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument("--before", action="store_true", help="today's adaptive-mode client")
    parser.add_argument("--case", type=int, choices=range(len(HERD_CASES)), default=None)
    args = parser.parse_args(argv)
    cases = HERD_CASES if args.case is None else (HERD_CASES[args.case],)
    for case in cases:
        run = run_herd(
            case, rate=args.rate, burst=args.burst, latency=args.latency, before=args.before
        )
        print("\n".join(run.lines()), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
