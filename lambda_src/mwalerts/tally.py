"""Counting invocations by status and keeping the failures an alert can carry. Pure: no AWS."""

import json
import re
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mypy_boto3_ssm.type_defs import (
        MaintenanceWindowExecutionTaskIdentityTypeDef as TaskExecution,
    )
    from mypy_boto3_ssm.type_defs import (
        MaintenanceWindowExecutionTaskInvocationIdentityTypeDef as Invocation,
    )

# A failure takes more than 250 bytes in the digest, so an SNS message (262,144 bytes) never holds
# 1,000: keeping that many means only the message size ever cuts the list, and memory stays flat
# however many targets fail.
MAX_KEPT_FAILURES = 1_000
# Targets named per cause of failure: enough to recognise a pattern, few enough to stay small.
GROUP_EXAMPLES = 3
# Parameter values shorter than this are too common to be worth redacting from command output.
MIN_SENSITIVE_LENGTH = 6

_INSTANCE_ID = re.compile(r"m?i-[0-9a-f]{8,17}")  # matched with fullmatch: no trailing newline


@dataclass(frozen=True)
class Failure:
    """One invocation whose status is an alert status. Never shows the invocation's Parameters:
    `sensitive` keeps their values only to redact them from command output, and is never output.
    """

    task_execution_id: str
    task_type: str | None
    invocation_id: str
    execution_id: str | None
    window_target_id: str | None
    status: str
    status_details: str | None
    owner_information: str | None
    instance_ids: tuple[str, ...]
    start_time: datetime | None
    end_time: datetime | None
    sensitive: frozenset[str] = field(default=frozenset(), repr=False, compare=False)
    task_arn: str | None = None
    # Automation: instances named by its InstanceId parameter, for `targets` only (not shown).
    resource_ids: tuple[str, ...] = ()

    @property
    def cause(self) -> tuple[str, str | None]:
        """What failures of the same cause share: status and status details."""
        return self.status, self.status_details

    @property
    def target(self) -> str | None:
        """The failed target as a person names it: its instance, else its execution."""
        return " ".join(self.instance_ids) or self.execution_id or self.window_target_id

    @property
    def targets(self) -> tuple[str, ...]:
        """What failed, as streaks key it from one execution to the next: each instance the
        invocation ran on (Run Command; Automation with an InstanceId parameter), else the task
        itself. Not the window target: many instances share one (a tag query), and not the
        execution ID, which is new every run."""
        ids = self.instance_ids or self.resource_ids
        return ids or (self.task_arn or self.window_target_id or self.task_execution_id,)


@dataclass
class FailureGroup:
    """All failures of one cause: how many, and the first few targets."""

    status: str
    status_details: str | None
    count: int = 0
    examples: list[str] = field(default_factory=list)

    def add(self, count: int, examples: Iterable[str]) -> None:
        self.count += count
        for example in examples:
            if len(self.examples) >= GROUP_EXAMPLES:
                break
            self.examples.append(example)


@dataclass(frozen=True)
class TaskSummary:
    task_execution_id: str
    task_arn: str | None
    task_type: str | None
    status: str | None
    counts: Mapping[str, int]
    failure_count: int
    failures: Sequence[Failure]  # the first MAX_KEPT_FAILURES, in the order SSM listed them
    groups: Sequence[FailureGroup] = ()
    # Every failing target (Failure.targets) -> the cause it first failed with: all of them, for
    # streaks; a target is a short string, so even 50,000 failing ones take a few megabytes.
    failing_targets: Mapping[str, tuple[str, str | None]] = field(default_factory=dict)


@dataclass(frozen=True)
class ExecutionReport:
    tasks: Sequence[TaskSummary]
    counts: Mapping[str, int] = field(default_factory=dict)
    failure_count: int = 0
    failures: Sequence[Failure] = ()
    groups: Sequence[FailureGroup] = ()  # every failure's cause, most frequent first
    failing_targets: Mapping[str, tuple[str, str | None]] = field(default_factory=dict)

    @property
    def total_invocations(self) -> int:
        return sum(self.counts.values())


def instance_ids(task_type: str | None, parameters: str | None) -> tuple[str, ...]:
    """Instance IDs of a Run Command invocation, read from its Parameters JSON string.

    Only the IDs are taken: the rest of Parameters can hold commands and secrets.
    """
    return _instance_ids(_parameters(parameters)) if task_type == "RUN_COMMAND" else ()


def unicode_text(value: str | None) -> str | None:
    """API text made valid Unicode: an unpaired surrogate (possible in JSON's \\u escapes) would
    make strict JSON parsers reject the digest and a UTF-8 log stream drop the record."""
    if not value:
        return None
    return value.encode("utf-8", "replace").decode("utf-8")


