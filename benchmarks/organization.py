"""`make bench`, organization mode: one sweep of 1,000 accounts x 4 regions, fanned out.

The schedule event goes through the function (ListStackInstances, the sweep's counter, one SQS
message per account-region); then an emulation of the SQS event source mapping at its default
MaximumConcurrency (contract.DEFAULT_SWEEP_CONCURRENCY, 10) consumes the queue: 10 threads, each
a "container" with its own member-credentials and membership caches (separate Lambda instances
share nothing), each receiving up to 10 messages from moto's SQS, handing them to the function as
an SQS event and deleting the records not in batchItemFailures.

Every member account-region has its own fake SSM (5 windows, an old execution each; a handful of
places also ran one in the look-back: most SUCCESS, a few FAILED). `latency` is slept for every
SSM call, AssumeRole, ListStackInstances and SNS publish; moto's SQS and DynamoDB answer
in-process without it. The counts are asserted: a wrong count fails the benchmark.
"""

import contextlib
import gc
import hashlib
import io
import json
import math
import sys
import threading
import time
import tracemalloc
import uuid
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol, cast
from unittest import mock

import boto3
import botocore.client

from local_aws.environment import (
    LambdaContext,
    LocalAws,
    follow_stdout,
    local_aws,
    use_function_environment,
)

use_function_environment()

# The function's modules read its environment when imported.
from local_aws.organization import LocalOrganization  # noqa: E402
from local_aws.scenario import (  # noqa: E402
    REGION,
    TaskPlan,
    schedule_event,
    seed_window_execution,
    window_execution_event,
)
from mwalerts import contract, handler  # noqa: E402
from mwalerts.clients import MEMBER_CACHE_SIZE, MemberClients, member_ssm_client  # noqa: E402
from mwalerts.invocation import Invocation  # noqa: E402
from mwalerts.membership import StackSetMembers  # noqa: E402
from mwalerts.service import handle_event  # noqa: E402
from mwalerts.sweep_progress import SweepProgress, counter_key  # noqa: E402

follow_stdout(handler.logger)  # the function's logs go where each phase sends stdout

if TYPE_CHECKING:
    from aws_lambda_powertools import Metrics

REGIONS = ("us-east-1", "us-east-2", "eu-west-1", "ap-southeast-2")
WINDOWS_PER_PLACE = 5
RECENT_EVERY = 100  # every 100th place ran a window in the look-back ...
FAILED_EVERY = 4  # ... and every 4th of those failed (an alert)
SWEEP_TIME = datetime(2026, 11, 20, 3, 0, tzinfo=UTC)
RECENT_START = SWEEP_TIME - timedelta(minutes=30)  # ended within the 45-minute look-back
OLD_START = SWEEP_TIME - timedelta(days=3)  # older than the look-back and the longest window
WORKERS = contract.DEFAULT_SWEEP_CONCURRENCY
INTERVAL_SECONDS = contract.DEFAULT_SWEEP_INTERVAL_MINUTES * 60
SWEEP_VISIBILITY_SECONDS = 6 * 300  # the stack's: 6 x the function's timeout
ORGANIZATION_HEADING = "## Organization"


class Say(Protocol):
    def __call__(self, text: str = "") -> None: ...


# -- in-process AWS, per-thread output and call counts --------------------------------------------


class ThreadOutput(io.TextIOBase):
    """stdout per thread: the function's EMF documents and logs, whole lines, by container."""

    def __init__(self) -> None:
        self._local = threading.local()
        self._all: list[io.StringIO] = []
        self._lock = threading.Lock()

    def write(self, text: str) -> int:
        buffer = getattr(self._local, "buffer", None)
        if buffer is None:
            buffer = self._local.buffer = io.StringIO()
            with self._lock:
                self._all.append(buffer)
        return buffer.write(text)

    def documents(self) -> list[dict[str, Any]]:
        """Every EMF document printed so far, in any thread."""
        with self._lock:
            lines = [line for buffer in self._all for line in buffer.getvalue().splitlines()]
        parsed = [json.loads(line) for line in lines if line.startswith('{"_aws"')]
        return [document for document in parsed if "_aws" in document]

    def metric(self, name: str) -> float:
        return sum(sum(doc[name]) for doc in self.documents() if name in doc)


