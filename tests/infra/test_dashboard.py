"""The dashboard: its rows fill the grid, and its widgets show what the on-call needs."""

from collections import defaultdict
from typing import Any

from constructs import IConstruct

from maintenance_window_alerts.dashboard import CHRONIC_FAILURES_TITLE
from mwalerts import contract
from tests.infra.synthesis import FIVE_MINUTES, Synth
from tools.render_dashboard import GRID_WIDTH, dashboard_body


def dashboard(synth: Synth) -> dict[str, Any]:
    """The dashboard body as JSON; a reference in it reads ${LogicalId} or ${LogicalId.Attr}."""
    return dashboard_body(synth.template.to_json())


def widgets(synth: Synth) -> dict[str, dict[str, Any]]:
    """The dashboard's widgets by title."""
    return {w["properties"]["title"]: w for w in dashboard(synth)["widgets"]}


def placeholder(synth: Synth, construct: IConstruct, attribute: str | None = None) -> str:
    """How the dashboard body names a construct: ${LogicalId} or ${LogicalId.Attribute}."""
    suffix = f".{attribute}" if attribute else ""
    return f"${{{synth.logical_id(construct)}{suffix}}}"


def test_dashboard_rows_fill_the_24_unit_grid(default: Synth, custom: Synth) -> None:
    for synth in (default, custom):
        rows: dict[int, list[dict[str, Any]]] = defaultdict(list)
        for widget in dashboard(synth)["widgets"]:
            rows[widget["y"]].append(widget)

        tops = sorted(rows)
        for top, below in zip(tops, [*tops[1:], None], strict=True):
            row = sorted(rows[top], key=lambda w: w["x"])
            # Side by side, from the left edge to the right one, all of one height ...
            assert [w["x"] for w in row] == [
                sum(w["width"] for w in row[:i]) for i in range(len(row))
            ]
            assert sum(w["width"] for w in row) == GRID_WIDTH
            assert len({w["height"] for w in row}) == 1
            # ... and the next row starts right below.
            assert below is None or below == top + row[0]["height"]


def test_dashboard_lists_the_windows_with_the_most_failed_invocations(
    default: Synth, custom: Synth
) -> None:
    title = "Windows with the most failed invocations (top 10)"
    for synth, namespace, terms in (
        (
            default,
            contract.DEFAULT_METRICS_NAMESPACE,
            '(MetricName="InvocationsFailed" OR MetricName="InvocationsTimedOut" '
            'OR MetricName="InvocationsCancelled")',
        ),
        (
            custom,
            "Acme/Patching",
            '(MetricName="InvocationsFailed" OR MetricName="InvocationsTimedOut")',
        ),
    ):
        table = widgets(synth)[title]
        ((query,),) = table["properties"]["metrics"]

        # A SEARCH over the WindowId dimension finds windows created after the deployment;
        # SORT keeps the ten with the highest sum over the dashboard's time range.
        assert query["expression"] == (
            f"SORT(SEARCH('{{\"{namespace}\",{contract.DIMENSION_WINDOW_ID}}} {terms}', "
            f"'Sum', {FIVE_MINUTES}), SUM, DESC, 10)"
        )
        assert query["label"] == "${PROP('Dim.WindowId')} ${PROP('MetricName')}"
        assert table["properties"]["view"] == "table"
        assert table["properties"]["table"]["summaryColumns"] == ["SUM"]
        assert table["properties"]["table"]["showTimeSeriesData"] is False


def test_dashboard_failure_rate_is_the_alert_statuses_share_of_all_invocations(
    default: Synth, custom: Synth
) -> None:
    for synth, namespace, statuses in (
        (default, contract.DEFAULT_METRICS_NAMESPACE, contract.DEFAULT_ALERT_STATUSES),
        (custom, "Acme/Patching", ("FAILED", "TIMED_OUT")),
    ):
        graph = widgets(synth)["Failure rate, all windows (%)"]["properties"]
        (expression, *inputs) = graph["metrics"]
        failed = [f"m{i}" for i in range(len(statuses))]

        assert expression[0]["expression"] == f"100 * ({' + '.join(failed)}) / total"
        assert inputs == [
            [namespace, metric, {"id": query_id, "visible": False, "stat": "Sum"}]
            for query_id, metric in [
                *zip(failed, (contract.STATUS_METRICS[s] for s in statuses), strict=True),
                ("total", contract.METRIC_INVOCATIONS),
            ]
        ]
        assert graph["yAxis"]["left"]["min"] == 0


