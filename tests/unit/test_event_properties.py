"""Property-based tests (hypothesis) of event parsing (`mwalerts.events.parse_event`): bad and
unusual input never crashes the function, and is never read as something it does not say.

* valid window execution events, generated from the formats SSM and EventBridge use (window and
  execution IDs, every status, millisecond or microsecond timestamps in any offset, end time
  present, absent or null), parse to exactly their values;
* real and generated window execution events, and schedule events, with up to three fields at any
  depth deleted or replaced (JSON values of every type, wrong statuses, edited and oversized IDs,
  lone surrogates, control characters) and extra fields added, either parse to exactly the input's
  values or are rejected with `InvalidEventError` naming every field that was broken, as an
  independent oracle of the documented formats decides (tests/unit/event_mutations.py);
* arbitrary JSON values and event-shaped objects are parsed faithfully or rejected with a clear
  `InvalidEventError` (never KeyError, TypeError, AttributeError...) whose message is valid UTF-8
  and echoes no long value.

Examples per run: 300 valid events, 500 mutated window execution events, 150 mutated schedule
events, 400 arbitrary inputs, 50 non-ASCII account IDs and regions.

A bug these properties found stays as a regression test with the input that showed it: account
IDs and regions with non-ASCII digits were accepted.
"""

import copy
import re
from datetime import UTC, datetime
from typing import Any, Literal

from hypothesis import event as event_label
from hypothesis import example, given, settings
from hypothesis import strategies as st

from mwalerts import contract
from mwalerts.errors import InvalidEventError
from mwalerts.events import ScheduledEvent, WindowExecutionEvent, parse_event
from mwalerts.model import WindowExecution
from tests.strategies import (
    ACCOUNTS,
    JSON_VALUES,
    REGIONS,
    UUIDS,
    WINDOW_IDS,
    event_times,
    execution_ids,
    strings_in,
    texts,
)
from tests.support import load_event
from tests.unit.event_mutations import (
    ACCOUNT_PATTERN,
    BAD,
    REGION_PATTERN,
    SCHEDULE_EVENT_SPECS,
    UNSURE,
    WINDOW_EVENT_SPECS,
    Mutation,
    mutated_events,
)


@st.composite
def valid_window_events(draw: st.DrawFn) -> tuple[dict[str, Any], WindowExecution]:
    """A window execution event as SSM sends it, and the execution it describes."""
    window_id, execution_id = draw(WINDOW_IDS), draw(execution_ids())
    account, region = draw(ACCOUNTS), draw(REGIONS)
    status = draw(st.sampled_from(contract.ALL_STATUSES))
    start_text, start = draw(event_times())
    detail: dict[str, Any] = {
        "start-time": start_text,
        "window-id": window_id,
        "window-execution-id": execution_id,
        "status": status,
    }
    end: datetime | None = None
    end_form = draw(st.sampled_from(("present", "absent", "null")))
    if end_form == "present":
        detail["end-time"], end = draw(event_times())
    elif end_form == "null":
        detail["end-time"] = None
    raw: dict[str, Any] = {
        "version": "0",
        "id": draw(UUIDS),
        "detail-type": contract.WINDOW_EXECUTION_DETAIL_TYPE,
        "source": contract.EVENT_SOURCE,
        "account": account,
        "time": f"{(end or start).astimezone(UTC):%Y-%m-%dT%H:%M:%SZ}",
        "region": region,
        "resources": [f"arn:aws:ssm:{region}:{account}:maintenancewindow/{window_id}"],
        "detail": detail,
    }
    if draw(st.booleans()):
        raw["replay-name"] = draw(st.text(max_size=30))
    execution = WindowExecution(account, region, window_id, execution_id, status, start, end)
    return raw, execution


@st.composite
def valid_schedule_events(draw: st.DrawFn) -> dict[str, Any]:
    account, region = draw(ACCOUNTS), draw(REGIONS)
    time_text, _ = draw(event_times())
    return {
        "version": "0",
        "id": draw(UUIDS),
        "detail-type": contract.SCHEDULE_DETAIL_TYPE,
        "source": contract.SCHEDULE_SOURCE,
        "account": account,
        "time": time_text,
        "region": region,
        "resources": [f"arn:aws:events:{region}:{account}:rule/maintenance-window-alerts-sweep"],
        "detail": {},
    }


