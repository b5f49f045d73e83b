"""The alert as an Amazon Q Developer in chat applications (formerly AWS Chatbot) custom
notification, which Slack, Microsoft Teams and Amazon Chime channels show as a card.

Format: `version` and `source` are required; `content` holds the card (markdown description,
next steps, keywords), `metadata` threads notifications of the same window together.
schemas/chat-notification.schema.json describes it; the tests validate every card against it.
"""

from collections.abc import Mapping, Sequence
from typing import Any

from mwalerts import contract
from mwalerts.alert_streaks import lead_line
from mwalerts.links import partition

# Chat cards are read on a phone: a few lines, the rest one link away.
CHAT_GROUPS = 5
CHAT_DESCRIPTION_CHARS = 3_000
ALERT_EVENT_TYPE = "MaintenanceWindowExecutionFailed"
RESOLVED_EVENT_TYPE = "MaintenanceWindowExecutionResolved"


def chat_notification(digest: Mapping[str, Any], subject: str) -> dict[str, Any]:
    """The alert's card: with streaks tracked, it opens with the new and still failing targets."""
    window = digest["windowId"]
    name = digest["windowName"]
    lead = lead_line(digest.get("streaks"))
    lines = [lead] if lead else []
    lines.append(
        f"*{digest['failedInvocations']} of {digest['totalInvocations']}* invocations failed "
        f"in window *{markdown(name) if name else window}* (`{window}`), which ended "
        f"*{digest['status']}*."
    )
    lines += _group_lines(digest)
    next_steps = [f"Open the window in the Systems Manager console: {digest['links']['window']}"]
    if digest["links"]["failures"]:
        next_steps.append(f"List every failed invocation: {digest['links']['failures']}")
    next_steps.append("Fix the cause, then rerun the task or wait for the window's next run.")
    return card(
        digest,
        subject,
        lines,
        next_steps,
        event_type=ALERT_EVENT_TYPE,
        keyword=digest["status"],
        context={
            "failedInvocations": str(digest["failedInvocations"]),
            "totalInvocations": str(digest["totalInvocations"]),
        },
    )


def resolved_notification(
    digest: Mapping[str, Any], subject: str, lines: Sequence[str]
) -> dict[str, Any]:
    """The resolved notice's card: `lines` (markdown) say what ran clean after how long."""
    resolved = digest["resolved"]
    return card(
        digest,
        subject,
        lines,
        [f"Open the window in the Systems Manager console: {digest['links']['window']}"],
        event_type=RESOLVED_EVENT_TYPE,
        keyword=contract.STATUS_RESOLVED,
        context={
            "failedExecutions": str(resolved["failedExecutions"]),
            "failingSince": resolved["failingSince"]["windowExecutionId"],
        },
    )


def card(
    digest: Mapping[str, Any],
    subject: str,
    lines: Sequence[str],
    next_steps: Sequence[str],
    *,
    event_type: str,
    keyword: str,
    context: Mapping[str, str],
) -> dict[str, Any]:
    """The custom notification around a description of `lines`, for the digest's window
    execution. Its thread is the window's, for alerts and resolved notices alike: a channel shows
    one thread per window, in which a resolution follows the failures it ends."""
    window = digest["windowId"]
    return {
        "version": "1.0",
        "source": "custom",
        "id": digest["windowExecutionId"],
        "content": {
            "textType": "client-markdown",
            "title": subject,
            "description": "\n".join(lines)[:CHAT_DESCRIPTION_CHARS],
            "nextSteps": list(next_steps),
            "keywords": [k for k in (window, digest["windowName"], keyword) if k],
        },
        "metadata": {
            "threadId": window,  # one thread per window in the channel
            "summary": subject,
            "eventType": event_type,
            "relatedResources": [
                f"arn:{partition(digest['region'])}:ssm:{digest['region']}:{digest['account']}"
                f":maintenancewindow/{window}"
            ],
            "additionalContext": {"windowExecutionId": digest["windowExecutionId"], **context},
        },
    }


def _group_lines(digest: Mapping[str, Any]) -> list[str]:
    """The top causes: new and still failing apart when streaks are tracked, else all together."""
    errors = {
        (group["status"], group["statusDetails"]): group["sampledErrors"][0]
        for group in digest["failureGroups"]
        if group["sampledErrors"]
    }
    streaks = digest.get("streaks")
    if not streaks:
        return [_group_line(group, errors) for group in digest["failureGroups"][:CHAT_GROUPS]]
    lines = []
    for title, groups in (
        ("New", streaks["newGroups"]),
        ("Still failing", streaks["stillFailingGroups"]),
    ):
        if groups:
            lines.append(f"{title}:")
            lines += [_group_line(group, errors) for group in groups[:CHAT_GROUPS]]
    return lines


def _group_line(group: Mapping[str, Any], errors: Mapping[Any, Mapping[str, Any]]) -> str:
    cause = " ".join(filter(None, (group["status"], group["statusDetails"])))
    error = errors.get((group["status"], group["statusDetails"]))
    detail = f" (exit {error['responseCode']})" if error else ""
    examples = ", ".join(f"`{e}`" for e in group["examples"])
    return f"\N{BULLET} {group['count']} x {markdown(cause)}{detail}: {examples}"


def markdown(text: str) -> str:
    """Text from the API made inert in chat markdown: no formatting, links or mentions."""
    return "".join(f"\\{c}" if c in "*_~`>[]<@" else c for c in " ".join(text.split()))[:200]