SLOW_SERVICES = {"ssm", "sts", "cloudformation", "sns"}  # the calls that carry the latency


@contextlib.contextmanager
def counting_operations() -> Iterator[Counter[str]]:
    """Every AWS API call any client makes, as "service.Operation", and per thread ("@<thread>")
    those that carry the latency."""
    calls: Counter[str] = Counter()
    lock = threading.Lock()
    original = getattr(botocore.client.BaseClient, "_make_api_call")  # noqa: B009 - private

    def counted(self: Any, operation: str, params: Any) -> Any:
        service = self.meta.service_model.service_name
        with lock:
            calls[f"{service}.{operation}"] += 1
            if service in SLOW_SERVICES:
                calls[f"@{threading.current_thread().name}"] += 1
        return original(self, operation, params)

    setattr(botocore.client.BaseClient, "_make_api_call", counted)  # noqa: B010
    try:
        yield calls
    finally:
        setattr(botocore.client.BaseClient, "_make_api_call", original)  # noqa: B010


@contextlib.contextmanager
def uncounted_queue_depth() -> Iterator[None]:
    """moto computes a queue's ApproximateNumberOfMessages* (a scan of every message) on each
    SendMessage, to read one other attribute: quadratic for a 4,000-message fan-out, a cost of
    the emulator that SQS does not have. Nothing here reads those counts."""
    from moto.sqs.models import Queue  # noqa: PLC0415

    names = (
        "approximate_number_of_messages",
        "approximate_number_of_messages_delayed",
        "approximate_number_of_messages_not_visible",
    )
    with contextlib.ExitStack() as stack:
        for name in names:
            stack.enter_context(mock.patch.object(Queue, name, property(lambda _: 0)))
        yield


