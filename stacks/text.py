"""Wording shared by messages, labels and alarm descriptions."""

from collections.abc import Sequence


def one_of(words: Sequence[str]) -> str:
    """'A', 'A or B', 'A, B or C'."""
    return " or ".join(filter(None, (", ".join(words[:-1]), words[-1])))


def shorten(text: str, limit: int = 40) -> str:
    """At most `limit` characters of `text`, and an ellipsis if it was longer."""
    return text if len(text) <= limit else f"{text[:limit]}..."
