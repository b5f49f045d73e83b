"""The demo's failure streaks: three nights of one window, as its email subscribers see them.

Night 1, one target fails (a new failure); night 2, the same one and a second (one new, one still
failing); night 3, the window runs clean and the resolved notice goes out.
"""

import contextlib
import io
import json
from datetime import UTC, datetime, timedelta
from typing import Any

from local_aws.environment import LambdaContext, LocalAws
from local_aws.scenario import TaskPlan, seed_window_execution
from mwalerts import contract

WINDOW_ID = "mw-0a1b2c3d4e5f60718"
FLEET = ("i-0a4f1c2e3b5d69781", "i-0b7e2d4c6a8f01932", "i-0c3a5e7b9d1f24653", "i-0d9b1f3a5c7e86214")
FIRST, SECOND = FLEET[:2]
NIGHTS: tuple[set[str], ...] = ({FIRST}, {FIRST, SECOND}, set())
START = datetime(2026, 11, 24, 1, 0, 0, 250_000, tzinfo=UTC)
FIRST_NIGHT_LINES = 2  # what ran, and the new-failures line


def show_streaks(handler: Any, aws: LocalAws, step: int) -> list[str]:
    """Run the three nights through the handler; print each message's subject and the head of
    its email; return what went wrong."""
    print(
        f"\n{step}. Failure streaks: three nights of window {WINDOW_ID} (a fleet of "
        f"{len(FLEET)}), each message as an email subscriber sees it"
    )
    sent_before = len(aws.published())
    outcomes = []
    for number, failing in enumerate(NIGHTS, start=1):
        plan = TaskPlan.fleet({i: "FAILED" if i in failing else "SUCCESS" for i in FLEET})
        run = seed_window_execution(
            aws.ssm,
            [plan],
            window_id=WINDOW_ID,
            seed=100 + number,
            start_time=START + timedelta(days=number - 1),
        )
        with contextlib.redirect_stdout(io.StringIO()):
            outcomes.append(handler.handler(run.event(), LambdaContext(), clients=aws.clients))
    published = aws.published()[sent_before:]
    for number, message in enumerate(published, start=1):
        email = json.loads(message["message"])["email"].splitlines()
        # The first night's email is any alert's, but for its first lines; the others in full.
        shown = email[:FIRST_NIGHT_LINES] if number == 1 else email
        print(f"\n   Night {number}: {outcomes[number - 1]['action']}\n")
        print(f"   | Subject: {message['subject']}\n   |")
        print("\n".join(f"   | {line}".rstrip() for line in shown))
    return _check([o["action"] for o in outcomes], published)


def _check(actions: list[str], published: list[dict[str, Any]]) -> list[str]:
    if actions != ["alerted", "alerted", "resolved"] or len(published) != len(NIGHTS):
        return [f"streak nights: expected alerted, alerted, resolved; got {actions}"]
    attributes = [{k: v["Value"] for k, v in p["attributes"].items()} for p in published]
    new = [a.get(contract.ATTRIBUTE_NEW_FAILURES) for a in attributes]
    if new[:2] != ["1", "1"] or attributes[2][contract.ATTRIBUTE_STATUS] != "RESOLVED":
        return [f"streak nights: newFailures {new}, last status {attributes[2]}"]
    return []