class Latency:
    """A delay per call that the benchmark can change between phases."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds

    def sleep(self, **_: Any) -> None:
        if self.seconds:
            time.sleep(self.seconds)


@dataclass
class Fleet:
    """The organization, its places and what was seeded in them."""

    aws: LocalAws
    org: LocalOrganization
    latency: Latency
    places: list[tuple[str, str]]
    failed_ids: set[str] = field(default_factory=set)  # recent FAILED executions: one alert each
    recent_ids: set[str] = field(default_factory=set)  # every recent execution
    seed: int = 0
    seeded: tuple[int, int] = (0, 0)  # (recent, failed) executions the sweeps find

    def set_latency(self, seconds: float) -> None:
        self.latency.seconds = seconds
        for fake in self.org.ssm.values():
            fake.latency = seconds

    def seed_recent(self, place: tuple[str, str], *, failed: bool) -> str:
        """One execution of a new window of `place` that ended in the look-back; its ID."""
        self.seed += 1
        plan = TaskPlan({"SUCCESS": 38, "FAILED": 2} if failed else {"SUCCESS": 40})
        execution = seed_window_execution(
            self.org.member_ssm(*place),
            [plan],
            seed=self.seed,
            start_time=RECENT_START,
            window_id=f"mw-{self.seed:017x}",
        )
        self.recent_ids.add(execution.window_execution_id)
        if failed:
            self.failed_ids.add(execution.window_execution_id)
        return execution.window_execution_id


@contextlib.contextmanager
def organization_fleet(accounts: int, latency: float) -> Iterator[Fleet]:
    """`accounts` member accounts (in two OUs, one nested) x REGIONS, each place seeded."""
    with local_aws() as aws:
        org = LocalOrganization(
            aws, units={"workloads": None, "prod": "workloads"}, regions=REGIONS
        )
        delay = Latency(latency)
        aws.clients.cloudformation.meta.events.register(
            "before-parameter-build.cloudformation.ListStackInstances", delay.sleep
        )
        aws.clients.sns.meta.events.register("before-call.sns.Publish", delay.sleep)
        aws.clients.sqs.set_queue_attributes(
            QueueUrl=org.queue_url,
            Attributes={"VisibilityTimeout": str(SWEEP_VISIBILITY_SECONDS)},
        )
        members = [
            org.add_account(f"member-{index}", "prod" if index % 2 else "workloads")
            for index in range(accounts)
        ]
        fleet = Fleet(aws, org, delay, [(a, r) for a in members for r in REGIONS])
        _seed(fleet)
        fleet.seeded = len(fleet.recent_ids), len(fleet.failed_ids)
        fleet.set_latency(latency)
        yield fleet


def _seed(fleet: Fleet) -> None:
    for index, place in enumerate(fleet.places):
        fake = fleet.org.member_ssm(*place)
        for window in range(WINDOWS_PER_PLACE):
            window_id = f"mw-{index:012x}{window:05x}"
            fake.add_window({"WindowId": window_id, "Name": f"patching-{window}", "Enabled": True})
            fake.add_window_execution(
                {
                    "WindowId": window_id,
                    "WindowExecutionId": str(uuid.UUID(int=index * 8 + window)),
                    "Status": "SUCCESS",
                    "StartTime": OLD_START,
                    "EndTime": OLD_START + timedelta(minutes=20),
                }
            )
        if index % RECENT_EVERY == RECENT_EVERY - 1:
            fleet.seed_recent(place, failed=(index // RECENT_EVERY) % FAILED_EVERY == 0)


# -- the containers and the event source mapping ---------------------------------------------------


class Container:
    """One Lambda instance: its own STS client, member credentials, membership and metrics."""

    def __init__(self, fleet: Fleet) -> None:
        from aws_lambda_powertools.metrics import EphemeralMetrics  # noqa: PLC0415

        self.fleet = fleet
        org = fleet.org
        # Whose credentials are these? The account of the role each access key was issued for:
        # a member's client is also rebuilt from its cached credentials, without an AssumeRole.
        self._accounts: dict[str, str] = {}
        sts = boto3.client("sts", region_name=REGION)
        sts.meta.events.register("after-call.sts.AssumeRole", self._note_account)
        sts.meta.events.register("provide-client-params.sts.AssumeRole", org._assume)
        sts.meta.events.register("before-parameter-build.sts.AssumeRole", fleet.latency.sleep)
        self.members = MemberClients(fleet.aws.clients, sts=sts, make_ssm=self._member_ssm)
        self.membership = StackSetMembers(
            lambda: fleet.aws.clients.cloudformation,
            stack_set=org.settings.member_stack_set or "",
            call_as=contract.CALL_AS_SELF,
            regions=REGIONS,
            clock=org.clock,
        )
        # Separate instances share no metrics: Powertools' Metrics keeps its set per class.
        self.metrics = cast("Metrics", EphemeralMetrics(namespace="MaintenanceWindows", service=""))
        self.failures = 0
        self.batches = 0
        self.cpu = 0.0  # seconds of this container's thread

    def _note_account(self, parsed: dict[str, Any], **_: Any) -> None:
        if "Credentials" in parsed:
            account = parsed["AssumedRoleUser"]["Arn"].split(":")[4]
            self._accounts[parsed["Credentials"]["AccessKeyId"]] = account

    def _member_ssm(self, region: str, credentials: dict[str, str]) -> Any:
        # The function's own client factory, then the fake SSM of the credentials' account.
        client = member_ssm_client(region, credentials)
        account = self._accounts[credentials["aws_access_key_id"]]
        return self.fleet.org.member_ssm(account, region).attach(client)

    def invocation(self) -> Invocation:
        return Invocation(
            self.fleet.org.settings,
            self.fleet.aws.clients,
            self.metrics,
            LambdaContext(),
            members=self.members,
            membership=self.membership,
        )

    def deliver(self, event: dict[str, Any]) -> Any:
        return handle_event(event, self.invocation())

    def cached_members(self) -> int:
        return self.members.credentials_cached


class EventSourceMapping:
    """Lambda's SQS poller at MaximumConcurrency `len(containers)`: each container takes batches
    of up to 10 until the queue is empty, and the records not reported failed are deleted."""

    def __init__(self, fleet: Fleet, containers: Sequence[Container]) -> None:
        self.fleet = fleet
        self.containers = containers
        # In-process moto could hand one message to two threads racing, and its queue breaks
        # when one thread deletes while another receives; SQS does neither.
        self._receiving = threading.Lock()

    def run(self) -> None:
        threads = [
            threading.Thread(target=self._poll, args=(container,), name=f"container-{index}")
            for index, container in enumerate(self.containers)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    def _poll(self, container: Container) -> None:
        start = time.thread_time()
        try:
            self._drain(container)
        finally:
            container.cpu += time.thread_time() - start

    def _drain(self, container: Container) -> None:
        org, sqs = self.fleet.org, self.fleet.aws.clients.sqs
        while True:
            with self._receiving:
                messages = sqs.receive_message(
                    QueueUrl=org.queue_url, MaxNumberOfMessages=10, AttributeNames=["All"]
                ).get("Messages", [])
            if not messages:
                return
            response = container.deliver(org.sqs_event([dict(m) for m in messages]))
            failed = {item["itemIdentifier"] for item in response["batchItemFailures"]}
            container.failures += len(failed)
            container.batches += 1
            done = [m for m in messages if m["MessageId"] not in failed]
            if done:
                with self._receiving:  # moto's queue is not safe to change from two threads
                    sqs.delete_message_batch(
                        QueueUrl=org.queue_url,
                        Entries=[
                            {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]}
                            for i, m in enumerate(done)
                        ],
                    )


# -- one sweep -----------------------------------------------------------------------------------


@dataclass
class SweepRun:
    fan_out: float  # seconds: the schedule's invocation
    wall: float  # seconds: schedule to the last place done
    calls: Counter[str]
    ssm: Counter[str]  # by operation, every member's fake SSM
    assumed: int
    heartbeats: float
    recovered: float
    failures: int
    # Per container: (its calls that carry the latency, its CPU seconds)
    containers: list[tuple[int, float]] = field(default_factory=list)

    def projected(self, latency: float) -> float:
        """The sweep on separate instances, each with its own CPU (here they share one
        interpreter): the fan-out, then the busiest container's waits and CPU."""
        return self.fan_out + max(calls * latency + cpu for calls, cpu in self.containers)

    def total(self, prefix: str) -> int:
        return sum(count for name, count in self.calls.items() if name.startswith(prefix))


