"""The window execution this product alerts on (found by an event or by the sweep), and what
handling it did."""

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal, TypeVar

from mwalerts import contract

_Item = TypeVar("_Item")
_Result = TypeVar("_Result")
# Something that maps a function over items, in order: `map`, or a thread pool's `map`.
Mapper = Callable[[Callable[[_Item], _Result], Iterable[_Item]], Iterable[_Result]]


@dataclass(frozen=True)
class WindowExecution:
    account: str
    region: str
    window_id: str
    window_execution_id: str
    status: str
    start_time: datetime | None
    end_time: datetime | None

    @classmethod
    def described(
        cls, item: Mapping[str, Any], *, account: str, region: str, window_id: str
    ) -> "WindowExecution":
        """An execution as SSM describes it (DescribeMaintenanceWindowExecutions,
        GetMaintenanceWindowExecution), with what the description leaves out."""
        return cls(
            account=account,
            region=region,
            window_id=window_id,
            window_execution_id=item["WindowExecutionId"],
            status=item.get("Status", "UNKNOWN"),
            start_time=item.get("StartTime"),
            end_time=item.get("EndTime"),
        )

    @property
    def is_terminal(self) -> bool:
        return self.status in contract.TERMINAL_STATUSES

    @property
    def duration_seconds(self) -> float | None:
        if self.start_time is None or self.end_time is None:
            return None
        return max((self.end_time - self.start_time).total_seconds(), 0.0)


@dataclass(frozen=True)
class Outcome:
    """What handling one window execution did; stored in its idempotency record."""

    # suppressed: failing, but every failure a known streak of a window that repeats alerts only
    # on change; resolved: ran clean after failing, and the resolved notice was published.
    action: Literal[
        "ignored", "alerted", "suppressed", "resolved", "all-clear", "in-progress-elsewhere"
    ]
    window_execution_id: str
    status: str
    total_invocations: int = 0
    failed_invocations: int = 0
    message_id: str | None = None  # the alert's, or the resolved notice's
    chat_message_id: str | None = None  # the chat notification, when sent to its own topic
    replayed: bool = False  # True: an earlier delivery did the work; this is its stored outcome


def iso(moment: datetime | None) -> str | None:
    """ISO 8601 in UTC with a Z, to the millisecond; None stays None."""
    if moment is None:
        return None
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
