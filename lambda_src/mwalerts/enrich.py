"""Details that explain a failure: the window's name, and the failed commands' error output.

Every call here is bounded and best effort: at most one GetMaintenanceWindow per window per
container, and at most `limit` GetCommandInvocation per window execution; if one fails, the
alert goes out without that detail rather than late or not at all.
"""

import weakref
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from aws_lambda_powertools import Logger
from botocore.exceptions import BotoCoreError, ClientError

from mwalerts import contract
from mwalerts.model import Mapper
from mwalerts.redact import redact
from mwalerts.tally import Failure, unicode_text

if TYPE_CHECKING:
    from mypy_boto3_ssm import SSMClient

logger = Logger(service=contract.SERVICE_NAME, child=True)

# The end of the error output is where a command says why it failed.
ERROR_TAIL_CHARS = 400


@dataclass(frozen=True)
class WindowInfo:
    name: str | None = None
    description: str | None = None


@dataclass(frozen=True)
class CommandOutput:
    response_code: int | None
    error_tail: str | None  # redacted


@dataclass(frozen=True)
class Enrichment:
    window: WindowInfo = WindowInfo()
    commands: Mapping[str, CommandOutput] = field(default_factory=dict)  # by invocation ID
    log_group: str | None = None


# Per container, per client: a window's name changes rarely, and the container lives minutes.
_windows: "weakref.WeakKeyDictionary[SSMClient, dict[str, WindowInfo]]" = (
    weakref.WeakKeyDictionary()
)


def window_info(ssm: "SSMClient", window_id: str) -> WindowInfo:
    known = _windows.setdefault(ssm, {})
    if window_id not in known:
        try:
            window = ssm.get_maintenance_window(WindowId=window_id)
        except (BotoCoreError, ClientError) as error:
            logger.warning("No window name for the alert", extra={"reason": str(error)})
            return WindowInfo()  # not cached: the next execution tries again
        known[window_id] = WindowInfo(
            unicode_text(window.get("Name")), unicode_text(window.get("Description"))
        )
    return known[window_id]


def command_outputs(
    ssm: "SSMClient",
    failures: Sequence[Failure],
    limit: int,
    run: "Mapper[Failure, CommandOutput | None]" = map,
) -> dict[str, CommandOutput]:
    """Response code and redacted error tail of the first `limit` failed Run Command invocations
    (read at the same time when `run` is a thread pool's map)."""
    picked = [
        f for f in failures if f.task_type == "RUN_COMMAND" and f.execution_id and f.instance_ids
    ][:limit]

    def read(failure: Failure) -> CommandOutput | None:
        try:
            output = ssm.get_command_invocation(
                CommandId=failure.execution_id or "", InstanceId=failure.instance_ids[0]
            )
        except (BotoCoreError, ClientError) as error:
            logger.warning(
                "No command output for the alert",
                extra={"invocationId": failure.invocation_id, "reason": str(error)},
            )
            return None
        text = output.get("StandardErrorContent") or output.get("StandardOutputContent") or ""
        # Redacted whole, then cut: a secret must not survive half in the tail.
        tail = redact(unicode_text(text) or "", failure.sensitive).strip()[-ERROR_TAIL_CHARS:]
        return CommandOutput(output.get("ResponseCode"), tail or None)

    return {
        failure.invocation_id: output
        for failure, output in zip(picked, run(read, picked), strict=True)
        if output is not None
    }