def sweep_once(fleet: Fleet, containers: Sequence[Container], at: datetime) -> SweepRun:
    """The schedule event at `at`, then the queue drained by `containers`; checked."""
    output = ThreadOutput()
    ssm_before = _ssm_calls(fleet)
    assumed_before = len(fleet.org.assumed)
    cpu_before = [container.cpu for container in containers]
    with (
        counting_operations() as calls,
        contextlib.redirect_stdout(output),
        uncounted_queue_depth(),
    ):
        start = time.perf_counter()
        enqueued = containers[0].deliver(schedule_event(at))
        fan_out = time.perf_counter() - start
        EventSourceMapping(fleet, containers).run()
        wall = time.perf_counter() - start
    run = SweepRun(
        fan_out=fan_out,
        wall=wall,
        calls=calls,
        ssm=_ssm_calls(fleet) - ssm_before,
        assumed=len(fleet.org.assumed) - assumed_before,
        heartbeats=output.metric(contract.METRIC_SWEEP_RUNS),
        recovered=output.metric(contract.METRIC_SWEEP_RECOVERED),
        failures=sum(container.failures for container in containers),
        containers=[
            (calls[f"@container-{index}"], container.cpu - cpu_before[index])
            for index, container in enumerate(containers)
        ],
    )
    _check_sweep(fleet, run, enqueued.places, at)
    return run


