"""Builders of realistic maintenance-window executions and their EventBridge events.

Seeded random generators make every scenario reproducible: same arguments, same IDs.
"""

import json
import random
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from local_aws.fake_ssm import FakeSsmExecutions
from mwalerts import contract

ACCOUNT = "123456789012"  # moto's default account
REGION = "us-east-2"
WINDOW_ID = "mw-0ed7251d3fcf6e0c2"
WINDOW_NAME = "prod-web-nightly-patching"
WINDOW_DESCRIPTION = "Security patches for the production web fleet, nightly at 02:00 UTC"
# Stands in for what real Parameters can hold (commands, tokens): it must never reach an alert or
# a log line, and the tests look for it.
SECRET_IN_PARAMETERS = "s3cr3t-t0ken-in-a-command"  # noqa: S105 - a marker, not a secret

# A classic patching failure; the command line it echoes carries the secret from Parameters,
# which the alert must redact.
COMMAND = f"curl -H 'Authorization: {SECRET_IN_PARAMETERS}' https://repo.example.com/keys"
DPKG_LOCKED = (
    f"+ {COMMAND}\n"
    "Reading package lists...\n"
    "E: Could not get lock /var/lib/dpkg/lock-frontend. It is held by process 4242 (apt-get)\n"
    "E: Unable to acquire the dpkg frontend lock, is another process using it?\n"
)
_COMMAND_STATUS = {"FAILED": ("Failed", 100), "TIMED_OUT": ("TimedOut", -1)}

_STATUS_DETAILS = {
    "SUCCESS": "Success",
    "FAILED": "Failed",
    "TIMED_OUT": "DeliveryTimedOut",
    "CANCELLED": "Cancelled",
}


@dataclass(frozen=True)
class TaskPlan:
    """One task of a window: its type, ARN and how many targets end in each status."""

    statuses: Mapping[str, int]
    task_type: str = "RUN_COMMAND"
    task_arn: str = "AWS-RunPatchBaseline"
    status: str | None = None  # the task execution's own status; derived when None
    owner_information: str | None = "team=platform;env=prod"
    # What a failed Run Command invocation wrote to stderr (None: Run Command recorded nothing).
    error_output: str | None = DPKG_LOCKED
    # Named targets, each with its status, in order (for runs of the same fleet night after
    # night); empty: `statuses` counts of random instances, shuffled.
    targets: tuple[tuple[str, str], ...] = ()

    @classmethod
    def fleet(cls, targets: Mapping[str, str], **plan: Any) -> "TaskPlan":
        """A task that ran on these instances, each ending in its status."""
        counts: dict[str, int] = {}
        for state in targets.values():
            counts[state] = counts.get(state, 0) + 1
        return cls(counts, targets=tuple(targets.items()), **plan)

    @property
    def invocation_count(self) -> int:
        return sum(self.statuses.values())


def failing_plans(invocations: Sequence[int], failure_rate: float) -> list[TaskPlan]:
    """One task per count of invocations, `failure_rate` of its targets (at least one) failing:
    the benchmarks' windows."""
    return [
        TaskPlan({"SUCCESS": count - failed, "FAILED": failed})
        for count in invocations
        for failed in [max(1, round(count * failure_rate))]
    ]


@dataclass
class SeededExecution:
    """What was seeded, for assertions: IDs and the invocations of each task."""

    window_id: str
    window_execution_id: str
    status: str
    start_time: datetime
    end_time: datetime
    tasks: list[dict[str, Any]] = field(default_factory=list)
    invocations: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    def event(self, *, account: str = ACCOUNT, region: str = REGION) -> dict[str, Any]:
        return window_execution_event(
            window_id=self.window_id,
            window_execution_id=self.window_execution_id,
            status=self.status,
            start_time=self.start_time,
            end_time=self.end_time,
            account=account,
            region=region,
        )


def seed_window_execution(
    fake: FakeSsmExecutions,
    tasks: Sequence[TaskPlan],
    *,
    status: str | None = None,
    window_id: str = WINDOW_ID,
    seed: int = 0,
    start_time: datetime | None = None,
) -> SeededExecution:
    """Seed one window execution with its tasks and invocations into the fake SSM APIs."""
    rng = random.Random(seed)  # noqa: S311 - reproducible test data, not security
    start = start_time or datetime(2026, 11, 20, 2, 0, 0, 104_000, tzinfo=UTC)
    failed = any(
        count and state != "SUCCESS" for plan in tasks for state, count in plan.statuses.items()
    )
    if window_id not in fake.window_ids:
        name = WINDOW_NAME if window_id == WINDOW_ID else f"patching-{window_id[-4:]}"
        fake.add_window(
            {
                "WindowId": window_id,
                "Name": name,
                "Description": WINDOW_DESCRIPTION,
                "Enabled": True,
            }
        )
    execution = SeededExecution(
        window_id=window_id,
        window_execution_id=_uuid(rng),
        status=status or ("FAILED" if failed else "SUCCESS"),
        start_time=start,
        end_time=start + timedelta(minutes=15, seconds=41, milliseconds=785),
    )
    fake.add_window_execution(
        {
            "WindowId": window_id,
            "WindowExecutionId": execution.window_execution_id,
            "Status": execution.status,
            "StartTime": execution.start_time,
            "EndTime": execution.end_time,
        }
    )
    for index, plan in enumerate(tasks):
        task, invocations = _task(rng, execution, plan, index)
        fake.add_task_execution(task, invocations)
        _add_command_invocations(fake, plan, invocations)
        execution.tasks.append(task)
        execution.invocations[task["TaskExecutionId"]] = invocations
    return execution


