"""An in-process fake of SSM's maintenance-window *execution* APIs that answers real boto3 clients.

moto implements none of these operations, so tests, the demo and the benchmark use this fake. It
also answers the operations that must agree with them: DescribeMaintenanceWindows (moto's does not
page) and GetMaintenanceWindow from the windows it owns, GetMaintenanceWindowExecution, and
GetCommandInvocation for the Run Command invocations behind its maintenance-window invocations:

    fake = FakeSsmExecutions()
    fake.add_window_execution({"WindowId": "mw-...", "WindowExecutionId": "...", "Status": ...})
    fake.add_task_execution({"WindowExecutionId": "...", "TaskExecutionId": ...}, invocations)
    ssm = fake.attach(boto3.client("ssm"))

It answers at botocore's `before-send` event with a raw JSON HTTP response, so botocore's own
parser (epoch-second timestamps become datetimes), error handling and retries run exactly as they
do against AWS. Every request is validated against botocore's SSM service model, including the
constraints botocore does not check client-side (maximums, patterns, enums), and against each
operation's documented filter rules. Items come back in the order they were added: AWS documents
no order.

To fake another operation, write a method `(self, params) -> response dict` that reads the store
and add it to `_OPERATIONS` at the end of this module: request parsing, validation, paging, fault
injection, call records and the wire format are shared.
"""

from __future__ import annotations

import copy
import functools
import json
import random
import re
import sys
import threading
import time
import uuid
import weakref
from collections import deque
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import formatdate
from io import BytesIO
from typing import Any, TypeVar

import botocore.session
from botocore.awsrequest import AWSPreparedRequest, AWSResponse
from botocore.client import BaseClient
from botocore.compat import HTTPHeaders
from botocore.model import ListShape, MapShape, ServiceModel, Shape, StructureShape

__all__ = ["DEFAULT_PAGE_SIZE", "STATUS_FILTER_VALUES", "FakeCall", "FakeSsmExecutions"]

# Assumption: AWS does not document the page size used when MaxResults is absent. 10, the smallest
# MaxResults the model allows, is the least forgiving choice for a caller that forgets MaxResults.
DEFAULT_PAGE_SIZE = 10

# The STATUS values the tasks and invocations APIs document as filter values: the model's
# execution statuses but SKIPPED_OVERLAPPING, which is not among them.
STATUS_FILTER_VALUES = tuple(
    status
    for status in botocore.session.get_session()
    .get_service_model("ssm")
    .shape_for("MaintenanceWindowExecutionStatus")
    .metadata["enum"]
    if status != "SKIPPED_OVERLAPPING"
)
_EXECUTED_FILTER_KEYS = ("ExecutedBefore", "ExecutedAfter")
_TARGET_PREFIX = "AmazonSSM."
_SERVER_FAULT_CODES = {"InternalServerError": 500, "ServiceUnavailable": 503}

_Client = TypeVar("_Client", bound=BaseClient)

# The fake attached to each client (weakly: a client's life is its owner's business).
_ATTACHED: weakref.WeakKeyDictionary[BaseClient, FakeSsmExecutions] = weakref.WeakKeyDictionary()
_ATTACHED_LOCK = threading.Lock()


@dataclass(frozen=True)
class FakeCall:
    """One request the fake answered, whether it succeeded, was rejected or was throttled."""

    operation: str
    params: dict[str, Any]
    error: str | None = None  # the error code the caller got, None on success


class _ApiError(Exception):
    """An error the fake returns as an AWS JSON-protocol error response."""

    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status


def _invalid(message: str) -> _ApiError:
    return _ApiError("ValidationException", message)


