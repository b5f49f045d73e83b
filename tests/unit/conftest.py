"""Fixtures of the unit tests: AWS clients whose answers a test scripts (botocore's Stubber)."""

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from local_aws.scenario import REGION


@pytest.fixture
def dynamodb() -> Iterator[tuple[Any, Stubber]]:
    """A DynamoDB client and its Stubber: each call must be one the test added a response for."""
    client = boto3.client(
        "dynamodb",
        region_name=REGION,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",  # pragma: allowlist secret
    )
    with Stubber(client) as stubber:
        yield client, stubber
        stubber.assert_no_pending_responses()
