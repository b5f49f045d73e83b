"""The alert for one window execution: JSON digest, email text, subject and attributes. Pure:
the details that need AWS calls (window name, command output) arrive as an `Enrichment`, the
failing targets' history as a `StreakView` (mwalerts.streaks)."""

import json
import re
import unicodedata
from collections import Counter
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from mwalerts import alert_streaks, contract, links
from mwalerts.alert_streaks import lead_line, new_first, subject_suffix, target_suffix
from mwalerts.chat import chat_notification
from mwalerts.enrich import CommandOutput, Enrichment
from mwalerts.model import WindowExecution, iso
from mwalerts.streaks import StreakView
from mwalerts.tally import ExecutionReport, Failure, unicode_text

SNS_MAX_MESSAGE_BYTES = 262_144  # the whole publish: message, subject and attributes
SNS_MAX_SUBJECT_CHARS = 99  # "less than 100 characters"
EMAIL_FAILURE_LINES = 20  # a person reads the first few; the digest and the logs carry the rest
EMAIL_GROUP_LINES = 5
NO_ENRICHMENT = Enrichment()
DIGEST_GROUPS = 50  # causes in the digest, most frequent first (bounded: its size is not cut)
NOTICE_ALERT = "alert"  # the digest's `notice`: an alert, or (mwalerts.resolved) a resolved notice
NOTICE_RESOLVED = "resolved"
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]+")


class Unset:
    """No value given (None is one: an untracked alert's streak summary)."""


UNSET = Unset()


@dataclass(frozen=True)
class Alert:
    subject: str
    message: str  # a MessageStructure=json document: one body per protocol
    attributes: Mapping[str, Mapping[str, str]]
    digest: Mapping[str, Any]
    chat: Mapping[str, Any]  # the Amazon Q Developer (chat) custom notification

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


def render_alert(
    execution: WindowExecution,
    report: ExecutionReport,
    enrichment: Enrichment = NO_ENRICHMENT,
    *,
    chat_body: bool = False,
    streaks: StreakView | None = None,
) -> Alert:
    """The alert with as many failures as fit in one SNS message; counts are always complete.

    With `chat_body`, the default body (SQS, HTTPS, Lambda subscribers) is the chat
    notification instead of the digest. With `streaks`, the alert tells new failures from
    targets still failing, and lists the new ones first, so that a cut keeps them.
    """
    kept = new_first(report.failures, streaks)
    # The same for every prefix tried: summarised once (it reads every failing target).
    summary = alert_streaks.streak_summary(report, streaks, groups=DIGEST_GROUPS)

    def with_failures(count: int) -> Alert:
        return assemble_alert(
            execution,
            report,
            kept[:count],
            enrichment,
            chat_body=chat_body,
            streaks=streaks,
            summary=summary,
        )

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
    execution: WindowExecution,
    report: ExecutionReport,
    failures: Sequence[Failure],
    enrichment: Enrichment = NO_ENRICHMENT,
    *,
    chat_body: bool = False,
    streaks: StreakView | None = None,
    summary: Mapping[str, Any] | Unset | None = UNSET,
) -> Alert:
    """The alert listing `failures`, in the order given (`summary`: the streaks' summary, when
    the caller has it)."""
    digest = build_digest(execution, report, failures, enrichment, streaks, summary=summary)
    subject = render_subject(digest)
    chat = chat_notification(digest, subject)
    new_failures = streaks.new_failures if streaks is not None else len(report.failing_targets)
    return Alert(
        subject,
        message_body(chat if chat_body else digest, render_email(digest)),
        message_attributes(digest, status=digest["status"], new_failures=new_failures),
        digest,
        chat,
    )


def message_body(default: Mapping[str, Any], email: str) -> str:
    """A MessageStructure=json document: `default` for SQS, HTTPS and Lambda, text for email."""
    return json.dumps({"default": json.dumps(default, separators=(",", ":")), "email": email})


def message_attributes(
    digest: Mapping[str, Any], *, status: str, new_failures: int
) -> dict[str, dict[str, str]]:
    """What subscription filter policies match on."""
    attributes = {
        contract.ATTRIBUTE_WINDOW_ID: _string(digest["windowId"]),
        contract.ATTRIBUTE_STATUS: _string(status),
        contract.ATTRIBUTE_FAILED_INVOCATIONS: _number(digest["failedInvocations"]),
        contract.ATTRIBUTE_NEW_FAILURES: _number(new_failures),
    }
    if digest["windowName"]:  # SNS refuses empty attribute values
        attributes[contract.ATTRIBUTE_WINDOW_NAME] = _string(digest["windowName"])
    return attributes


