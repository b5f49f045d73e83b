"""docs/dashboard.png shows the dashboard the code deploys: the picture cannot drift from it."""

import dataclasses
from pathlib import Path

import pytest

from tools.render_dashboard import (
    PICTURE,
    Widget,
    layout_hash,
    picture_hash,
    render,
    synthesized_layout,
)


@pytest.fixture(scope="module")
def layout() -> list[Widget]:
    return synthesized_layout()


def test_committed_picture_shows_the_layout_of_a_fresh_synth(layout: list[Widget]) -> None:
    assert picture_hash(PICTURE) == layout_hash(layout), (
        "docs/dashboard.png does not show the current dashboard layout: "
        "run python -m tools.render_dashboard and commit the picture"
    )


def test_picture_shows_every_kind_of_widget(layout: list[Widget]) -> None:
    assert {w.kind for w in layout} == {"alarm status", "graph", "metric table", "log table"}
    assert all(w.title for w in layout)


def test_layout_hash_covers_titles_kinds_and_positions(layout: list[Widget]) -> None:
    first = layout[0]
    for change in (
        {"title": first.title + "!"},
        {"kind": "text"},
        {"x": first.x + 1},
        {"y": first.y + 1},
        {"width": first.width - 1},
        {"height": first.height + 1},
    ):
        changed = [dataclasses.replace(first, **change), *layout[1:]]
        assert layout_hash(changed) != layout_hash(layout), change


def test_rendering_again_writes_the_same_bytes(layout: list[Widget], tmp_path: Path) -> None:
    first, second = tmp_path / "first.png", tmp_path / "second.png"
    render(layout, first)
    render(layout, second)

    assert first.read_bytes() == second.read_bytes()
    assert picture_hash(first) == layout_hash(layout)
    assert b"Software" not in first.read_bytes()  # no matplotlib version in the file
