"""Draw the synthesized dashboard's layout into docs/dashboard.png: python -m tools.render_dashboard

The picture is drawn from the DashboardBody of a fresh synth (cdk.json's settings, offline), so it
shows exactly what `cdk deploy` creates: each widget as a box at its position, with its title and
kind. The PNG carries a hash of that layout (titles, kinds, positions) in a text chunk, and
tests/infra/test_dashboard_picture.py compares it with the layout of a fresh synth: the picture
cannot drift from the code. The drawing is deterministic (fixed size and resolution, no
timestamps, no software version), so running this again without a layout change rewrites
identical bytes.
"""

import argparse
import hashlib
import json
import sys
import tempfile
import textwrap
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import aws_cdk as cdk
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patches import FancyBboxPatch, Rectangle

from maintenance_window_alerts import MaintenanceWindowAlertsStack, Settings
from mwalerts import contract

ROOT = Path(__file__).resolve().parent.parent
PICTURE = ROOT / "docs" / "dashboard.png"
HASH_KEY = "LayoutHash"  # the PNG text chunk holding layout_hash()
GRID_WIDTH = 24  # CloudWatch dashboards are 24 units wide

# Box colours by kind of widget.
COLOURS = {
    "graph": "#dbe9f6",
    "metric table": "#e3f1df",
    "log table": "#fdf0d5",
    "alarm status": "#f9dcdc",
    "alarm graph": "#f9dcdc",
}
OTHER_COLOUR = "#eeeeee"


@dataclass(frozen=True)
class Widget:
    """What the picture shows of a widget, and all that the layout hash covers."""

    title: str
    kind: str
    x: int
    y: int
    width: int
    height: int


def dashboard_body(template: Mapping[str, Any]) -> dict[str, Any]:
    """The DashboardBody of the template's one dashboard, as JSON.

    CDK writes the body as an Fn::Join of strings and references; each reference becomes a
    readable placeholder: ${LogicalId} for a Ref, ${LogicalId.Attribute} for a GetAtt.
    """
    (dashboard,) = [
        r for r in template["Resources"].values() if r["Type"] == "AWS::CloudWatch::Dashboard"
    ]
    body = dashboard["Properties"]["DashboardBody"]
    if isinstance(body, str):
        return dict(json.loads(body))
    separator, parts = body["Fn::Join"]
    return dict(json.loads(separator.join(map(_placeholder, parts))))


def _placeholder(part: Any) -> str:
    if isinstance(part, str):
        return part
    if "Ref" in part:
        return f"${{{part['Ref']}}}"
    if "Fn::GetAtt" in part:
        return f"${{{'.'.join(part['Fn::GetAtt'])}}}"
    raise ValueError(f"unexpected token in the dashboard body: {part!r}")


def layout(body: Mapping[str, Any]) -> list[Widget]:
    """The widgets of a dashboard body, in its order."""
    return [
        Widget(
            title=widget["properties"].get("title", ""),
            kind=kind(widget),
            x=widget["x"],
            y=widget["y"],
            width=widget["width"],
            height=widget["height"],
        )
        for widget in body["widgets"]
    ]


def kind(widget: Mapping[str, Any]) -> str:
    """What a widget shows, in words: graph, metric table, log table, alarm status, ..."""
    properties = widget["properties"]
    view = properties.get("view", "")
    if widget["type"] == "metric":
        if properties.get("annotations", {}).get("alarms"):
            return "alarm graph"
        return {"timeSeries": "graph", "table": "metric table", "singleValue": "number"}.get(
            view, f"{view} chart"
        )
    if widget["type"] == "log":
        return f"log {view}" if view else "log graph"
    if widget["type"] == "alarm":
        return "alarm status"
    return str(widget["type"])


