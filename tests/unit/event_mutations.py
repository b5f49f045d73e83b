"""Window execution and schedule events with fields deleted or replaced, each change judged by an
independent oracle of the documented formats: the event stays valid (OK), must be rejected naming
the field (BAD), or the oracle cannot tell (UNSURE: text with digits in a time field, say).

The formats are those of EventBridge's envelope and the SSM event's detail, written out here as
`Spec`s (not read from the product's models), so that a model that drifts from them shows.
"""

import copy
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from hypothesis import strategies as st

from mwalerts import contract
from tests.strategies import ANY_CHARACTER, JSON_VALUES, event_times, oversized, texts

OK, BAD, UNSURE = "ok", "bad", "unsure"
DELETE: Any = object()  # a mutation's value that removes the field
TIME_KINDS = ("time", "aware_time")


@dataclass(frozen=True)
class Spec:
    """One field of an event model as the documented format defines it.

    kind: "text" (any string), "pattern" (a string matching `pattern` in full), "literal" (exactly
    `literal`), "status" (one of the API's statuses), "time" (a date-time), "aware_time" (a
    date-time with a time zone), "text_list" (a list of strings), "model" (the window execution
    detail object), "object" (any JSON object).
    """

    path: tuple[str, ...]
    kind: str
    required: bool = True
    pattern: str = ""
    literal: str = ""

    @property
    def location(self) -> str:
        return ".".join(self.path)


@dataclass(frozen=True)
class Mutation:
    spec: Spec
    value: Any
    verdict: str  # OK: the event stays valid; BAD: it must be rejected naming the field; UNSURE


# ASCII digits only: `\d` would match any script's decimal digits (a bug these tests found).
ACCOUNT_PATTERN = r"[0-9]{12}"
REGION_PATTERN = r"[a-z]{2}(-[a-z]+)+-[0-9]"
ENVELOPE_SPECS = (
    Spec(("version",), "text"),
    Spec(("id",), "text"),
    Spec(("account",), "pattern", pattern=ACCOUNT_PATTERN),
    Spec(("region",), "pattern", pattern=REGION_PATTERN),
    Spec(("resources",), "text_list"),
    Spec(("replay-name",), "text", required=False),
)
WINDOW_EVENT_SPECS = (
    *ENVELOPE_SPECS,
    Spec(("source",), "literal", literal=contract.EVENT_SOURCE),
    Spec(("detail-type",), "literal", literal=contract.WINDOW_EXECUTION_DETAIL_TYPE),
    Spec(("time",), "time"),
    Spec(("detail",), "model"),
    Spec(("detail", "window-id"), "pattern", pattern=contract.WINDOW_ID_PATTERN.strip("^$")),
    Spec(
        ("detail", "window-execution-id"),
        "pattern",
        pattern=contract.EXECUTION_ID_PATTERN.strip("^$"),
    ),
    Spec(("detail", "status"), "status"),
    Spec(("detail", "start-time"), "aware_time"),
    Spec(("detail", "end-time"), "aware_time", required=False),
)
SCHEDULE_EVENT_SPECS = (
    *ENVELOPE_SPECS,
    Spec(("detail-type",), "literal", literal=contract.SCHEDULE_DETAIL_TYPE),
    Spec(("time",), "aware_time"),
    Spec(("detail",), "object"),
)
# Field names the models read (aliases, and Python names since populate_by_name is on): an
# "extra" field must not be one of them.
MODEL_KEYS = frozenset(
    {
        *(spec.path[-1] for spec in WINDOW_EVENT_SPECS),
        *("detail_type", "replay_name", "window_id", "window_execution_id"),
        *("start_time", "end_time"),
    }
)


def verdict(spec: Spec, value: Any) -> str:
    """Whether the documented format accepts `value` for the field (the oracle)."""
    if value is DELETE or value is None:
        optional = not spec.required and spec.kind in ("text", "aware_time")
        return OK if optional else BAD
    kind = spec.kind
    if kind in TIME_KINDS:
        if isinstance(value, str):
            # Without a digit no text is a date-time; with digits the parser's reading decides.
            return UNSURE if re.search("[0-9]", value) else BAD
        # Numbers may be read as Unix times; booleans, lists and objects are no date-time.
        return UNSURE if isinstance(value, int | float) and not isinstance(value, bool) else BAD
    if kind == "text_list":
        is_list = isinstance(value, list) and all(isinstance(item, str) for item in value)
        return OK if is_list else BAD
    if kind == "object":
        return OK if isinstance(value, dict) else BAD
    if kind == "model" or not isinstance(value, str):
        return BAD  # a whole new detail object lacks the required fields; strings are strings
    if kind == "pattern":
        return OK if re.fullmatch(spec.pattern, value) else BAD
    if kind == "status":
        return OK if value in contract.ALL_STATUSES else BAD
    if kind == "literal":
        return OK if value == spec.literal else BAD
    return OK  # "text": any string


