"""The fast parse of the two hot SSM responses gives exactly what botocore's own parse gives.

Compared on responses generated from the installed botocore's SSM model (every optional member
present or not, empty lists, NextToken "" or absent, any Unicode, nulls, unknown members, wrong
types), on the fake SSM's pages, on the API reference's examples, and on error responses; and the
fast path is what the function's sessions use.
"""

import base64
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from unittest import mock

import boto3
import botocore.session
import pytest
from botocore.exceptions import ClientError
from botocore.model import ListShape, MapShape, ServiceModel, Shape, StructureShape
from botocore.parsers import JSONParser, QueryParser, ResponseParserFactory
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from local_aws.fake_ssm import FakeSsmExecutions
from local_aws.scenario import REGION, TaskPlan, seed_window_execution
from mwalerts import fast_parse
from mwalerts.clients import aws_session, epoch_timestamp
from mwalerts.fast_parse import FAST_SHAPES, FastJSONParser, FastParserFactory
from tests.strategies import texts

EXAMPLES = Path(__file__).resolve().parent.parent / "data" / "api-examples"
HOT_OPERATIONS = (
    "DescribeMaintenanceWindowExecutionTasks",
    "DescribeMaintenanceWindowExecutionTaskInvocations",
)
SSM = botocore.session.get_session().get_service_model("ssm")


def output_shape(operation: str) -> StructureShape:
    shape = SSM.operation_model(operation).output_shape
    assert isinstance(shape, StructureShape)
    return shape


def fast_parser() -> JSONParser:
    factory = FastParserFactory()
    factory.set_parser_defaults(timestamp_parser=epoch_timestamp)
    parser = factory.create_parser("json")
    assert isinstance(parser, FastJSONParser)
    return parser


def botocore_parser() -> JSONParser:
    return JSONParser(timestamp_parser=epoch_timestamp)


def response(body: bytes, status: int = 200) -> dict[str, Any]:
    """A response as botocore's endpoint hands it to the parser."""
    headers = {"x-amzn-RequestId": "4f1c8a0e-0000-4000-8000-000000000000"}
    headers["Content-Type"] = "application/x-amz-json-1.1"
    return {"status_code": status, "headers": headers, "body": body, "context": {}}


def outcome(parser: JSONParser, raw: dict[str, Any], shape: Shape) -> Any:
    """What a parse returns, or the type of what it raises: both parsers must agree on either."""
    try:
        return ("parsed", parser.parse(raw, shape))
    except Exception as error:  # any error, as long as both raise it
        return ("raised", type(error))


def assert_same_parse(raw: dict[str, Any], shape: Shape) -> Any:
    # Each parser gets its own copy: the fast one converts json.loads' result in place.
    fast = outcome(fast_parser(), dict(raw), shape)
    assert fast == outcome(botocore_parser(), dict(raw), shape)
    return fast


# -- responses generated from the model ---------------------------------------------------------

JSON_SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(-(2**53), 2**53), st.floats(allow_nan=False), texts(8)
)
EPOCH_SECONDS = st.one_of(
    st.integers(0, 4_102_444_800),  # up to 2100
    st.integers(0, 4_102_444_800_000).map(lambda ms: ms / 1000),  # SSM sends milliseconds
)
ISO_TIMES = st.datetimes(timezones=st.just(UTC)).map(datetime.isoformat)


# What botocore drops or rejects: JSON nulls (members and list items), members the model does not
# have, values of the wrong type. Each is drawn on its own or with others, so one cannot hide
# another (an unknown member sends the whole structure down botocore's walk).
QUIRKS = ("nulls", "unknown members", "wrong types")
NO_QUIRKS: frozenset[str] = frozenset()


def wire_values(shape: Shape, quirks: frozenset[str], depth: int = 0) -> st.SearchStrategy[Any]:
    """JSON values of `shape` as the JSON protocol sends them, with `quirks`."""
    proper = _proper_values(shape, quirks, depth)
    if "nulls" in quirks:
        proper = st.one_of(proper, st.none())
    return st.one_of(proper, JSON_SCALARS) if "wrong types" in quirks else proper


