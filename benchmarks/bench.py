"""`make bench`: the real handler against in-process AWS with a fixed latency per call.

    python -m benchmarks.bench [--latency 0.05] [--naive-budget 300] [--out benchmarks]
                               [--only cpu|throttling|herd|sweep|organization|streaks]
                               [--skip herd|organization|streaks]

For each scenario (tasks x invocations per task) it prints and writes to benchmarks/RESULTS.md:
SSM calls made against the minimum, SNS publishes, CloudWatch API calls, wall time against the
network critical path and the CPU floor, peak memory, message size, and the same for a naive
loop (tasks one after another, MaxResults=10, botocore's default parsing). Then: the function's
CPU time per 10,000 invocations by response parser against the json.loads floor
(benchmarks.cpu), the import cost of the handler over boto3 alone, memory growth from 1,000 to
100,000 invocations, one invocation against an account rate limit and against random throttling
(paced, and with the adaptive-mode client pacing replaced), herds of invocations sharing one
rate limit (benchmarks.herd), the sweep's SSM calls for 500 windows (benchmarks.sweep_calls),
organization mode's fanned-out sweep of 4,000 account-regions (benchmarks.organization), and
the failure streaks' DynamoDB writes per execution and extra latency per alert
(benchmarks.streaks). It draws benchmarks/wall-time.png. Latency applies to every SSM call
and to the SNS publish; the fake SSM APIs and moto answer in-process otherwise. `--only SECTION`
runs that section alone and replaces it in an existing RESULTS.md.
"""

import argparse
import contextlib
import cProfile
import io
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import time
import tracemalloc
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import botocore.client

from local_aws.environment import (
    LambdaContext,
    LocalAws,
    follow_stdout,
    local_aws,
    use_function_environment,
)
from local_aws.fake_ssm import FakeSsmExecutions
from local_aws.scenario import SeededExecution, TaskPlan, failing_plans, seed_window_execution

use_function_environment()

from benchmarks import cpu  # noqa: E402 - needs the function's environment
from benchmarks.herd import DEFAULT_RATE as RATE_LIMIT  # noqa: E402
from benchmarks.herd import herd_section  # noqa: E402
from benchmarks.organization import (  # noqa: E402 - needs the function's environment
    organization_section,
    replace_section,
)
from benchmarks.streaks import streaks_section  # noqa: E402
from benchmarks.sweep_calls import sweep_section  # noqa: E402
from mwalerts import handler  # noqa: E402 - needs the function's environment
from mwalerts.clients import RETRY_CONFIG, AwsClients  # noqa: E402

follow_stdout(handler.logger)  # logs go where the benchmark sends stdout: away, while timing

ROOT = Path(__file__).resolve().parent.parent
FAILURE_RATE = 0.02  # 2% of targets fail: a bad night, not a disaster
CONTEXT = LambdaContext()


@dataclass(frozen=True)
class Scenario:
    name: str
    invocations: tuple[int, ...]  # per task

    @property
    def total(self) -> int:
        return sum(self.invocations)

    @property
    def minimum_ssm_calls(self) -> int:
        """One page of tasks per 100, one page of invocations per 100 of each task."""
        pages = math.ceil(len(self.invocations) / 100)
        return pages + sum(max(1, math.ceil(count / 100)) for count in self.invocations)

    def critical_path(self, latency: float) -> float:
        """List the tasks, then the longest task's page chain, then one publish."""
        longest = max(max(1, math.ceil(count / 100)) for count in self.invocations)
        return (math.ceil(len(self.invocations) / 100) + longest + 1) * latency

    def naive_calls(self) -> int:
        pages = math.ceil(len(self.invocations) / 10)
        return pages + sum(max(1, math.ceil(count / 10)) for count in self.invocations)


SCENARIOS = (
    Scenario("1 x 10", (10,)),
    Scenario("5 x 500", (500,) * 5),
    Scenario("20 x 2,000", (2_000,) * 20),
    Scenario("50 x 5,000", (5_000,) * 50),
    Scenario("uneven: 1 x 10,000 + 9 x 100", (10_000,) + (100,) * 9),
)


@dataclass
class Run:
    wall: float
    cpu: float
    describe_calls: int
    enrichment_calls: int
    sns_publishes: int
    cloudwatch_calls: int
    message_bytes: int
    peak_memory: int | None
    digest: dict[str, Any] | None
    retries: int = 0


