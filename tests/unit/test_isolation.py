"""The test suite itself cannot reach AWS or anything else on the network."""

import socket

import boto3
import pytest
from pytest_socket import SocketBlockedError

# pytest-socket warns each time it blocks a socket: here that is the point.
pytestmark = pytest.mark.filterwarnings("ignore:A test tried to use socket")


def test_opening_a_network_socket_fails_loudly():
    with pytest.raises(SocketBlockedError):
        socket.socket(socket.AF_INET, socket.SOCK_STREAM)


def test_an_aws_call_that_nothing_fakes_fails_instead_of_reaching_aws():
    sns = boto3.client("sns", region_name="us-east-2")
    with pytest.raises(Exception, match="socket"):
        sns.list_topics()
