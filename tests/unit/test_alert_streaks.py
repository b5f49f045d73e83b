"""New or still failing: what an alert says of the failing targets' streaks (digest fields,
subject, the newFailures attribute, email and chat lead), and the resolved notice a window gets
when it runs clean after failing. Streaks are built by hand here; how they are kept is
tests/unit/test_streaks*.py's subject."""

import json
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mwalerts import contract
from mwalerts.alert import (
    DIGEST_GROUPS,
    NO_ENRICHMENT,
    SNS_MAX_SUBJECT_CHARS,
    Alert,
    assemble_alert,
    render_alert,
)
from mwalerts.chat import RESOLVED_EVENT_TYPE
from mwalerts.enrich import Enrichment, WindowInfo
from mwalerts.events import WindowExecutionEvent, parse_event
from mwalerts.model import WindowExecution
from mwalerts.resolved import duration_words, render_resolved
from mwalerts.streaks import Resolution, Since, StreakView, TargetView, untracked
from mwalerts.tally import ExecutionReport, combine, summarise_task
from tests.support import assert_valid_chat_notification, assert_valid_digest, load_event
from tests.unit.test_alert import TASK, TASK_ID

SNS_MAX_MESSAGE_BYTES = 262_144  # SNS's limit on a publish (message, subject, attributes)
ALERT = frozenset({"FAILED", "TIMED_OUT", "CANCELLED"})
WINDOW_ID = "mw-0ed7251d3fcf6e0c2"
EXECUTION_ID = "791b72e0-f0da-4021-8b35-f95df1a2b3c4"  # the recorded event's
# The streaks' first executions: two nights ago (seq 1) and the night before (seq 2).
TWO_NIGHTS_AGO = Since("11111111-1111-4111-8111-111111111111", "2026-11-18T02:00:00.311Z", 1)
LAST_NIGHT = Since("22222222-2222-4222-8222-222222222222", "2026-11-19T02:00:00.207Z", 2)
TONIGHT = Since(EXECUTION_ID, "2026-11-20T02:00:00.104Z", 3)
NAMED = Enrichment(WindowInfo("prod-web-nightly-patching", "Security patches, nightly"))


def instance(number: int) -> str:
    return f"i-{number:017x}"


def _invocation(number: int, instances: list[str], status: str = "FAILED", details: str = "Failed"):
    return {
        "WindowExecutionId": EXECUTION_ID,
        "TaskExecutionId": TASK_ID,
        "InvocationId": f"00000000-0000-4000-8000-{number:012d}",
        "ExecutionId": f"10000000-0000-4000-8000-{number:012d}",
        "TaskType": "RUN_COMMAND",
        "Parameters": json.dumps({"instanceIds": instances}),
        "Status": status,
        "StatusDetails": details,
        "WindowTargetId": "e32eecb2-646c-4f4b-8ed1-205fb4a5b6c7",
    }


def execution() -> WindowExecution:
    event = parse_event(load_event("window-execution-failed"))
    assert isinstance(event, WindowExecutionEvent)
    return event.execution


def report_of(failing: list[list[str]], *, succeeded: int = 0, details: str = "Failed"):
    """One Run Command task: an invocation per list of instances that failed, then successes."""
    rows = [_invocation(n, ids, details=details) for n, ids in enumerate(failing)]
    rows += [
        _invocation(len(failing) + n, [instance(9999 + n)], "SUCCESS") for n in range(succeeded)
    ]
    return combine([summarise_task(TASK, rows, ALERT)])


def view(targets: dict[str, TargetView], *, ended: int = 0) -> StreakView:
    return StreakView(True, targets, changed=True, ended=ended)


NEW = TargetView(1, TONIGHT)
SINCE_LAST_NIGHT = TargetView(2, LAST_NIGHT)
SINCE_TWO_NIGHTS = TargetView(3, TWO_NIGHTS_AGO)


def body(alert: Alert) -> dict[str, Any]:
    return json.loads(alert.message)


def email_of(alert: Alert) -> str:
    return body(alert)["email"]


def attribute(alert: Alert, name: str) -> str:
    return alert.attributes[name]["StringValue"]


# -- the digest ------------------------------------------------------------------------------