def plans(scenario: Scenario) -> list[TaskPlan]:
    """The scenario's tasks, each with FAILURE_RATE of its targets (at least one) failing."""
    return failing_plans(scenario.invocations, FAILURE_RATE)


@contextlib.contextmanager
def counting_api_calls() -> Iterator[Counter[str]]:
    """Every AWS API call any client makes, by service (to show CloudWatch is never called)."""
    calls: Counter[str] = Counter()
    original = getattr(botocore.client.BaseClient, "_make_api_call")  # noqa: B009 - private

    def counted(self: Any, operation: str, params: Any) -> Any:
        calls[self.meta.service_model.service_name] += 1
        return original(self, operation, params)

    setattr(botocore.client.BaseClient, "_make_api_call", counted)  # noqa: B010
    try:
        yield calls
    finally:
        setattr(botocore.client.BaseClient, "_make_api_call", original)  # noqa: B010


def default_parser_clients(aws: LocalAws) -> AwsClients:
    """Clients with botocore's default timestamp parser, bound to the same in-process AWS."""
    session = boto3.Session(region_name="us-east-2")
    ssm = session.client("ssm", config=RETRY_CONFIG)
    aws.ssm.attach(ssm)
    return AwsClients(ssm, aws.clients.sns, aws.clients.dynamodb)


def adaptive_clients(aws: LocalAws) -> AwsClients:
    """The SSM client as it was before pacing (mwalerts.pacing): botocore's adaptive retry mode,
    10 attempts. Bound to the same in-process AWS."""
    ssm = aws.clients.session.client("ssm", config=RETRY_CONFIG)  # type: ignore[union-attr]
    aws.ssm.attach(ssm)
    return AwsClients(ssm, aws.clients.sns, aws.clients.dynamodb, session=aws.clients.session)


def run_ours(
    scenario: Scenario,
    latency: float,
    *,
    default_parser: bool = False,
    adaptive: bool = False,
    throttle: float = 0.0,
    rate_limit: float | None = None,
    memory: bool = False,
    profiler: cProfile.Profile | None = None,
) -> Run:
    with local_aws(latency=latency) as aws:
        execution = seed_window_execution(aws.ssm, plans(scenario))
        clients = default_parser_clients(aws) if default_parser else aws.clients
        clients = adaptive_clients(aws) if adaptive else clients
        if latency:
            clients.sns.meta.events.register(
                "before-call.sns.Publish", lambda **_: time.sleep(latency)
            )
        aws.ssm.throttle(throttle, seed=11)
        if rate_limit:
            aws.ssm.rate_limit(rate_limit)
        with counting_api_calls() as calls, contextlib.redirect_stdout(io.StringIO()):
            if memory:
                tracemalloc.start()
            wall, cpu = time.perf_counter(), time.process_time()
            if profiler:
                profiler.enable()
            handler.handler(execution.event(), CONTEXT, clients=clients)
            if profiler:
                profiler.disable()
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            peak = tracemalloc.get_traced_memory()[1] if memory else None
            if memory:
                tracemalloc.stop()
        ssm_calls = aws.ssm.calls
        published = aws.published()
        message = published[0] if published else None
        return Run(
            wall=wall,
            cpu=cpu,
            describe_calls=sum(
                c.operation.startswith("Describe") and c.error is None for c in ssm_calls
            ),
            enrichment_calls=sum(
                c.operation.startswith("Get") and c.error is None for c in ssm_calls
            ),
            sns_publishes=len(published),
            cloudwatch_calls=calls["cloudwatch"],
            message_bytes=len(message["message"].encode()) + len(message["subject"])
            if message
            else 0,
            peak_memory=peak,
            digest=json.loads(json.loads(message["message"])["default"]) if message else None,
            retries=sum(c.error is not None for c in ssm_calls),
        )


