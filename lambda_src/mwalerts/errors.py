"""Typed errors: each names the problem in words an operator can act on."""

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from botocore.exceptions import ClientError


def error_code(error: "ClientError") -> str:
    """The AWS error code of a failed call ("AccessDenied", "ThrottlingException"...)."""
    return str(error.response.get("Error", {}).get("Code", ""))


class ConfigurationError(Exception):
    """The function's environment is missing or malformed; raised at start-up."""


class InvalidEventError(Exception):
    """The input is not a maintenance-window execution event this function can trust.

    The invocation fails on purpose, so Lambda's retries and on-failure destination keep the event:
    nothing is dropped silently and no alert is built from a doubtful event.
    """


class SweepIncompleteError(Exception):
    """The sweep could not process some window executions; the invocation fails so it is retried
    (the executions it did process are recorded and will not be alerted again)."""


class StreakConflictError(Exception):
    """Another execution of the same window changed its failure streaks while this one was being
    applied; the invocation fails so Lambda retries it against the new state."""


class StreakWriteError(Exception):
    """DynamoDB did not take every write of a window's failure streaks; the alert goes out without
    them (mwalerts.service), and the next execution counts from what was stored."""
