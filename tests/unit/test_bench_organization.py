"""`make bench --only organization` rewrites its own section of RESULTS.md and nothing else."""

import pytest

from benchmarks.organization import ORGANIZATION_HEADING, replace_section

SECTION = ["", ORGANIZATION_HEADING, "", "new figures"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", f"{ORGANIZATION_HEADING}\n\nnew figures\n"),
        (
            "# Results\n\n## CPU\n\ncpu\n",
            "# Results\n\n## CPU\n\ncpu\n\n## Organization\n\nnew figures\n",
        ),
        (
            "# Results\n\n## Organization\n\nold\nfigures\n\n\n",
            "# Results\n\n## Organization\n\nnew figures\n",
        ),
        (
            "# Results\n\n## Organization\n\nold\n\n## Later\n\nkept\n",
            "# Results\n\n## Organization\n\nnew figures\n\n## Later\n\nkept\n",
        ),
    ],
    ids=["empty", "appended", "replaced-last", "replaced-in-the-middle"],
)
def test_the_organization_section_is_replaced_or_appended(text, expected):
    assert replace_section(text, ORGANIZATION_HEADING, SECTION) == expected
