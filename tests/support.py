"""Helpers shared by the tests: loading recorded events and reading what the function printed."""

import functools
import json
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import jsonschema

ROOT = Path(__file__).resolve().parent.parent  # the repository
DATA = Path(__file__).parent / "data"


def load_event(name: str) -> dict[str, Any]:
    """A recorded EventBridge event from tests/data/events (copied from shared/reference)."""
    return json.loads((DATA / "events" / f"{name}.json").read_text())


def load_api_example(name: str) -> dict[str, Any]:
    return json.loads((DATA / "api-examples" / f"{name}.json").read_text())


def printed_json(text: str) -> list[dict[str, Any]]:
    """The JSON lines a Lambda printed (Powertools logs and EMF documents)."""
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


def emf_documents(text: str) -> list[dict[str, Any]]:
    return [doc for doc in printed_json(text) if "_aws" in doc]


def log_records(text: str) -> list[dict[str, Any]]:
    return [doc for doc in printed_json(text) if "level" in doc]


SCHEMAS = ROOT / "schemas"


def assert_valid_digest(digest: Mapping[str, Any]) -> None:
    """The digest as schemas/digest-v1.schema.json documents it for subscribers."""
    _validator("digest-v1.schema.json").validate(digest)


def assert_valid_chat_notification(card: Mapping[str, Any]) -> None:
    _validator("chat-notification.schema.json").validate(card)


@functools.cache
def _validator(name: str) -> jsonschema.Draft202012Validator:
    schema = json.loads((SCHEMAS / name).read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def run_in_repo(
    command: list[str],
    *,
    env: Mapping[str, str] | None = None,
    timeout: int = 120,
    check: bool = False,
) -> subprocess.CompletedProcess[str]:
    """Run a command from the repository's root, as a person would, capturing its text output."""
    return subprocess.run(
        command,
        cwd=ROOT,
        env=None if env is None else dict(env),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=check,
    )


def without_streaks(digest: Mapping[str, Any]) -> dict[str, Any]:
    """A digest as an alert without failure streaks carries it (the operator command's): the
    streak fields null. Its failures keep their order, which is SSM's when all are new."""
    return {
        **digest,
        "streaks": None,
        "failures": [
            {**failure, "consecutiveFailures": None, "failingSince": None}
            for failure in digest["failures"]
        ],
    }
