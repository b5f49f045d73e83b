"""Every relative link of the README and the docs/ pages leads somewhere: a file that exists, and a
heading of that page when it names one."""

import re
from pathlib import Path

import pytest

from tests.docs.pages import every_page, prose
from tests.support import ROOT

# [text](target) and ![alt](target); a target has no spaces.
_LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)\)")
_EXTERNAL = ("http://", "https://", "mailto:")


def relative_links(page: Path) -> list[str]:
    return [
        target
        for target in _LINK.findall(prose(page.read_text()))
        if not target.startswith(_EXTERNAL)
    ]


def github_anchor(heading: str) -> str:
    """The anchor GitHub gives a heading: lower case, punctuation dropped, spaces to hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-")


def anchors(page: Path) -> set[str]:
    """The anchors of the page's headings; a repeated heading's get -1, -2... as on GitHub."""
    seen: dict[str, int] = {}
    result = set()
    for heading in re.findall(r"^#{1,6} (.+)$", prose(page.read_text()), re.M):
        anchor = github_anchor(heading)
        result.add(f"{anchor}-{seen[anchor]}" if anchor in seen else anchor)
        seen[anchor] = seen.get(anchor, 0) + 1
    return result


@pytest.mark.parametrize("page", every_page(), ids=lambda page: page.name)
def test_every_relative_link_resolves(page):
    links = relative_links(page)
    for link in links:
        path, _, anchor = link.partition("#")
        target = (page.parent / path).resolve() if path else page
        assert target.exists(), f"{page.relative_to(ROOT)} links to {link}: no such file"
        if anchor:
            assert target.suffix == ".md", f"{page.relative_to(ROOT)}: {link} is not a page"
            assert anchor in anchors(target), (
                f"{page.relative_to(ROOT)} links to {link}: {target.name} has no such heading"
            )


def test_the_readme_links_to_every_page():
    links = relative_links(ROOT / "README.md")
    linked = {(ROOT / link.partition("#")[0]).resolve() for link in links}
    for page in every_page()[1:]:
        assert page.resolve() in linked, f"README.md does not link to docs/{page.name}"


@pytest.mark.parametrize(
    ("heading", "anchor"),
    [
        ("Upgrade notes", "upgrade-notes"),
        ("The function's environment", "the-functions-environment"),
        ("The operator command: `mwalerts`", "the-operator-command-mwalerts"),
        ("IAM: least privilege", "iam-least-privilege"),
    ],
)
def test_anchors_follow_githubs_rule(heading, anchor):
    assert github_anchor(heading) == anchor
