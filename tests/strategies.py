"""Hypothesis strategies shared by the property tests of the unit and function tiers, and the
independent account of what the alert must say about the API responses they generate.

* Text that breaks naive handling (control characters, line separators, lone surrogates, emoji),
  within or beyond the API's limits; JSON values of every type; aware times in any offset, and
  timestamps as events carry them; window, execution and account IDs; region names.
* Parameters as Run Command writes them, or of another shape, or not JSON at all, carrying MARKER
  wherever there is room; task executions and invocations as the SSM API returns them, every
  optional field present or not, in blocks of up to thousands (`task_plans`, `build_tasks`).
* What the alert must say about those, computed without the product's code (`expectation`), and
  the checks of the subject and the digest that the rendered alert (tests/unit) and the published
  one (tests/function) both pass.
"""

import itertools
import json
import random
import re
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from hypothesis import strategies as st

from local_aws.scenario import SECRET_IN_PARAMETERS
from mwalerts import contract
from mwalerts.model import WindowExecution
from mwalerts.tally import MAX_KEPT_FAILURES, unicode_text
from tests.support import assert_valid_digest

# Stands in for the commands and secrets Parameters can hold: it must never reach an alert.
MARKER = SECRET_IN_PARAMETERS
TASK_TYPES = ("RUN_COMMAND", "AUTOMATION", "STEP_FUNCTIONS", "LAMBDA")
# What docs/alerts.md calls an instance ID (fullmatch).
INSTANCE_ID = re.compile(r"m?i-[0-9a-f]{8,17}")
TASK_ARNS = (
    "AWS-RunPatchBaseline",
    "AWS-RunShellScript",
    "AWS-RestartEC2Instance",
    "arn:aws:lambda:us-east-2:123456789012:function:drain-node",
    "arn:aws:states:us-east-2:123456789012:stateMachine:patch-fleet",
)

# Characters that break naive handling: control characters and line breaks (C0, C1, Unicode line
# separators), lone surrogates (text no UTF-8 encoder accepts), invisible and bidi characters,
# compatibility forms (NFKD changes them), astral emoji, and JSON's and shells' specials.
NASTY_CHARACTERS = (
    *"\x00\t\n\r\x0b\x0c\x1b\x1f\x7f\x85\x9f",
    *"\u2028\u2029\u200b\u202e\ufeff\ufffd",
    *"\ud800\udbff\udc80\udfff",
    *"éßﬁ\u0301😀\U0010ffff",
    *'"\\/{}[]:;,%<& ',
)
ANY_CHARACTER = st.one_of(st.sampled_from(NASTY_CHARACTERS), st.characters(exclude_categories=()))
# Text that is fine on one line: no control characters, line separators or lone surrogates.
LINE_SAFE_CHARACTER = st.characters(exclude_categories=("Cc", "Cs", "Zl", "Zp"))


def texts(max_size: int, *, min_size: int = 0) -> st.SearchStrategy[str]:
    return st.text(ANY_CHARACTER, min_size=min_size, max_size=max_size)


