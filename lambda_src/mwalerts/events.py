"""The EventBridge events this function consumes, as Powertools parser (Pydantic) models:
SSM's window execution state changes, and the schedule that runs the reconciliation sweep; the
self-test event, which only a direct invocation brings; and in organization mode the sweep
queue's messages, one account-region each, which an SQS event source mapping brings in batches."""

from typing import Annotated, Any, Literal

from aws_lambda_powertools.utilities.parser import parse
from aws_lambda_powertools.utilities.parser.models import EventBridgeModel
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from mwalerts import contract
from mwalerts.errors import InvalidEventError
from mwalerts.model import WindowExecution

WindowId = Annotated[str, StringConstraints(pattern=contract.WINDOW_ID_PATTERN)]
ExecutionId = Annotated[str, StringConstraints(pattern=contract.EXECUTION_ID_PATTERN)]
AccountId = Annotated[str, StringConstraints(pattern=contract.ACCOUNT_ID_PATTERN)]
Region = Annotated[str, StringConstraints(pattern=contract.REGION_PATTERN)]
# A UUID (with or without hyphens) or a similar short token: it goes into a DynamoDB key, a
# message and a log line, so nothing else is accepted.
SelfTestId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9-]{1,64}$")]


class WindowExecutionDetail(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    window_id: WindowId = Field(alias="window-id")
    window_execution_id: ExecutionId = Field(alias="window-execution-id")
    status: contract.Status
    start_time: AwareDatetime = Field(alias="start-time")
    # SSM sends end-time with terminal statuses; it is optional so that a missing one costs only
    # the duration metric, not the alert.
    end_time: AwareDatetime | None = Field(default=None, alias="end-time")


class WindowExecutionEvent(EventBridgeModel):
    source: Literal["aws.ssm"]
    detail_type: Literal["Maintenance Window Execution State-change Notification"] = Field(
        alias="detail-type"
    )
    account: AccountId
    region: Region
    detail: WindowExecutionDetail

    @property
    def execution(self) -> WindowExecution:
        detail = self.detail
        return WindowExecution(
            account=self.account,
            region=self.region,
            window_id=detail.window_id,
            window_execution_id=detail.window_execution_id,
            status=detail.status,
            start_time=detail.start_time,
            end_time=detail.end_time,
        )


class ScheduledEvent(EventBridgeModel):
    """The sweep's schedule: account and region say where to sweep, time when."""

    source: Literal["aws.events"]
    detail_type: Literal["Scheduled Event"] = Field(alias="detail-type")
    account: AccountId
    region: Region
    time: AwareDatetime


class SelfTestDetail(BaseModel):
    id: SelfTestId


class SelfTestEvent(BaseModel):
    """`mwalerts selftest` or the deploy-time check: prove the function's hops (mwalerts.self_test).
    Not an EventBridge envelope: the invoker sends source, detail-type and detail only."""

    source: Literal["maintenance-window-alerts.self-test"]
    detail_type: Literal["Self-test"] = Field(alias="detail-type")
    detail: SelfTestDetail


class SweepPlaceMessage(BaseModel):
    """Organization mode: one account-region of a sweep, a message of the sweep queue
    (mwalerts.sweep_fanout sends them)."""

    model_config = ConfigDict(frozen=True)

    sweep: Annotated[str, StringConstraints(min_length=1, max_length=64)]  # the sweep's ID
    account: AccountId
    region: Region
    since: AwareDatetime  # the look-back's start


SQS_EVENT_SOURCE = "aws:sqs"


def is_sqs_batch(raw: Any) -> bool:
    """An event source mapping's SQS event: {"Records": [{"eventSource": "aws:sqs", ...}]}."""
    if not isinstance(raw, dict) or not isinstance(raw.get("Records"), list) or not raw["Records"]:
        return False
    first = raw["Records"][0]
    return isinstance(first, dict) and first.get("eventSource") == SQS_EVENT_SOURCE


def parse_sweep_message(body: str) -> SweepPlaceMessage:
    """A sweep queue message's body; InvalidEventError naming every field that is wrong."""
    try:
        return SweepPlaceMessage.model_validate_json(body)
    except ValidationError as exc:
        raise InvalidEventError(describe_validation_error(exc, SweepPlaceMessage)) from None


EventBridgeEvent = WindowExecutionEvent | ScheduledEvent
_KINDS: dict[type[BaseModel], str] = {
    ScheduledEvent: "schedule",
    SelfTestEvent: "self-test",
    SweepPlaceMessage: "sweep queue message",
}


def parse_invocation_event(raw: Any) -> EventBridgeEvent | SelfTestEvent:
    """What the function was invoked with: an EventBridge event (`parse_event`), or the
    self-test event; InvalidEventError naming every field that is wrong."""
    if isinstance(raw, dict) and raw.get("source") == contract.SELF_TEST_SOURCE:
        try:
            return parse(event=raw, model=SelfTestEvent)
        except ValidationError as exc:
            raise InvalidEventError(describe_validation_error(exc, SelfTestEvent)) from None
    return parse_event(raw)


def parse_event(raw: Any) -> EventBridgeEvent:
    """Validate a raw EventBridge event; raise InvalidEventError naming every field that is
    wrong."""
    if not isinstance(raw, dict):
        raise InvalidEventError(f"event must be a JSON object, got {type(raw).__name__}")
    # The source picks the model, so a malformed event is reported against what it claims to be.
    model: type[EventBridgeEvent] = (
        ScheduledEvent if raw.get("source") == contract.SCHEDULE_SOURCE else WindowExecutionEvent
    )
    try:
        return parse(event=raw, model=model)
    except ValidationError as exc:
        raise InvalidEventError(describe_validation_error(exc, model)) from None


def describe_validation_error(
    exc: ValidationError, model: type[BaseModel] = WindowExecutionEvent
) -> str:
    """One line per problem, e.g. "detail.window-id: String should match pattern ..."."""
    problems = []
    for error in exc.errors(include_url=False):
        location = ".".join(str(part) for part in error["loc"]) or "event"
        problems.append(f"{location}: {error['msg']}{_received(error.get('input'))}")
    kind = _KINDS.get(model, "maintenance-window execution")
    return f"invalid {kind} event: " + "; ".join(problems)


def _received(value: Any) -> str:
    # Short scalar inputs help an operator see what was sent; anything larger is left out of logs.
    if isinstance(value, str | int | float | bool) and len(str(value)) <= 80:
        return f" (got {value!r})"
    return ""