def test_a_new_failure_has_a_streak_of_one_that_starts_with_this_execution():
    report = report_of([[instance(1)], [instance(2)]], succeeded=3)
    alert = render_alert(execution(), report, streaks=view({instance(1): NEW, instance(2): NEW}))

    digest = alert.digest
    assert_valid_digest(digest)
    assert digest["notice"] == "alert"
    assert [(f["consecutiveFailures"], f["failingSince"]) for f in digest["failures"]] == [
        (1, {"windowExecutionId": EXECUTION_ID, "time": "2026-11-20T02:00:00.104Z"})
    ] * 2
    assert digest["streaks"] == {
        "newFailures": 2,
        "stillFailing": 0,
        "stillFailingSince": None,
        "recovered": 0,
        "targetsFailingConsecutively": 0,
        "longestStreak": 1,
        "newGroups": [
            {
                "status": "FAILED",
                "statusDetails": "Failed",
                "count": 2,
                "examples": [instance(1), instance(2)],
            }
        ],
        "stillFailingGroups": [],
    }
    assert alert.subject == f"[FAILED] {WINDOW_ID}: 2 of 5 invocations failed"  # as today
    assert attribute(alert, contract.ATTRIBUTE_NEW_FAILURES) == "2"
    assert email_of(alert).splitlines()[1] == "2 new failures."


def test_targets_still_failing_carry_their_run_count_and_the_execution_they_began_with():
    report = report_of([[instance(1)], [instance(2)], [instance(3)]])
    streaks = view(
        {
            instance(1): SINCE_TWO_NIGHTS,
            instance(2): SINCE_LAST_NIGHT,
            instance(3): SINCE_LAST_NIGHT,
        }
    )
    alert = render_alert(execution(), report, NAMED, streaks=streaks)

    digest = alert.digest
    assert_valid_digest(digest)
    first = digest["failures"][0]
    assert first["consecutiveFailures"] == 3
    assert first["failingSince"] == {
        "windowExecutionId": TWO_NIGHTS_AGO.window_execution_id,
        "time": "2026-11-18T02:00:00.311Z",
    }
    summary = digest["streaks"]
    assert (summary["newFailures"], summary["stillFailing"]) == (0, 3)
    assert summary["stillFailingSince"]["windowExecutionId"] == TWO_NIGHTS_AGO.window_execution_id
    assert (summary["targetsFailingConsecutively"], summary["longestStreak"]) == (3, 3)
    assert summary["newGroups"] == []
    assert summary["stillFailingGroups"][0]["count"] == 3
    assert alert.subject == (
        f"[FAILED] prod-web-nightly-p... ({WINDOW_ID}): 3 of 3 invocations failed; "
        "all still failing"
    )  # the name is cut to fit 99 characters
    assert attribute(alert, contract.ATTRIBUTE_NEW_FAILURES) == "0"
    email = email_of(alert)
    assert email.splitlines()[1] == "No new failures; 3 targets still failing since 2026-11-18."
    assert f"{instance(1)}  FAILED     Failed (failing since 2026-11-18, 3 runs)" in email
    assert f"{instance(2)}  FAILED     Failed (failing since 2026-11-19, 2 runs)" in email


def test_new_failures_come_first_and_the_subject_counts_them_when_others_still_fail():
    # SSM lists the still-failing targets first; the alert puts the new ones before them.
    report = report_of([[instance(1)], [instance(2)], [instance(3)]], succeeded=1)
    streaks = view(
        {instance(1): SINCE_LAST_NIGHT, instance(2): NEW, instance(3): SINCE_TWO_NIGHTS},
        ended=4,
    )
    alert = render_alert(execution(), report, streaks=streaks)

    digest = alert.digest
    assert_valid_digest(digest)
    listed = [f["instanceIds"][0] for f in digest["failures"]]
    assert listed == [instance(2), instance(1), instance(3)]  # new first, then in SSM's order
    assert [f["consecutiveFailures"] for f in digest["failures"]] == [1, 2, 3]
    assert alert.subject == f"[FAILED] {WINDOW_ID}: 3 of 4 invocations failed; 1 new"
    assert attribute(alert, contract.ATTRIBUTE_NEW_FAILURES) == "1"
    assert digest["streaks"]["recovered"] == 4
    lead = "1 new failure; 2 targets still failing since 2026-11-18; 4 recovered."
    assert email_of(alert).splitlines()[1] == lead
    email_targets = email_of(alert).split("Failed targets (showing 3 of 3)\n")[1].splitlines()
    assert [line.split()[0] for line in email_targets[:3]] == listed
    assert email_targets[0].endswith("Failed")  # a new one has no streak note


