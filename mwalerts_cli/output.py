"""How the commands talk to a person: aligned tables with coloured statuses, notes, progress.

Results go to stdout, everything else (progress, notes, errors) to stderr, so `--output json`
can be piped. Text from the API goes through `clean_text` (no control characters, so no terminal
escapes) and into `Text` objects (never parsed as rich markup).
"""

import json
import os
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.text import Text

from mwalerts.alert import clean_text
from mwalerts.pipeline import Watcher

STATUS_STYLES = {
    "FAILED": "bold red",
    "TIMED_OUT": "red",
    "CANCELLED": "yellow",
    "CANCELLING": "yellow",
    "SUCCESS": "green",
    "PENDING": "cyan",
    "IN_PROGRESS": "cyan",
    "SKIPPED_OVERLAPPING": "dim",
    # The results of preflight's checks and selftest's hops.
    "PASS": "green",
    "WARN": "yellow",
    "FAIL": "bold red",
    "SKIP": "dim",
}
# Wide enough that a table piped to a file or pager is not wrapped at 80 columns.
PIPED_WIDTH = 200
# Rows rendered per print: a long table streams out instead of being built whole (rich's Table
# takes about 0.5 ms a row; aligned lines of Text take a tenth of that).
ROWS_PER_PRINT = 1_000


@dataclass(frozen=True)
class Column:
    header: str
    limit: int = 60  # longer cells are cut, with "..."
    right: bool = False
    status: bool = False  # coloured by STATUS_STYLES


@dataclass
class Ui:
    out: Console
    err: Console

    @classmethod
    def for_terminal(cls) -> "Ui":
        piped = not sys.stdout.isatty() and "COLUMNS" not in os.environ
        return cls(
            out=Console(highlight=False, width=PIPED_WIDTH if piped else None),
            err=Console(stderr=True, highlight=False),
        )

    @classmethod
    def plain(cls, width: int = 160) -> "Ui":
        """No colour, fixed width: deterministic output for tests and samples."""
        return cls(
            out=Console(width=width, color_system=None, highlight=False),
            err=Console(stderr=True, width=width, color_system=None, highlight=False),
        )

    def line(self, text: str | Text = "", style: str | None = None) -> None:
        # Never wrapped: a line of the email body or a URL stays one line, as in a pipe.
        line = text if isinstance(text, Text) else Text(text, style=style or "")
        self.out.print(line, soft_wrap=True)

    def json(self, value: Any) -> None:
        # Straight to the stream: rich would wrap long strings and treat brackets as markup.
        self.out.file.write(json.dumps(value, indent=2, ensure_ascii=False) + "\n")
        self.out.file.flush()

    def info(self, text: str) -> None:
        """A message about what the command did (not its result): stderr."""
        self.err.print(Text(text), soft_wrap=True)

    def note(self, text: str) -> None:
        self.err.print(Text(f"note: {text}", style="dim"), soft_wrap=True)

    def error(self, text: str) -> None:
        self.err.print(Text(f"mwalerts: error: {text}", style="bold red"), soft_wrap=True)

    def progress(self) -> Progress:
        """A progress display on stderr; transient, and silent when stderr is not a terminal."""
        return Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[detail]}"),
            TimeElapsedColumn(),
            console=self.err,
            transient=True,
            # Off in pipes and logs, where it would only add a blank line.
            disable=not self.err.is_terminal,
        )

    def table(self, columns: Sequence[Column], rows: Iterable[Sequence[str]]) -> None:
        """Aligned columns with a header; cells cut to their column's limit, statuses coloured."""
        cells = [
            [clean_text(cell, column.limit) for cell, column in zip(row, columns, strict=True)]
            for row in rows
        ]
        widths = [
            max([len(column.header), *(len(row[index]) for row in cells)])
            for index, column in enumerate(columns)
        ]
        # No padding after the last cell (no trailing spaces), unless it is right-aligned.
        pads = widths if columns[-1].right else [*widths[:-1], 0]
        self.out.print(
            self._line([c.header for c in columns], columns, pads, "bold"), soft_wrap=True
        )
        self.out.print(Text("  ".join("─" * width for width in widths), "dim"), soft_wrap=True)
        for start in range(0, len(cells), ROWS_PER_PRINT):
            block = Text()
            for row in cells[start : start + ROWS_PER_PRINT]:
                block.append_text(self._line(row, columns, pads))
                block.append("\n")
            self.out.print(block, soft_wrap=True, end="")

    @staticmethod
    def _line(
        cells: Sequence[str], columns: Sequence[Column], pads: Sequence[int], style: str = ""
    ) -> Text:
        line = Text()
        for index, (cell, column, width) in enumerate(zip(cells, columns, pads, strict=True)):
            if index:
                line.append("  ")
            status = STATUS_STYLES.get(cell, "") if column.status and not style else ""
            line.append(_pad(cell, width, column.right), style=style or status)
        return line


class ReadingProgress(Watcher):
    """The progress display while a window execution's invocations are read: tasks read of all."""

    def __init__(self, progress: Progress) -> None:
        self.progress = progress
        self.bar: TaskID = progress.add_task("Reading invocations", total=None, detail="")

    def tasks_listed(self, tasks: Sequence[Any]) -> None:
        self.progress.update(self.bar, total=len(tasks))

    def task_done(self, task: Any) -> None:
        self.progress.advance(self.bar)


def _pad(text: str, width: int, right: bool) -> str:
    return text.rjust(width) if right else text.ljust(width)


def count_list(counts: Mapping[str, int]) -> str:
    """`532 SUCCESS, 5 FAILED`: counts in the order given (the digest's: the API's order)."""
    return ", ".join(f"{count:,} {status}" for status, count in counts.items()) or "none"


def duration(start: datetime | None, end: datetime | None) -> str:
    if start is None or end is None:
        return "-"
    seconds = max(0, int((end - start).total_seconds()))
    hours, rest = divmod(seconds, 3600)
    if hours:
        return f"{hours}h {rest // 60:02d}m {rest % 60:02d}s"
    return f"{rest // 60}m {rest % 60:02d}s"


def as_utc(moment: datetime) -> datetime:
    """The same instant in UTC (a time without a zone is taken as UTC, as `--since` reads it)."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def utc(moment: datetime | None) -> str:
    """`2026-11-20 02:00:00`, in UTC: the time is converted, not only labelled."""
    return f"{as_utc(moment):%Y-%m-%d %H:%M:%S}" if moment else "-"


def time_range(start: datetime | None, end: datetime | None) -> str:
    """`2026-11-20 02:00:00 to 02:15:41 UTC (15m 41s)`."""
    if start is None:
        return "not started"
    if end is None:
        return f"{utc(start)} UTC, not ended"
    start, end = as_utc(start), as_utc(end)
    shown = f"{end:%H:%M:%S}" if end.date() == start.date() else utc(end)
    return f"{utc(start)} to {shown} UTC ({duration(start, end)})"


def clock(moment: datetime | None, day: datetime | None) -> str:
    """A time of day, with its date only when it is not `day`'s: short table cells."""
    if moment is None:
        return "-"
    moment = as_utc(moment)
    if day is not None and moment.date() == as_utc(day).date():
        return f"{moment:%H:%M:%S}"
    return utc(moment)


def short_arn(arn: str | None) -> str:
    """`AWS-RunPatchBaseline`, or the name at the end of a Lambda or Step Functions ARN."""
    if not arn:
        return "-"
    return arn.rsplit(":", 1)[-1].rsplit("/", 1)[-1] if arn.startswith("arn:") else arn