def _proper_values(shape: Shape, quirks: frozenset[str], depth: int) -> st.SearchStrategy[Any]:
    kind = shape.type_name
    if isinstance(shape, StructureShape):
        if depth > 3:  # a recursive shape: stop where botocore's walk stops, at absence
            return st.just({})
        members = {
            _json_name(name, member): wire_values(member, quirks, depth + 1)
            for name, member in shape.members.items()
        }
        built = st.fixed_dictionaries({}, optional=members)
        if "unknown members" in quirks:
            unknown = st.dictionaries(texts(6), JSON_SCALARS, min_size=1, max_size=2)
            built = st.tuples(unknown, built).map(lambda pair: {**pair[0], **pair[1]})
        return built
    if isinstance(shape, ListShape):
        return st.lists(wire_values(shape.member, quirks, depth + 1), max_size=4)
    if isinstance(shape, MapShape):
        key = wire_values(shape.key, NO_QUIRKS, depth + 1)
        return st.dictionaries(key, wire_values(shape.value, quirks, depth + 1), max_size=3)
    if kind == "timestamp":
        return st.one_of(EPOCH_SECONDS, ISO_TIMES)
    if kind == "blob":
        return st.binary(max_size=8).map(lambda data: base64.b64encode(data).decode())
    return _SCALARS[kind]


def _json_name(name: str, member: Shape) -> str:
    return str(member.serialization.get("name", name))


_SCALARS: dict[str, st.SearchStrategy[Any]] = {
    "string": texts(12),
    "boolean": st.booleans(),
    "integer": st.integers(-(2**31), 2**31 - 1),
    "long": st.integers(-(2**63), 2**63 - 1),
    "float": st.floats(allow_nan=False, allow_infinity=False),
    "double": st.floats(allow_nan=False, allow_infinity=False),
}


def encoded(value: Any, ascii_only: bool) -> bytes:
    # Lone surrogates only survive as \u escapes; raw UTF-8 takes the rest as it is.
    if ascii_only:
        return json.dumps(value).encode()
    return json.dumps(value, ensure_ascii=False).encode("utf-8", "surrogatepass")


@pytest.mark.parametrize("operation", HOT_OPERATIONS)
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), quirks=st.sets(st.sampled_from(QUIRKS)), ascii_only=st.booleans())
def test_generated_responses_parse_as_botocore_parses_them(operation, data, quirks, ascii_only):
    shape = output_shape(operation)
    value = data.draw(wire_values(shape, frozenset(quirks)))

    assert_same_parse(response(encoded(value, ascii_only)), shape)


@pytest.mark.parametrize("operation", HOT_OPERATIONS)
@settings(max_examples=100, deadline=None)
@given(data=st.data())
def test_model_valid_responses_never_take_botocores_walk(operation, data):
    shape = output_shape(operation)
    value = data.draw(wire_values(shape, NO_QUIRKS))

    with mock.patch.object(JSONParser, "_parse_shape", side_effect=AssertionError("walked")):
        parsed = fast_parser().parse(response(json.dumps(value).encode()), shape)

    assert parsed.keys() - {"ResponseMetadata"} == value.keys()


@pytest.mark.parametrize("next_token", [None, "", "AAEAAb3Xc"])
@pytest.mark.parametrize("items", [0, 1, 100])
def test_edge_pages_parse_as_botocore_parses_them(next_token, items):
    shape = output_shape("DescribeMaintenanceWindowExecutionTaskInvocations")
    item = {"InvocationId": "ü-😀", "Status": "FAILED", "StartTime": 1795140000.104}
    body: dict[str, Any] = {"WindowExecutionTaskInvocationIdentities": [item] * items}
    if next_token is not None:
        body["NextToken"] = next_token

    parsed = assert_same_parse(response(json.dumps(body).encode()), shape)[1]

    assert parsed.get("NextToken") == next_token  # "" stays "": the paginator stops on it
    rows = parsed["WindowExecutionTaskInvocationIdentities"]
    assert [row["StartTime"] for row in rows] == [
        datetime(2026, 11, 20, 2, 0, 0, 104_000, UTC)
    ] * items