def _replace_one(draw: st.DrawFn, current: str, character: str) -> str:
    if not current:
        return draw(texts(40))  # nothing to replace: arbitrary text instead
    index = draw(st.integers(0, len(current) - 1))
    return current[:index] + character + current[index + 1 :]


def _fullwidth(current: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if c.isascii() and c.isalnum() else c for c in current)


# How `edited` changes a value: (draw, current value, a drawn character) -> the new value.
EDITS: dict[str, Callable[[st.DrawFn, str, str], str]] = {
    "upper": lambda _draw, current, _character: current.upper(),
    "lower": lambda _draw, current, _character: current.lower(),
    "drop last": lambda _draw, current, _character: current[:-1],
    "append": lambda _draw, current, character: current + character,
    "prepend": lambda _draw, current, character: character + current,
    "replace one": _replace_one,
    "double": lambda _draw, current, _character: current * 2,
    "oversize": lambda draw, current, _character: current + draw(oversized(10_000)),
    "pad": lambda _draw, current, _character: f" {current}\n",
    "fullwidth": lambda _draw, current, _character: _fullwidth(current),
    "arbitrary": lambda draw, _current, _character: draw(texts(40)),
    "empty": lambda _draw, _current, _character: "",
}


@st.composite
def edited(draw: st.DrawFn, current: str) -> str:
    """The current value changed a little (case, one character, padding, width) or a lot."""
    how = draw(st.sampled_from(tuple(EDITS)))
    character = draw(ANY_CHARACTER)
    return EDITS[how](draw, current, character)


def _mutation_choices(spec: Spec) -> list[str]:
    choices = ["delete", "non-string", "text"]
    if spec.kind in TIME_KINDS:
        choices += ["formatted time", "naive time"]
    if spec.kind == "status":
        choices += ["status"]
    if spec.kind == "text_list":
        choices += ["list of text"]
    return choices


def _mutated_value(draw: st.DrawFn, choice: str, spec: Spec, current: Any) -> Any:
    if choice == "delete":
        return DELETE
    if choice == "non-string":
        return draw(JSON_VALUES.filter(lambda v: not isinstance(v, str)))
    if choice == "formatted time":
        value, _ = draw(event_times())
        return value
    if choice == "naive time":
        return draw(st.datetimes(min_value=datetime(2000, 1, 1))).isoformat()
    if choice == "status":
        status = draw(st.sampled_from(contract.ALL_STATUSES))
        return draw(st.sampled_from((status, status.lower(), f"{status} ", status.title())))
    if choice == "list of text":
        return draw(st.lists(texts(60), max_size=3))
    value = draw(edited(current if isinstance(current, str) else ""))
    if spec.literal == contract.EVENT_SOURCE and value == contract.SCHEDULE_SOURCE:
        value = value + "!"  # that source picks the schedule model: not this property's case
    return value


@st.composite
def mutations(draw: st.DrawFn, spec: Spec, current: Any) -> Mutation:
    choice = draw(st.sampled_from(_mutation_choices(spec)))
    value = _mutated_value(draw, choice, spec, current)
    if choice == "formatted time":
        return Mutation(spec, value, OK)
    if choice == "naive time":
        return Mutation(spec, value, OK if spec.kind == "time" else BAD)
    return Mutation(spec, value, verdict(spec, value))


@st.composite
def mutated_events(
    draw: st.DrawFn, bases: st.SearchStrategy[dict[str, Any]], specs: Sequence[Spec]
) -> tuple[dict[str, Any], list[Mutation]]:
    """A valid event with up to three fields deleted or replaced and up to two extra fields."""
    raw = copy.deepcopy(draw(bases))
    chosen = draw(st.lists(st.sampled_from(specs), max_size=3, unique_by=lambda s: s.path))
    # A field inside one that is replaced as a whole is not mutated on its own.
    chosen = [spec for spec in chosen if not any(o.path == spec.path[:-1] for o in chosen)]
    applied = []
    for spec in chosen:
        parent = raw if len(spec.path) == 1 else raw[spec.path[0]]
        mutation = draw(mutations(spec, parent.get(spec.path[-1])))
        if mutation.value is DELETE:
            parent.pop(spec.path[-1], None)
        else:
            parent[spec.path[-1]] = mutation.value
        applied.append(mutation)
    for _ in range(draw(st.integers(0, 2))):
        detail = raw.get("detail")
        into = detail if isinstance(detail, dict) and draw(st.booleans()) else raw
        key = draw(texts(20).filter(lambda k: k not in MODEL_KEYS))
        into[key] = draw(JSON_VALUES)
    return raw, applied
