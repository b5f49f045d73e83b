"""A fast parse of the two hot SSM responses, giving what botocore's own parse gives.

The function reads a window's invocations 100 a page, and botocore's JSON parser walks every
value of every page through its service model (a method lookup and call per value) only to
change the two timestamps of each item; that walk was most of the function's CPU time. For the
output shapes in FAST_SHAPES, `FastJSONParser` takes json.loads' result and does only what the
walk would change, from a plan compiled from the same model:
- timestamps go through the session's timestamp parser;
- a structure holding only its model's members, none of them null, is kept as it is (strings,
  numbers and booleans pass botocore's JSON parser unchanged); any other (an unknown member, a
  null, a wrong type) goes through botocore's walk, which drops or rejects them;
- members botocore treats specially (blobs, maps, unions, documents, renamed members, recursive
  shapes) go through botocore's walk.
Dicts keep json.loads' key order (the wire's) instead of the model's: equal, not identical.
Every other response, errors included, is botocore's: tests/unit/test_fast_parse.py compares
the two parses on generated responses.
"""

import functools
from collections.abc import Callable
from typing import Any

from botocore.model import ListShape, Shape, StructureShape
from botocore.parsers import JSONParser, ResponseParser, ResponseParserFactory

# The output shapes of DescribeMaintenanceWindowExecutionTasks and ...TaskInvocations.
FAST_SHAPES = frozenset(
    {
        "DescribeMaintenanceWindowExecutionTasksResult",
        "DescribeMaintenanceWindowExecutionTaskInvocationsResult",
    }
)

# (botocore's parser, a value from json.loads) -> what botocore's parse makes of it. The parser
# is an argument, not a closure, so a plan serves every parser of its shape.
_Convert = Callable[[Any, Any], Any]

# Model types botocore's JSON parser returns as json.loads gave them (_default_handle).
_UNCHANGED_TYPES = frozenset({"string", "integer", "long", "boolean", "float", "double"})


class FastParserFactory(ResponseParserFactory):
    """botocore's response parser factory, whose JSON protocol parser is `FastJSONParser`."""

    def create_parser(self, protocol_name: str) -> ResponseParser:
        if protocol_name != "json":
            return super().create_parser(protocol_name)
        defaults: dict[str, Any] = getattr(self, "_defaults")  # noqa: B009 - botocore's private
        return FastJSONParser(**defaults)


class FastJSONParser(JSONParser):
    """botocore's JSON parser, with the fast path for the bodies of FAST_SHAPES.

    Only the body of a successful response changes path: botocore still reads the status, parses
    errors and adds ResponseMetadata.
    """

    def _handle_json_body(self, raw_body: bytes, shape: Shape | None) -> Any:
        botocore: Any = super()  # its private methods are not in botocore-stubs
        if shape is None or shape.name not in FAST_SHAPES:
            return botocore._handle_json_body(raw_body, shape)
        return _plan(shape)(self, botocore._parse_body_as_json(raw_body))


# Plans are cached by shape object: each client has its own model objects. Bounded, so that
# clients made and dropped (the member clients' LRU cache) do not pin their models forever.
@functools.lru_cache(maxsize=64)
def _plan(shape: Shape) -> _Convert:
    return _compile(shape, frozenset())


def _compile(shape: Shape, enclosing: frozenset[str]) -> _Convert:
    """How to make botocore's parse of a json.loads value of `shape` (`enclosing`: the
    structures around it, so a recursive shape is left to botocore)."""
    kind = shape.type_name
    if kind in _UNCHANGED_TYPES:
        return _unchanged
    if kind == "timestamp":
        return _timestamp
    if isinstance(shape, ListShape):
        return _list(shape, _compile(shape.member, enclosing))
    if isinstance(shape, StructureShape) and _plain(shape) and shape.name not in enclosing:
        return _structure(shape, enclosing | {shape.name})
    return _walked(shape)


def _plain(shape: StructureShape) -> bool:
    """A structure botocore's _handle_structure only filters: members by their own names."""
    renamed = any("name" in member.serialization for member in shape.members.values())
    return not (renamed or shape.is_document_type or shape.is_tagged_union)


def _unchanged(_parser: Any, value: Any) -> Any:
    return value


def _timestamp(parser: Any, value: Any) -> Any:
    return parser._timestamp_parser(value)


def _walked(shape: Shape) -> _Convert:
    def convert(parser: Any, value: Any) -> Any:
        return parser._parse_shape(shape, value)

    return convert


def _list(shape: Shape, item: _Convert) -> _Convert:
    def convert(parser: Any, value: Any) -> Any:
        if type(value) is not list:
            return parser._handle_list(shape, value)
        if item is _unchanged:
            return value
        # botocore keeps a null item as None.
        return [None if element is None else item(parser, element) for element in value]

    return convert


def _structure(shape: StructureShape, enclosing: frozenset[str]) -> _Convert:
    known = frozenset(shape.members)
    # In the model's order, as botocore's walk goes (so a bad value raises what it would raise).
    converted = tuple(
        (name, member_convert)
        for name, member in shape.members.items()
        if (member_convert := _compile(member, enclosing)) is not _unchanged
    )

    def convert(parser: Any, value: Any) -> Any:
        # Only the model's members, none null: botocore's walk would keep every one of them.
        if type(value) is not dict or not value.keys() <= known or None in value.values():
            return parser._handle_structure(shape, value)
        for name, member in converted:
            if name in value:
                value[name] = member(parser, value[name])
        return value

    return convert
