"""Property-based tests (hypothesis) of instance-ID extraction (`mwalerts.tally.instance_ids`):
the alert names the instances of a Run Command invocation, taken from its Parameters, and nothing
else from them, whatever the Parameters hold (Run Command's JSON, JSON of another shape, not JSON,
nested beyond the JSON parser's limit).

Examples per run: 300 extractions, 50 IDs with a final line break, 20 deeply nested Parameters.

Bugs these properties found stay as regression tests with the input that showed them: instance
IDs with a final line break were taken; Parameters nested beyond the JSON parser's recursion
limit raised RecursionError.
"""

import json

from hypothesis import example, given, settings
from hypothesis import strategies as st

from mwalerts.tally import instance_ids
from tests.strategies import (
    INSTANCE_IDS,
    JSON_VALUES,
    MARKER,
    TASK_TYPES,
    expected_instance_ids,
    parameters,
    texts,
)


@settings(max_examples=300, deadline=None)
@given(
    task_type=st.one_of(st.none(), st.sampled_from(TASK_TYPES), texts(12)),
    parameters=st.one_of(st.none(), parameters(), texts(60), JSON_VALUES.map(json.dumps)),
)
def test_instance_ids_are_only_well_formed_ids_from_run_command_parameters(
    task_type: str | None, parameters: str | None
) -> None:
    ids = instance_ids(task_type, parameters)

    assert list(ids) == expected_instance_ids(task_type, parameters)
    assert all(MARKER not in value for value in ids)


@settings(max_examples=50, deadline=None)
@example(instance_id="i-0123456789abcdef0")
@given(instance_id=INSTANCE_IDS)
def test_instance_ids_with_a_final_line_break_are_not_taken(instance_id: str) -> None:
    parameters = json.dumps({"instanceIds": [instance_id + "\n"]})
    assert instance_ids("RUN_COMMAND", parameters) == ()


@settings(max_examples=20, deadline=None)
@example(depth=100_000, opener="[", closed=False)
@example(depth=5_000, opener="[", closed=True)
@given(
    depth=st.integers(5_000, 100_000), opener=st.sampled_from(("[", '{"a":')), closed=st.booleans()
)
def test_parameters_nested_deeper_than_the_json_parser_goes_yield_no_instance_ids(
    depth: int, opener: str, closed: bool
) -> None:
    closer = "]" if opener == "[" else "}"
    parameters = opener * depth + (closer * depth if closed else "")
    assert instance_ids("RUN_COMMAND", parameters) == ()
