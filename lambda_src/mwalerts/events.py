"""The EventBridge event this function consumes, as Powertools parser (Pydantic) models."""

from typing import Annotated, Any, Literal

from aws_lambda_powertools.utilities.parser import parse
from aws_lambda_powertools.utilities.parser.models import EventBridgeModel
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from mwalerts import names
from mwalerts.errors import InvalidEventError

WindowId = Annotated[str, StringConstraints(pattern=names.WINDOW_ID_PATTERN)]
ExecutionId = Annotated[str, StringConstraints(pattern=names.EXECUTION_ID_PATTERN)]


class WindowExecutionDetail(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    window_id: WindowId = Field(alias="window-id")
    window_execution_id: ExecutionId = Field(alias="window-execution-id")
    status: names.Status
    start_time: AwareDatetime = Field(alias="start-time")
    # SSM sends end-time with terminal statuses; it is optional so that a missing one costs only
    # the duration metric, not the alert.
    end_time: AwareDatetime | None = Field(default=None, alias="end-time")


class WindowExecutionEvent(EventBridgeModel):
    source: Literal["aws.ssm"]
    detail_type: Literal["Maintenance Window Execution State-change Notification"] = Field(
        alias="detail-type"
    )
    account: Annotated[str, StringConstraints(pattern=r"^\d{12}$")]
    region: Annotated[str, StringConstraints(pattern=r"^[a-z]{2}(-[a-z]+)+-\d$")]
    detail: WindowExecutionDetail

    @property
    def is_terminal(self) -> bool:
        return self.detail.status in names.TERMINAL_STATUSES


def parse_window_execution_event(raw: Any) -> WindowExecutionEvent:
    """Validate a raw event; raise InvalidEventError naming every field that is wrong."""
    if not isinstance(raw, dict):
        raise InvalidEventError(f"event must be a JSON object, got {type(raw).__name__}")
    try:
        return parse(event=raw, model=WindowExecutionEvent)
    except ValidationError as exc:
        raise InvalidEventError(describe_validation_error(exc)) from None


def describe_validation_error(exc: ValidationError) -> str:
    """One line per problem, e.g. "detail.window-id: String should match pattern ..."."""
    problems = []
    for error in exc.errors(include_url=False):
        location = ".".join(str(part) for part in error["loc"]) or "event"
        problems.append(f"{location}: {error['msg']}{_received(error.get('input'))}")
    return "invalid maintenance-window execution event: " + "; ".join(problems)


def _received(value: Any) -> str:
    # Short scalar inputs help an operator see what was sent; anything larger is left out of logs.
    if isinstance(value, str | int | float | bool) and len(str(value)) <= 80:
        return f" (got {value!r})"
    return ""