def build_digest(
    execution: WindowExecution,
    report: ExecutionReport,
    failures: Sequence[Failure],
    enrichment: Enrichment = NO_ENRICHMENT,
    streaks: StreakView | None = None,
    *,
    summary: Mapping[str, Any] | Unset | None = UNSET,
) -> dict[str, Any]:
    region = execution.region
    tracked = alert_streaks.tracked_targets(streaks)
    if isinstance(summary, Unset):
        summary = alert_streaks.streak_summary(report, streaks, groups=DIGEST_GROUPS)
    return {
        "schemaVersion": contract.DIGEST_SCHEMA_VERSION,
        "notice": NOTICE_ALERT,
        "account": execution.account,
        "region": region,
        "windowId": execution.window_id,
        "windowName": enrichment.window.name,
        "windowDescription": enrichment.window.description,
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
        "failureGroups": _group_records(report, enrichment.commands),
        "streaks": summary,
        "failures": [
            {
                **failure_record(failure),
                "consoleUrl": links.execution_url(
                    region,
                    failure.task_type,
                    failure.execution_id,
                    failure.instance_ids[0] if failure.instance_ids else None,
                ),
                **_command_record(enrichment.commands.get(failure.invocation_id)),
                **alert_streaks.failure_fields(failure, tracked),
            }
            for failure in failures
        ],
        "omittedFailures": report.failure_count - len(failures),
        "links": {
            "window": links.window_url(region, execution.window_id),
            "failures": links.failures_query_url(
                region,
                enrichment.log_group,
                execution.window_execution_id,
                execution.start_time,
                execution.end_time,
            )
            if enrichment.log_group
            else None,
        },
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


def _command_record(output: CommandOutput | None) -> dict[str, Any]:
    return {
        "responseCode": output.response_code if output else None,
        "errorTail": output.error_tail if output else None,
    }


def _group_records(
    report: ExecutionReport, outputs: Mapping[str, CommandOutput]
) -> list[dict[str, Any]]:
    """Failures by cause, most frequent first: count, example targets, and the command errors
    sampled for that cause (500 targets failing the same way read as one line, not 500)."""
    sampled: dict[tuple[str, str | None], Counter[tuple[int | None, str | None]]] = {}
    for failure in report.failures:
        output = outputs.get(failure.invocation_id)
        if output is not None:
            sampled.setdefault(failure.cause, Counter())[
                (output.response_code, output.error_tail)
            ] += 1
    return [
        {
            "status": group.status,
            "statusDetails": group.status_details,
            "count": group.count,
            "examples": list(group.examples),
            "sampledErrors": [
                {"responseCode": code, "errorTail": tail, "count": count}
                for (code, tail), count in sampled.get(
                    (group.status, group.status_details), Counter()
                ).most_common()
            ],
        }
        for group in report.groups[:DIGEST_GROUPS]
    ]


def render_subject(digest: Mapping[str, Any]) -> str:
    counts = f"{digest['failedInvocations']} of {digest['totalInvocations']} invocations failed"
    return fitted_subject(
        f"[{digest['status']}] ",
        digest["windowName"],
        digest["windowId"],
        counts + subject_suffix(digest["streaks"]),
    )


def fitted_subject(prefix: str, name: str | None, window_id: str, tail: str) -> str:
    """`<prefix><name> (<window ID>): <tail>` within SNS's subject rules."""
    window = window_id
    if name:
        # The name is cut to what the subject leaves room for; the window ID always fits.
        room = SNS_MAX_SUBJECT_CHARS - len(prefix) - len(window_id) - len(tail) - 5
        name = subject_line(name)
        name = name if len(name) <= room else name[: max(room - 3, 0)] + "..."
        window = f"{name} ({window_id})" if room > 3 else window_id
    return subject_line(f"{prefix}{window}: {tail}")


def render_email(digest: Mapping[str, Any]) -> str:
    """Plain text a person takes in at a glance: what ran, how it ended, which targets failed."""
    lines = [f"Maintenance window {email_window(digest)} ended {digest['status']}."]
    lead = lead_line(digest["streaks"])
    if lead:
        lines.append(lead)
    if digest["windowDescription"]:
        lines.append(clean_text(digest["windowDescription"], 200))
    lines += ["", *execution_lines(digest), "", f"Tasks ({len(digest['tasks'])})"]
    for task in digest["tasks"]:
        counts = _count_list(task["counts"]) or "no invocations"
        lines.append(
            f"  {task['status'] or '-':<11} {task['taskType'] or '-':<14} "
            f"{clean_text(task['taskArn'] or '-', 60)}: {counts}"
        )
    lines += _email_causes(digest["failureGroups"])
    lines += _email_failed_targets(digest)
    lines += ["", "Links", f"  Window:        {digest['links']['window']}"]
    if digest["links"]["failures"]:
        lines.append(f"  All failures:  {digest['links']['failures']}")
    return "\n".join(lines) + "\n"


def email_window(digest: Mapping[str, Any]) -> str:
    """The window as the email names it: `name (mw-...)`, or its ID."""
    window = digest["windowId"]
    if digest["windowName"]:
        window = f"{clean_text(digest['windowName'], 80)} ({window})"
    return str(window)


def execution_lines(digest: Mapping[str, Any]) -> list[str]:
    """The email's facts of the window execution: which, where, when, how many failed."""
    return [
        f"Window execution  {digest['windowExecutionId']}",
        f"Account / region  {digest['account']} / {digest['region']}",
        f"Ran               {when(digest['startTime'], digest['endTime'])}",
        f"Invocations       {digest['failedInvocations']} of {digest['totalInvocations']} failed"
        + (f" ({_count_list(digest['counts'])})" if digest["counts"] else ""),
    ]


def _email_causes(groups: Sequence[Mapping[str, Any]]) -> list[str]:
    """The most frequent causes, each with its sampled errors."""
    if not groups:
        return []
    lines = ["", f"Failures by cause ({len(groups)})"]
    for group in groups[:EMAIL_GROUP_LINES]:
        cause = clean_text(f"{group['status']} {group['statusDetails'] or ''}", 60)
        lines.append(f"  {group['count']:>6} x {cause}")
        for error in group["sampledErrors"][:2]:
            lines.append(f"           {_error_text(error)} ({error['count']} sampled)")
    if len(groups) > EMAIL_GROUP_LINES:
        lines.append(f"  ... and {len(groups) - EMAIL_GROUP_LINES} more causes")
    return lines


def _email_failed_targets(digest: Mapping[str, Any]) -> list[str]:
    """The first failed targets, one line each, and where the rest are."""
    failures = digest["failures"]
    shown = failures[:EMAIL_FAILURE_LINES]
    if not digest["failedInvocations"]:
        return []
    lines = ["", f"Failed targets (showing {len(shown)} of {digest['failedInvocations']})"]
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
            + (f" - {_error_text(failure)}" if failure["responseCode"] is not None else "")
            + target_suffix(failure)
        )
    if digest["failedInvocations"] > len(shown):
        lines.append(
            f"  ... and {digest['failedInvocations'] - len(shown)} more: the JSON digest lists "
            f"{len(failures)}, and every failure is in CloudWatch Logs under correlation ID "
            f"{digest['windowExecutionId']}."
        )
    return lines


def _error_text(error: Mapping[str, Any]) -> str:
    """`exit 100: E: Unable to acquire the dpkg frontend lock`: the last line of the error output,
    which is where a command says why it stopped."""
    lines = [line for line in (error["errorTail"] or "").splitlines() if line.strip()]
    last = clean_text(lines[-1], 120) if lines else ""
    return f"exit {error['responseCode']}" + (f": {last}" if last else "")


def ordered_counts(counts: Mapping[str, int]) -> dict[str, int]:
    """Counts in the API's status order (unknown statuses last), zeros left out."""
    rank = {status: index for index, status in enumerate(contract.ALL_STATUSES)}
    ordered = sorted(counts.items(), key=lambda item: (rank.get(item[0], len(rank)), item[0]))
    return {status: count for status, count in ordered if count}


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


def _number(value: int) -> dict[str, str]:
    return {"DataType": "Number", "StringValue": str(value)}


def _count_list(counts: Mapping[str, int]) -> str:
    return ", ".join(f"{count} {status}" for status, count in counts.items())


def when(start: str | None, end: str | None) -> str:
    """`2026-11-20 02:00:00 UTC to 02:15:41 UTC (15m 41s)` from ISO 8601 times."""
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
