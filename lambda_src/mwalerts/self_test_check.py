"""Invoking the alert function with the self-test event and checking its answer: the code that
the deploy-time Trigger (mwalerts.self_test_trigger) and `mwalerts selftest` share.

Standard library, botocore and mwalerts.contract only: the Trigger's Lambda imports this module
without the alert function's environment (or Powertools).
"""

import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from mwalerts import contract

if TYPE_CHECKING:
    from mypy_boto3_lambda import LambdaClient

INVOKE_HOP = "invoke"
# The answer may take as long as the alert function may run, and a retried invoke (throttled, a
# 5xx) only runs the self-test again, which is harmless. At most INVOKE_ATTEMPTS of
# INVOKE_READ_TIMEOUT_SECONDS: the deploy-time Trigger's function waits that long
# (stacks/self_test.py).
INVOKE_ATTEMPTS = 2
INVOKE_CONNECT_TIMEOUT_SECONDS = 10
INVOKE_READ_TIMEOUT_SECONDS = contract.FUNCTION_TIMEOUT_SECONDS + 30
INVOKE_CONFIG = Config(
    connect_timeout=INVOKE_CONNECT_TIMEOUT_SECONDS,
    read_timeout=INVOKE_READ_TIMEOUT_SECONDS,
    retries={"mode": "standard", "total_max_attempts": INVOKE_ATTEMPTS},
)
# The longest one run_self_test may take: every attempt connecting and waiting for its answer.
INVOKE_MAX_SECONDS = INVOKE_ATTEMPTS * (
    INVOKE_CONNECT_TIMEOUT_SECONDS + INVOKE_READ_TIMEOUT_SECONDS
)
# The error codes of a refused permission, as the hops report them (first in their detail):
# IAM's and the services' own (AccessDenied, AccessDeniedException), KMS's as SNS and Lambda
# report them, and SNS's.
ACCESS_DENIED_CODES = frozenset(
    {
        "AccessDenied",
        "AccessDeniedException",
        "KMSAccessDenied",
        "KMSAccessDeniedException",
        "AuthorizationError",
    }
)
DETAIL_LIMIT = 300  # characters of a hop's detail: one readable line


@dataclass(frozen=True)
class Hop:
    """One hop of the self-test: its name, whether it worked, how long it took, and one line
    saying what it did or what went wrong (an AWS error code, never a secret)."""

    hop: str
    ok: bool
    seconds: float
    detail: str


@dataclass(frozen=True)
class SelfTestCheck:
    """The self-test's hops as seen from outside: the invoke's round trip, then the function's."""

    test_id: str
    function_name: str
    hops: tuple[Hop, ...]

    @property
    def ok(self) -> bool:
        return all(hop.ok for hop in self.hops)

    @property
    def failed(self) -> tuple[Hop, ...]:
        return tuple(hop for hop in self.hops if not hop.ok)

    @property
    def only_access_denied(self) -> bool:
        """It failed, and every failed hop was a refused permission (ACCESS_DENIED_CODES)."""
        return not self.ok and all(
            hop.detail.split(":", 1)[0] in ACCESS_DENIED_CODES for hop in self.failed
        )

    def summary(self) -> str:
        """One line: each failed hop and why, or that every hop passed."""
        if not self.ok:
            return "Self-test failed: " + "; ".join(f"{h.hop}: {h.detail}" for h in self.failed)
        hops = ", ".join(f"{hop.hop} {hop.seconds:.2f} s" for hop in self.hops)
        return f"Self-test {self.test_id} of {self.function_name} passed: {hops}"


def new_test_id() -> str:
    return uuid.uuid4().hex


def self_test_event(test_id: str) -> dict[str, Any]:
    """The event that makes the alert function test its own hops (no rule sends it)."""
    return {
        "source": contract.SELF_TEST_SOURCE,
        "detail-type": contract.SELF_TEST_DETAIL_TYPE,
        "detail": {"id": test_id},
    }


