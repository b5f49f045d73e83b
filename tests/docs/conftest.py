"""The demo runs once for the tier: its output is checked by several documentation tests."""

import os
import subprocess
import sys

import pytest

from tests.support import run_in_repo


@pytest.fixture(scope="session")
def demo() -> subprocess.CompletedProcess[str]:
    """`make demo`'s Python part in a fresh interpreter, piped with no COLUMNS (so the operator
    command's tables take their width for pipes)."""
    environment = {k: v for k, v in os.environ.items() if k != "COLUMNS"}
    return run_in_repo([sys.executable, "-m", "local_aws.demo"], env=environment)
