"""What an alert says of failure streaks: which failing targets are new and which still fail,
since when and for how many runs. The digest's fields (each failure's, and the `streaks`
summary), the subject's suffix, and the line the email and the chat card open with. Pure: the
streaks arrive as a `StreakView` (mwalerts.streaks); the text parts read the digest only."""

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from mwalerts.streaks import Since, StreakView, TargetView
from mwalerts.tally import ExecutionReport, Failure, FailureGroup

Cause = tuple[str, str | None]


def tracked_targets(streaks: StreakView | None) -> Mapping[str, TargetView] | None:
    """The failing targets' streaks, or None when the execution's streaks are not tracked (no
    view, or an execution older than the window's state): the alert then reads as today's."""
    return streaks.targets if streaks is not None and streaks.tracked else None


def new_first(failures: Sequence[Failure], streaks: StreakView | None) -> list[Failure]:
    """The failures of new targets first, each side in its order: what broke since the last run
    is what a person acts on, and what the size cut keeps."""
    tracked = tracked_targets(streaks)
    if tracked is None:
        return list(failures)
    return sorted(failures, key=lambda failure: not is_new(failure_streak(failure, tracked)))


def failure_streak(failure: Failure, tracked: Mapping[str, TargetView]) -> TargetView | None:
    """A failure's streak: that of its target with the fewest failed runs in a row (a Run
    Command invocation can run on several instances), so that it is new if any of them is."""
    views = [tracked[target] for target in failure.targets if target in tracked]
    return min(views, key=lambda view: view.count, default=None)


def is_new(view: TargetView | None) -> bool:
    """New: failing for the first time in a row, or with no known history."""
    return view is None or view.count == 1


def failure_fields(failure: Failure, tracked: Mapping[str, TargetView] | None) -> dict[str, Any]:
    """A failure's streak in the digest: both null when streaks are not tracked."""
    view = failure_streak(failure, tracked) if tracked is not None else None
    return {
        "consecutiveFailures": view.count if view else None,
        "failingSince": since_record(view.since) if view else None,
    }


def since_record(since: Since) -> dict[str, Any]:
    return {"windowExecutionId": since.window_execution_id, "time": since.time}


def streak_summary(
    report: ExecutionReport, streaks: StreakView | None, *, groups: int
) -> dict[str, Any] | None:
    """Every failing target, new and still failing, counted and grouped by cause (at most
    `groups` of each, most frequent first, so the summary stays small whatever fails); None when
    the execution's streaks are not tracked."""
    tracked = tracked_targets(streaks)
    if streaks is None or tracked is None:
        return None
    since = streaks.still_failing_since
    new: dict[Cause, FailureGroup] = {}
    old: dict[Cause, FailureGroup] = {}
    for target, cause in report.failing_targets.items():
        side = new if is_new(tracked.get(target)) else old
        side.setdefault(cause, FailureGroup(*cause)).add(1, [target])
    return {
        "newFailures": streaks.new_failures,
        "stillFailing": streaks.still_failing,
        "stillFailingSince": since_record(since) if since else None,
        "recovered": streaks.ended,
        "targetsFailingConsecutively": streaks.chronic,
        "longestStreak": streaks.longest,
        "newGroups": _group_records(new.values(), groups),
        "stillFailingGroups": _group_records(old.values(), groups),
    }


def _group_records(groups: Iterable[FailureGroup], limit: int) -> list[dict[str, Any]]:
    ordered = sorted(groups, key=lambda group: -group.count)[:limit]  # stable: first seen first
    return [
        {
            "status": group.status,
            "statusDetails": group.status_details,
            "count": group.count,
            "examples": list(group.examples),
        }
        for group in ordered
    ]


def subject_suffix(streaks: Mapping[str, Any] | None) -> str:
    """The subject's "; 3 new" or "; all still failing" when some targets fail again, so that a
    mail rule or a filter can route known failures apart; nothing (today's subject) when every
    failing target is new or streaks are not tracked."""
    if not streaks or not streaks["stillFailing"]:
        return ""
    if streaks["newFailures"]:
        return f"; {streaks['newFailures']} new"
    return "; all still failing"


def lead_line(streaks: Mapping[str, Any] | None) -> str | None:
    """What the email and the chat card open with when streaks are tracked and some target
    fails: "3 new failures; 5 targets still failing since 2026-11-20."."""
    if not streaks or not (streaks["newFailures"] or streaks["stillFailing"]):
        return None
    new = streaks["newFailures"]
    parts = [plural(new, "new failure") if new else "No new failures"]
    if streaks["stillFailing"]:
        date = day(streaks["stillFailingSince"])
        parts.append(
            f"{plural(streaks['stillFailing'], 'target')} still failing"
            + (f" since {date}" if date else "")
        )
    if streaks["recovered"]:
        parts.append(f"{streaks['recovered']} recovered")
    return "; ".join(parts) + "."


def target_suffix(failure: Mapping[str, Any]) -> str:
    """The email's " (failing since 2026-11-20, 4 runs)" after a target failing again; nothing
    after a new one."""
    count = failure["consecutiveFailures"]
    if not count or count == 1:
        return ""
    date = day(failure["failingSince"])
    return f" (failing since {date}, {count} runs)" if date else f" ({count} runs in a row)"


def plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def day(since: Mapping[str, Any] | None) -> str | None:
    """The UTC date a `since_record` started: 2026-11-20."""
    time = since["time"] if since else None
    return time[:10] if time else None