def test_members_botocore_drops_are_dropped():
    shape = output_shape("DescribeMaintenanceWindowExecutionTasks")
    body = {
        "WindowExecutionTaskIdentities": [
            {"TaskExecutionId": "t-1", "Status": None, "NotInTheModel": 1},
            {"TaskExecutionId": "t-2", "TriggeredAlarms": [{"Name": "cpu", "State": None}]},
            None,
        ],
        "NextToken": None,
    }

    parsed = assert_same_parse(response(json.dumps(body).encode()), shape)[1]

    assert parsed["WindowExecutionTaskIdentities"] == [
        {"TaskExecutionId": "t-1"},
        {"TaskExecutionId": "t-2", "TriggeredAlarms": [{"Name": "cpu"}]},
        None,
    ]
    assert "NextToken" not in parsed


@pytest.mark.parametrize("body", [b"", b"null", b"[]", b'"text"', b"{not json", b"{}"])
def test_bodies_that_are_no_object_fare_as_with_botocore(body):
    assert_same_parse(response(body), output_shape(HOT_OPERATIONS[1]))


# -- the fake's pages and the API reference's examples ------------------------------------------


def captured_responses(
    fake: FakeSsmExecutions, window_execution_id: str
) -> list[tuple[str, dict[str, Any]]]:
    """(operation, response) for every page an SSM client read, 10 a page (the API's minimum)."""
    client = fake.attach(aws_session(region_name=REGION).client("ssm"))
    seen: list[tuple[str, dict[str, Any]]] = []

    def capture(operation_model: Any, response_dict: dict[str, Any], **_: Any) -> None:
        seen.append((operation_model.name, dict(response_dict)))

    client.meta.events.register("before-parse.ssm", capture)
    tasks = client.get_paginator("describe_maintenance_window_execution_tasks").paginate(
        WindowExecutionId=window_execution_id, PaginationConfig={"PageSize": 10}
    )
    for task in [task for page in tasks for task in page["WindowExecutionTaskIdentities"]]:
        pages = client.get_paginator("describe_maintenance_window_execution_task_invocations")
        for _page in pages.paginate(
            WindowExecutionId=window_execution_id,
            TaskId=task["TaskExecutionId"],
            PaginationConfig={"PageSize": 10},
        ):
            pass
    return seen


@pytest.mark.parametrize("empty_last_token", [False, True])
def test_the_fakes_pages_parse_as_botocore_parses_them(empty_last_token):
    fake = FakeSsmExecutions(empty_last_token=empty_last_token)
    plans = [
        TaskPlan({"SUCCESS": 21, "FAILED": 2}),  # three pages
        TaskPlan({"SUCCESS": 3, "CANCELLED": 7}, owner_information="équipe=plateforme 🚀"),
        TaskPlan({}),  # no invocations: one empty page
        *[TaskPlan({"TIMED_OUT": 1}, task_type="AUTOMATION", owner_information=None)] * 8,
    ]
    execution = seed_window_execution(fake, plans)

    responses = captured_responses(fake, execution.window_execution_id)

    operations = [operation for operation, _ in responses]
    assert operations == [HOT_OPERATIONS[0]] * 2 + [HOT_OPERATIONS[1]] * (3 + 1 + 1 + 8)
    for operation, raw in responses:
        assert assert_same_parse(raw, output_shape(operation))[0] == "parsed"


@pytest.mark.parametrize("operation", HOT_OPERATIONS)
def test_the_api_references_examples_parse_as_botocore_parses_them(operation):
    name = "".join(f"-{c.lower()}" if c.isupper() else c for c in operation).lstrip("-")
    body = (EXAMPLES / f"{name}.json").read_bytes()

    parsed = assert_same_parse(response(body), output_shape(operation))[1]

    (rows,) = (value for key, value in parsed.items() if key != "ResponseMetadata")
    (sent,) = json.loads(body).values()
    assert rows[0]["StartTime"] == datetime.fromtimestamp(sent[0]["StartTime"], UTC)


