"""The pages in docs/ say what the code does: their tables, query, examples and figures come from
the code, its tests and its benchmark results."""

import json
import re

import aws_cdk as cdk
import pytest

from maintenance_window_alerts import SettingsError, create_stacks
from maintenance_window_alerts.layout import parse_layout
from mwalerts import contract
from tests.docs.pages import doc_page, fenced_blocks, section
from tests.function import test_filter_policies
from tests.support import ROOT, assert_valid_digest

# docs/operations.md


def test_every_metric_is_documented():
    metrics = [value for name, value in vars(contract).items() if name.startswith("METRIC_")]
    for metric in metrics:
        assert re.search(rf"^\| `{metric}` \|", doc_page("operations"), re.M), (
            f"docs/operations.md lacks metric {metric}"
        )


def test_the_documented_logs_insights_query_is_the_one_alerts_link_to():
    assert contract.FAILED_INVOCATIONS_QUERY in doc_page("operations")


# docs/architecture.md


def test_every_environment_variable_of_the_function_is_documented():
    variables = [value for name, value in vars(contract).items() if name.startswith("ENV_")]
    for variable in variables:
        assert re.search(rf"^\| [^|]*`{variable}`", doc_page("architecture"), re.M), (
            f"docs/architecture.md lacks {variable}"
        )


# docs/many-accounts.md


@pytest.mark.parametrize("key", ["deployments", "central"])
def test_each_documented_layout_deploys_the_stacks_it_lists(key, tmp_path):
    # The example as a user would use it: in its own file, named by configFile; then the stack
    # names the page lists after it.
    (example, listed), *others = [
        (json.loads(config), stacks.split())
        for config, stacks in re.findall(
            r"```json\n(.*?)```.*?```text\n(.*?)```", doc_page("many-accounts"), re.S
        )
        if f'"{key}"' in config
    ]
    assert not others, f"docs/many-accounts.md has more than one {key} example"
    (tmp_path / "fleet.json").write_text(json.dumps(example))
    context = json.loads((ROOT / "cdk.json").read_text())["context"]

    layout = parse_layout({**context, "configFile": "fleet.json"}, base_dir=tmp_path)

    app = cdk.App(context=context)
    assert [stack.stack_name for stack in create_stacks(app, layout)] == listed


def test_the_documented_configuration_error_is_the_one_synth_prints():
    documented = re.search(
        r"^Invalid setting in cdk.json, -c or configFile: (.*)$", doc_page("many-accounts"), re.M
    )
    assert documented, "docs/many-accounts.md lacks its example of a configuration error"
    with pytest.raises(SettingsError) as raised:
        parse_layout({"deployments": '[{"account": "1111", "region": "eu-west-9"}]'}, base_dir=ROOT)
    assert str(raised.value) == documented.group(1)
    assert "Invalid setting in cdk.json, -c or configFile: " in (ROOT / "app.py").read_text()


# docs/alerts.md


def test_the_documented_digest_is_valid_against_its_published_schema():
    (digest,) = [
        json.loads(block)
        for block in fenced_blocks(doc_page("alerts"), "json")
        if '"schemaVersion"' in block
    ]
    assert_valid_digest(digest)


def test_the_documented_filter_policies_are_the_ones_tested_against_sns():
    routing = section(doc_page("alerts"), "## Message attributes and subscription filter policies")
    documented = fenced_blocks(routing, "json")
    assert [json.loads(policy) for policy in documented] == [
        test_filter_policies.PRODUCTION_ONLY,
        test_filter_policies.TIMEOUTS_ONLY,
        test_filter_policies.TEN_OR_MORE_FAILURES,
    ]


def test_the_documented_message_attributes_are_the_ones_alerts_carry():
    routing = section(doc_page("alerts"), "## Message attributes and subscription filter policies")
    documented = re.findall(r"`(\w+)`\s+\((?:String|Number)", routing)
    attributes = [value for name, value in vars(contract).items() if name.startswith("ATTRIBUTE_")]
    assert sorted(documented) == sorted(attributes)


# docs/performance.md


def test_the_documented_benchmark_figures_are_those_of_the_latest_results():
    results = {
        cells[0]: cells
        for cells in _table_rows((ROOT / "benchmarks" / "RESULTS.md").read_text())
        if cells[0] != "scenario"
    }
    documented = [cells for cells in _table_rows(doc_page("performance")) if cells[0] != "scenario"]
    assert documented
    for scenario, invocations, describe_calls, wall, critical_path, _naive in documented:
        measured = results[scenario.replace(" tasks", "")]
        assert (invocations, describe_calls) == (measured[1], measured[2]), scenario
        # The page rounds the larger figures to fewer digits: 8.51 s reads 8.5 s.
        assert _seconds(wall) == pytest.approx(_seconds(measured[6]), abs=0.05), scenario
        assert _seconds(critical_path) == pytest.approx(_seconds(measured[7]), abs=0.05), scenario


def _table_rows(text: str) -> list[list[str]]:
    return [
        [cell.strip() for cell in line.strip("|").split("|")]
        for line in text.splitlines()
        if line.startswith("|") and not line.startswith("|---")
    ]


def _seconds(cell: str) -> float:
    return float(cell.partition(" s")[0])