def one_line(text: str, limit: int = DETAIL_LIMIT) -> str:
    """Text on one line, cut to `limit` characters."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."


def describe_aws_error(error: Exception) -> str:
    """`AccessDeniedException: User ... is not authorized ...`: the error code first."""
    if isinstance(error, ClientError):
        details = error.response.get("Error", {})
        return one_line(f"{details.get('Code', 'Error')}: {details.get('Message', '')}")
    return one_line(f"{type(error).__name__}: {error}")


def run_self_test(
    lambda_client: "LambdaClient",
    function_name: str,
    test_id: str | None = None,
    *,
    clock: Callable[[], float] = time.monotonic,
) -> SelfTestCheck:
    """Invoke the function with the self-test event (RequestResponse) and read its hops.

    A failed invoke, a function error, an answer that is not this test's result, and any hop
    the function reports as failed all come back as failed hops (nothing is raised), so the
    caller can show each one.
    """
    test_id = test_id or new_test_id()
    started = clock()
    try:
        response = lambda_client.invoke(
            FunctionName=function_name,
            InvocationType="RequestResponse",
            Payload=json.dumps(self_test_event(test_id)).encode(),
        )
        payload = response["Payload"].read().decode("utf-8", "replace")
    except (BotoCoreError, ClientError) as error:
        invoke = Hop(INVOKE_HOP, False, clock() - started, describe_aws_error(error))
        return SelfTestCheck(test_id, function_name, (invoke,))
    seconds = clock() - started
    if "FunctionError" in response:
        detail = f"the function failed ({response['FunctionError']}): {_lambda_error(payload)}"
        return SelfTestCheck(test_id, function_name, (Hop(INVOKE_HOP, False, seconds, detail),))
    try:
        hops = parse_answer(payload, test_id)
    except ValueError as error:
        detail = f"the function's answer is not this self-test's result: {error}"
        return SelfTestCheck(test_id, function_name, (Hop(INVOKE_HOP, False, seconds, detail),))
    invoke = Hop(INVOKE_HOP, True, seconds, f"{function_name} answered")
    return SelfTestCheck(test_id, function_name, (invoke, *hops))


def parse_answer(payload: str, test_id: str) -> list[Hop]:
    """The hops of the function's answer to self-test `test_id`; ValueError if it is not one."""
    try:
        answer = json.loads(payload)
    except ValueError:
        raise ValueError(f"not JSON: {one_line(payload, 80)!r}") from None
    if not isinstance(answer, dict) or answer.get("action") != "self-test":
        raise ValueError(f"no self-test action in {one_line(payload, 80)!r}")
    if answer.get("id") != test_id:
        raise ValueError(f"it answers test {answer.get('id')!r}, not {test_id!r}")
    hops = answer.get("hops")
    if not isinstance(hops, list) or not hops:
        raise ValueError("it lists no hops")
    return [_hop(item) for item in hops]


def _hop(item: Any) -> Hop:
    fields = ("hop", "ok", "seconds", "detail")
    if not isinstance(item, dict) or any(name not in item for name in fields):
        raise ValueError(f"a hop without {', '.join(fields)}: {one_line(str(item), 80)!r}")
    try:
        seconds = float(item["seconds"])
    except (TypeError, ValueError):
        raise ValueError(f"a hop whose seconds are not a number: {item['seconds']!r}") from None
    return Hop(str(item["hop"]), item["ok"] is True, seconds, str(item["detail"]))


def _lambda_error(payload: str) -> str:
    """`KeyError: 'x'` from Lambda's error document ({"errorType", "errorMessage", ...})."""
    try:
        document = json.loads(payload)
    except ValueError:
        return one_line(payload or "no error document")
    if not isinstance(document, dict):
        return one_line(payload)
    return one_line(f"{document.get('errorType', 'Error')}: {document.get('errorMessage', '')}")
