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

This module must not import mwalerts.handler, which reads the alert function's environment at
import: it imports only boto3, the standard library and mwalerts' self_test_check and contract.
"""

import json
import os
from typing import TYPE_CHECKING, Any

import boto3

from mwalerts import contract
from mwalerts.self_test_check import INVOKE_CONFIG, run_self_test

if TYPE_CHECKING:
    from mypy_boto3_lambda import LambdaClient


class SelfTestError(Exception):
    """A hop of the deploy-time self-test failed: the message names each one and why."""


def handler(
    event: dict[str, Any], context: Any, lambda_client: "LambdaClient | None" = None
) -> dict[str, Any]:
    """Invoke the alert function with the self-test event; raise SelfTestError if a hop failed.
    `lambda_client` is the seam tests use to route the invoke to the handler on in-process AWS."""
    function_name = os.environ.get(contract.ENV_SELF_TEST_FUNCTION_NAME, "").strip()
    if not function_name:
        raise SelfTestError(
            f"Self-test failed: {contract.ENV_SELF_TEST_FUNCTION_NAME} is not set: the Trigger "
            "must name the alert function"
        )
    client = lambda_client or boto3.client("lambda", config=INVOKE_CONFIG)
    check = run_self_test(client, function_name)
    # One line in the Trigger's log either way: the hops and their times.
    print(
        json.dumps(
            {"selfTestId": check.test_id, "ok": check.ok, "hops": [vars(h) for h in check.hops]}
        )
    )
    if not check.ok:
        raise SelfTestError(check.summary())
    return {"ok": True, "id": check.test_id, "summary": check.summary()}