# -- errors, other operations, other protocols --------------------------------------------------

ERRORS = [
    (400, b'{"__type":"ThrottlingException","message":"Rate exceeded"}'),
    (400, b'{"__type":"com.amazonaws.ssm#DoesNotExistException","Message":"no such task"}'),
    (500, b'{"__type":"InternalServerError","message":"\\u00e9chec"}'),
    (503, b"<html><body><b>Http/1.1 Service Unavailable</b></body></html>"),
    (500, b""),
]


@pytest.mark.parametrize(("status", "body"), ERRORS)
@pytest.mark.parametrize("operation", HOT_OPERATIONS)
def test_error_responses_parse_as_botocore_parses_them(status, body, operation):
    assert_same_parse(response(body, status), output_shape(operation))


def test_a_modeled_error_parses_as_botocore_parses_it():
    error_shape = SSM.shape_for("DoesNotExistException")
    body = b'{"__type":"DoesNotExistException","Message":"no such task"}'

    assert assert_same_parse(response(body, 400), error_shape)[0] == "parsed"


def test_a_missing_execution_raises_the_same_error_through_a_client():
    fake = FakeSsmExecutions()
    errors = []
    for session in (aws_session(region_name=REGION), boto3.Session(region_name=REGION)):
        client = fake.attach(session.client("ssm"))
        with pytest.raises(ClientError) as raised:
            client.describe_maintenance_window_execution_tasks(
                WindowExecutionId="00000000-0000-4000-8000-000000000000"
            )
        errors.append(raised.value.response["Error"])

    assert errors[0] == errors[1]
    assert errors[0]["Code"] == "DoesNotExistException"


@pytest.mark.parametrize(
    "operation",
    ["GetMaintenanceWindow", "DescribeMaintenanceWindowExecutions", "GetCommandInvocation"],
)
def test_other_operations_are_botocores_alone(operation):
    shape = output_shape(operation)
    value = {"WindowId": "mw-0123456789abcdef0", "CreatedDate": 1795140000.5, "Other": None}

    with mock.patch.object(fast_parse, "_plan", side_effect=AssertionError("fast path")):
        assert_same_parse(response(json.dumps(value).encode()), shape)


def test_other_protocols_get_botocores_parsers():
    factory = FastParserFactory()
    factory.set_parser_defaults(timestamp_parser=epoch_timestamp)

    assert type(factory.create_parser("query")) is QueryParser
    assert type(factory.create_parser("rest-json")) is type(
        ResponseParserFactory().create_parser("rest-json")
    )


# -- the model and the seam ---------------------------------------------------------------------


def test_the_fast_shapes_are_the_two_hot_operations_outputs():
    assert {output_shape(operation).name for operation in HOT_OPERATIONS} == FAST_SHAPES


def test_botocores_json_parser_passes_the_unchanged_types_as_json_loads_gives_them():
    # The fast path keeps strings, numbers and booleans as they are because botocore has no
    # handler for them in the JSON protocol (its walk returns them unchanged).
    for kind in fast_parse._UNCHANGED_TYPES:
        assert not hasattr(JSONParser, f"_handle_{kind}"), kind


def test_an_invocation_holds_only_text_and_two_timestamps():
    rows = output_shape(HOT_OPERATIONS[1]).members["WindowExecutionTaskInvocationIdentities"]
    assert isinstance(rows, ListShape)
    item = rows.member
    assert isinstance(item, StructureShape)

    kinds = {name: member.type_name for name, member in item.members.items()}

    assert {name for name, kind in kinds.items() if kind == "timestamp"} == {"StartTime", "EndTime"}
    assert set(kinds.values()) == {"string", "timestamp"}