def test_groups_split_new_from_still_failing_and_count_every_failing_target():
    causes = ["Step 1 failed"] * 4 + ["Step 2 failed"] * 2 + ["Step 3 failed"]
    rows = [_invocation(n, [instance(n)], details=cause) for n, cause in enumerate(causes)]
    report = combine([summarise_task(TASK, rows, ALERT)])
    old = {0, 1, 4}  # two of Step 1, one of Step 2
    streaks = view({instance(n): SINCE_LAST_NIGHT if n in old else NEW for n in range(7)})

    summary = render_alert(execution(), report, streaks=streaks).digest["streaks"]

    def groups(key: str) -> list[tuple[str, int, list[str]]]:
        return [(g["statusDetails"], g["count"], g["examples"]) for g in summary[key]]

    assert groups("newGroups") == [
        ("Step 1 failed", 2, [instance(2), instance(3)]),
        ("Step 2 failed", 1, [instance(5)]),
        ("Step 3 failed", 1, [instance(6)]),
    ]
    assert groups("stillFailingGroups") == [
        ("Step 1 failed", 2, [instance(0), instance(1)]),
        ("Step 2 failed", 1, [instance(4)]),
    ]


def test_an_invocation_on_several_instances_takes_the_shortest_streak_among_them():
    report = report_of([[instance(1), instance(2)], [instance(3), instance(4)]])
    streaks = view(
        {
            instance(1): SINCE_TWO_NIGHTS,
            instance(2): NEW,  # one new instance makes the invocation new
            instance(3): SINCE_TWO_NIGHTS,
            instance(4): SINCE_LAST_NIGHT,
        }
    )
    digest = render_alert(execution(), report, streaks=streaks).digest

    assert [(f["instanceIds"], f["consecutiveFailures"]) for f in digest["failures"]] == [
        ([instance(1), instance(2)], 1),
        ([instance(3), instance(4)], 2),
    ]
    assert digest["failures"][1]["failingSince"]["windowExecutionId"] == (
        LAST_NIGHT.window_execution_id
    )
    assert digest["streaks"]["newFailures"] == 1  # targets, not invocations
    assert digest["streaks"]["stillFailing"] == 3


def test_an_execution_whose_streaks_are_not_tracked_alerts_exactly_as_without_streaks():
    report = report_of([[instance(1)], [instance(2), instance(3)]], succeeded=2)
    plain = render_alert(execution(), report, NAMED)
    older = render_alert(
        execution(), report, NAMED, streaks=untracked(dict.fromkeys(report.failing_targets, "x"))
    )

    assert older == plain
    assert plain.digest["streaks"] is None
    assert all(f["consecutiveFailures"] is None for f in plain.digest["failures"])
    assert all(f["failingSince"] is None for f in plain.digest["failures"])
    assert attribute(plain, contract.ATTRIBUTE_NEW_FAILURES) == "3"  # every failing target
    assert email_of(plain).splitlines()[1] == "Security patches, nightly"  # no lead line


def test_a_window_that_failed_with_no_failing_target_has_no_lead_line():
    report = report_of([], succeeded=2)
    alert = render_alert(replace(execution(), status="TIMED_OUT"), report, streaks=view({}))
    assert alert.digest["streaks"]["newFailures"] == 0
    assert alert.subject == f"[TIMED_OUT] {WINDOW_ID}: 0 of 2 invocations failed"
    assert email_of(alert).splitlines()[1] == ""
    assert alert.chat["content"]["description"].startswith("*0 of 2*")


SINCE_BY_COUNT = {
    1: TONIGHT,
    2: LAST_NIGHT,
    3: TWO_NIGHTS_AGO,
    4: Since("33333333-3333-4333-8333-333333333333", None, 0),  # a start SSM never gave
}


