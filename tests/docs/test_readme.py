"""The README says what the code does: its tables, query and examples come from the code."""

import json
import re

import aws_cdk as cdk
import pytest

from maintenance_window_alerts import SettingsError, create_stacks
from maintenance_window_alerts.layout import parse_layout
from mwalerts import contract
from tests.support import ROOT

README = (ROOT / "README.md").read_text()


def test_the_two_commands_are_documented():
    assert "make demo" in README
    assert "make test" in README
    assert "make test" in (ROOT / ".ci" / "run").read_text()


def test_every_setting_in_cdk_json_is_documented_with_its_default():
    context = json.loads((ROOT / "cdk.json").read_text())["context"]
    ours = {k: v for k, v in context.items() if not k.startswith("@") and k != "cli-telemetry"}
    for key, default in ours.items():
        row = re.search(rf"^\| `{key}` \| `([^`]*)` \|", README, re.M)
        assert row, f"README's configuration table lacks {key}"
        documented = row.group(1) if isinstance(default, str) else json.loads(row.group(1))
        assert documented == default, f"README gives another default for {key}"


def test_every_metric_is_documented():
    metrics = [value for name, value in vars(contract).items() if name.startswith("METRIC_")]
    for metric in metrics:
        assert re.search(rf"^\| `{metric}` \|", README, re.M), f"README lacks metric {metric}"


def test_the_documented_logs_insights_query_is_the_one_alerts_link_to():
    assert contract.FAILED_INVOCATIONS_QUERY in README


def test_every_environment_variable_of_the_function_is_documented():
    variables = [value for name, value in vars(contract).items() if name.startswith("ENV_")]
    for variable in variables:
        assert re.search(rf"^\| [^|]*`{variable}`", README, re.M), f"README lacks {variable}"


@pytest.mark.parametrize("key", ["deployments", "central"])
def test_each_documented_layout_deploys_the_stacks_it_lists(key, tmp_path):
    # The example as a user would use it: in its own file, named by configFile; then the stack
    # names the README lists after it.
    (example, listed), *others = [
        (json.loads(config), stacks.split())
        for config, stacks in re.findall(r"```json\n(.*?)```.*?```text\n(.*?)```", README, re.S)
        if f'"{key}"' in config
    ]
    assert not others, f"README has more than one {key} example"
    (tmp_path / "fleet.json").write_text(json.dumps(example))
    context = json.loads((ROOT / "cdk.json").read_text())["context"]

    layout = parse_layout({**context, "configFile": "fleet.json"}, base_dir=tmp_path)

    app = cdk.App(context=context)
    assert [stack.stack_name for stack in create_stacks(app, layout)] == listed


def test_the_documented_configuration_error_is_the_one_synth_prints():
    documented = re.search(r"^Invalid setting in cdk.json, -c or configFile: (.*)$", README, re.M)
    assert documented, "README lacks its example of a configuration error"
    with pytest.raises(SettingsError) as raised:
        parse_layout({"deployments": '[{"account": "1111", "region": "eu-west-9"}]'}, base_dir=ROOT)
    assert str(raised.value) == documented.group(1)
    assert "Invalid setting in cdk.json, -c or configFile: " in (ROOT / "app.py").read_text()
