"""Helpers shared by the tests: loading recorded events and reading what the function printed."""

import json
from pathlib import Path
from typing import Any

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
