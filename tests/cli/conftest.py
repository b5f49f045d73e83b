"""Fixtures of the command's tests; `aws`, the in-process AWS, comes from tests/conftest.py."""

import pytest

from local_aws.environment import LocalAws
from tests.cli.harness import Cli


@pytest.fixture
def cli(aws: LocalAws, capsys: pytest.CaptureFixture[str]) -> Cli:
    """`mwalerts` run in-process on `aws`, with its output captured."""
    return Cli(aws, capsys)