@settings(max_examples=100, deadline=None)
@given(
    streak_counts=st.lists(
        st.lists(st.sampled_from(sorted(SINCE_BY_COUNT)), min_size=1, max_size=3), max_size=40
    )
)
def test_any_mix_of_new_and_known_targets_gives_a_consistent_valid_alert(
    streak_counts: list[list[int]],
) -> None:
    """`streak_counts[i]`: the streak of each instance the i-th failed invocation ran on."""
    numbers = iter(range(10**6))
    failing = [[instance(next(numbers)) for _ in counts] for counts in streak_counts]
    targets = {
        target: TargetView(count, SINCE_BY_COUNT[count])
        for ids, counts in zip(failing, streak_counts, strict=True)
        for target, count in zip(ids, counts, strict=True)
    }
    alert = render_alert(execution(), report_of(failing, succeeded=1), streaks=view(targets))

    digest, summary = alert.digest, alert.digest["streaks"]
    assert_valid_digest(digest)
    assert_valid_chat_notification(alert.chat)
    new = sum(1 for v in targets.values() if v.count == 1)
    assert (summary["newFailures"], summary["stillFailing"]) == (new, len(targets) - new)
    assert sum(g["count"] for g in summary["newGroups"]) == new
    assert sum(g["count"] for g in summary["stillFailingGroups"]) == len(targets) - new
    assert attribute(alert, contract.ATTRIBUTE_NEW_FAILURES) == str(new)
    # Each failure shows its shortest streak; new ones first, each side in SSM's order.
    expected = sorted(
        ((min(counts), number) for number, counts in enumerate(streak_counts)),
        key=lambda pair: pair[0] != 1,
    )
    shown = [(f["consecutiveFailures"], int(f["invocationId"][-12:])) for f in digest["failures"]]
    assert shown == expected
    for failure in digest["failures"]:
        since = SINCE_BY_COUNT[failure["consecutiveFailures"]]
        assert failure["failingSince"]["windowExecutionId"] == since.window_execution_id
    lead = email_of(alert).splitlines()[1]
    assert (lead == "") == (not targets)  # a lead line, then a blank one, when targets fail
    if targets:
        assert alert.chat["content"]["description"].startswith(lead)


# -- the size cut ----------------------------------------------------------------------------


def test_new_failures_survive_the_size_cut_and_the_message_stays_within_sns_limits():
    long_details = "Step 3 failed: " + "x" * 230  # StatusDetails is at most 250 characters
    failing = [[instance(n)] for n in range(1000)]
    report = report_of(failing, details=long_details)
    new = set(range(800, 1000))  # the last 200 SSM lists are new
    streaks = view({instance(n): NEW if n in new else SINCE_TWO_NIGHTS for n in range(1000)})

    alert = render_alert(execution(), report, streaks=streaks)

    listed = alert.digest["failures"]
    assert alert.size <= SNS_MAX_MESSAGE_BYTES
    assert 200 < len(listed) < 1000  # cut, after every new one
    assert [f["consecutiveFailures"] for f in listed[:200]] == [1] * 200
    assert {f["consecutiveFailures"] for f in listed[200:]} == {3}
    assert alert.digest["omittedFailures"] == 1000 - len(listed)
    kept = sorted(report.failures, key=lambda f: f.instance_ids[0] not in map(instance, new))
    one_more = assemble_alert(
        execution(), report, kept[: len(listed) + 1], NO_ENRICHMENT, streaks=streaks
    )
    assert one_more.size > SNS_MAX_MESSAGE_BYTES  # as full as it can be


def test_the_streak_summary_stays_bounded_with_thousands_of_targets_and_causes():
    details = [f"Step {n % 120} failed: " + "y" * 220 for n in range(5000)]
    rows = [_invocation(n, [instance(n)], details=d) for n, d in enumerate(details)]
    report = combine([summarise_task(TASK, rows, ALERT)])
    streaks = view({instance(n): NEW if n % 2 else SINCE_LAST_NIGHT for n in range(5000)})

    alert = render_alert(execution(), report, NAMED, streaks=streaks)

    summary = alert.digest["streaks"]
    assert alert.size <= SNS_MAX_MESSAGE_BYTES
    assert len(summary["newGroups"]) == len(summary["stillFailingGroups"]) == DIGEST_GROUPS
    assert (summary["newFailures"], summary["stillFailing"]) == (2500, 2500)
    assert alert.digest["failures"]  # the groups leave room for failures
    assert_valid_digest(alert.digest)