@settings(max_examples=300, deadline=None)
@given(case=valid_window_events())
def test_every_valid_window_execution_event_parses_to_exactly_its_values(
    case: tuple[dict[str, Any], WindowExecution],
) -> None:
    raw, expected = case
    event = parse_event(copy.deepcopy(raw))

    assert isinstance(event, WindowExecutionEvent)
    execution = event.execution
    assert execution == expected  # ids, status, account, region; times as instants, to the µs
    assert execution.start_time is not None
    assert execution.start_time.utcoffset() is not None
    assert execution.is_terminal == (expected.status in contract.TERMINAL_STATUSES)
    if expected.end_time is None or expected.start_time is None:
        assert execution.duration_seconds is None
    else:
        duration = (expected.end_time - expected.start_time).total_seconds()
        assert execution.duration_seconds == max(duration, 0.0)


def names_location(message: str, location: str) -> bool:
    """Whether the rejection reports a problem at `location` (or inside it)."""
    return re.search(rf"(?:event: |; ){re.escape(location)}[.:]", message) is not None


def assert_clear_rejection(error: InvalidEventError, raw: Any) -> str:
    message = str(error)
    assert message.startswith(
        (
            "invalid maintenance-window execution event: ",
            "invalid schedule event: ",
            "event must be a JSON object, got ",
        )
    ), message
    if message.startswith("invalid "):
        # Each problem names where it is, e.g. "detail.window-id: String should match pattern".
        assert re.match(r"invalid [a-z -]+ event: [^\s:;]+: ", message), message
    message.encode("utf-8")  # loggable anywhere: no lone surrogates
    long_values = [text for text in strings_in(raw) if len(text) > 80]
    assert not [text for text in long_values if text in message], "a long value was echoed"
    return message


def assert_same_time(parsed: datetime | None, raw_value: Any) -> None:
    assert parsed is not None
    assert parsed.utcoffset() is not None
    if isinstance(raw_value, str):
        try:
            expected = datetime.fromisoformat(raw_value)
        except ValueError:
            return  # a form Python's parser does not read: the instant is not compared
        if expected.tzinfo is not None:
            assert parsed == expected, (parsed, raw_value)


def assert_parsed_faithfully(event: WindowExecutionEvent | ScheduledEvent, raw: Any) -> None:
    """An accepted event says exactly what the input said, in the documented formats."""
    assert isinstance(raw, dict)
    assert event.source == raw["source"]
    assert event.detail_type == raw["detail-type"]
    assert event.account == raw["account"]
    assert re.fullmatch(ACCOUNT_PATTERN, event.account)
    assert event.region == raw["region"]
    assert re.fullmatch(REGION_PATTERN, event.region)
    if isinstance(event, ScheduledEvent):
        assert event.source == contract.SCHEDULE_SOURCE
        assert event.detail_type == contract.SCHEDULE_DETAIL_TYPE
        assert_same_time(event.time, raw["time"])
        return
    assert event.source == contract.EVENT_SOURCE
    assert event.detail_type == contract.WINDOW_EXECUTION_DETAIL_TYPE
    detail, execution = raw["detail"], event.execution
    assert execution.window_id == detail["window-id"]
    assert re.fullmatch(contract.WINDOW_ID_PATTERN, execution.window_id)
    assert execution.window_execution_id == detail["window-execution-id"]
    assert re.fullmatch(contract.EXECUTION_ID_PATTERN, execution.window_execution_id)
    assert execution.status == detail["status"]
    assert execution.status in contract.ALL_STATUSES
    assert_same_time(execution.start_time, detail["start-time"])
    if detail.get("end-time") is None:
        assert execution.end_time is None
    else:
        assert_same_time(execution.end_time, detail["end-time"])


def assert_judged_like_the_oracle(
    raw: dict[str, Any], applied: list[Mutation], model: type[WindowExecutionEvent | ScheduledEvent]
) -> None:
    broken = [m.spec.location for m in applied if m.verdict == BAD]
    unsure = any(m.verdict == UNSURE for m in applied)
    try:
        event = parse_event(raw)
    except InvalidEventError as error:
        event_label("rejected" + (" (oracle unsure)" if unsure and not broken else ""))
        message = assert_clear_rejection(error, raw)
        assert broken or unsure, f"a valid event was rejected: {message}"
        missing = [location for location in broken if not names_location(message, location)]
        assert not missing, f"the rejection does not name {missing}: {message}"
        return
    event_label("accepted" + (" (oracle unsure)" if unsure else ""))
    assert not broken, f"accepted although {broken} break the format"
    assert isinstance(event, model)
    assert_parsed_faithfully(event, raw)