class FakeSsmExecutions:
    """Window executions, task executions and invocations, served through attached boto3 clients.

    `latency` seconds are slept for every answered request (outside the lock, so concurrent callers
    overlap as they would against AWS). With `empty_last_token` the last page carries
    `"NextToken": ""` (the API reference says the token is then empty) instead of no NextToken.
    """

    def __init__(self, *, latency: float = 0.0, empty_last_token: bool = False) -> None:
        self.latency = latency
        self.empty_last_token = empty_last_token
        # One lock for the store, the tokens, the records and the fault state: clients may be used
        # from several threads, and a seeded RNG is only reproducible if draws are serialised.
        self._lock = threading.Lock()
        self._windows: dict[str, dict[str, Any]] = {}  # by WindowId
        self._commands: dict[tuple[str, str], dict[str, Any]] = {}  # by (CommandId, InstanceId)
        self._executions: dict[str, dict[str, Any]] = {}  # by WindowExecutionId
        # WindowExecutionId -> TaskExecutionId -> task execution
        self._tasks: dict[str, dict[str, dict[str, Any]]] = {}
        self._invocations: dict[str, list[dict[str, Any]]] = {}  # by TaskExecutionId
        self._tokens: dict[str, tuple[str, int]] = {}  # token -> (request scope, offset)
        self._token_of: dict[tuple[str, int], str] = {}  # the reverse, so a page keeps its token
        self._calls: list[FakeCall] = []
        self._pending_faults: deque[tuple[str, str | None]] = deque()  # (code, operation)
        self._throttle_rate = 0.0
        self._rng = random.Random(0)  # noqa: S311 - reproducible fault injection, not security
        self._rate_limit: tuple[float, float] | None = None  # (requests per second, burst)
        self._bucket = 0.0  # requests the rate limit still admits now
        self._bucket_filled_at = 0.0

    # -- seeding --------------------------------------------------------------------------------

    def add_window(self, window: Mapping[str, Any]) -> None:
        """Store a `MaintenanceWindowIdentity` (WindowId required), for DescribeMaintenanceWindows.

        The fake owns the windows it lists, so that the windows and their executions agree.
        """
        item = _validated_item("MaintenanceWindowIdentity", window, ("WindowId",))
        with self._lock:
            if item["WindowId"] in self._windows:
                raise ValueError(f"window {item['WindowId']} was already added")
            self._windows[item["WindowId"]] = item

    def add_command_invocation(self, invocation: Mapping[str, Any]) -> None:
        """Store a `GetCommandInvocation` result (CommandId and InstanceId required): what Run
        Command recorded for one instance, its error output included."""
        item = _validated_item(
            "GetCommandInvocationResult", invocation, ("CommandId", "InstanceId")
        )
        with self._lock:
            self._commands[(item["CommandId"], item["InstanceId"])] = item

    def add_window_execution(self, execution: Mapping[str, Any]) -> None:
        """Store a `MaintenanceWindowExecution` (WindowId and WindowExecutionId are required).

        A window execution must be added before its task executions: the fake invents nothing.
        """
        item = _validated_item(
            "MaintenanceWindowExecution", execution, ("WindowId", "WindowExecutionId")
        )
        execution_id = item["WindowExecutionId"]
        with self._lock:
            if execution_id in self._executions:
                raise ValueError(f"window execution {execution_id} was already added")
            self._executions[execution_id] = item
            self._tasks[execution_id] = {}

    def add_task_execution(
        self, task: Mapping[str, Any], invocations: Sequence[Mapping[str, Any]] = ()
    ) -> None:
        """Store a `MaintenanceWindowExecutionTaskIdentity` and its invocations.

        `invocations` are `MaintenanceWindowExecutionTaskInvocationIdentity` dicts carrying the
        task's WindowExecutionId and TaskExecutionId; the window execution must have been added.
        """
        ids = ("WindowExecutionId", "TaskExecutionId")
        item = _validated_item("MaintenanceWindowExecutionTaskIdentity", task, ids)
        execution_id, task_id = item["WindowExecutionId"], item["TaskExecutionId"]
        rows = [
            _validated_item(
                "MaintenanceWindowExecutionTaskInvocationIdentity", row, (*ids, "InvocationId")
            )
            for row in invocations
        ]
        for row in rows:
            if (row["WindowExecutionId"], row["TaskExecutionId"]) != (execution_id, task_id):
                raise ValueError(f"invocation {row['InvocationId']} belongs to another task")
        if len({row["InvocationId"] for row in rows}) != len(rows):
            raise ValueError(f"task execution {task_id} has duplicate InvocationIds")
        with self._lock:
            if execution_id not in self._executions:
                raise ValueError(
                    f"window execution {execution_id} is unknown: call add_window_execution first"
                )
            if task_id in self._invocations:
                raise ValueError(f"task execution {task_id} was already added")
            self._tasks[execution_id][task_id] = item
            self._invocations[task_id] = rows

    # -- observation and fault injection --------------------------------------------------------

    @property
    def window_ids(self) -> set[str]:
        with self._lock:
            return set(self._windows)

    @property
    def calls(self) -> list[FakeCall]:
        """A snapshot of every request the fake answered, in order (throttled ones included)."""
        with self._lock:
            return list(self._calls)

    def throttle(self, rate: float, seed: int = 0) -> None:
        """Fail that fraction (0..1) of answered requests with ThrottlingException, reproducibly."""
        if not 0.0 <= rate <= 1.0:
            raise ValueError("rate must be between 0 and 1")
        with self._lock:
            self._throttle_rate = rate
            self._rng = random.Random(seed)  # noqa: S311 - reproducible, not security

    def rate_limit(self, per_second: float, burst: float | None = None) -> None:
        """Throttle what exceeds `per_second` requests (a token bucket of `burst`), the way SSM
        limits an account's calls to an API: a client that slows down is served again."""
        with self._lock:
            self._rate_limit = (per_second, burst or per_second)
            self._bucket, self._bucket_filled_at = burst or per_second, time.monotonic()

    def fail_next(
        self, count: int = 1, code: str = "ThrottlingException", operation: str | None = None
    ) -> None:
        """Fail the next `count` answered requests with `code` (HTTP 500 for server faults): of
        `operation` only if named (the function makes some calls at the same time, in any order)."""
        if operation is not None and operation not in _OPERATIONS:
            raise ValueError(f"the fake answers no operation {operation!r}")
        with self._lock:
            self._pending_faults.extend([(code, operation)] * count)

    # -- wiring -----------------------------------------------------------------------------------

    def attach(self, client: _Client) -> _Client:
        """Make this fake answer its operations for `client` (an SSM client); returns the client.

        Call it last, after any `moto.core.patch_client(client)`. Attaching the same fake again
        changes nothing; attaching a second fake to the client is refused.
        """
        if client.meta.service_model.service_name != "ssm":
            raise TypeError("FakeSsmExecutions can only be attached to an SSM client")
        with _ATTACHED_LOCK:
            attached = _ATTACHED.setdefault(client, self)
        if attached is not self:
            # Two dispatchers would both hand other requests to moto, which would run them twice.
            raise ValueError("another FakeSsmExecutions is already attached to this client")
        # botocore calls *every* before-send handler and uses the first non-None answer (see
        # Endpoint._do_get_response), so an exception from any handler fails the request. moto's
        # stubber (moto.core.models.botocore_stubber, put in botocore.handlers.BUILTIN_HANDLERS
        # when moto is imported, hence registered on every client of a later session) raises
        # NotImplementedError for SSM actions moto lacks, ours included. So this client gets one
        # dispatcher instead: it answers the fake's operations and hands every other request to
        # moto's stubber, which answers inside mock_aws() and returns None outside it (botocore
        # then sends the request over HTTP, as it would without the fake). The client's event
        # system is its own copy (botocore.args copies the session's), so other clients keep
        # moto as it was. Without moto loaded, requests the fake does not answer go out untouched.
        moto_stubber = _moto_stubber()
        if moto_stubber is not None:
            client.meta.events.unregister("before-send", moto_stubber)

        def dispatch(request: AWSPreparedRequest, **kwargs: Any) -> AWSResponse | None:
            response = self._answer(request)
            if response is None and moto_stubber is not None:
                delegated: AWSResponse | None = moto_stubber(request=request, **kwargs)
                return delegated
            return response

        # The stubs type handlers as returning None; before-send handlers may return a response.
        handler: Callable[..., Any] = dispatch
        client.meta.events.register_first(
            "before-send", handler, unique_id=f"{__name__}.{id(self)}"
        )
        return client

    def _answer(self, request: AWSPreparedRequest) -> AWSResponse | None:
        operation = _operation_of(request)
        handler = _OPERATIONS.get(operation)
        if handler is None:
            return None
        if self.latency > 0:
            time.sleep(self.latency)
        status, body = self._respond(operation, handler, request.body)
        return _http_response(request.url, status, body)

    def _respond(self, operation: str, handler: _Handler, body: object) -> tuple[int, bytes]:
        params: dict[str, Any] = {}
        with self._lock:
            try:
                params = _parse_body(body)
                # Throttling happens at AWS's front door, before the request is looked at.
                self._inject_fault(operation)
                _validate_request(operation, params)
                result = handler(self, params)
            except _ApiError as error:
                self._calls.append(FakeCall(operation, params, error.code))
                payload = {"__type": error.code, "message": error.message}
                return error.status, _to_json(payload)
            self._calls.append(FakeCall(operation, params))
            # Serialised under the lock, so later seeding cannot change a page being sent.
            return 200, _to_json(result)

    def _inject_fault(self, operation: str) -> None:
        throttled = (self._throttle_rate > 0 and self._rng.random() < self._throttle_rate) or (
            self._over_rate_limit()
        )
        fault = next((f for f in self._pending_faults if f[1] in (None, operation)), None)
        if fault is not None:
            self._pending_faults.remove(fault)
            code = fault[0]
        elif throttled:
            code = "ThrottlingException"
        else:
            return
        message = "Rate exceeded" if code == "ThrottlingException" else f"Injected {code}"
        raise _ApiError(code, message, _SERVER_FAULT_CODES.get(code, 400))

    def _over_rate_limit(self) -> bool:
        if self._rate_limit is None:
            return False
        per_second, burst = self._rate_limit
        now = time.monotonic()
        self._bucket = min(burst, self._bucket + (now - self._bucket_filled_at) * per_second)
        self._bucket_filled_at = now
        if self._bucket < 1:
            return True
        self._bucket -= 1
        return False

    # -- operations (called under the lock with a request that passed the model's validation) --

    def _describe_windows(self, params: dict[str, Any]) -> dict[str, Any]:
        keep = _window_filter(params.get("Filters", []))
        found = [window for window in self._windows.values() if keep(window)]
        return self._page("WindowIdentities", found, params)

    def _get_window(self, params: dict[str, Any]) -> dict[str, Any]:
        window = self._windows.get(params["WindowId"])
        if window is None:
            raise _ApiError(
                "DoesNotExistException", f"Maintenance window {params['WindowId']} does not exist"
            )
        output = _ssm_model().operation_model("GetMaintenanceWindow").output_shape
        assert output is not None  # the model defines this operation's result
        return {key: value for key, value in window.items() if key in output.members}

    def _get_window_execution(self, params: dict[str, Any]) -> dict[str, Any]:
        execution = self._executions.get(params["WindowExecutionId"])
        if execution is None:
            raise _ApiError(
                "DoesNotExistException",
                f"Maintenance window execution {params['WindowExecutionId']} does not exist",
            )
        found = {k: v for k, v in execution.items() if k != "WindowId"}
        return {**found, "TaskIds": list(self._tasks[params["WindowExecutionId"]])}

    def _get_command_invocation(self, params: dict[str, Any]) -> dict[str, Any]:
        found = self._commands.get((params["CommandId"], params["InstanceId"]))
        if found is None:
            raise _ApiError("InvocationDoesNotExist", "The command invocation does not exist")
        return found

    def _describe_executions(self, params: dict[str, Any]) -> dict[str, Any]:
        # The model lists no DoesNotExistException for this operation, and the fake only knows
        # windows through their executions: an unknown WindowId gets an empty list.
        keep = _executed_filter(params.get("Filters", []))
        found = [
            execution
            for execution in self._executions.values()
            if execution["WindowId"] == params["WindowId"] and keep(execution)
        ]
        return self._page("WindowExecutions", found, params)

    def _describe_execution_tasks(self, params: dict[str, Any]) -> dict[str, Any]:
        statuses = _status_filter(params.get("Filters", []))  # a bad request fails first
        tasks = self._tasks.get(params["WindowExecutionId"])
        if tasks is None:
            raise _ApiError(
                "DoesNotExistException",
                f"Maintenance window execution {params['WindowExecutionId']} does not exist",
            )
        found = [
            task for task in tasks.values() if statuses is None or task.get("Status") in statuses
        ]
        return self._page("WindowExecutionTaskIdentities", found, params)

    def _describe_execution_task_invocations(self, params: dict[str, Any]) -> dict[str, Any]:
        statuses = _status_filter(params.get("Filters", []))
        # TaskId is the task *execution* ID, and it must belong to that window execution.
        if params["TaskId"] not in self._tasks.get(params["WindowExecutionId"], {}):
            raise _ApiError(
                "DoesNotExistException",
                f"Maintenance window task execution {params['TaskId']} of window execution "
                f"{params['WindowExecutionId']} does not exist",
            )
        found = [
            row
            for row in self._invocations[params["TaskId"]]
            if statuses is None or row.get("Status") in statuses
        ]
        return self._page("WindowExecutionTaskInvocationIdentities", found, params)

    def _page(
        self, key: str, items: list[dict[str, Any]], params: dict[str, Any]
    ) -> dict[str, Any]:
        """One page of `items` (already filtered) as the response member `key`, with NextToken."""
        # A token is valid only for the request that produced it (MaxResults may change).
        scope = json.dumps(
            [key, {k: v for k, v in params.items() if k not in ("NextToken", "MaxResults")}],
            sort_keys=True,
        )
        start = 0
        if "NextToken" in params:
            issued = self._tokens.get(params["NextToken"])
            if issued is None or issued[0] != scope:
                # Also catches a caller that sends back the empty last-page token.
                raise _invalid("The NextToken is not valid for this request")
            start = issued[1]
        end = start + params.get("MaxResults", DEFAULT_PAGE_SIZE)
        page: dict[str, Any] = {key: items[start:end]}
        if end < len(items):
            page["NextToken"] = self._token(scope, end)
        elif self.empty_last_token:
            page["NextToken"] = ""
        return page

    def _token(self, scope: str, offset: int) -> str:
        token = self._token_of.get((scope, offset))
        if token is None:
            token = uuid.uuid4().hex  # opaque: callers must not read meaning into it
            self._token_of[(scope, offset)] = token
            self._tokens[token] = (scope, offset)
        return token


