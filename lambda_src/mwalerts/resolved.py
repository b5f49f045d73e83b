"""The resolved notice: one short message when a window whose last execution alerted runs clean
again, saying since when and for how many runs it had failed. Shaped like an alert (subject, a
body per protocol, message attributes, digest and chat card) so it goes out the same way; its
`status` attribute is RESOLVED, for filter policies. Pure."""

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from mwalerts import contract
from mwalerts.alert import (
    NOTICE_RESOLVED,
    Alert,
    build_digest,
    email_window,
    execution_lines,
    fitted_subject,
    message_attributes,
    message_body,
    when,
)
from mwalerts.alert_streaks import day, plural, since_record
from mwalerts.chat import markdown, resolved_notification
from mwalerts.enrich import Enrichment
from mwalerts.model import WindowExecution
from mwalerts.streaks import Resolution
from mwalerts.tally import ExecutionReport


def render_resolved(
    execution: WindowExecution,
    report: ExecutionReport,
    enrichment: Enrichment,
    resolution: Resolution,
    *,
    recovered: int,
    chat_body: bool = False,
) -> Alert:
    """The notice for `execution`, which ended the window's run of failed executions that
    `resolution` describes; `recovered`: the targets whose streaks it ended."""
    digest = {
        **build_digest(execution, report, (), enrichment),
        "notice": NOTICE_RESOLVED,
        "resolved": {
            "failingSince": since_record(resolution.since),
            "failedExecutions": resolution.failed_executions,
            "recoveredTargets": recovered,
        },
    }
    subject = resolved_subject(digest)
    chat = resolved_notification(digest, subject, _chat_lines(digest))
    return Alert(
        subject,
        message_body(chat if chat_body else digest, resolved_email(digest)),
        message_attributes(digest, status=contract.STATUS_RESOLVED, new_failures=0),
        digest,
        chat,
    )


def resolved_subject(digest: Mapping[str, Any]) -> str:
    """`[RESOLVED] name (mw-...): ran clean after 3 failed runs since 2026-11-20`."""
    resolved = digest["resolved"]
    date = day(resolved["failingSince"])
    return fitted_subject(
        f"[{contract.STATUS_RESOLVED}] ",
        digest["windowName"],
        digest["windowId"],
        f"ran clean after {plural(resolved['failedExecutions'], 'failed run')}"
        + (f" since {date}" if date else ""),
    )


def resolved_email(digest: Mapping[str, Any]) -> str:
    resolved = digest["resolved"]
    lines = [
        f"Maintenance window {email_window(digest)} ran clean: it ended {digest['status']} "
        "with no failed invocations.",
        _history(digest),
    ]
    if resolved["recoveredTargets"]:
        lines.append(f"{plural(resolved['recoveredTargets'], 'failing target')} recovered.")
    lines += [
        "",
        *execution_lines(digest),
        f"Failing since     {resolved['failingSince']['windowExecutionId']}",
        "",
        "Links",
        f"  Window:        {digest['links']['window']}",
    ]
    return "\n".join(lines) + "\n"


def _history(digest: Mapping[str, Any]) -> str:
    """`It had been failing for 2 days 4 hours: 3 failed runs since 2026-11-20 02:00:00 UTC.`"""
    resolved = digest["resolved"]
    runs = plural(resolved["failedExecutions"], "failed run")
    began = resolved["failingSince"]["time"]
    duration = failing_for(digest)
    if not began or duration is None:
        return f"It had been failing: {runs} in a row."
    return f"It had been failing for {duration}: {runs} since {when(began, None)}."


def _chat_lines(digest: Mapping[str, Any]) -> list[str]:
    resolved = digest["resolved"]
    name, window = digest["windowName"], digest["windowId"]
    duration = failing_for(digest)
    date = day(resolved["failingSince"])
    lines = [
        f"Window *{markdown(name) if name else window}* (`{window}`) ran clean: it ended "
        f"*{digest['status']}* after *{plural(resolved['failedExecutions'], 'failed run')}*"
        + (f" over {duration}" if duration else "")
        + (f", since {date}" if date else "")
        + "."
    ]
    if resolved["recoveredTargets"]:
        lines.append(f"{plural(resolved['recoveredTargets'], 'failing target')} recovered.")
    return lines


def failing_for(digest: Mapping[str, Any]) -> str | None:
    """From the first failed run's start to this run's end (its start if it has none), in words:
    "2 days 4 hours"; None when either time is unknown."""
    began = digest["resolved"]["failingSince"]["time"]
    ended = digest["endTime"] or digest["startTime"]
    if not began or not ended:
        return None
    seconds = (datetime.fromisoformat(ended) - datetime.fromisoformat(began)).total_seconds()
    return duration_words(max(0, int(seconds)))


def duration_words(seconds: int) -> str:
    """The two largest units: "2 days 4 hours", "3 hours", "45 minutes", "less than a minute"."""
    days, rest = divmod(seconds, 86_400)
    hours, rest = divmod(rest, 3_600)
    minutes = rest // 60
    for big, small in (((days, "day"), (hours, "hour")), ((hours, "hour"), (minutes, "minute"))):
        if big[0]:
            return plural(*big) + (f" {plural(*small)}" if small[0] else "")
    return plural(minutes, "minute") if minutes else "less than a minute"