VALID_WINDOW_EVENTS = st.one_of(
    st.sampled_from(("window-execution-failed", "window-execution-success")).map(load_event),
    valid_window_events().map(lambda case: case[0]),
)


@settings(max_examples=500, deadline=None)
@given(case=mutated_events(VALID_WINDOW_EVENTS, WINDOW_EVENT_SPECS))
def test_mutated_window_execution_events_parse_exactly_or_are_rejected_naming_each_broken_field(
    case: tuple[dict[str, Any], list[Mutation]],
) -> None:
    raw, applied = case
    assert_judged_like_the_oracle(raw, applied, WindowExecutionEvent)


@settings(max_examples=150, deadline=None)
@given(case=mutated_events(valid_schedule_events(), SCHEDULE_EVENT_SPECS))
def test_mutated_schedule_events_parse_exactly_or_are_rejected_naming_each_broken_field(
    case: tuple[dict[str, Any], list[Mutation]],
) -> None:
    raw, applied = case
    assert_judged_like_the_oracle(raw, applied, ScheduledEvent)


def _maybe(good: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(good, JSON_VALUES)


EVENT_SHAPED = st.fixed_dictionaries(
    {},
    optional={
        "version": _maybe(st.just("0")),
        "id": _maybe(UUIDS),
        "detail-type": _maybe(
            st.sampled_from(
                (
                    contract.WINDOW_EXECUTION_DETAIL_TYPE,
                    contract.SCHEDULE_DETAIL_TYPE,
                    "Maintenance Window Task Execution State-change Notification",
                )
            )
        ),
        "source": _maybe(
            st.sampled_from((contract.EVENT_SOURCE, contract.SCHEDULE_SOURCE, "aws.ec2"))
        ),
        "account": _maybe(ACCOUNTS),
        "time": _maybe(event_times().map(lambda pair: pair[0])),
        "region": _maybe(REGIONS),
        "resources": _maybe(st.lists(texts(20), max_size=2)),
        "detail": _maybe(
            st.fixed_dictionaries(
                {},
                optional={
                    "window-id": _maybe(WINDOW_IDS),
                    "window-execution-id": _maybe(UUIDS),
                    "status": _maybe(st.sampled_from(contract.ALL_STATUSES)),
                    "start-time": _maybe(event_times().map(lambda pair: pair[0])),
                    "end-time": _maybe(event_times().map(lambda pair: pair[0])),
                },
            )
        ),
    },
)
ALL_REAL_EVENTS = st.sampled_from(
    (
        "window-execution-failed",
        "window-execution-success",
        "task-execution-failed",
        "task-target-invocation-failed",
    )
).map(load_event)
ANY_INPUT = st.one_of(
    JSON_VALUES,
    EVENT_SHAPED,
    mutated_events(ALL_REAL_EVENTS, WINDOW_EVENT_SPECS).map(lambda case: case[0]),
)


@settings(max_examples=400, deadline=None)
@given(raw=ANY_INPUT)
def test_any_json_input_is_parsed_faithfully_or_rejected_with_a_clear_typed_error(raw: Any) -> None:
    try:
        event = parse_event(raw)
    except InvalidEventError as error:
        assert_clear_rejection(error, raw)
        return
    assert_parsed_faithfully(event, raw)


DECIMAL_DIGITS: tuple[Literal["Nd"]] = ("Nd",)  # the decimal digits of every script


@settings(max_examples=50, deadline=None)
@example(account="\u0661" * 12, region="us-east-2")  # ARABIC-INDIC DIGIT ONE
@example(account="123456789012", region="us-east-\u0662")  # ARABIC-INDIC DIGIT TWO
@given(
    account=st.text(st.characters(categories=DECIMAL_DIGITS), min_size=12, max_size=12),
    region=st.characters(categories=DECIMAL_DIGITS).map(lambda digit: f"eu-west-{digit}"),
)
def test_only_ascii_account_ids_and_region_names_are_accepted(account: str, region: str) -> None:
    raw = load_event("window-execution-failed")
    raw["account"], raw["region"] = account, region
    try:
        parse_event(raw)
    except InvalidEventError:
        return
    assert account.isascii(), f"accepted account {account!r}"
    assert region.isascii(), f"accepted region {region!r}"
