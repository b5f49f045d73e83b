"""The README says what the code does: its tables and query come from the same names."""

import json
import re
from pathlib import Path

from mwalerts import names

ROOT = Path(__file__).resolve().parent.parent
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
    metrics = [value for name, value in vars(names).items() if name.startswith("METRIC_")]
    for metric in metrics:
        assert re.search(rf"^\| `{metric}` \|", README, re.M), f"README lacks metric {metric}"


def test_the_documented_logs_insights_query_is_the_one_alerts_link_to():
    assert names.FAILED_INVOCATIONS_QUERY in README