def _ssm_calls(fleet: Fleet) -> Counter[str]:
    return Counter(
        call.operation
        for fake in fleet.org.ssm.values()
        for call in fake.calls
        if call.error is None
    )


def _check_sweep(fleet: Fleet, run: SweepRun, enqueued: int, at: datetime) -> None:
    places = len(fleet.places)
    counter = fleet.aws.clients.dynamodb.get_item(
        TableName=fleet.org.settings.idempotency_table,
        Key={contract.IDEMPOTENCY_PARTITION_KEY: {"S": counter_key(at.isoformat())}},
    )["Item"]
    expect(enqueued == places, f"enqueued {enqueued} places, not {places}")
    expect(run.failures == 0, f"{run.failures} places failed")
    expect(
        (counter["done"]["N"], counter["total"]["N"]) == (str(places), str(places)),
        f"the sweep's counter is {counter}, not {places}/{places}",
    )
    expect(run.heartbeats == 1, f"{run.heartbeats} heartbeats, not exactly 1")
    expect(
        run.ssm["DescribeMaintenanceWindows"] == places
        and run.ssm["DescribeMaintenanceWindowExecutions"]
        == places * WINDOWS_PER_PLACE + len(fleet.recent_ids),
        f"SSM listing calls {dict(run.ssm)} are not one page per place and per window",
    )
    _check_alerted_once(fleet)


def _check_alerted_once(fleet: Fleet) -> None:
    alerted = Counter(
        json.loads(json.loads(sent["message"])["default"])["windowExecutionId"]
        for sent in fleet.aws.published()
    )
    expect(
        alerted == Counter(dict.fromkeys(fleet.failed_ids, 1)),
        f"alerts {dict(alerted)} are not one per failed execution {sorted(fleet.failed_ids)}",
    )


def expect(condition: bool, message: str) -> None:
    """A wrong count fails the benchmark: a benchmark that lies is worse than none."""
    if not condition:
        raise AssertionError(f"organization benchmark: {message}")


# -- one container's memory ----------------------------------------------------------------------


@dataclass
class MemoryRun:
    places: int
    peak: int
    checkpoints: list[tuple[int, int, int]]  # (places done, traced bytes now, cached members)


def one_container_memory(fleet: Fleet, share: int) -> MemoryRun:
    """A fresh container sweeps `share` places, 10 a batch, at zero latency, under tracemalloc:
    its peak, and what it retains (its member-client cache) as the places add up."""
    fleet.set_latency(0.0)
    container = Container(fleet)
    sweep_id = "memory"
    SweepProgress(fleet.aws.clients.dynamodb, fleet.org.settings.idempotency_table).start(
        sweep_id, share
    )
    since = (SWEEP_TIME - timedelta(minutes=45)).isoformat()
    bodies = [
        json.dumps({"sweep": sweep_id, "account": a, "region": r, "since": since})
        for a, r in fleet.places[:share]
    ]
    marks = {max(10, round(share * part / 10) * 10) for part in (0.25, 0.5)} | {share}
    checkpoints = []
    with contextlib.redirect_stdout(ThreadOutput()):
        tracemalloc.start(TRACE_FRAMES)
        baseline = _function_bytes()
        for start in range(0, share, 10):
            event = fleet.org.sqs_event([_message(body) for body in bodies[start : start + 10]])
            expect(not container.deliver(event)["batchItemFailures"], "a place failed")
            done = min(start + 10, share)
            if done in marks:
                gc.collect()
                now = _function_bytes() - baseline
                checkpoints.append((done, now, container.cached_members()))
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return MemoryRun(share, peak, checkpoints)


# The emulated AWS runs in this interpreter: moto's backends (the sweep's DynamoDB items, STS's
# assumed roles) and the fakes (their call records) grow with every place. A Lambda worker holds
# none of that, so what the worker keeps is counted without any allocation made under them.
TRACE_FRAMES = 40
_EMULATED_AWS = (
    tracemalloc.Filter(False, "*/moto/*", all_frames=True),
    tracemalloc.Filter(False, "*/local_aws/*", all_frames=True),
    tracemalloc.Filter(False, tracemalloc.__file__),
)