def test_dashboard_finds_every_window_by_search(default: Synth, custom: Synth) -> None:
    for synth, namespace in (
        (default, contract.DEFAULT_METRICS_NAMESPACE),
        (custom, "Acme/Patching"),
    ):
        graphs = widgets(synth)
        for title, metric, statistic in (
            ("Executions per window", contract.METRIC_WINDOW_EXECUTIONS, "Sum"),
            (
                "Window execution duration (max, seconds)",
                contract.METRIC_WINDOW_EXECUTION_DURATION,
                "Maximum",
            ),
        ):
            ((query,),) = graphs[title]["properties"]["metrics"]

            assert query["expression"] == (
                f'SEARCH(\'{{"{namespace}",{contract.DIMENSION_WINDOW_ID}}} '
                f"MetricName=\"{metric}\"', '{statistic}', {FIVE_MINUTES})"
            )
            assert query["label"] == "${PROP('Dim.WindowId')}"


def test_dashboard_shows_chronic_failures_by_window_beside_the_other_window_graphs(
    default: Synth, custom: Synth
) -> None:
    for synth, namespace in (
        (default, contract.DEFAULT_METRICS_NAMESPACE),
        (custom, "Acme/Patching"),
    ):
        graphs = widgets(synth)
        chronic = graphs[CHRONIC_FAILURES_TITLE]
        ((query,),) = chronic["properties"]["metrics"]

        # Per window, found by SEARCH: the targets failing 2 or more executions in a row, at
        # their most in each period.
        assert query["expression"] == (
            f'SEARCH(\'{{"{namespace}",{contract.DIMENSION_WINDOW_ID}}} '
            f"MetricName=\"{contract.METRIC_TARGETS_FAILING_CONSECUTIVELY}\"', 'Maximum', "
            f"{FIVE_MINUTES})"
        )
        assert query["label"] == "${PROP('Dim.WindowId')}"
        assert chronic["properties"]["yAxis"]["left"]["min"] == 0
        # In the windows' row, a third of it each.
        row = [
            graphs[title]
            for title in (
                "Executions per window",
                "Window execution duration (max, seconds)",
                CHRONIC_FAILURES_TITLE,
            )
        ]
        assert {w["y"] for w in row} == {chronic["y"]}
        assert [(w["x"], w["width"]) for w in row] == [(0, 8), (8, 8), (16, 8)]


def test_dashboard_lists_the_latest_failed_invocations_from_the_functions_logs(
    default: Synth,
) -> None:
    table = widgets(default)["Latest failed invocations"]
    log_group = placeholder(default, default.stack.alerts.log_group)

    assert table["type"] == "log"
    assert table["properties"]["view"] == "table"
    # The query the alerts link to, on the function's own log group, newest first.
    assert table["properties"]["query"] == (
        f"SOURCE '{log_group}' | {contract.FAILED_INVOCATIONS_QUERY}\n| limit 50"
    )
    assert table["width"] == GRID_WIDTH


def test_dashboard_shows_the_state_of_every_alarm(default: Synth, custom: Synth) -> None:
    for synth in (default, custom):
        status = widgets(synth)["Alarms (those in alarm first)"]
        alarms = synth.stack.alerts.alarms

        assert status["type"] == "alarm"
        assert sorted(status["properties"]["alarms"]) == sorted(
            placeholder(synth, alarm, "Arn") for alarm in alarms
        )
        # Every alarm but the self-test alarm: a self-test is no incident.
        assert synth.stack.alerts.self_test_alarm not in alarms
        assert len(alarms) + 1 == len(synth.template.find_resources("AWS::CloudWatch::Alarm"))
        assert status["properties"]["sortBy"] == "stateUpdatedTimestamp"  # alarming ones first
        assert status["height"] >= 1 + 2 * -(-len(alarms) // 4)  # room for every tile


def test_dashboard_shows_fleet_wide_invocations_the_function_and_the_sweep(
    default: Synth, custom: Synth
) -> None:
    for synth, minutes in ((default, 15), (custom, 60)):
        graphs = {t: w["properties"].get("metrics") for t, w in widgets(synth).items()}
        namespace = synth.stack.alerts.settings.metrics_namespace
        function = graphs["Alert function: errors, throttles and duration"]
        not_alerted = graphs["Events not alerted on: dead letters, invalid events"]
        sweep = graphs["Reconciliation sweep: runs and executions it recovered"]

        assert [line[:2] for line in graphs["Invocations by status, all windows"]] == [
            [namespace, metric] for metric in contract.STATUS_METRICS.values()
        ]
        assert [line[1] for line in function] == ["Errors", "Throttles", "Duration"]
        assert [line[1] for line in not_alerted] == [
            "ApproximateNumberOfMessagesVisible",
            "ApproximateNumberOfMessagesVisible",
            contract.METRIC_INVALID_EVENTS,
        ]
        assert [line[:2] for line in sweep] == [
            [namespace, metric]
            for metric in (contract.METRIC_SWEEP_RUNS, contract.METRIC_SWEEP_RECOVERED)
        ]
        assert [line[-1]["period"] for line in sweep] == [minutes * 60] * 2