def salted(max_size: int, *, min_size: int = 0) -> st.SearchStrategy[str]:
    """Text that surely holds a nasty character somewhere (plain `texts` mostly does not)."""
    half = max(max_size // 2 - 1, 0)
    return st.one_of(
        texts(max_size, min_size=min_size),
        st.tuples(texts(half), st.sampled_from(NASTY_CHARACTERS), texts(half)).map("".join),
    )


def oversized(min_size: int) -> st.SearchStrategy[str]:
    """Text longer than `min_size` characters (beyond an API limit), cheaply: a repeated unit."""
    return st.builds(
        lambda unit, times, tail: unit * ((min_size // len(unit) + 1) * times) + tail,
        texts(4, min_size=1),
        st.integers(1, 6),
        texts(10),
    )


# A surrogate code point: in a str, always an unpaired one. (A regular expression scans the text
# of thousands of invocations in C, not a character at a time in Python.)
SURROGATE = re.compile(r"[\ud800-\udfff]")


def lone_surrogates(value: Any) -> list[str]:
    """Strings inside a JSON-like value that hold unpaired surrogates (not valid Unicode)."""
    return [text for text in strings_in(value) if SURROGATE.search(text)]


def strings_in(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for key, item in value.items():
            yield from strings_in(key)
            yield from strings_in(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from strings_in(item)


JSON_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),  # NaN and infinities included: Python's json module reads them
    texts(30),
)
JSON_VALUES = st.recursive(
    JSON_SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(texts(10), inner, max_size=4),
    max_leaves=12,
)
OFFSETS = (
    UTC,
    timezone(timedelta(hours=5, minutes=30)),
    timezone(timedelta(hours=-8)),
    timezone(timedelta(hours=14)),
    timezone(timedelta(hours=-12)),
)
AWARE_DATETIMES = st.datetimes(
    min_value=datetime(2000, 1, 1),
    max_value=datetime(2099, 12, 31),
    timezones=st.sampled_from(OFFSETS),
)
UUIDS = st.uuids().map(str)
WINDOW_IDS = st.integers(0, 16**17 - 1).map(lambda number: f"mw-{number:017x}")
ACCOUNTS = st.integers(0, 10**12 - 1).map(lambda number: f"{number:012d}")
LOWER_CASE = st.characters(min_codepoint=ord("a"), max_codepoint=ord("z"))
REGIONS = st.one_of(
    st.sampled_from(("us-east-1", "us-east-2", "eu-west-1", "us-gov-west-1", "ap-southeast-5")),
    st.builds(  # any name of AWS's region format: us-gov-west-1, eu-south-2, ...
        lambda area, words, digit: "-".join((area, *words, str(digit))),
        st.text(LOWER_CASE, min_size=2, max_size=2),
        st.lists(st.text(LOWER_CASE, min_size=1, max_size=9), min_size=1, max_size=3),
        st.integers(0, 9),
    ),
)


@st.composite
def event_times(draw: st.DrawFn) -> tuple[str, datetime]:
    """A timestamp as an event carries it (SSM's own form: UTC, Z, microseconds) and its value."""
    moment = draw(AWARE_DATETIMES)
    precision = draw(st.sampled_from(("microseconds", "milliseconds", "seconds")))
    if precision == "milliseconds":
        moment = moment.replace(microsecond=moment.microsecond // 1000 * 1000)
    elif precision == "seconds":
        moment = moment.replace(microsecond=0)
    if draw(st.booleans()):
        utc = moment.astimezone(UTC)
        fraction = {
            "microseconds": f".{utc.microsecond:06d}",
            "milliseconds": f".{utc.microsecond // 1000:03d}",
            "seconds": "",
        }[precision]
        return f"{utc:%Y-%m-%dT%H:%M:%S}{fraction}Z", moment
    return moment.isoformat(timespec=precision), moment  # its own offset, e.g. +05:30


def execution_ids() -> st.SearchStrategy[str]:
    # The API's pattern takes upper-case hex digits too.
    return UUIDS.flatmap(lambda value: st.sampled_from((value, value.upper())))


UNKNOWN_STATUSES = st.from_regex(r"[A-Z][A-Z_]{2,20}", fullmatch=True).filter(
    lambda s: s not in contract.ALL_STATUSES
)
INSTANCE_IDS = st.builds(
    lambda managed, width, number: f"{managed}i-{number % 16**width:0{width}x}",
    st.sampled_from(("", "m")),
    st.integers(8, 17),
    st.integers(0, 16**17 - 1),
)
JUNK_INSTANCE_IDS = st.one_of(
    texts(25),
    st.integers(),
    st.none(),
    st.just(f"i-0123456789abcdef0 {MARKER}"),
    INSTANCE_IDS.map(str.upper),
    INSTANCE_IDS.map(lambda value: value + "g"),
    INSTANCE_IDS.map(lambda value: " " + value),
).filter(
    # An ID with a final line break has its own regression test (test_instance_id_properties).
    lambda v: not (isinstance(v, str) and v.endswith("\n") and INSTANCE_ID.fullmatch(v[:-1]))
)


@st.composite
def parameters(draw: st.DrawFn) -> str:
    """An invocation's Parameters: Run Command's JSON, JSON of another shape, or not JSON at all.
    Wherever there is room, it carries MARKER, as real Parameters carry commands and secrets."""
    secret = {"commands": [f"curl -H 'Authorization: {MARKER}' https://example.com"]}
    shape = draw(st.sampled_from(("run command", "ids not a list", "wrong shape", "not json", "")))
    if shape == "run command":
        ids = draw(
            st.one_of(
                st.lists(st.one_of(INSTANCE_IDS, INSTANCE_IDS, JUNK_INSTANCE_IDS), max_size=6),
                st.lists(INSTANCE_IDS, min_size=40, max_size=80),
            )
        )
        document = {
            "documentName": "AWS-RunShellScript",
            "instanceIds": ids,
            "parameters": secret,
            "maxConcurrency": "10%",
        }
        return json.dumps(document, ensure_ascii=draw(st.booleans()))
    if shape == "ids not a list":
        ids = draw(st.one_of(st.just(f"i-0123456789abcdef0,{MARKER}"), JSON_VALUES))
        if isinstance(ids, list):
            ids = {"ids": ids}
        return json.dumps({"instanceIds": ids, "parameters": secret})
    if shape == "wrong shape":
        return json.dumps(draw(st.one_of(st.just([MARKER]), st.just(MARKER), JSON_VALUES)))
    if shape == "not json":
        return draw(texts(40)) + f" {MARKER} {{"
    return ""


def expected_instance_ids(task_type: Any, parameters: Any) -> list[str]:
    """docs/alerts.md: the instance IDs of a Run Command invocation's Parameters, nothing else."""
    if task_type != "RUN_COMMAND" or not isinstance(parameters, str):
        return []
    try:
        document = json.loads(parameters)
    except ValueError:
        return []
    ids = document.get("instanceIds") if isinstance(document, dict) else None
    if not isinstance(ids, list):
        return []
    return [i for i in ids if isinstance(i, str) and INSTANCE_ID.fullmatch(i)]


def invocation_templates(*, within_api_limits: bool) -> st.SearchStrategy[dict[str, Any]]:
    """An invocation as DescribeMaintenanceWindowExecutionTaskInvocations returns it, every
    optional field present or not; beyond the API's limits unless `within_api_limits`."""
    if within_api_limits:
        status: st.SearchStrategy[str] = st.sampled_from(contract.ALL_STATUSES)
        details, owner = salted(250), salted(128, min_size=1)
        task_type: st.SearchStrategy[str] = st.sampled_from(TASK_TYPES)
        # Whole seconds: the wire carries epoch seconds as floats.
        times = AWARE_DATETIMES.map(lambda moment: moment.replace(microsecond=0))
    else:
        status = st.one_of(
            st.sampled_from(contract.ALL_STATUSES),
            st.sampled_from(contract.DEFAULT_ALERT_STATUSES),
            UNKNOWN_STATUSES,
        )
        details = st.one_of(salted(250), oversized(251))
        owner = st.one_of(salted(128), oversized(129))
        task_type = st.one_of(st.sampled_from(TASK_TYPES), UNKNOWN_STATUSES)
        times = AWARE_DATETIMES
    return st.fixed_dictionaries(
        {},
        optional={
            "Status": status,
            "StatusDetails": details,
            "OwnerInformation": owner,
            "Parameters": parameters(),
            "TaskType": task_type,
            # Free-form in the API model; the control characters they could hold are kept out
            # of the email (tests/unit/test_alert_properties.py).
            "ExecutionId": st.one_of(UUIDS, st.just(""), st.text(LINE_SAFE_CHARACTER, max_size=60)),
            "WindowTargetId": st.one_of(UUIDS, st.just("")),
            "StartTime": times,
            "EndTime": times,  # absent for many a timed-out invocation
        },
    )


def task_fields(*, within_api_limits: bool) -> st.SearchStrategy[dict[str, Any]]:
    arn = st.one_of(st.sampled_from(TASK_ARNS), texts(200, min_size=1))
    status: st.SearchStrategy[str] = st.sampled_from(contract.ALL_STATUSES)
    task_type: st.SearchStrategy[str] = st.sampled_from(TASK_TYPES)
    if not within_api_limits:
        status = st.one_of(status, UNKNOWN_STATUSES)
        task_type = st.one_of(task_type, UNKNOWN_STATUSES)
    return st.fixed_dictionaries(
        {},
        optional={
            "TaskArn": arn,
            "TaskType": task_type,
            "Status": status,
            "StartTime": AWARE_DATETIMES.map(lambda moment: moment.replace(microsecond=0)),
        },
    )


@dataclass(frozen=True)
class TaskPlan:
    """A task execution's fields and its invocations as blocks of one template repeated."""

    fields: dict[str, Any]
    blocks: list[tuple[dict[str, Any], int]]


def task_plans(*, within_api_limits: bool, many: int) -> st.SearchStrategy[TaskPlan]:
    repeats = st.one_of(st.integers(0, 2), st.integers(0, 30), st.integers(many // 2, many))
    block = st.tuples(invocation_templates(within_api_limits=within_api_limits), repeats)
    return st.builds(
        TaskPlan, task_fields(within_api_limits=within_api_limits), st.lists(block, max_size=4)
    )


def build_tasks(
    plans: Sequence[TaskPlan], window_execution_id: str, new_id: Any, order: Any
) -> list[tuple[Any, list[Any]]]:
    """The API's task executions and invocations for the plans; `order` shuffles invocations."""
    tasks = []
    for plan in plans:
        task_id = new_id()
        task = {"WindowExecutionId": window_execution_id, "TaskExecutionId": task_id, **plan.fields}
        invocations = [
            {
                **template,
                "WindowExecutionId": window_execution_id,
                "TaskExecutionId": task_id,
                "InvocationId": new_id(),
            }
            for template, count in plan.blocks
            for _ in range(count)
        ]
        # Failures spread over the pages, as in a real fleet: any order, from one number `order`
        # draws (`order.shuffle` would draw one per invocation, seconds for thousands).
        random.Random(order.getrandbits(64)).shuffle(invocations)
        tasks.append((task, invocations))
    return tasks


def counting_ids(prefix: int) -> Any:
    numbers = itertools.count()
    return lambda: f"{prefix:08x}-0000-4000-8000-{next(numbers):012x}"


@dataclass(frozen=True)
class Expected:
    """What the alert must say, computed from the API responses independently of the product."""

    total: int
    failed: int
    counts: dict[str, int]
    tasks: list[dict[str, Any]]
    failures: list[dict[str, Any]]  # the first MAX_KEPT_FAILURES failure records, in API order


def utc_ms(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    utc = moment.astimezone(UTC)
    return f"{utc:%Y-%m-%dT%H:%M:%S}.{utc.microsecond // 1000:03d}Z"


def expectation(
    tasks: Sequence[tuple[Mapping[str, Any], Sequence[Mapping[str, Any]]]],
    alert_statuses: frozenset[str],
) -> Expected:
    counts: Counter[str] = Counter()
    task_records: list[dict[str, Any]] = []
    failures: list[dict[str, Any]] = []
    failed = 0
    for task, invocations in tasks:
        here = Counter(invocation.get("Status", "UNKNOWN") for invocation in invocations)
        counts.update(here)
        task_records.append(
            {
                "taskExecutionId": task["TaskExecutionId"],
                "taskArn": unicode_text(task.get("TaskArn")),
                "taskType": unicode_text(task.get("TaskType")),
                "status": unicode_text(task.get("Status")),
                "counts": dict(here),
            }
        )
        for invocation in invocations:
            status = invocation.get("Status", "UNKNOWN")
            if status not in alert_statuses:
                continue
            failed += 1
            if len(failures) >= MAX_KEPT_FAILURES:
                continue
            task_type = invocation.get("TaskType") or task.get("TaskType")
            failures.append(
                {
                    "taskExecutionId": invocation["TaskExecutionId"],
                    "invocationId": invocation["InvocationId"],
                    # Text from the API arrives as valid Unicode: unpaired surrogates replaced.
                    "executionId": unicode_text(invocation.get("ExecutionId")),
                    "windowTargetId": unicode_text(invocation.get("WindowTargetId")),
                    "status": unicode_text(status),
                    "statusDetails": unicode_text(invocation.get("StatusDetails")),
                    "ownerInformation": unicode_text(invocation.get("OwnerInformation")),
                    "instanceIds": expected_instance_ids(task_type, invocation.get("Parameters")),
                    "startTime": utc_ms(invocation.get("StartTime")),
                    "endTime": utc_ms(invocation.get("EndTime")),
                }
            )
    return Expected(sum(counts.values()), failed, dict(counts), task_records, failures)


def magnitude(count: int) -> str:
    return "0" if count == 0 else "1-99" if count < 100 else "100-999" if count < 1000 else "1000+"


def in_api_order(counts: Mapping[str, int]) -> bool:
    rank = {status: index for index, status in enumerate(contract.ALL_STATUSES)}
    keys = list(counts)
    return keys == sorted(keys, key=lambda status: (rank.get(status, len(rank)), status))


def strict_constant(name: str) -> Any:
    raise AssertionError(f"{name} is not JSON every subscriber can read")


def assert_subject_follows_sns_rules(
    subject: str, execution: WindowExecution, failed: int, total: int
) -> None:
    assert subject.isascii()
    assert subject.isprintable()  # no control characters, so no line breaks
    assert 0 < len(subject) < 100
    assert subject == (
        f"[{execution.status}] {execution.window_id}: {failed} of {total} invocations failed"
    )


def assert_digest_is_complete_and_right(
    digest: Mapping[str, Any], execution: WindowExecution, expected: Expected
) -> None:
    assert digest["schemaVersion"] == contract.DIGEST_SCHEMA_VERSION
    assert digest["account"] == execution.account
    assert digest["region"] == execution.region
    assert digest["windowId"] == execution.window_id
    assert digest["windowExecutionId"] == execution.window_execution_id
    assert digest["status"] == execution.status
    assert digest["startTime"] == utc_ms(execution.start_time)
    assert digest["endTime"] == utc_ms(execution.end_time)
    # Complete counts, whatever was cut.
    assert digest["totalInvocations"] == expected.total
    assert digest["failedInvocations"] == expected.failed
    assert digest["counts"] == {status: n for status, n in expected.counts.items() if n}
    assert in_api_order(digest["counts"])
    assert len(digest["tasks"]) == len(expected.tasks)
    for task, want in zip(digest["tasks"], expected.tasks, strict=True):
        assert task == want
        assert in_api_order(task["counts"])
    # The right failures, in task then API order: a prefix of all of them, the rest counted.
    failures = digest["failures"]
    enriched = ("consoleUrl", "responseCode", "errorTail", "consecutiveFailures", "failingSince")
    plain = [{k: v for k, v in f.items() if k not in enriched} for f in failures]
    assert plain == expected.failures[: len(failures)]
    assert all(f["consoleUrl"] is None or f["consoleUrl"].startswith("https://") for f in failures)
    assert len(failures) + digest["omittedFailures"] == expected.failed
    assert digest["omittedFailures"] >= 0
    # Every failure has its cause counted, however many were cut.
    assert sum(group["count"] for group in digest["failureGroups"]) == expected.failed or (
        len(digest["failureGroups"]) == 50
    )
    assert_valid_digest(digest)