def run_naive(scenario: Scenario, latency: float) -> tuple[float, Counter[str]]:
    """What many one-off scripts do: tasks one after another, 10 per page, default parsing."""
    fake = FakeSsmExecutions(latency=latency)
    execution: SeededExecution = seed_window_execution(fake, plans(scenario))
    ssm: Any = fake.attach(boto3.Session(region_name="us-east-2").client("ssm"))
    counts: Counter[str] = Counter()
    start = time.perf_counter()
    tasks: list[Any] = []
    token: dict[str, str] = {}
    while True:
        page = ssm.describe_maintenance_window_execution_tasks(
            WindowExecutionId=execution.window_execution_id, MaxResults=10, **token
        )
        tasks += page["WindowExecutionTaskIdentities"]
        if not page.get("NextToken"):
            break
        token = {"NextToken": page["NextToken"]}
    for task in tasks:
        token = {}
        while True:
            page = ssm.describe_maintenance_window_execution_task_invocations(
                WindowExecutionId=execution.window_execution_id,
                TaskId=task["TaskExecutionId"],
                MaxResults=10,
                **token,
            )
            counts.update(i["Status"] for i in page["WindowExecutionTaskInvocationIdentities"])
            if not page.get("NextToken"):
                break
            token = {"NextToken": page["NextToken"]}
    time.sleep(latency)  # its one publish
    return time.perf_counter() - start, counts


def import_cost_ms(module: str) -> float:
    """Median cumulative import time of a module in a fresh interpreter (python -X importtime)."""
    samples = []
    for _ in range(7):
        result = subprocess.run(  # noqa: S603 - our own interpreter, fixed arguments
            [sys.executable, "-X", "importtime", "-c", f"import {module}"],
            capture_output=True,
            text=True,
            check=True,
        )
        line = [row for row in result.stderr.splitlines() if row.rstrip().endswith(f"| {module}")][
            -1
        ]
        samples.append(int(line.split("|")[1]) / 1000)
    return statistics.median(samples)


def mb(value: int | None) -> str:
    return "-" if value is None else f"{value / 2**20:.1f} MB"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench")
    parser.add_argument("--latency", type=float, default=0.05, help="seconds per call (0.05)")
    parser.add_argument(
        "--naive-budget",
        type=float,
        default=300,
        help="run the naive loop only where it takes at most this many seconds (300)",
    )
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks")
    parser.add_argument(
        "--only",
        choices=["cpu", "throttling", "herd", "sweep", "organization", "streaks"],
        help="run this section alone and replace it in an existing RESULTS.md",
    )
    parser.add_argument(
        "--skip",
        action="append",
        default=[],
        choices=["herd", "organization", "streaks"],
        help="leave this long section out of the full run (repeatable)",
    )
    parser.add_argument(
        "--accounts", type=int, default=1_000, help="organization: member accounts (1,000)"
    )
    args = parser.parse_args(argv)
    sections: dict[str, Callable[[Report], object]] = {
        "cpu": cpu_section,
        "throttling": lambda report: throttling_section(report, args.latency),
        "herd": lambda report: herd_section(report.say, rate=RATE_LIMIT, latency=args.latency),
        "sweep": sweep_section,
        "organization": lambda report: organization_section(
            report.say, args.latency, args.accounts
        ),
        "streaks": lambda report: streaks_section(report.say, args.latency),
    }
    if args.only:
        return section_only(sections[args.only], args.out / "RESULTS.md")
    report = Report()
    machine = (
        f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"{platform.system()}"
    )
    report.say("# Benchmark results")
    report.say()
    report.say(
        f"Machine: {machine}. Latency per SSM call and per SNS publish: "
        f"{args.latency * 1000:.0f} ms."
    )
    report.say(f"Windows with {FAILURE_RATE:.0%} of targets failing. Produced by `make bench`.")
    chart = scenarios_section(report, args.latency, args.naive_budget)
    sections["cpu"](report)
    cold_start_section(report)
    memory_section(report)
    for name in ("throttling", "herd", "sweep", "organization", "streaks"):
        if name not in args.skip:
            sections[name](report)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "RESULTS.md").write_text("\n".join(report.lines) + "\n")
    draw(chart, args.out / "wall-time.png", args.latency)
    print(f"\nWrote {args.out / 'RESULTS.md'} and {args.out / 'wall-time.png'}")
    return 0


def section_only(section: "Callable[[Report], object]", results: Path) -> int:
    """Run one section and put it in place of the same section (its "## " heading) of
    RESULTS.md, or at its end."""
    report = Report()
    section(report)
    heading = next(line for line in report.lines if line.startswith("## "))
    text = results.read_text() if results.exists() else ""
    results.parent.mkdir(parents=True, exist_ok=True)
    results.write_text(replace_section(text, heading, report.lines))
    print(f"\nWrote the {heading!r} section of {results}")
    return 0