def _function_bytes() -> int:
    """Bytes traced now, outside the emulated AWS."""
    snapshot = tracemalloc.take_snapshot().filter_traces(_EMULATED_AWS)
    return sum(stat.size for stat in snapshot.statistics("filename"))


def _message(body: str) -> dict[str, Any]:
    return {
        "MessageId": str(uuid.uuid4()),
        "ReceiptHandle": "benchmark",
        "Body": body,
        "MD5OfBody": hashlib.md5(body.encode()).hexdigest(),  # noqa: S324 - SQS's checksum
        "Attributes": {},
    }


# -- an event from an unseen member --------------------------------------------------------------


@dataclass
class UnseenRun:
    first: float
    second: float
    first_calls: tuple[int, int]  # (AssumeRole, ListStackInstances)
    second_calls: tuple[int, int]


def unseen_member_event(fleet: Fleet, latency: float) -> UnseenRun:
    """Two failed-execution events from one member, to a warm container that never saw it."""
    fleet.set_latency(latency)
    container = Container(fleet)
    place = fleet.places[-1]
    timings: list[float] = []
    counts: list[tuple[int, int]] = []
    with contextlib.redirect_stdout(ThreadOutput()):
        # A warm container: it has served another member, so what is measured is the new
        # member's cost, not the first SSM client's one-time loading of botocore's model.
        warm = fleet.places[-2]
        container.deliver(_event(fleet, warm, fleet.seed_recent(warm, failed=False)))
        for _ in range(2):
            execution_id = fleet.seed_recent(place, failed=True)
            event = _event(fleet, place, execution_id)
            before = len(fleet.org.assumed), fleet.org.stack_sets.lookups()
            start = time.perf_counter()
            outcome = container.deliver(event)
            timings.append(time.perf_counter() - start)
            counts.append(
                (len(fleet.org.assumed) - before[0], fleet.org.stack_sets.lookups() - before[1])
            )
            expect(outcome.action == "alerted", f"the member's event was {outcome.action}")
    expect(counts == [(1, 1), (0, 0)], f"AssumeRole and lookups per event: {counts}")
    _check_alerted_once(fleet)
    return UnseenRun(timings[0], timings[1], counts[0], counts[1])


def _event(fleet: Fleet, place: tuple[str, str], execution_id: str) -> dict[str, Any]:
    fake = fleet.org.member_ssm(*place)
    executions = fake._executions
    seeded = executions[execution_id]
    return window_execution_event(
        window_id=seeded["WindowId"],
        window_execution_id=execution_id,
        status=seeded["Status"],
        start_time=seeded["StartTime"],
        end_time=seeded["EndTime"],
        account=place[0],
        region=place[1],
    )


# -- the section ---------------------------------------------------------------------------------


def organization_section(say: Say, latency: float, accounts: int = 1_000) -> None:
    """Run the scenario and report it under "## Organization"."""
    build = time.perf_counter()
    with organization_fleet(accounts, latency) as fleet:
        build = time.perf_counter() - build
        containers = [Container(fleet) for _ in range(WORKERS)]
        first = sweep_once(fleet, containers, SWEEP_TIME)
        # The second sweep is for counts (whose cache serves whom); its SSM calls cost no time.
        fleet.set_latency(0.0)
        second = sweep_once(fleet, containers, SWEEP_TIME + timedelta(minutes=15))
        cached = [container.cached_members() for container in containers]
        memory = one_container_memory(fleet, math.ceil(len(fleet.places) / WORKERS))
        unseen = unseen_member_event(fleet, latency)
        _report(
            say,
            fleet=fleet,
            latency=latency,
            build=build,
            sweeps=(first, second),
            cached=cached,
            memory=memory,
            unseen=unseen,
        )