def test_the_functions_sessions_take_the_fast_path():
    fake = FakeSsmExecutions()
    execution = seed_window_execution(fake, [TaskPlan({"SUCCESS": 2})])
    client = fake.attach(aws_session(region_name=REGION).client("ssm"))

    with mock.patch.object(JSONParser, "_parse_shape", side_effect=AssertionError("walked")):
        page = client.describe_maintenance_window_execution_task_invocations(
            WindowExecutionId=execution.window_execution_id,
            TaskId=execution.tasks[0]["TaskExecutionId"],
        )

    rows = page["WindowExecutionTaskInvocationIdentities"]
    assert [row["StartTime"].tzinfo for row in rows] == [UTC, UTC]


# -- what botocore treats specially, in any model ------------------------------------------------

# A model with what the two SSM shapes do not have: blobs, maps, renamed members, a recursive
# structure, a tagged union, a document, lists of text and of timestamps. The fast path must
# leave each to botocore or give what botocore gives.
SPECIAL_MODEL = ServiceModel(
    {
        "metadata": {"protocol": "json", "apiVersion": "2026-01-01"},
        "operations": {},
        "shapes": {
            "Top": {
                "type": "structure",
                "members": {
                    "Stamp": {"shape": "Time"},
                    "Data": {"shape": "Data"},
                    "Tags": {"shape": "Tags"},
                    "Wrapped": {"shape": "Wrapped"},
                    "Names": {"shape": "Names"},
                    "Times": {"shape": "Times"},
                    "Tree": {"shape": "Node"},
                    "Choice": {"shape": "Choice"},
                    "Doc": {"shape": "Doc"},
                    "Count": {"shape": "Count"},
                    "Flag": {"shape": "Flag"},
                },
            },
            "Node": {
                "type": "structure",
                "members": {"Name": {"shape": "Text"}, "Children": {"shape": "Nodes"}},
            },
            "Nodes": {"type": "list", "member": {"shape": "Node"}},
            "Wrapped": {
                "type": "structure",
                "members": {"Renamed": {"shape": "Text", "locationName": "renamed"}},
            },
            "Names": {"type": "list", "member": {"shape": "Text"}},
            "Times": {"type": "list", "member": {"shape": "Time"}},
            "Choice": {
                "type": "structure",
                "union": True,
                "members": {"A": {"shape": "Text"}, "B": {"shape": "Time"}},
            },
            "Doc": {"type": "structure", "members": {}, "document": True},
            "Tags": {"type": "map", "key": {"shape": "Text"}, "value": {"shape": "Time"}},
            "Data": {"type": "blob"},
            "Time": {"type": "timestamp"},
            "Text": {"type": "string"},
            "Count": {"type": "integer"},
            "Flag": {"type": "boolean"},
        },
    }
)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), quirks=st.sets(st.sampled_from(QUIRKS)))
def test_shapes_botocore_treats_specially_convert_as_botocore_converts_them(data, quirks):
    shape = SPECIAL_MODEL.shape_for("Top")
    value = data.draw(_proper_values(shape, frozenset(quirks), 0))
    convert = fast_parse._compile(shape, frozenset())

    def run(how: Any) -> Any:
        try:
            return ("parsed", how(json.loads(json.dumps(value))))
        except Exception as error:  # any error, as long as both raise it
            return ("raised", type(error))

    walker: Any = botocore_parser()
    assert run(lambda copy: convert(walker, copy)) == run(
        lambda copy: walker._parse_shape(shape, copy)
    )


def test_null_items_of_lists_stay_null_as_with_botocore():
    shape = SPECIAL_MODEL.shape_for("Top")
    value = {"Times": [None, 5], "Tree": {"Children": [None, {"Name": "leaf"}]}, "Names": [None]}
    walker: Any = botocore_parser()

    converted = fast_parse._compile(shape, frozenset())(walker, json.loads(json.dumps(value)))

    assert converted == walker._parse_shape(shape, value)
    assert converted["Times"][0] is None