class Report:
    """Lines printed as they come and kept for RESULTS.md."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def say(self, text: str = "") -> None:
        print(text, flush=True)
        self.lines.append(text)


ChartPoint = tuple[int, float, float, float, bool]


def scenarios_section(report: Report, latency: float, naive_budget: float) -> list[ChartPoint]:
    report.say()
    report.say(
        "| scenario | invocations | SSM describe calls (min) | SSM get calls | SNS | CloudWatch "
        "| wall | network floor | CPU floor | wall / floor | naive wall | speed-up | message |"
    )
    report.say("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    chart: list[ChartPoint] = []
    # Untimed first: botocore loads each service's model when its first client is made, a cost
    # every later run (and a warm Lambda container) does not pay.
    run_ours(SCENARIOS[0], 0.0)
    for scenario in SCENARIOS:
        ours = run_ours(scenario, latency)
        cpu_floor = run_ours(scenario, 0.0).cpu
        network = scenario.critical_path(latency)
        estimate = scenario.naive_calls() * latency
        if estimate <= naive_budget:
            naive, counts = run_naive(scenario, latency)
            assert ours.digest is None or counts == Counter(ours.digest["counts"]), scenario
            naive_text = f"{naive:.2f} s"
        else:
            naive = estimate
            naive_text = f"~{estimate:.0f} s (estimated: {scenario.naive_calls():,} calls)"
        chart.append((scenario.total, ours.wall, naive, network, estimate > naive_budget))
        report.say(
            f"| {scenario.name} | {scenario.total:,} "
            f"| {ours.describe_calls:,} ({scenario.minimum_ssm_calls:,}) | {ours.enrichment_calls} "
            f"| {ours.sns_publishes} | {ours.cloudwatch_calls} | {ours.wall:.2f} s "
            f"| {network:.2f} s | {cpu_floor:.2f} s | {ours.wall / max(network, cpu_floor):.2f} "
            f"| {naive_text} | {naive / ours.wall:.0f}x | {ours.message_bytes:,} B |"
        )
    report.say()
    report.say(
        "SSM get calls: one GetMaintenanceWindow (cached per container) and at most "
        "errorDetailsLimit (10) GetCommandInvocation calls, read alongside the page chains. "
        "Network floor: (pages of tasks + the longest task's page chain + one publish) x latency; "
        "CPU floor: the process CPU time of the same scenario at zero latency."
    )
    return chart


def cpu_section(report: Report) -> None:
    """Function CPU per 10,000 invocations by response parser, against the json.loads floor
    (benchmarks.cpu; `python -m benchmarks.cpu` runs it alone)."""
    scenario = SCENARIOS[2]
    cpu.cpu_section(report.say, scenario.name, plans(scenario))


def cold_start_section(report: Report) -> None:
    handler_ms, boto3_ms = import_cost_ms("mwalerts.handler"), import_cost_ms("boto3")
    report.say()
    report.say("## Cold start")
    report.say()
    report.say(
        f"Import (python -X importtime, median of 7): handler {handler_ms:.0f} ms, boto3 alone "
        f"{boto3_ms:.0f} ms: the handler costs {handler_ms - boto3_ms:.0f} ms more than boto3."
    )


def memory_section(report: Report) -> None:
    small = run_ours(Scenario("1 x 1,000", (1_000,)), 0.0, memory=True)
    large = run_ours(Scenario("20 x 5,000", (5_000,) * 20), 0.0, memory=True)
    growth = (large.peak_memory or 0) - (small.peak_memory or 0)
    report.say()
    report.say("## Memory")
    report.say()
    report.say(
        f"Peak Python memory while handling (tracemalloc): 1,000 invocations "
        f"{mb(small.peak_memory)}, 100,000 invocations {mb(large.peak_memory)}: it grows by "
        f"{mb(growth)}."
    )


def throttling_section(report: Report, latency: float) -> None:
    """One invocation against an account rate limit, then against random throttling: paced
    (mwalerts.pacing) against the adaptive-mode client it replaced, measured in the same run."""
    scenario, small = SCENARIOS[2], SCENARIOS[1]
    calm = run_ours(scenario, latency)
    floor = (calm.describe_calls + calm.enrichment_calls) / RATE_LIMIT
    limited = {
        mode: run_ours(scenario, latency, rate_limit=RATE_LIMIT, adaptive=mode)
        for mode in (True, False)
    }
    random_calm = run_ours(small, latency)
    random = {mode: run_ours(small, latency, throttle=0.3, adaptive=mode) for mode in (True, False)}
    report.say()
    report.say("## Throttling")
    report.say()
    report.say(
        f"SSM limits each API's rate per account and publishes no figure for these APIs; the "
        f"fake enforces a token bucket of {RATE_LIMIT:.0f} requests a second (burst "
        f"{RATE_LIMIT:.0f}). The SSM client before pacing (adaptive retry mode, 10 attempts) "
        f"and now (mwalerts.pacing), in the same run:"
    )
    report.say()
    report.say("| case | target | before: adaptive mode | now: paced | same digest |")
    report.say("|---|---|---|---|---|")
    before, now = limited[True], limited[False]
    report.say(
        f"| {scenario.name} at {RATE_LIMIT:.0f}/s (floor {floor:.1f} s: "
        f"{calm.describe_calls + calm.enrichment_calls} calls; {calm.wall:.2f} s unlimited) "
        f"| at most {1.5 * floor:.1f} s (1.5 x floor) "
        f"| {before.wall:.2f} s ({before.wall / floor:.2f} x), {before.retries} throttled "
        f"| {now.wall:.2f} s ({now.wall / floor:.2f} x), {now.retries} throttled "
        f"| {same_digest(calm, now)} |"
    )
    before, now = random[True], random[False]
    report.say(
        f"| {small.name}, 30% of calls throttled at random ({random_calm.wall:.2f} s calm) "
        f"| at most {3 * random_calm.wall:.2f} s (3 x calm) "
        f"| {before.wall:.2f} s ({before.wall / random_calm.wall:.1f} x), {before.retries} "
        f"throttled | {now.wall:.2f} s ({now.wall / random_calm.wall:.1f} x), {now.retries} "
        f"throttled | {same_digest(random_calm, now)} |"
    )
    report.say()
    report.say(
        "Random throttling is harsher than SSM's: slowing down never helps. Adaptive mode backs "
        "off exponentially (up to 20 s a retry) on each; the pacer retries at its next turn, and "
        "as the throttles are a minority of its answers it cuts its rate by only 10%, at most "
        "every 2 s (far over a rate limit, most answers are throttles: 30% a round trip)."
    )


def same_digest(one: Run, other: Run) -> str:
    if one.digest is None or other.digest is None:
        return "NO DIGEST"
    return "yes" if one.digest == other.digest else "NO"


def draw(points: list[tuple[int, float, float, float, bool]], path: Path, latency: float) -> None:
    """Wall time against window size: ours, the naive loop and the network critical path."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: PLC0415 - bench only
    from matplotlib.figure import Figure  # noqa: PLC0415

    points = sorted(points)
    sizes = [p[0] for p in points]
    figure = Figure(figsize=(8, 5), dpi=110)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    axes.plot(
        sizes,
        [p[2] for p in points],
        "o--",
        color="#c0392b",
        label="naive loop (MaxResults=10, sequential)",
    )
    axes.plot(
        sizes, [p[1] for p in points], "o-", color="#2471a3", label="maintenance-window-alerts"
    )
    axes.plot(sizes, [p[3] for p in points], ":", color="#555555", label="network critical path")
    for size, _ours, naive, _floor, estimated in points:
        if estimated:
            axes.annotate(
                "estimated", (size, naive), textcoords="offset points", xytext=(-50, 6), fontsize=8
            )
    axes.set_xscale("log")
    axes.set_yscale("log")
    axes.set_xlabel("invocations in the window execution")
    axes.set_ylabel("wall time (s)")
    axes.set_title(f"Time to the alert, {latency * 1000:.0f} ms per AWS call")
    axes.grid(True, which="both", alpha=0.3)
    axes.legend()
    figure.tight_layout()
    figure.savefig(path, metadata={"Software": None})


if __name__ == "__main__":
    sys.exit(main())
