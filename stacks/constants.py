"""Construct ids, stack output names and runtime choices, shared by the app, the stack and tests."""

from pathlib import Path
from typing import Final

from aws_cdk import aws_lambda as lambda_

STACK_ID: Final = "MaintenanceWindowAlerts"
ALERTS_ID: Final = "Alerts"

# Construct ids inside MaintenanceWindowAlerts.
KEY_ID: Final = "Key"
TOPIC_ID: Final = "AlertTopic"
RULE_DLQ_ID: Final = "RuleDeadLetterQueue"
FUNCTION_DLQ_ID: Final = "FunctionFailureQueue"
LOG_GROUP_ID: Final = "FunctionLogs"
ROLE_ID: Final = "FunctionRole"
SSM_POLICY_ID: Final = "ReadWindowExecutions"
FUNCTION_ID: Final = "Function"
POWERTOOLS_LAYER_ID: Final = "PowertoolsLayer"
RULE_ID: Final = "WindowExecutionRule"
ALARM_ID: Final = "FailedInvocationsAlarm"
DASHBOARD_ID: Final = "Dashboard"

# Stack outputs.
OUTPUT_TOPIC_ARN: Final = "AlertTopicArn"
OUTPUT_FUNCTION_NAME: Final = "FunctionName"
OUTPUT_DASHBOARD_NAME: Final = "DashboardName"
OUTPUT_RULE_DLQ_URL: Final = "RuleDeadLetterQueueUrl"
OUTPUT_FUNCTION_DLQ_URL: Final = "FunctionFailureQueueUrl"

# The Lambda: plain source (its one dependency comes from the Powertools layer), no bundling.
LAMBDA_SOURCE: Final = Path(__file__).resolve().parent.parent / "lambda_src"
LAMBDA_HANDLER: Final = "handler.handler"
LAMBDA_RUNTIME: Final = lambda_.Runtime.PYTHON_3_13
LAMBDA_ARCHITECTURE: Final = lambda_.Architecture.ARM_64
LAMBDA_ASSET_EXCLUDE: Final = (
    "**/__pycache__",
    "**/*.py[cod]",
    "**/.pytest_cache",
    "**/.mypy_cache",
    "**/.ruff_cache",
    "**/.DS_Store",
)
LOG_LEVEL: Final = "INFO"

# Powertools for AWS Lambda (Python): the version the tests run against (a test keeps them equal).
POWERTOOLS_VERSION: Final = "3.37.0"
# AWS-published public parameter holding the layer ARN of that version, in every region.
POWERTOOLS_LAYER_PARAMETER: Final = (
    f"/aws/service/powertools/python/{LAMBDA_ARCHITECTURE.name}/{LAMBDA_RUNTIME.name}"
    f"/{POWERTOOLS_VERSION}"
)
