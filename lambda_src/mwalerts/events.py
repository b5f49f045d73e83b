"""The EventBridge events this function consumes, as Powertools parser (Pydantic) models:
SSM's window execution state changes, and the schedule that runs the reconciliation sweep."""

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


def parse_event(raw: Any) -> WindowExecutionEvent | ScheduledEvent:
    """Validate a raw event; raise InvalidEventError naming every field that is wrong."""
    if not isinstance(raw, dict):
        raise InvalidEventError(f"event must be a JSON object, got {type(raw).__name__}")
    # The source picks the model, so a malformed event is reported against what it claims to be.
    model: type[WindowExecutionEvent | ScheduledEvent] = (
        ScheduledEvent if raw.get("source") == contract.SCHEDULE_SOURCE else WindowExecutionEvent
    )
    try:
        return parse(event=raw, model=model)
    except ValidationError as exc:
        raise InvalidEventError(describe_validation_error(exc, model)) from None


def describe_validation_error(
    exc: ValidationError, model: type[EventBridgeModel] = WindowExecutionEvent
) -> str:
    """One line per problem, e.g. "detail.window-id: String should match pattern ..."."""
    problems = []
    for error in exc.errors(include_url=False):
        location = ".".join(str(part) for part in error["loc"]) or "event"
        problems.append(f"{location}: {error['msg']}{_received(error.get('input'))}")
    kind = "schedule" if model is ScheduledEvent else "maintenance-window execution"
    return f"invalid {kind} event: " + "; ".join(problems)


def _received(value: Any) -> str:
    # Short scalar inputs help an operator see what was sent; anything larger is left out of logs.
    if isinstance(value, str | int | float | bool) and len(str(value)) <= 80:
        return f" (got {value!r})"
    return ""