_Handler = Callable[[FakeSsmExecutions, dict[str, Any]], dict[str, Any]]

# Operation name (the X-Amz-Target suffix) -> handler. Anything else is not the fake's to answer.
_OPERATIONS: dict[str, _Handler] = {
    "DescribeMaintenanceWindows": FakeSsmExecutions._describe_windows,
    "GetMaintenanceWindow": FakeSsmExecutions._get_window,
    "GetMaintenanceWindowExecution": FakeSsmExecutions._get_window_execution,
    "GetCommandInvocation": FakeSsmExecutions._get_command_invocation,
    "DescribeMaintenanceWindowExecutions": FakeSsmExecutions._describe_executions,
    "DescribeMaintenanceWindowExecutionTasks": FakeSsmExecutions._describe_execution_tasks,
    "DescribeMaintenanceWindowExecutionTaskInvocations": (
        FakeSsmExecutions._describe_execution_task_invocations
    ),
}


# -- semantic rules of the operations ----------------------------------------------------------


def _status_filter(filters: list[dict[str, Any]]) -> set[str] | None:
    """The statuses the STATUS filters allow (several filters narrow), None without filters."""
    allowed: set[str] | None = None
    for entry in filters:
        key, values = entry.get("Key"), entry.get("Values") or []
        if key != "STATUS":
            raise _invalid(f"Invalid filter key {key!r}: the supported key is STATUS")
        unknown = sorted(set(values) - set(STATUS_FILTER_VALUES))
        if not values or unknown:
            raise _invalid(
                f"Invalid STATUS filter values {values}: supported values are "
                + ", ".join(STATUS_FILTER_VALUES)
            )
        allowed = set(values) if allowed is None else allowed & set(values)
    return allowed