def _report(
    say: Say,
    *,
    fleet: Fleet,
    latency: float,
    build: float,
    sweeps: tuple[SweepRun, SweepRun],
    cached: list[int],
    memory: MemoryRun,
    unseen: UnseenRun,
) -> None:
    first = sweeps[0]
    places = len(fleet.places)
    ssm_total = sum(first.ssm.values())
    say()
    say(ORGANIZATION_HEADING)
    say()
    say(
        f"{places // len(REGIONS):,} member accounts x {len(REGIONS)} regions = {places:,} "
        f"account-regions, {WINDOWS_PER_PLACE} windows each; {fleet.seeded[0]} windows "
        f"ended an execution in the look-back ({fleet.seeded[1]} failed). "
        f"{latency * 1000:.0f} ms per SSM call, AssumeRole, ListStackInstances and SNS publish; "
        f"moto's SQS and DynamoDB without latency. The event source mapping emulated at "
        f"MaximumConcurrency {WORKERS}: {WORKERS} containers, batches of up to 10. "
        f"(Building the organization and seeding took {build:.0f} s, not counted.)"
    )
    _report_sweep(say, fleet, first, latency, ssm_total)
    _report_credentials(say, fleet, sweeps, cached)
    _report_memory(say, memory)
    say()
    say(
        f"An event from a member no container has seen: {unseen.first_calls[0]} AssumeRole and "
        f"{unseen.first_calls[1]} ListStackInstances more, {unseen.first:.2f} s against "
        f"{unseen.second:.2f} s for the next event from the same member "
        f"({unseen.second_calls[0]} AssumeRole, {unseen.second_calls[1]} ListStackInstances): "
        f"{(unseen.first - unseen.second) * 1000:.0f} ms more (2 calls x "
        f"{latency * 1000:.0f} ms, plus the member's SSM client)."
    )


def _report_sweep(say: Say, fleet: Fleet, run: SweepRun, latency: float, ssm_total: int) -> None:
    places = len(fleet.places)
    floor = ssm_total * latency / WORKERS
    with_sts = (ssm_total + run.assumed) * latency / WORKERS
    say()
    say(
        f"One sweep: {run.wall:.1f} s from the schedule event to the last place counted "
        f"({run.wall / INTERVAL_SECONDS:.0%} of the {INTERVAL_SECONDS // 60}-minute interval); "
        f"the fan-out (the schedule's invocation) {run.fan_out:.1f} s of it. Floor: {ssm_total:,} "
        f"SSM calls x {latency * 1000:.0f} ms / {WORKERS} = {floor:.1f} s "
        f"({with_sts:.1f} s with the AssumeRole calls): wall / floor {run.wall / floor:.2f}."
    )
    say()
    cpu = [c for _, c in run.containers]
    say(
        f"The {WORKERS} containers share one Python interpreter here (one core's worth of CPU "
        f"under the GIL), where Lambda gives each instance its own: their CPU time was "
        f"{sum(cpu):.0f} s in all, {min(cpu):.1f} to {max(cpu):.1f} s each. On separate "
        f"instances (the fan-out, then the busiest container's calls x "
        f"{latency * 1000:.0f} ms plus its CPU) the sweep would take about "
        f"{run.projected(latency):.0f} s ({run.projected(latency) / INTERVAL_SECONDS:.0%} of "
        f"the interval)."
    )
    say()
    say("| per sweep | calls |")
    say("|---|---|")
    for operation, count in sorted(run.ssm.items()):
        say(f"| SSM {operation} | {count:,} |")
    say(f"| STS AssumeRole (first sweep) | {run.assumed:,} |")
    say(f"| CloudFormation ListStackInstances | {run.calls['cloudformation.ListStackInstances']} |")
    for name in ("SendMessageBatch", "ReceiveMessage", "DeleteMessageBatch"):
        say(f"| SQS {name} | {run.calls[f'sqs.{name}']:,} |")
    writes = {
        name: count
        for name, count in run.calls.items()
        if name in {"dynamodb.PutItem", "dynamodb.UpdateItem"}
    }
    kinds = ", ".join(sorted(name.split(".")[1] for name in writes))
    say(f"| DynamoDB writes ({kinds}) | {sum(writes.values()):,} |")
    say(f"| SNS Publish (alerts) | {run.calls['sns.Publish']} |")
    say()
    say(
        f"Checked: {places:,} places enqueued and counted once each, none failed; one heartbeat "
        f"(SweepRuns = {run.heartbeats:.0f}); every execution in the look-back processed "
        f"(SweepRecovered = {run.recovered:.0f}) and each failed one alerted exactly once."
    )


