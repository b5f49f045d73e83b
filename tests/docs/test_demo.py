"""`make demo`'s Python part runs end to end in a fresh interpreter, as the README says."""

import re
import subprocess

from tests.docs.pages import doc_page


def test_the_demo_shows_one_alert_and_exits_zero(demo: subprocess.CompletedProcess[str]) -> None:
    assert demo.returncode == 0, demo.stderr
    out = demo.stdout
    assert (
        "Subject: [FAILED] prod-web-nightly-patching (mw-0ed7251d3fcf6e0c2): "
        "8 of 540 invocations failed" in out
    )
    assert "An SQS subscriber receives" in out
    assert "InvocationsFailed" in out
    assert "Demo passed" in out
    # docs/cli.md's sample of `mwalerts report` is what the demo prints for the same run.
    sample = re.search(r"^\$ mwalerts report [^\n]*\n(.*?)^```", doc_page("cli"), re.M | re.S)
    assert sample, "docs/cli.md lacks its mwalerts report sample"
    assert sample.group(1) in out