def _window_filter(filters: list[dict[str, Any]]) -> Callable[[Mapping[str, Any]], bool]:
    """A predicate for DescribeMaintenanceWindows' filters: Name, and Enabled ("true"/"false")."""
    wanted: dict[str, set[str]] = {}
    for entry in filters:
        key, values = entry.get("Key"), entry.get("Values") or []
        if key not in ("Name", "Enabled"):
            raise _invalid(f"Invalid filter key {key!r}: supported keys are Name, Enabled")
        if not values:
            raise _invalid(f"Filter {key} needs a value")
        wanted[key] = set(values)

    def keep(window: Mapping[str, Any]) -> bool:
        name_ok = "Name" not in wanted or window.get("Name") in wanted["Name"]
        enabled = str(window.get("Enabled", False)).lower()
        return name_ok and ("Enabled" not in wanted or enabled in wanted["Enabled"])

    return keep


def _executed_filter(filters: list[dict[str, Any]]) -> Callable[[Mapping[str, Any]], bool]:
    """A predicate on StartTime for the ExecutedBefore/ExecutedAfter filters.

    Assumption: AWS says neither which time the filters compare nor whether the bounds are
    inclusive; here it is StartTime, both bounds are inclusive, and an execution without a
    StartTime matches no time filter.
    """
    after: list[datetime] = []
    before: list[datetime] = []
    for entry in filters:
        key, values = entry.get("Key"), entry.get("Values") or []
        if key not in _EXECUTED_FILTER_KEYS:
            raise _invalid(
                f"Invalid filter key {key!r}: supported keys are ExecutedBefore, ExecutedAfter"
            )
        if not values:
            raise _invalid(f"Filter {key} needs a value")
        (before if key == "ExecutedBefore" else after).extend(_iso8601(v) for v in values)

    def keep(execution: Mapping[str, Any]) -> bool:
        if not (after or before):
            return True
        start = execution.get("StartTime")
        if start is None:
            return False
        return all(start >= bound for bound in after) and all(start <= bound for bound in before)

    return keep


