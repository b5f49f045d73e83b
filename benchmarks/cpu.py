"""`make bench`'s CPU section: the function's CPU per 10,000 invocations, where it goes, and the
floor of `json.loads` on the same response bodies.

    python -m benchmarks.cpu

Each parser runs the real handler on one window execution at zero latency, with SSM clients made
as the function makes them (clients.paced_ssm_client) from a session whose response parser
factory is the one under test; best of 3, runs interleaved. The fake SSM and moto answer in this
process, but in Lambda that is AWS's side, which costs the function nothing: their CPU is measured
(time.thread_time around each FakeSsmExecutions._respond, which validates, pages and serialises,
and each call into moto's stubber, in the calling thread) and left out of "function CPU". The
floor is `json.loads` of exactly the bodies the fake sent in that run, best of 5.
"""

import contextlib
import io
import json
import sys
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import boto3
import botocore.session
from botocore.client import BaseClient
from botocore.parsers import ResponseParser, ResponseParserFactory

from local_aws.environment import LambdaContext, LocalAws, local_aws, use_function_environment
from local_aws.fake_ssm import FakeSsmExecutions
from local_aws.scenario import REGION, TaskPlan, seed_window_execution

use_function_environment()

from mwalerts import handler  # noqa: E402 - needs the function's environment
from mwalerts.clients import AwsClients, epoch_timestamp, paced_ssm_client  # noqa: E402
from mwalerts.fast_parse import FastParserFactory  # noqa: E402

CONTEXT = LambdaContext()
RUNS = 3  # per parser, best of
FLOOR_RUNS = 5


def botocore_default() -> ResponseParserFactory:
    """botocore's own factory and timestamp parser (dateutil): what a plain boto3 client does."""
    return ResponseParserFactory()


def epoch_walk() -> ResponseParserFactory:
    """The previous path: botocore's shape walk, with clients.epoch_timestamp for timestamps."""
    factory = ResponseParserFactory()
    factory.set_parser_defaults(timestamp_parser=epoch_timestamp)
    return factory


def fast_path() -> ResponseParserFactory:
    """The function's (clients.aws_session's): json.loads plus the timestamps, fast_parse."""
    factory = FastParserFactory()
    factory.set_parser_defaults(timestamp_parser=epoch_timestamp)
    return factory


PARSERS: dict[str, Callable[[], ResponseParserFactory]] = {
    "botocore's default parser (dateutil timestamps)": botocore_default,
    "previous: botocore's shape walk + epoch_timestamp": epoch_walk,
    "new: fast_parse (json.loads + epoch_timestamp)": fast_path,
}


@dataclass
class CpuRun:
    """One handler call's CPU time (seconds), split by where it was spent."""

    process: float  # the process's CPU time over the handler call, every thread
    fake_ssm: float  # the fake SSM answering (AWS's side)
    moto: float  # moto answering SNS and DynamoDB (AWS's side)
    parsing: float  # botocore's ResponseParser.parse, every response
    api_calls: float  # inside BaseClient._make_api_call: all of the above but `ours`
    digest: Any
    bodies: list[bytes] = field(repr=False)  # what the fake SSM sent, status 200

    @property
    def function(self) -> float:
        """What the function itself spends: AWS's side left out."""
        return self.process - self.fake_ssm - self.moto

    @property
    def plumbing(self) -> float:
        """Signing, events, pacing, HTTP objects: the API calls but parsing and AWS's side."""
        return self.api_calls - self.parsing - self.fake_ssm - self.moto

    @property
    def ours(self) -> float:
        """The function's code around the calls: tally, alert, logs, threads."""
        return self.process - self.api_calls


class CpuMeter:
    """Thread CPU time spent inside a few functions, patched on their classes while active.

    Each function is timed in the thread that calls it, outermost call only; the fake's answers
    are kept for the floor.
    """

    def __init__(self) -> None:
        self.spent: dict[str, list[float]] = defaultdict(list)  # list.append is thread-safe
        self.bodies: list[bytes] = []

    def seconds(self, key: str) -> float:
        return sum(self.spent[key])

    @contextlib.contextmanager
    def active(self) -> Iterator["CpuMeter"]:
        from moto.core.botocore_stubber import BotocoreStubber  # noqa: PLC0415 - moto's internals

        targets: list[tuple[type, str, str]] = [
            (FakeSsmExecutions, "_respond", "fake_ssm"),
            (BotocoreStubber, "__call__", "moto"),
            (ResponseParser, "parse", "parsing"),
            (BaseClient, "_make_api_call", "api_calls"),
        ]
        originals = [(owner, name, owner.__dict__[name]) for owner, name, _ in targets]
        for owner, name, key in targets:
            setattr(owner, name, self._timed(key, owner.__dict__[name]))
        try:
            yield self
        finally:
            for owner, name, original in originals:
                setattr(owner, name, original)

    def _timed(self, key: str, function: Callable[..., Any]) -> Callable[..., Any]:
        inside = threading.local()
        spent = self.spent[key]
        keep_body = key == "fake_ssm"  # _respond returns (status, body)

        def timed(*args: Any, **kwargs: Any) -> Any:
            if getattr(inside, "busy", False):
                return function(*args, **kwargs)
            inside.busy = True
            start = time.thread_time()
            try:
                result = function(*args, **kwargs)
            finally:
                spent.append(time.thread_time() - start)
                inside.busy = False
            if keep_body and result[0] == 200:
                self.bodies.append(result[1])
            return result

        return timed


