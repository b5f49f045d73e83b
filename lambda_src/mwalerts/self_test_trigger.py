"""The deploy-time self-test: the handler of the stack's CDK Trigger
(contract.SELF_TEST_TRIGGER_HANDLER), which invokes the alert function with the self-test event.

A failed hop raises, and that fails the deployment, which rolls back. aws_cdk.triggers'
provider invokes this handler synchronously (RequestResponse) and, when the answer carries a
FunctionError, throws an Error whose message is the handler's errorMessage (and its trace):
the custom resource fails and CloudFormation shows that message as the Trigger's status reason
in the stack events (aws-cdk, packages/aws-cdk-lib/triggers/lib/lambda/index.ts, `parseError`;
the triggers README, "Trigger Failures": "If the trigger handler fails (e.g. an exception is
raised), the CloudFormation deployment will fail, as if a resource failed to provision"). So
the message names each failed hop and its AWS error code, on one line.

Two cases where failing would be wrong:
  - IAM propagation. On the first deploy this function's role policy, and the alert function's,
    are seconds old: an access denial may only mean that IAM has not caught up. While every
    failed hop is an access denial, the check runs again, 5 s apart, for up to 90 s (CDK's own
    trigger provider retries AccessDeniedException 12 x 5 s for the same reason), then reports
    its last result.
  - Rolling back. When an update fails, CloudFormation rolls back by updating the Trigger to the
    old HandlerArn, which runs the old version's check again; if what broke the alert path lies
    outside the stack (a disabled key, an SCP, exhausted concurrency), failing then would leave
    the stack in UPDATE_ROLLBACK_FAILED. So while the stack's status ends in
    ROLLBACK_IN_PROGRESS, the handler logs that it skipped the check, and succeeds. If it cannot
    read the stack's status, it runs the check as usual.

This module must not import mwalerts.handler, which reads the alert function's environment at
import: it imports only boto3, the standard library and mwalerts' self_test_check and contract.
"""

import json
import os
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from mwalerts import contract
from mwalerts.self_test_check import (
    INVOKE_CONFIG,
    INVOKE_MAX_SECONDS,
    SelfTestCheck,
    describe_aws_error,
    run_self_test,
)

if TYPE_CHECKING:
    from mypy_boto3_lambda import LambdaClient

# How long access denials are taken for IAM propagation, and the pause between checks.
ACCESS_DENIED_WINDOW_SECONDS = 90
ACCESS_DENIED_RETRY_SECONDS = 5
ROLLBACK_STATUS_SUFFIX = "ROLLBACK_IN_PROGRESS"  # UPDATE_ROLLBACK_IN_PROGRESS, ROLLBACK_IN_PROGRESS


class SelfTestError(Exception):
    """A hop of the deploy-time self-test failed: the message names each one and why."""


def handler(
    event: dict[str, Any],
    context: Any,
    lambda_client: "LambdaClient | None" = None,
    cloudformation_client: Any = None,  # no CloudFormation stubs installed, as in mwalerts_cli
    *,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> dict[str, Any]:
    """Invoke the alert function with the self-test event; raise SelfTestError if a hop failed.
    The clients, `sleep` and `clock` are the seams tests use (in-process AWS, no real waiting)."""
    function_name = os.environ.get(contract.ENV_SELF_TEST_FUNCTION_NAME, "").strip()
    if not function_name:
        raise SelfTestError(
            f"Self-test failed: {contract.ENV_SELF_TEST_FUNCTION_NAME} is not set: the Trigger "
            "must name the alert function"
        )
    status = rollback_status(cloudformation_client)
    if status is not None:
        reason = (
            f"the stack is in {status}: CloudFormation is rolling back and runs the previous "
            "version's check; it is skipped so that a cause outside the stack cannot fail the "
            "rollback too"
        )
        print(json.dumps({"selfTest": "skipped", "reason": reason}))
        return {"ok": True, "skipped": reason}
    client = lambda_client or boto3.client("lambda", config=INVOKE_CONFIG)
    check = check_until_permitted(client, function_name, context, sleep=sleep, clock=clock)
    if not check.ok:
        raise SelfTestError(check.summary())
    return {"ok": True, "id": check.test_id, "summary": check.summary()}


def rollback_status(client: Any) -> str | None:
    """The stack's status if it is rolling back; None otherwise, or if it cannot be read."""
    stack_id = os.environ.get(contract.ENV_SELF_TEST_STACK_ID, "").strip()
    if not stack_id:
        print(json.dumps({"rollbackCheck": f"{contract.ENV_SELF_TEST_STACK_ID} is not set"}))
        return None
    try:
        cloudformation = client or boto3.client("cloudformation")
        (stack,) = cloudformation.describe_stacks(StackName=stack_id)["Stacks"]
    except (BotoCoreError, ClientError, ValueError) as error:
        # The check itself then decides: better a spurious failure than a skipped test.
        print(json.dumps({"rollbackCheck": describe_aws_error(error)}))
        return None
    status = stack["StackStatus"]
    return status if status.endswith(ROLLBACK_STATUS_SUFFIX) else None


def check_until_permitted(
    client: "LambdaClient",
    function_name: str,
    context: Any,
    *,
    sleep: Callable[[float], None],
    clock: Callable[[], float],
) -> SelfTestCheck:
    """Run the check; again, ACCESS_DENIED_RETRY_SECONDS apart, while it fails with access
    denials alone, for ACCESS_DENIED_WINDOW_SECONDS, and only while this function has time left
    for a whole check. One log line per run: the hops and their times."""
    started = clock()
    while True:
        check = run_self_test(client, function_name)
        print(json.dumps(_log_line(check)))
        waited = clock() - started + ACCESS_DENIED_RETRY_SECONDS
        if not (
            check.only_access_denied
            and waited <= ACCESS_DENIED_WINDOW_SECONDS
            and _time_left(context) - ACCESS_DENIED_RETRY_SECONDS > INVOKE_MAX_SECONDS
        ):
            return check
        sleep(ACCESS_DENIED_RETRY_SECONDS)


def _log_line(check: SelfTestCheck) -> dict[str, Any]:
    return {"selfTestId": check.test_id, "ok": check.ok, "hops": [vars(h) for h in check.hops]}


def _time_left(context: Any) -> float:
    """Seconds until this function times out (unbounded without a Lambda context)."""
    remaining = getattr(context, "get_remaining_time_in_millis", None)
    return remaining() / 1000 if remaining is not None else float("inf")