def _report_credentials(
    say: Say, fleet: Fleet, sweeps: tuple[SweepRun, SweepRun], cached: list[int]
) -> None:
    first, second = sweeps
    places = len(fleet.places)
    say()
    say(
        f"AssumeRole: {first.assumed:,} in the first sweep (one per place), {second.assumed:,} in "
        f"a second sweep 15 minutes later, within the credentials' hour. Each container caches "
        f"the credentials (and SSM client) of the places it swept (after two sweeps: "
        f"{min(cached):,} to {max(cached):,} per container, {sum(cached):,} in all): "
        f"{(places - second.assumed) / places:.0%} of the places came back to a container that "
        f"had them. Nothing makes them: SQS hands a message to any of the {WORKERS} instances "
        f"(at random, 1 place in {WORKERS} would), and no instance can use another's cache. "
        f"A second sweep's checks held as well (no alert twice, one heartbeat)."
    )


def _report_memory(say: Say, memory: MemoryRun) -> None:
    say()
    growth = ", ".join(
        f"after {done:,} places {now / 2**20:.1f} MB held, {members:,} credentials cached"
        for done, now, members in memory.checkpoints
    )
    (first_done, first_now, _), (last_done, last_now, _) = (
        memory.checkpoints[0],
        memory.checkpoints[-1],
    )
    if last_done == first_done:  # a share of one batch
        first_done, first_now = 0, 0
    per_place = (last_now - first_now) / (last_done - first_done)
    say(
        f"One container sweeping its share ({memory.places:,} places) one batch after another "
        f"(tracemalloc, zero latency; held: what the worker keeps, without the emulated AWS's "
        f"own state in this interpreter): {growth}; peak of the whole interpreter, emulated AWS "
        f"included, {memory.peak / 2**20:.1f} MB. "
        f"It keeps {per_place / 1024:.0f} KiB per place swept from the first checkpoint to the "
        f"last: each member's credentials, kept until they expire, and the SSM clients of the "
        f"{MEMBER_CACHE_SIZE} most recently used members only (the older ones are dropped)."
    )


def replace_section(text: str, heading: str, lines: Sequence[str]) -> str:
    """Markdown `text` with its section under `heading` (up to the next "## " heading) replaced by
    `lines` (a blank line, the heading, the section), or with `lines` appended if it has none."""
    rows = text.rstrip().split("\n") if text.strip() else []
    if heading not in rows:
        return "\n".join([*rows, *lines]).lstrip("\n") + "\n"
    start = rows.index(heading)
    end = next((i for i in range(start + 1, len(rows)) if rows[i].startswith("## ")), len(rows))
    while start > 0 and not rows[start - 1].strip():  # the blank lines before the heading
        start -= 1
    section = [*lines, ""] if end < len(rows) else list(lines)
    return "\n".join([*rows[:start], *section, *rows[end:]]).lstrip("\n") + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    """Run the section alone: python -m benchmarks.organization [--latency] [--accounts]."""
    import argparse  # noqa: PLC0415

    parser = argparse.ArgumentParser(prog="python -m benchmarks.organization")
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument("--accounts", type=int, default=1_000)
    args = parser.parse_args(argv)
    organization_section(lambda text="": print(text, flush=True), args.latency, args.accounts)
    return 0


if __name__ == "__main__":
    sys.exit(main())