def ssm_clients(aws: LocalAws, factory: ResponseParserFactory) -> AwsClients:
    """The local AWS's clients, but an SSM client whose session has `factory`."""
    core = botocore.session.get_session()
    core.register_component("response_parser_factory", factory)
    ssm = paced_ssm_client(boto3.Session(botocore_session=core, region_name=REGION))
    aws.ssm.attach(ssm)
    return replace(aws.clients, ssm=ssm)


def run(plans: Sequence[TaskPlan], factory: ResponseParserFactory) -> CpuRun:
    """One handler call at zero latency, measured."""
    with local_aws(latency=0.0) as aws:
        execution = seed_window_execution(aws.ssm, plans)
        clients = ssm_clients(aws, factory)
        with CpuMeter().active() as meter, contextlib.redirect_stdout(io.StringIO()):
            start = time.process_time()
            handler.handler(execution.event(), CONTEXT, clients=clients)
            process = time.process_time() - start
        published = aws.published()
    return CpuRun(
        process=process,
        fake_ssm=meter.seconds("fake_ssm"),
        moto=meter.seconds("moto"),
        parsing=meter.seconds("parsing"),
        api_calls=meter.seconds("api_calls"),
        digest=json.loads(json.loads(published[0]["message"])["default"]) if published else None,
        bodies=meter.bodies,
    )


def json_floor(bodies: Sequence[bytes]) -> float:
    """CPU seconds `json.loads` takes on `bodies`, best of FLOOR_RUNS."""
    best = float("inf")
    for _ in range(FLOOR_RUNS):
        start = time.process_time()
        for body in bodies:
            json.loads(body)
        best = min(best, time.process_time() - start)
    return best


def best_runs(plans: Sequence[TaskPlan]) -> dict[str, CpuRun]:
    """Each parser's run with the least function CPU, RUNS each, interleaved (drift hits all)."""
    best: dict[str, CpuRun] = {}
    for _ in range(RUNS):
        for name, factory in PARSERS.items():
            measured = run(plans, factory())
            if name not in best or measured.function < best[name].function:
                best[name] = measured
    return best


def cpu_section(
    say: Callable[[str], None], scenario_name: str, plans: Sequence[TaskPlan], target: float = 2.5
) -> None:
    """The section: function CPU per 10,000 invocations by parser, against the json.loads floor."""
    run(plans[:1], fast_path())  # untimed: first-use costs (imports, models) a warm container paid
    best = best_runs(plans)
    per = 10_000 / sum(plan.invocation_count for plan in plans) * 1000  # seconds -> ms per 10k
    new = best[next(reversed(PARSERS))]
    floor = json_floor(new.bodies)
    say("")
    say("## CPU")
    say("")
    say(
        f"{scenario_name} at zero latency, best of {RUNS}, CPU time per 10,000 invocations (ms). "
        "Function: the process's CPU time over the handler call minus AWS's side (the fake SSM "
        "validating, paging and serialising, moto answering SNS and DynamoDB), measured with "
        "time.thread_time around each of their calls. Parsing: botocore's ResponseParser.parse; "
        "plumbing: the rest of the API calls (signing, events, pacing, HTTP objects); ours: the "
        "function's code around them (tally, alert, logs, threads)."
    )
    say("")
    say("| parser | function | parsing | plumbing | ours | AWS's side | process | same digest |")
    say("|---|---|---|---|---|---|---|---|")
    reference = best[next(iter(PARSERS))]
    for name, measured in best.items():
        say(
            f"| {name} | {measured.function * per:.0f} | {measured.parsing * per:.0f} "
            f"| {measured.plumbing * per:.0f} | {measured.ours * per:.0f} "
            f"| {(measured.fake_ssm + measured.moto) * per:.0f} | {measured.process * per:.0f} "
            f"| {'yes' if measured.digest == reference.digest else 'NO'} |"
        )
    say("")
    ratio = new.function / floor
    parse_ratios = ", ".join(f"{run.parsing / floor:.1f}" for run in best.values())
    say(
        f"Floor: json.loads of the same {len(new.bodies)} response bodies "
        f"({sum(map(len, new.bodies)) / 2**20:.1f} MB), best of {FLOOR_RUNS}: "
        f"{floor * per:.1f} ms. New function / floor: {ratio:.1f} (target <= {target}: "
        f"{'met' if ratio <= target else 'NOT met'}). Parsing / floor, by parser as above: "
        f"{parse_ratios}. What no parser changes, plumbing and ours, is "
        f"{(new.plumbing + new.ours) / floor:.1f} x the floor."
    )


def main() -> int:
    # Run alone; `make bench` calls the same section from benchmarks.bench.
    from benchmarks.bench import SCENARIOS, plans  # noqa: PLC0415 - bench imports this module

    scenario = SCENARIOS[2]
    cpu_section(print, scenario.name, plans(scenario))
    return 0


if __name__ == "__main__":
    sys.exit(main())