# -- subject, chat ---------------------------------------------------------------------------

NAMES = st.text(min_size=1, max_size=300)


@settings(max_examples=100, deadline=None)
@given(
    name=NAMES,
    status=st.sampled_from(sorted(ALERT)),
    new=st.integers(0, 30),
    old=st.integers(0, 30),
    total=st.integers(0, 10**7),
)
def test_the_subject_fits_sns_and_says_when_known_streaks_fail_again(
    name: str, status: str, new: int, old: int, total: int
) -> None:
    targets = {instance(n): NEW if n < new else SINCE_LAST_NIGHT for n in range(new + old)}
    counts = {"FAILED": new + old, "SUCCESS": total}
    report = ExecutionReport(
        [], counts, new + old, (), (), dict.fromkeys(targets, ("FAILED", None))
    )
    alert = assemble_alert(
        replace(execution(), status=status),
        report,
        (),
        Enrichment(WindowInfo(name)),
        streaks=view(targets),
    )

    subject = alert.subject
    assert subject.isascii()
    assert subject.isprintable()
    assert 0 < len(subject) <= SNS_MAX_SUBJECT_CHARS
    assert subject.startswith(f"[{status}] ")
    assert f" ({WINDOW_ID}): " in subject  # the name is cut first
    counted = f": {new + old} of {new + old + total} invocations failed"
    suffix = "" if not old else f"; {new} new" if new else "; all still failing"
    assert subject.endswith(counted + suffix)
    assert attribute(alert, contract.ATTRIBUTE_NEW_FAILURES) == str(new)


def test_the_chat_card_opens_with_the_lead_line_then_new_and_still_failing_causes():
    report = report_of([[instance(1)], [instance(2)], [instance(3)]])
    streaks = view({instance(1): SINCE_TWO_NIGHTS, instance(2): NEW, instance(3): NEW})
    card = render_alert(execution(), report, NAMED, streaks=streaks).chat

    assert_valid_chat_notification(card)
    assert card["content"]["description"].splitlines() == [
        "2 new failures; 1 target still failing since 2026-11-18.",
        "*3 of 3* invocations failed in window *prod-web-nightly-patching* "
        f"(`{WINDOW_ID}`), which ended *FAILED*.",
        "New:",
        f"\N{BULLET} 2 x FAILED Failed: `{instance(2)}`, `{instance(3)}`",
        "Still failing:",
        f"\N{BULLET} 1 x FAILED Failed: `{instance(1)}`",
    ]


# -- the resolved notice ---------------------------------------------------------------------


def clean_run() -> WindowExecution:
    """The window's run two nights after the first failed one, ending 4 hours later than it."""
    failed = execution()
    assert failed.start_time is not None
    assert failed.end_time is not None
    return replace(
        failed,
        status="SUCCESS",
        start_time=failed.start_time + timedelta(days=2),
        end_time=failed.end_time + timedelta(days=2, hours=4),
    )


THREE_RUNS = Resolution(TWO_NIGHTS_AGO, 3)


def resolved(
    enrichment: Enrichment = NAMED, resolution: Resolution = THREE_RUNS, **options: Any
) -> Alert:
    options.setdefault("recovered", 4)
    return render_resolved(
        clean_run(), report_of([], succeeded=5), enrichment, resolution, **options
    )


def test_the_resolved_notice_says_what_ran_clean_after_how_many_runs_since_when():
    notice = resolved()

    assert notice.subject == (
        f"[RESOLVED] prod-web-night... ({WINDOW_ID}): ran clean after 3 failed runs "
        "since 2026-11-18"
    )  # the name is cut to fit 99 characters
    assert notice.attributes == {
        "windowId": {"DataType": "String", "StringValue": WINDOW_ID},
        "windowName": {"DataType": "String", "StringValue": "prod-web-nightly-patching"},
        "status": {"DataType": "String", "StringValue": "RESOLVED"},
        "failedInvocations": {"DataType": "Number", "StringValue": "0"},
        "newFailures": {"DataType": "Number", "StringValue": "0"},
    }
    email = email_of(notice)
    assert email.splitlines()[:3] == [
        f"Maintenance window prod-web-nightly-patching ({WINDOW_ID}) ran clean: it ended SUCCESS "
        "with no failed invocations.",
        "It had been failing for 4 days 4 hours: 3 failed runs since 2026-11-18 02:00:00 UTC.",
        "4 failing targets recovered.",
    ]
    assert "Invocations       0 of 5 failed (5 SUCCESS)" in email
    assert f"Failing since     {TWO_NIGHTS_AGO.window_execution_id}" in email
    assert f"maintenance-windows/{WINDOW_ID}?region=us-east-2" in email
    assert len(email.splitlines()) < 15