def _iso8601(value: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise _invalid(f"Filter value {value!r} is not an ISO-8601 date/time") from None
    # A value without an offset is read as UTC, the zone AWS timestamps are in.
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


# -- validation against botocore's service model -----------------------------------------------


@functools.cache
def _ssm_model() -> ServiceModel:
    # Loaded from the installed botocore's data, like the clients': the fake accepts what it sends.
    return botocore.session.get_session().get_service_model("ssm")


def _validate_request(operation: str, params: dict[str, Any]) -> None:
    problems: list[str] = []
    input_shape = _ssm_model().operation_model(operation).input_shape
    if input_shape is not None:
        _check(input_shape, params, "", problems, wire=True)
    if problems:
        count = len(problems)
        raise _invalid(
            f"{count} validation error{'s' if count > 1 else ''} detected: " + "; ".join(problems)
        )


def _validated_item(
    shape_name: str, item: Mapping[str, Any], required: Sequence[str]
) -> dict[str, Any]:
    """A private copy of a seeded item, which must be a valid instance of the output shape."""
    problems = [f"{shape_name}.{name} is required" for name in required if item.get(name) is None]
    _check(_ssm_model().shape_for(shape_name), item, shape_name, problems, wire=False)
    if problems:
        raise ValueError(f"invalid {shape_name}: " + "; ".join(problems))
    return copy.deepcopy(dict(item))


def _check(shape: Shape, value: Any, path: str, problems: list[str], *, wire: bool) -> None:
    """Append to `problems` what makes `value` an invalid instance of `shape`.

    `wire` selects the request form (JSON types, AWS's camelCase member paths) over the seeded
    form (datetimes for timestamps, the model's member names).
    """
    if isinstance(shape, StructureShape) and isinstance(value, Mapping):
        for name in shape.required_members:
            if value.get(name) is None:
                problems.append(
                    f"Value null at '{_member_path(path, name, wire)}' failed to satisfy "
                    "constraint: Member must not be null"
                )
        for name, member_value in value.items():
            member_path = _member_path(path, name, wire)
            if name not in shape.members:
                problems.append(f"Unknown member '{member_path}': {shape.name} has no {name}")
            elif member_value is not None:  # JSON null means absent
                _check(shape.members[name], member_value, member_path, problems, wire=wire)
        return
    if isinstance(shape, ListShape) and isinstance(value, list):
        for index, item in enumerate(value):
            item_path = f"{path}.{index + 1}.member" if wire else f"{path}[{index}]"
            _check(shape.member, item, item_path, problems, wire=wire)
    elif isinstance(shape, MapShape) and isinstance(value, Mapping):
        for key, item in value.items():
            _check(shape.key, key, f"{path}.key", problems, wire=wire)
            _check(shape.value, item, f"{path}.{key}", problems, wire=wire)
    problems.extend(
        f"Value '{value}' at '{path}' failed to satisfy constraint: Member must {violation}"
        for violation in _violations(shape, value, wire=wire)
    )


def _violations(shape: Shape, value: Any, *, wire: bool) -> list[str]:
    """The constraints of `shape` itself (type, length or range, pattern, enum) `value` breaks."""
    kind = shape.type_name
    # A naive datetime would be read in the local zone, a silent shift: seeded ones need a zone.
    if kind == "timestamp" and not wire:
        aware = isinstance(value, datetime) and value.tzinfo is not None
        return [] if aware else ["be a timezone-aware datetime"]
    if not _has_wire_type(value, kind):
        return [f"be of type {kind}"]
    meta = shape.metadata
    sized = kind in ("string", "list", "map", "blob")
    measure = len(value) if sized else value
    what = "have length" if sized else "have value"
    violations = []
    if "min" in meta and measure < meta["min"]:
        violations.append(f"{what} greater than or equal to {meta['min']}")
    if "max" in meta and measure > meta["max"]:
        violations.append(f"{what} less than or equal to {meta['max']}")
    if "pattern" in meta and not _matches(meta["pattern"], value):
        violations.append(f"satisfy regular expression pattern: {meta['pattern']}")
    if meta.get("enum") and value not in meta["enum"]:
        violations.append(f"satisfy enum value set: [{', '.join(meta['enum'])}]")
    return violations


def _has_wire_type(value: Any, kind: str) -> bool:
    # bool is an int to Python, but not to the model.
    if isinstance(value, bool) and kind != "boolean":
        return False
    return isinstance(value, _WIRE_TYPES.get(kind, object))


# The Python types JSON decoding yields for each model type (timestamps: epoch seconds or text).
_WIRE_TYPES: dict[str, type | tuple[type, ...]] = {
    "structure": Mapping,
    "list": list,
    "map": Mapping,
    "string": str,
    "blob": (str, bytes),
    "boolean": bool,
    "integer": int,
    "long": int,
    "float": (int, float),
    "double": (int, float),
    "timestamp": (int, float, str),
}


def _member_path(path: str, name: str, wire: bool) -> str:
    if not wire:
        return f"{path}.{name}"
    # AWS names members in camelCase in its validation messages ('maxResults').
    name = name[:1].lower() + name[1:]
    return f"{path}.{name}" if path else name


@functools.cache
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


def _matches(pattern: str, value: str) -> bool:
    match = _compiled(pattern).search(value)
    # Python's `$` also matches before a final newline, the model's (ECMAScript) `$` does not.
    return match is not None and (not pattern.endswith("$") or match.end() == len(value))


# -- the wire ----------------------------------------------------------------------------------


def _moto_stubber() -> Callable[..., Any] | None:
    # Looked up, not imported: the demo and benchmark run without moto, and if moto was never
    # imported no client can have its stubber.
    models = sys.modules.get("moto.core.models")
    stubber: Callable[..., Any] | None = getattr(models, "botocore_stubber", None)
    return stubber


def _operation_of(request: AWSPreparedRequest) -> str:
    """The operation named by the X-Amz-Target header, "" for a request not meant for SSM."""
    target = request.headers.get("X-Amz-Target")
    if isinstance(target, bytes):
        target = target.decode("ascii", "replace")
    if not isinstance(target, str) or not target.startswith(_TARGET_PREFIX):
        return ""
    return target[len(_TARGET_PREFIX) :]


def _parse_body(body: object) -> dict[str, Any]:
    if isinstance(body, bytes | bytearray):
        body = bytes(body).decode("utf-8", "replace")
    if body is None or body == "":
        return {}
    try:
        params = json.loads(body) if isinstance(body, str) else None
    except ValueError:
        params = None
    if not isinstance(params, dict):
        raise _ApiError("SerializationException", "The request body is not a JSON object")
    # A JSON null member means the member is absent.
    return {name: value for name, value in params.items() if value is not None}


def _to_json(payload: Mapping[str, Any]) -> bytes:
    return json.dumps(payload, default=_epoch_seconds).encode()


def _epoch_seconds(value: object) -> float:
    # The JSON protocol carries timestamps as epoch seconds; botocore's parser makes datetimes.
    if isinstance(value, datetime):
        return value.timestamp()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


class _RawBody(BytesIO):
    """The raw HTTP body botocore reads: AWSResponse.content joins what stream() yields."""

    def stream(self, **kwargs: Any) -> Iterator[bytes]:
        chunk = self.read()
        while chunk:
            yield chunk
            chunk = self.read()


def _http_response(url: str, status: int, body: bytes) -> AWSResponse:
    headers = HTTPHeaders()
    headers["x-amzn-RequestId"] = str(uuid.uuid4())
    headers["Content-Type"] = "application/x-amz-json-1.1"
    headers["Content-Length"] = str(len(body))
    headers["Date"] = formatdate(usegmt=True)
    return AWSResponse(url, status, headers, _RawBody(body))