def layout_hash(widgets: Sequence[Widget]) -> str:
    """A SHA-256 of the titles, kinds and positions, in order."""
    canonical = json.dumps([asdict(w) for w in widgets], sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def synthesized_layout() -> list[Widget]:
    """The dashboard layout of a fresh synth with cdk.json's settings (offline, no lookups)."""
    context = json.loads((ROOT / "cdk.json").read_text())["context"]
    with tempfile.TemporaryDirectory() as outdir:
        app = cdk.App(context=context, outdir=outdir)
        stack = MaintenanceWindowAlertsStack(
            app, contract.STACK_NAME, settings=Settings.from_scope(app)
        )
        template = app.synth().get_stack_artifact(stack.artifact_id).template
    return layout(dashboard_body(template))


def picture_hash(path: Path) -> str | None:
    """The layout hash written into a PNG, read from its text chunks (None if it has none)."""
    data = path.read_bytes()
    position = 8  # after the PNG signature
    while position < len(data):
        length = int.from_bytes(data[position : position + 4], "big")
        chunk_type = data[position + 4 : position + 8]
        content = data[position + 8 : position + 8 + length]
        if chunk_type == b"tEXt":
            key, _, value = content.partition(b"\0")
            if key.decode("latin-1") == HASH_KEY:
                return value.decode("latin-1")
        position += 12 + length  # length, type, content, CRC
    return None


def render(widgets: Sequence[Widget], path: Path) -> None:
    """Draw the widgets as boxes on the 24-unit grid, into a PNG carrying their layout hash."""
    unit_width, unit_height = 0.62, 0.42  # inches per grid unit: widgets look as on screen
    header = 1.6  # grid units above the widgets for the picture's own title
    rows = max(w.y + w.height for w in widgets) + header
    figure = Figure(figsize=(GRID_WIDTH * unit_width, rows * unit_height), dpi=100)
    FigureCanvasAgg(figure)
    axes = figure.add_axes((0, 0, 1, 1))
    axes.set_xlim(0, GRID_WIDTH)
    axes.set_ylim(rows, 0)  # y grows downwards, as on the dashboard
    axes.axis("off")
    axes.text(
        0.2,
        header / 2,
        "CloudWatch dashboard of maintenance-window-alerts: layout",
        fontsize=15,
        fontweight="bold",
        va="center",
    )
    axes.text(
        GRID_WIDTH - 0.2,
        header / 2,
        "drawn from the synthesized template by tools/render_dashboard.py",
        fontsize=9,
        color="#555555",
        va="center",
        ha="right",
    )
    gap = 0.12  # between neighbouring boxes
    for widget in widgets:
        top = widget.y + header
        axes.add_patch(
            FancyBboxPatch(
                (widget.x + gap, top + gap),
                widget.width - 2 * gap,
                widget.height - 2 * gap,
                boxstyle="round,pad=0,rounding_size=0.15",
                facecolor=COLOURS.get(widget.kind, OTHER_COLOUR),
                edgecolor="#7a8a99",
                linewidth=1,
            )
        )
        _sketch(axes, widget, top)
        characters = max(12, int((widget.width * unit_width - 0.5) * 100 / 8.8))  # ~8.8 px a char
        axes.text(
            widget.x + 0.35,
            top + 0.35,
            textwrap.fill(widget.title, characters),
            fontsize=10.5,
            fontweight="bold",
            va="top",
            ha="left",
            linespacing=1.25,
        )
        axes.text(
            widget.x + widget.width - 0.35,
            top + widget.height - 0.35,
            f"{widget.kind}  ·  {widget.width}x{widget.height}",
            fontsize=9,
            color="#44505c",
            va="bottom",
            ha="right",
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(
        path,
        format="png",
        # No "Software" chunk (it names matplotlib's version): only the layout's hash.
        metadata={"Software": None, HASH_KEY: layout_hash(widgets)},
    )


# A fixed line for every graph: the sketch of a time series, the same on every run.
_LINE = (0.55, 0.35, 0.6, 0.3, 0.45, 0.2, 0.5, 0.4, 0.7, 0.35, 0.5, 0.25)


def _sketch(axes: Axes, widget: Widget, top: float) -> None:
    """A faint hint of what the widget shows (a line, table rows or alarm tiles): decoration
    drawn from the kind and the box alone, so it changes only with the layout."""
    left, right = widget.x + 0.5, widget.x + widget.width - 0.5
    upper, lower = top + 1.5, top + widget.height - 0.9  # below the title, above the kind
    if widget.kind in ("graph", "alarm graph"):
        step = (right - left) / (len(_LINE) - 1)
        xs = [left + i * step for i in range(len(_LINE))]
        ys = [lower - v * (lower - upper) for v in _LINE]
        axes.plot(xs, ys, color="#9fb3c8", linewidth=1.2)
        axes.plot([left, right], [lower, lower], color="#c5d2de", linewidth=0.8)
    elif widget.kind.endswith("table"):
        row = 0.55
        lines = int((lower - upper) / row)
        for i in range(lines + 1):
            y = upper + i * row
            axes.plot([left, right], [y, y], color="#c9d3cc", linewidth=1.6 if i == 1 else 0.7)
    elif widget.kind == "alarm status":
        columns, tile_gap = 4, 0.25
        tile_width = (right - left - (columns - 1) * tile_gap) / columns
        tile_height = 0.9
        y = upper - 0.6
        while y + tile_height <= lower + 0.4:
            for column in range(columns):
                x = left + column * (tile_width + tile_gap)
                axes.add_patch(
                    Rectangle((x, y), tile_width, tile_height, facecolor="#eec4c4", linewidth=0)
                )
            y += tile_height + tile_gap


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--output", type=Path, default=PICTURE, help="PNG to write")
    parser.add_argument(
        "--check", action="store_true", help="only check that the PNG shows the current layout"
    )
    arguments = parser.parse_args(argv)
    widgets = synthesized_layout()
    if arguments.check:
        current = arguments.output.exists() and picture_hash(arguments.output)
        if current != layout_hash(widgets):
            print(f"{arguments.output} is out of date: run python -m tools.render_dashboard")
            return 1
        return 0
    render(widgets, arguments.output)
    print(f"wrote {arguments.output} ({len(widgets)} widgets, layout {layout_hash(widgets)[:12]})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