def window_execution_event(
    *,
    window_id: str = WINDOW_ID,
    window_execution_id: str,
    status: str,
    start_time: datetime,
    end_time: datetime | None,
    account: str = ACCOUNT,
    region: str = REGION,
) -> dict[str, Any]:
    """An EventBridge event shaped like the ones SSM emits (see shared/reference/events)."""
    detail = {
        "start-time": _event_time(start_time),
        "window-id": window_id,
        "window-execution-id": window_execution_id,
        "status": status,
    }
    if end_time is not None:
        detail["end-time"] = _event_time(end_time)
    return _envelope(
        f"{window_execution_id}/{status}",
        detail_type=contract.WINDOW_EXECUTION_DETAIL_TYPE,
        source=contract.EVENT_SOURCE,
        time=end_time or start_time,
        resource=f"arn:aws:ssm:{region}:{account}:maintenancewindow/{window_id}",
        detail=detail,
    )


def _envelope(
    name: str, *, detail_type: str, source: str, time: datetime, resource: str, detail: Any
) -> dict[str, Any]:
    """The EventBridge envelope around `detail`; its ID derives from `name`, so a redelivery of
    the same event carries the same ID, as EventBridge's does."""
    account, region = resource.split(":")[4], resource.split(":")[3]
    return {
        "version": "0",
        "id": str(uuid.uuid5(uuid.NAMESPACE_URL, name)),
        "detail-type": detail_type,
        "source": source,
        "account": account,
        "time": time.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": region,
        "resources": [resource],
        "detail": detail,
    }


def _task(
    rng: random.Random, execution: SeededExecution, plan: TaskPlan, index: int
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    task_execution_id = _uuid(rng)
    task_start = execution.start_time + timedelta(seconds=index * 2)
    invocations = []
    targets: list[tuple[str | None, str]] = list(plan.targets) or _random_targets(rng, plan)
    for number, (named, state) in enumerate(targets):
        instance_id = named or f"i-{rng.getrandbits(68):017x}"
        began = task_start + timedelta(milliseconds=37 * number)
        invocation: dict[str, Any] = {
            "WindowExecutionId": execution.window_execution_id,
            "TaskExecutionId": task_execution_id,
            "InvocationId": _uuid(rng),
            "ExecutionId": _uuid(rng),
            "TaskType": plan.task_type,
            "Parameters": _parameters(plan, instance_id),
            "Status": state,
            "StartTime": began,
            "EndTime": began + timedelta(seconds=rng.randint(20, 600)),
            "WindowTargetId": _uuid(rng),
        }
        if state in _STATUS_DETAILS:
            invocation["StatusDetails"] = _STATUS_DETAILS[state]
        if plan.owner_information:
            invocation["OwnerInformation"] = plan.owner_information
        invocations.append(invocation)
    task = {
        "WindowExecutionId": execution.window_execution_id,
        "TaskExecutionId": task_execution_id,
        "Status": plan.status or _task_status(plan),
        "StartTime": task_start,
        "EndTime": execution.end_time - timedelta(seconds=1),
        "TaskArn": plan.task_arn,
        "TaskType": plan.task_type,
    }
    return task, invocations


def _random_targets(rng: random.Random, plan: TaskPlan) -> list[tuple[str | None, str]]:
    """Unnamed targets (an instance ID drawn for each in turn) with the plan's statuses."""
    statuses = [state for state, count in plan.statuses.items() for _ in range(count)]
    rng.shuffle(statuses)  # failures are spread over the pages, as in a real fleet
    return [(None, state) for state in statuses]


def _add_command_invocations(
    fake: FakeSsmExecutions, plan: TaskPlan, invocations: Sequence[Mapping[str, Any]]
) -> None:
    """What Run Command recorded for each failed instance: exit code and error output."""
    if plan.task_type != "RUN_COMMAND" or plan.error_output is None:
        return
    for invocation in invocations:
        if invocation["Status"] not in _COMMAND_STATUS:
            continue
        status, code = _COMMAND_STATUS[invocation["Status"]]
        fake.add_command_invocation(
            {
                "CommandId": invocation["ExecutionId"],
                "InstanceId": json.loads(invocation["Parameters"])["instanceIds"][0],
                "DocumentName": plan.task_arn,
                "Status": status,
                "StatusDetails": invocation["StatusDetails"],
                "ResponseCode": code,
                "StandardErrorContent": plan.error_output,
            }
        )


def _parameters(plan: TaskPlan, instance_id: str) -> str:
    if plan.task_type == "RUN_COMMAND":
        document = {
            "documentName": plan.task_arn,
            "instanceIds": [instance_id],
            "parameters": {"commands": [COMMAND]},
            "maxConcurrency": "10%",
            "maxErrors": "5%",
        }
    else:
        document = {"documentName": plan.task_arn, "token": SECRET_IN_PARAMETERS}
    return json.dumps(document, separators=(",", ":"))


def _task_status(plan: TaskPlan) -> str:
    for state in ("FAILED", "TIMED_OUT", "CANCELLED"):
        if plan.statuses.get(state):
            return state
    return "SUCCESS"


def _uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _event_time(moment: datetime) -> str:
    # SSM's events carry microseconds, e.g. 2026-11-20T02:15:41.889213Z.
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def schedule_event(
    time: datetime, *, account: str = ACCOUNT, region: str = REGION
) -> dict[str, Any]:
    """The event an EventBridge schedule sends to start the sweep."""
    return _envelope(
        f"sweep/{time.isoformat()}",
        detail_type=contract.SCHEDULE_DETAIL_TYPE,
        source=contract.SCHEDULE_SOURCE,
        time=time,
        resource=f"arn:aws:events:{region}:{account}:rule/maintenance-window-alerts-sweep",
        detail={},
    )