def to_failure(
    invocation: "Invocation", task_type: str | None, task_arn: str | None = None
) -> Failure:
    kind = invocation.get("TaskType") or task_type
    parameters = _parameters(invocation.get("Parameters"))  # parsed once, for both uses
    return Failure(
        task_execution_id=unicode_text(invocation.get("TaskExecutionId")) or "",
        task_type=unicode_text(kind),
        invocation_id=unicode_text(invocation.get("InvocationId")) or "",
        execution_id=unicode_text(invocation.get("ExecutionId")),
        window_target_id=unicode_text(invocation.get("WindowTargetId")),
        status=unicode_text(invocation.get("Status")) or "UNKNOWN",
        status_details=unicode_text(invocation.get("StatusDetails")),
        owner_information=unicode_text(invocation.get("OwnerInformation")),
        instance_ids=_instance_ids(parameters) if kind == "RUN_COMMAND" else (),
        start_time=invocation.get("StartTime"),
        end_time=invocation.get("EndTime"),
        sensitive=_sensitive_values(parameters),
        task_arn=unicode_text(task_arn),
        resource_ids=_automation_instance_ids(parameters) if kind == "AUTOMATION" else (),
    )


def summarise_task(
    task: "TaskExecution",
    invocations: Iterable["Invocation"],
    alert_statuses: Collection[str],
    on_failure: Callable[[Failure], None] = lambda _: None,
) -> TaskSummary:
    """Count one task execution's invocations in a single pass, keeping the first failures."""
    counts: Counter[str] = Counter()
    failures: list[Failure] = []
    groups: dict[tuple[str, str | None], FailureGroup] = {}
    failing_targets: dict[str, tuple[str, str | None]] = {}
    failure_count = 0
    task_type = task.get("TaskType")
    task_arn = task.get("TaskArn")
    for invocation in invocations:
        status = invocation.get("Status", "UNKNOWN")
        counts[status] += 1
        if status in alert_statuses:
            failure_count += 1
            failure = to_failure(invocation, task_type, task_arn)
            on_failure(failure)
            for target in failure.targets:
                failing_targets.setdefault(target, failure.cause)
            group = groups.setdefault(failure.cause, FailureGroup(*failure.cause))
            group.add(1, [failure.target] if failure.target else [])
            if len(failures) < MAX_KEPT_FAILURES:
                failures.append(failure)
    return TaskSummary(
        task_execution_id=unicode_text(task.get("TaskExecutionId")) or "",
        task_arn=unicode_text(task.get("TaskArn")),
        task_type=unicode_text(task_type),
        status=unicode_text(task.get("Status")),
        counts=dict(counts),
        failure_count=failure_count,
        failures=failures,
        groups=list(groups.values()),
        failing_targets=failing_targets,
    )


def combine(tasks: Sequence[TaskSummary]) -> ExecutionReport:
    """The window execution's totals; failures kept in task order, up to MAX_KEPT_FAILURES."""
    counts: Counter[str] = Counter()
    failures: list[Failure] = []
    groups: dict[tuple[str, str | None], FailureGroup] = {}
    failing_targets: dict[str, tuple[str, str | None]] = {}
    for task in tasks:
        counts.update(task.counts)
        for target, cause in task.failing_targets.items():
            failing_targets.setdefault(target, cause)
        failures.extend(task.failures[: MAX_KEPT_FAILURES - len(failures)])
        for group in task.groups:
            merged = groups.setdefault(
                (group.status, group.status_details),
                FailureGroup(group.status, group.status_details),
            )
            merged.add(group.count, group.examples)
    return ExecutionReport(
        tasks=tasks,
        counts=dict(counts),
        failure_count=sum(task.failure_count for task in tasks),
        failures=failures,
        groups=sorted(groups.values(), key=lambda g: -g.count),  # stable: first seen first
        failing_targets=failing_targets,
    )


def _parameters(parameters: str | None) -> Any:
    if not parameters:
        return None
    try:
        return json.loads(parameters)
    except (ValueError, RecursionError):  # not JSON, or nested deeper than the parser goes
        return None


def _instance_ids(document: Any) -> tuple[str, ...]:
    ids = document.get("instanceIds") if isinstance(document, dict) else None
    if not isinstance(ids, list):
        return ()
    return tuple(i for i in ids if isinstance(i, str) and _INSTANCE_ID.fullmatch(i))


def _automation_instance_ids(document: Any) -> tuple[str, ...]:
    """An Automation invocation's InstanceId parameter, when it names instances (the runbooks
    that act on one instance take it); nothing else of its parameters is read."""
    found = document.get("parameters") if isinstance(document, dict) else None
    ids = found.get("InstanceId") if isinstance(found, dict) else None
    ids = [ids] if isinstance(ids, str) else ids
    return _instance_ids({"instanceIds": ids})


def _sensitive_values(document: Any) -> frozenset[str]:
    found = document.get("parameters") if isinstance(document, dict) else None
    return frozenset(v for v in _strings(found) if len(v.strip()) >= MIN_SENSITIVE_LENGTH)


def _strings(value: Any) -> Iterator[str]:
    """Every string inside a JSON value (iteratively: no recursion limit to hit)."""
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            yield item
        elif isinstance(item, dict):
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
