"""The fake SSM maintenance-window execution APIs (local_aws/fake_ssm.py), exercised through real
boto3 clients: every test here runs with dummy credentials in REGION and botocore's backoff
delays recorded instead of slept."""

import os

import botocore.endpoint
import pytest

from tests.function.fake_ssm.builders import REGION


@pytest.fixture(autouse=True)
def _dummy_aws_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)


class _RecordedSleep:
    def __init__(self) -> None:
        self.delays: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.delays.append(seconds)


@pytest.fixture(autouse=True)
def retry_sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The backoff delays botocore chose; they are recorded instead of slept.

    botocore sleeps between attempts in Endpoint._needs_retry with `time.sleep`, through the
    `time` name of botocore.endpoint: replacing that name leaves every other sleep alone.
    """
    recorder = _RecordedSleep()
    monkeypatch.setattr(botocore.endpoint, "time", recorder)
    return recorder.delays
