"""A Lambda client whose Invoke runs the alert function's handler in this process.

moto runs invoked functions in Docker, which the tests do not have; this stands in for the
Lambda service: the payload goes to `mwalerts.handler.handler` with the clients of the
in-process AWS, and an exception comes back as Lambda reports it (FunctionError "Unhandled" and
an error document), so the code that invokes is exercised as deployed.
"""

import io
import json
import traceback
from typing import Any

from local_aws.environment import LambdaContext, LocalAws
from local_aws.scenario import ACCOUNT, REGION
from mwalerts import handler

FUNCTION_NAME = "maintenance-window-alerts"
ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/MaintenanceWindowAlerts-FunctionRole"


class LocalLambda:
    def __init__(self, aws: LocalAws, *, role_arn: str = ROLE_ARN) -> None:
        self._aws = aws
        self.role_arn = role_arn
        self.invocations: list[dict[str, Any]] = []

    def invoke(self, *, FunctionName: str, InvocationType: str, Payload: bytes) -> dict[str, Any]:  # noqa: N803
        event = json.loads(Payload)
        self.invocations.append(
            {"FunctionName": FunctionName, "InvocationType": InvocationType, "event": event}
        )
        try:
            result = handler.handler(event, LambdaContext(), clients=self._aws.clients)
        except Exception as error:  # reported as Lambda reports any function error
            document = {
                "errorMessage": str(error),
                "errorType": type(error).__name__,
                "stackTrace": traceback.format_tb(error.__traceback__),
            }
            return _response(document, function_error="Unhandled")
        return _response(result)

    def get_function_configuration(self, *, FunctionName: str) -> dict[str, Any]:  # noqa: N803
        return {
            "FunctionName": FunctionName,
            "FunctionArn": f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{FunctionName}",
            "Role": self.role_arn,
        }


def _response(document: Any, *, function_error: str | None = None) -> dict[str, Any]:
    response: dict[str, Any] = {
        "StatusCode": 200,
        "Payload": io.BytesIO(json.dumps(document).encode()),
    }
    if function_error:
        response["FunctionError"] = function_error
    return response
