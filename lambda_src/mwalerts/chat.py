"""The alert as an Amazon Q Developer in chat applications (formerly AWS Chatbot) custom
notification, which Slack, Microsoft Teams and Amazon Chime channels show as a card.

Format: `version` and `source` are required; `content` holds the card (markdown description,
next steps, keywords), `metadata` threads notifications of the same window together.
schemas/chat-notification.schema.json describes it; the tests validate every card against it.
"""

from collections.abc import Mapping
from typing import Any

from mwalerts.links import partition

# Chat cards are read on a phone: a few lines, the rest one link away.
CHAT_GROUPS = 5
CHAT_DESCRIPTION_CHARS = 3_000


def chat_notification(digest: Mapping[str, Any], subject: str) -> dict[str, Any]:
    window = digest["windowId"]
    name = digest["windowName"]
    lines = [
        f"*{digest['failedInvocations']} of {digest['totalInvocations']}* invocations failed "
        f"in window *{_markdown(name) if name else window}* (`{window}`), which ended "
        f"*{digest['status']}*.",
    ]
    for group in digest["failureGroups"][:CHAT_GROUPS]:
        cause = " ".join(filter(None, (group["status"], group["statusDetails"])))
        error = group["sampledErrors"][0] if group["sampledErrors"] else None
        detail = f" (exit {error['responseCode']})" if error else ""
        examples = ", ".join(f"`{e}`" for e in group["examples"])
        lines.append(f"\N{BULLET} {group['count']} x {_markdown(cause)}{detail}: {examples}")
    description = "\n".join(lines)[:CHAT_DESCRIPTION_CHARS]
    next_steps = [f"Open the window in the Systems Manager console: {digest['links']['window']}"]
    if digest["links"]["failures"]:
        next_steps.append(f"List every failed invocation: {digest['links']['failures']}")
    next_steps.append("Fix the cause, then rerun the task or wait for the window's next run.")
    return {
        "version": "1.0",
        "source": "custom",
        "id": digest["windowExecutionId"],
        "content": {
            "textType": "client-markdown",
            "title": subject,
            "description": description,
            "nextSteps": next_steps,
            "keywords": [k for k in (window, name, digest["status"]) if k],
        },
        "metadata": {
            "threadId": window,  # one thread per window in the channel
            "summary": subject,
            "eventType": "MaintenanceWindowExecutionFailed",
            "relatedResources": [
                f"arn:{partition(digest['region'])}:ssm:{digest['region']}:{digest['account']}"
                f":maintenancewindow/{window}"
            ],
            "additionalContext": {
                "windowExecutionId": digest["windowExecutionId"],
                "failedInvocations": str(digest["failedInvocations"]),
                "totalInvocations": str(digest["totalInvocations"]),
            },
        },
    }


def _markdown(text: str) -> str:
    """Text from the API made inert in chat markdown: no formatting, links or mentions."""
    return "".join(f"\\{c}" if c in "*_~`>[]<@" else c for c in " ".join(text.split()))[:200]
