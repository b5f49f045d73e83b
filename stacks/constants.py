"""Construct ids, stack output names and runtime choices, shared by the app, the stack and tests."""

from pathlib import Path
from typing import Final

from aws_cdk import aws_lambda as lambda_

from mwalerts import names

STACK_ID: Final = names.STACK_NAME
ALERTS_ID: Final = "Alerts"
# Stack ids (and names) of the other layouts: names.deployment_stack_name and its neighbours.

# Construct ids inside MaintenanceWindowAlerts.
KEY_ID: Final = "Key"  # encrypts messages: the topic and the dead-letter queues
DATA_KEY_ID: Final = "DataKey"  # encrypts stored data: the idempotency table and the logs
TOPIC_ID: Final = "AlertTopic"
# Only with chatNotifications "separate-topic": the alerts in the chat applications' format.
CHAT_TOPIC_ID: Final = "ChatTopic"
RULE_DLQ_ID: Final = "RuleDeadLetterQueue"
FUNCTION_DLQ_ID: Final = "FunctionFailureQueue"
LOG_GROUP_ID: Final = "FunctionLogs"
ROLE_ID: Final = "FunctionRole"
# A customer managed policy; a new id, as CloudFormation cannot change the type of a resource.
SSM_POLICY_ID: Final = "ReadMaintenanceWindows"
TABLE_ID: Final = "IdempotencyTable"
FUNCTION_ID: Final = "Function"
POWERTOOLS_LAYER_ID: Final = "PowertoolsLayer"
RULE_ID: Final = "WindowExecutionRule"
SCHEDULE_ID: Final = "SweepSchedule"
ALARM_ID: Final = "FailedInvocationsAlarm"
ERRORS_ALARM_ID: Final = "FunctionErrorsAlarm"
THROTTLES_ALARM_ID: Final = "FunctionThrottlesAlarm"
RULE_DLQ_ALARM_ID: Final = "RuleDeadLetterQueueAlarm"
FUNCTION_DLQ_ALARM_ID: Final = "FunctionFailureQueueAlarm"
SWEEP_ALARM_ID: Final = "SweepNotRunningAlarm"
# One per window in windowAlarms and in expectedWindows: "<prefix><window ID>".
WINDOW_ALARM_ID_PREFIX: Final = "WindowFailedInvocationsAlarm-"
MISSED_WINDOW_ALARM_ID_PREFIX: Final = "MissedWindowAlarm-"
DASHBOARD_ID: Final = "Dashboard"
# Central mode, in MaintenanceWindowAlerts: the bus the members forward to, its policy's statement,
# and the policies that let the function assume the member roles ("AssumeMemberRoles", "...2").
CENTRAL_BUS_ID: Final = "CentralBus"
BUS_POLICY_SID: Final = "AllowMembersToPutEvents"
ASSUME_MEMBER_ROLES_POLICY_ID: Final = "AssumeMemberRoles"

# The member stack (central mode).
MEMBER_BUS_ID: Final = "CentralBus"  # the central account's bus, imported by its ARN
FORWARD_RULE_ID: Final = "ForwardRule"
FORWARD_ROLE_ID: Final = "ForwardRole"
FORWARD_DLQ_ID: Final = "ForwardDeadLetterQueue"
READER_ROLE_ID: Final = "ReaderRole"

# Stack outputs: names.py, since operator commands (make redrive) read them too.
OUTPUT_TOPIC_ARN: Final = names.OUTPUT_TOPIC_ARN
OUTPUT_FUNCTION_NAME: Final = names.OUTPUT_FUNCTION_NAME
OUTPUT_DASHBOARD_NAME: Final = names.OUTPUT_DASHBOARD_NAME
OUTPUT_RULE_DLQ_URL: Final = names.OUTPUT_RULE_DLQ_URL
OUTPUT_FUNCTION_DLQ_URL: Final = names.OUTPUT_FUNCTION_DLQ_URL
OUTPUT_CHAT_TOPIC_ARN: Final = names.OUTPUT_CHAT_TOPIC_ARN
# Central mode: the central stack's bus, and the member stacks' outputs.
OUTPUT_EVENT_BUS_ARN: Final = names.OUTPUT_EVENT_BUS_ARN
OUTPUT_FORWARD_DLQ_URL: Final = names.OUTPUT_FORWARD_DLQ_URL
OUTPUT_READER_ROLE_ARN: Final = names.OUTPUT_READER_ROLE_ARN

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
