"""`make demo`'s Python part runs end to end in a fresh interpreter, as the README says."""

import os
import re
import subprocess
import sys

from tests.docs.pages import doc_page
from tests.support import ROOT


def test_the_demo_shows_one_alert_and_exits_zero():
    # Piped, with no COLUMNS: the operator command's table at its width for pipes.
    environment = {k: v for k, v in os.environ.items() if k != "COLUMNS"}
    completed = subprocess.run(
        [sys.executable, "-m", "local_aws.demo"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    out = completed.stdout
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
