"""The alert for one window execution: JSON digest, email text, subject and attributes. Pure."""

import json
import re
import unicodedata
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from mwalerts import names
from mwalerts.model import WindowExecution
from mwalerts.tally import ExecutionReport, Failure, unicode_text

SNS_MAX_MESSAGE_BYTES = 262_144  # the whole publish: message, subject and attributes
SNS_MAX_SUBJECT_CHARS = 99  # "less than 100 characters"
EMAIL_FAILURE_LINES = 20  # a person reads the first few; the digest and the logs carry the rest
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]+")


@dataclass(frozen=True)
class Alert:
    subject: str
    message: str  # a MessageStructure=json document: one body per protocol
    attributes: Mapping[str, Mapping[str, str]]
    digest: Mapping[str, Any]

    @property
    def size(self) -> int:
        """Bytes SNS counts against its limit: message, subject and message attributes."""
        attributes = sum(
            len(name) + len(value["DataType"]) + len(value["StringValue"])
            for name, value in self.attributes.items()
        )
        return len(self.message.encode()) + len(self.subject.encode()) + attributes


def should_alert(
    window_status: str, report: ExecutionReport, alert_statuses: Collection[str]
) -> bool:
    return report.failure_count > 0 or window_status in alert_statuses


def render_alert(execution: WindowExecution, report: ExecutionReport) -> Alert:
    """The alert with as many failures as fit in one SNS message; counts are always complete."""
    kept = report.failures

    def with_failures(count: int) -> Alert:
        return assemble_alert(execution, report, kept[:count])

    # Binary search for the largest prefix of the kept failures that fits.
    low, high = 0, len(kept)
    if with_failures(high).size > SNS_MAX_MESSAGE_BYTES:
        while low < high:
            middle = (low + high + 1) // 2
            if with_failures(middle).size <= SNS_MAX_MESSAGE_BYTES:
                low = middle
            else:
                high = middle - 1
    return with_failures(high)


def assemble_alert(
    execution: WindowExecution, report: ExecutionReport, failures: Sequence[Failure]
) -> Alert:
    digest = build_digest(execution, report, failures)
    body = {
        "default": json.dumps(digest, separators=(",", ":")),
        "email": render_email(digest),
    }
    return Alert(
        subject=render_subject(digest),
        message=json.dumps(body),
        attributes={
            names.ATTRIBUTE_WINDOW_ID: _string(digest["windowId"]),
            names.ATTRIBUTE_STATUS: _string(digest["status"]),
            names.ATTRIBUTE_FAILED_INVOCATIONS: {
                "DataType": "Number",
                "StringValue": str(report.failure_count),
            },
        },
        digest=digest,
    )


def build_digest(
    execution: WindowExecution, report: ExecutionReport, failures: Sequence[Failure]
) -> dict[str, Any]:
    return {
        "schemaVersion": names.DIGEST_SCHEMA_VERSION,
        "account": execution.account,
        "region": execution.region,
        "windowId": execution.window_id,
        "windowExecutionId": execution.window_execution_id,
        "status": execution.status,
        "startTime": iso(execution.start_time),
        "endTime": iso(execution.end_time),
        "totalInvocations": report.total_invocations,
        "failedInvocations": report.failure_count,
        "counts": ordered_counts(report.counts),
        "tasks": [
            {
                "taskExecutionId": task.task_execution_id,
                "taskArn": task.task_arn,
                "taskType": task.task_type,
                "status": task.status,
                "counts": ordered_counts(task.counts),
            }
            for task in report.tasks
        ],
        "failures": [failure_record(failure) for failure in failures],
        "omittedFailures": report.failure_count - len(failures),
    }


def failure_record(failure: Failure) -> dict[str, Any]:
    """A failure as the digest and the logs show it."""
    return {
        "taskExecutionId": failure.task_execution_id,
        "invocationId": failure.invocation_id,
        "executionId": failure.execution_id,
        "windowTargetId": failure.window_target_id,
        "status": failure.status,
        "statusDetails": failure.status_details,
        "ownerInformation": failure.owner_information,
        "instanceIds": list(failure.instance_ids),
        "startTime": iso(failure.start_time),
        "endTime": iso(failure.end_time),
    }


