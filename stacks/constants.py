"""Construct ids and runtime choices, shared by the app, the stack and the tests.

Names the function and the operator command share with the stack (its name, its outputs, the
environment) are in the function's own contract, mwalerts.contract."""

from pathlib import Path
from typing import Final

from aws_cdk import aws_lambda as lambda_

import mwalerts

ALERTS_ID: Final = "Alerts"
# Stack ids (and names) of the other layouts: contract.deployment_stack_name and its neighbours.

# Construct ids inside MaintenanceWindowAlerts.
KEY_ID: Final = "Key"  # encrypts messages: the topic and the dead-letter queues
DATA_KEY_ID: Final = "DataKey"  # encrypts stored data: the two tables and the logs
TOPIC_ID: Final = "AlertTopic"
# Only with chatNotifications "separate-topic": the alerts in the chat applications' format.
CHAT_TOPIC_ID: Final = "ChatTopic"
RULE_DLQ_ID: Final = "RuleDeadLetterQueue"
FUNCTION_DLQ_ID: Final = "FunctionFailureQueue"
# The failure queue as the function's destination sees it: by its ARN (no resource of its own).
FUNCTION_DLQ_ARN_ID: Final = "FunctionFailureQueueArn"
LOG_GROUP_ID: Final = "FunctionLogs"
ROLE_ID: Final = "FunctionRole"
# A customer managed policy; a new id, as CloudFormation cannot change the type of a resource.
SSM_POLICY_ID: Final = "ReadMaintenanceWindows"
TABLE_ID: Final = "IdempotencyTable"
STREAK_TABLE_ID: Final = "StreakTable"  # failure streaks per window and target
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
# Only with chronicThreshold: a target's failure streak reached it.
CHRONIC_ALARM_ID: Final = "ChronicFailuresAlarm"
# One per window in windowAlarms and in expectedWindows: "<prefix><window ID>".
WINDOW_ALARM_ID_PREFIX: Final = "WindowFailedInvocationsAlarm-"
MISSED_WINDOW_ALARM_ID_PREFIX: Final = "MissedWindowAlarm-"
# The alarm `mwalerts selftest` sets to ALARM and back; nothing else changes its state.
SELF_TEST_ALARM_ID: Final = "SelfTestAlarm"
DASHBOARD_ID: Final = "Dashboard"
# selfTestOnDeploy: the deploy-time self-test (maintenance_window_alerts.self_test), and inside
# it the trigger function, its log group and role, and the Trigger.
SELF_TEST_ID: Final = "SelfTestOnDeploy"
SELF_TEST_FUNCTION_ID: Final = "Function"
SELF_TEST_LOG_GROUP_ID: Final = "Logs"
SELF_TEST_ROLE_ID: Final = "Role"
SELF_TEST_TRIGGER_ID: Final = "Trigger"
# CDK's singleton provider of every Trigger in a stack (a Node.js function and its role), by the
# id aws_cdk.triggers gives it.
TRIGGER_PROVIDER_ID: Final = "AWSCDK.TriggerCustomResourceProviderCustomResourceProvider"
# Central mode, in MaintenanceWindowAlerts: the bus the members forward to, its policy's statement,
# and the policies that let the function assume the member roles ("AssumeMemberRoles", "...2").
CENTRAL_BUS_ID: Final = "CentralBus"
BUS_POLICY_SID: Final = "AllowMembersToPutEvents"
ASSUME_MEMBER_ROLES_POLICY_ID: Final = "AssumeMemberRoles"
# Organization mode, in MaintenanceWindowAlerts: the policy that lets the function assume any
# member's reader role and list the StackSet's instances; the StackSet of the member resources;
# the sweep queue the schedule fans out through, its dead-letter queue and that queue's alarm.
ORGANIZATION_MEMBERS_POLICY_ID: Final = "OrganizationMembers"
MEMBER_STACK_SET_ID: Final = "MemberStackSet"
SWEEP_QUEUE_ID: Final = "SweepQueue"
SWEEP_DLQ_ID: Final = "SweepDeadLetterQueue"
SWEEP_DLQ_ALARM_ID: Final = "SweepDeadLetterQueueAlarm"
# The id of the member stack inside the private app that synthesizes the StackSet's template.
MEMBER_TEMPLATE_STACK_ID: Final = "Member"

# The member stack (central mode).
MEMBER_BUS_ID: Final = "CentralBus"  # the central account's bus, imported by its ARN
FORWARD_RULE_ID: Final = "ForwardRule"
FORWARD_ROLE_ID: Final = "ForwardRole"
FORWARD_DLQ_ID: Final = "ForwardDeadLetterQueue"
READER_ROLE_ID: Final = "ReaderRole"

# The Lambda: plain source (its one dependency comes from the Powertools layer; with powertoolsLayer
# "bundled", installed beside it at synth: maintenance_window_alerts.function.bundled_code). The
# asset is the function's package, `mwalerts`, wherever it is installed: lambda_src/ in a checkout,
# site-packages once the distribution is installed. Its parent folder is the asset root, filtered
# down to the package alone, so the handler string is the same in both.
FUNCTION_PACKAGE: Final = Path(mwalerts.__file__).resolve().parent
LAMBDA_SOURCE: Final = FUNCTION_PACKAGE.parent
LAMBDA_HANDLER: Final = f"{FUNCTION_PACKAGE.name}.handler.handler"
LAMBDA_RUNTIME: Final = lambda_.Runtime.PYTHON_3_13
LAMBDA_ARCHITECTURE: Final = lambda_.Architecture.ARM_64
LAMBDA_ASSET_EXCLUDE: Final = (
    # Everything beside the package (the rest of site-packages, once installed), then caches.
    "*",
    f"!{FUNCTION_PACKAGE.name}",
    f"!{FUNCTION_PACKAGE.name}/**",
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
# powertoolsLayer "bundled": what pip installs into the asset, and for which platform. The parser
# extra brings pydantic, whose core is compiled: pip picks the wheel of the function's platform,
# so no Docker. pydantic-core's aarch64 wheels carry this tag (and manylinux_2_17_aarch64).
POWERTOOLS_REQUIREMENT: Final = f"aws-lambda-powertools[parser]=={POWERTOOLS_VERSION}"
LAMBDA_PIP_PLATFORM: Final = "manylinux2014_aarch64"
LAMBDA_PYTHON_VERSION: Final = LAMBDA_RUNTIME.name.removeprefix("python")  # "3.13"
# AWS-published public parameter holding the layer ARN of that version, in every region.
POWERTOOLS_LAYER_PARAMETER: Final = (
    f"/aws/service/powertools/python/{LAMBDA_ARCHITECTURE.name}/{LAMBDA_RUNTIME.name}"
    f"/{POWERTOOLS_VERSION}"
)