def test_the_resolved_digest_and_card_are_valid_and_the_card_joins_the_windows_thread():
    notice = resolved(chat_body=True)
    alert = render_alert(execution(), report_of([[instance(1)]]), NAMED)

    digest = notice.digest
    assert_valid_digest(digest)
    assert digest["notice"] == "resolved"
    assert digest["resolved"] == {
        "failingSince": {
            "windowExecutionId": TWO_NIGHTS_AGO.window_execution_id,
            "time": "2026-11-18T02:00:00.311Z",
        },
        "failedExecutions": 3,
        "recoveredTargets": 4,
    }
    assert (digest["status"], digest["failedInvocations"], digest["failures"]) == ("SUCCESS", 0, [])
    card = notice.chat
    assert_valid_chat_notification(card)
    assert json.loads(body(notice)["default"]) == card  # chat_body: the card is the default body
    assert card["metadata"]["threadId"] == alert.chat["metadata"]["threadId"] == WINDOW_ID
    assert card["metadata"]["eventType"] == RESOLVED_EVENT_TYPE
    assert card["content"]["title"] == notice.subject
    assert card["content"]["description"].splitlines() == [
        f"Window *prod-web-nightly-patching* (`{WINDOW_ID}`) ran clean: it ended *SUCCESS* "
        "after *3 failed runs* over 4 days 4 hours, since 2026-11-18.",
        "4 failing targets recovered.",
    ]
    assert json.loads(body(resolved())["default"]) == resolved().digest  # by default, the digest


def test_a_resolved_digest_must_say_what_it_resolved():
    digest = dict(resolved().digest)
    del digest["resolved"]
    with pytest.raises(Exception, match="'resolved' is a required property"):
        assert_valid_digest(digest)


def test_one_failed_run_and_an_unnamed_window_read_in_the_singular():
    notice = resolved(NO_ENRICHMENT, Resolution(LAST_NIGHT, 1), recovered=1)
    assert (
        notice.subject == f"[RESOLVED] {WINDOW_ID}: ran clean after 1 failed run since 2026-11-19"
    )
    assert "windowName" not in notice.attributes
    assert email_of(notice).splitlines()[2] == "1 failing target recovered."


@settings(max_examples=50, deadline=None)
@given(name=NAMES, runs=st.integers(1, 10**6))
def test_the_resolved_subject_fits_sns_whatever_the_name(name: str, runs: int) -> None:
    notice = resolved(Enrichment(WindowInfo(name)), Resolution(TWO_NIGHTS_AGO, runs))
    subject = notice.subject
    assert subject.isascii()
    assert subject.isprintable()
    assert len(subject) <= SNS_MAX_SUBJECT_CHARS
    assert subject.startswith("[RESOLVED] ")
    runs_text = "1 failed run" if runs == 1 else f"{runs} failed runs"
    assert subject.endswith(f" ({WINDOW_ID}): ran clean after {runs_text} since 2026-11-18")
    assert_valid_chat_notification(notice.chat)


@pytest.mark.parametrize(
    ("seconds", "words"),
    [
        (0, "less than a minute"),
        (59, "less than a minute"),
        (60, "1 minute"),
        (45 * 60, "45 minutes"),
        (3600, "1 hour"),
        (3 * 3600 + 12 * 60 + 5, "3 hours 12 minutes"),
        (86_400, "1 day"),
        (2 * 86_400 + 4 * 3600 + 59 * 60, "2 days 4 hours"),
    ],
)
def test_how_long_a_window_had_been_failing_reads_in_its_two_largest_units(seconds, words):
    assert duration_words(seconds) == words