def render_subject(digest: Mapping[str, Any]) -> str:
    return subject_line(
        f"[{digest['status']}] {digest['windowId']}: "
        f"{digest['failedInvocations']} of {digest['totalInvocations']} invocations failed"
    )


def render_email(digest: Mapping[str, Any]) -> str:
    """Plain text a person takes in at a glance: what ran, how it ended, which targets failed."""
    lines = [
        f"Maintenance window {digest['windowId']} ended {digest['status']}.",
        "",
        f"Window execution  {digest['windowExecutionId']}",
        f"Account / region  {digest['account']} / {digest['region']}",
        f"Ran               {_when(digest['startTime'], digest['endTime'])}",
        f"Invocations       {digest['failedInvocations']} of {digest['totalInvocations']} failed"
        + (f" ({_count_list(digest['counts'])})" if digest["counts"] else ""),
        "",
        f"Tasks ({len(digest['tasks'])})",
    ]
    for task in digest["tasks"]:
        counts = _count_list(task["counts"]) or "no invocations"
        lines.append(
            f"  {task['status'] or '-':<11} {task['taskType'] or '-':<14} "
            f"{clean_text(task['taskArn'] or '-', 60)}: {counts}"
        )
    failures = digest["failures"]
    shown = failures[:EMAIL_FAILURE_LINES]
    if digest["failedInvocations"]:
        lines += ["", f"Failed targets (showing {len(shown)} of {digest['failedInvocations']})"]
        for failure in shown:
            # Instance IDs for Run Command; otherwise the execution ID (what the Automation,
            # Step Functions or Lambda console shows), else the window target.
            target = clean_text(
                " ".join(failure["instanceIds"])
                or failure["executionId"]
                or failure["windowTargetId"]
                or "-",
                60,
            )
            details = clean_text(failure["statusDetails"] or "", 120)
            owner = clean_text(failure["ownerInformation"] or "", 60)
            lines.append(
                f"  {target:<20} {failure['status']:<10} {details}"
                + (f" [owner: {owner}]" if owner else "")
            )
        if digest["failedInvocations"] > len(shown):
            lines.append(
                f"  ... and {digest['failedInvocations'] - len(shown)} more: the JSON digest lists "
                f"{len(failures)}, and every failure is in CloudWatch Logs under correlation ID "
                f"{digest['windowExecutionId']}."
            )
    return "\n".join(lines) + "\n"


def ordered_counts(counts: Mapping[str, int]) -> dict[str, int]:
    """Counts in the API's status order (unknown statuses last), zeros left out."""
    rank = {status: index for index, status in enumerate(names.ALL_STATUSES)}
    ordered = sorted(counts.items(), key=lambda item: (rank.get(item[0], len(rank)), item[0]))
    return {status: count for status, count in ordered if count}


def iso(moment: datetime | None) -> str | None:
    """ISO 8601 in UTC with a Z, to the millisecond; None stays None."""
    if moment is None:
        return None
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def clean_text(text: str, limit: int) -> str:
    """Text from the API made safe for one line of a message: no control characters or line
    breaks, no unpaired surrogates, at most `limit` characters."""
    text = " ".join(_CONTROL.sub(" ", unicode_text(text) or "").split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def subject_line(text: str) -> str:
    """SNS's Subject rules: ASCII, no line breaks or control characters, under 100 characters."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return clean_text(ascii_text, SNS_MAX_SUBJECT_CHARS) or "Maintenance window alert"


def _string(value: str) -> dict[str, str]:
    return {"DataType": "String", "StringValue": value}


def _count_list(counts: Mapping[str, int]) -> str:
    return ", ".join(f"{count} {status}" for status, count in counts.items())


def _when(start: str | None, end: str | None) -> str:
    if not start:
        return "-"
    began = datetime.fromisoformat(start)
    text = f"{began:%Y-%m-%d %H:%M:%S} UTC"
    if end:
        ended = datetime.fromisoformat(end)
        seconds = max(0, int((ended - began).total_seconds()))
        shown = (
            f"{ended:%H:%M:%S}" if ended.date() == began.date() else f"{ended:%Y-%m-%d %H:%M:%S}"
        )
        text += f" to {shown} UTC ({seconds // 60}m {seconds % 60:02d}s)"
    return text
