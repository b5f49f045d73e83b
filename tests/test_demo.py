"""`make demo`'s Python part runs end to end in a fresh interpreter, as the README says."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_the_demo_shows_one_alert_and_exits_zero():
    completed = subprocess.run(
        [sys.executable, "-m", "local_aws.demo"],
        cwd=ROOT,
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
