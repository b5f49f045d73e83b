"""The documentation as the tests read it: the README and the pages in docs/, by name."""

import functools
import re
from pathlib import Path

from tests.support import ROOT

README = "README"
DOCS = ROOT / "docs"
_FENCE = re.compile(r"^```.*?^```[ \t]*$", re.M | re.S)


def page_path(name: str) -> Path:
    """README.md for "README", else docs/<name>.md."""
    return ROOT / "README.md" if name == README else DOCS / f"{name}.md"


@functools.cache
def doc_page(name: str) -> str:
    """The text of a page: doc_page("README"), doc_page("operations") for docs/operations.md."""
    return page_path(name).read_text()


def every_page() -> list[Path]:
    return [page_path(README), *sorted(DOCS.glob("*.md"))]


def fenced_blocks(text: str, language: str) -> list[str]:
    """The contents of the page's ```language blocks."""
    return re.findall(rf"^```{language}\n(.*?)^```", text, re.M | re.S)


def prose(text: str) -> str:
    """The page with its fenced blocks blanked (where a `# comment` is not a heading), each
    character at its place."""
    return _FENCE.sub(lambda block: re.sub(r"[^\n]", " ", block.group()), text)


def section(text: str, heading: str) -> str:
    """The text under a heading (`## Code map`), up to the next heading of its level or above."""
    body = prose(text)
    start = body.index(f"\n{heading}\n") + len(heading) + 2
    level = len(heading) - len(heading.lstrip("#"))
    following = re.compile(rf"^#{{1,{level}}} ", re.M).search(body, start)
    return text[start : following.start() if following else len(text)]
