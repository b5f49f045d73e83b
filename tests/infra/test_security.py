"""Keys, encryption and IAM: each key used only as intended, the function's role least-privilege."""

import json
from collections import defaultdict
from pathlib import Path

from aws_cdk.assertions import Match, Template

from maintenance_window_alerts import security
from maintenance_window_alerts import settings as keys
from tests.infra.synthesis import (
    Synth,
    alerts_stack,
    arn_pattern,
    as_list,
    as_text,
    own_alarm_arns,
    policy_statements,
    regional,
    role_permissions,
    role_statements,
)


def test_function_logs_are_encrypted_with_the_data_key_and_kept_with_it(default: Synth) -> None:
    data_key = default.stack.alerts.data_key
    log_group = default.resources[default.logical_id(default.stack.alerts.log_group)]

    assert log_group["Properties"]["KmsKeyId"] == default.arn(data_key)
    # The logs outlive the stack, so the key that can read them must too.
    assert log_group["DeletionPolicy"] == "Retain"
    assert default.resources[default.logical_id(data_key)]["DeletionPolicy"] == "Retain"
    assert default.properties(data_key)["EnableKeyRotation"] is True


def test_data_key_lets_cloudwatch_logs_use_it_for_this_accounts_log_groups_only(
    default: Synth,
) -> None:
    statements = default.properties(default.stack.alerts.data_key)["KeyPolicy"]["Statement"]
    services = [s for s in statements if "Service" in s.get("Principal", {})]

    assert services == [
        {
            "Sid": "AllowLogsToEncrypt",
            "Effect": "Allow",
            "Principal": {"Service": regional("logs")},
            # The actions AWS documents for a log group's key.
            "Action": sorted(
                [
                    "kms:Encrypt*",
                    "kms:Decrypt*",
                    "kms:ReEncrypt*",
                    "kms:GenerateDataKey*",
                    "kms:Describe*",
                ]
            ),
            "Resource": "*",
            "Condition": {
                "ArnLike": {
                    "kms:EncryptionContext:aws:logs:arn": arn_pattern("logs", "log-group:*")
                }
            },
        }
    ]


def test_idempotency_table_is_encrypted_with_the_rotating_data_key(default: Synth) -> None:
    alerts = default.stack.alerts

    assert default.properties(alerts.table)["SSESpecification"] == {
        "SSEEnabled": True,
        "SSEType": "KMS",
        "KMSMasterKeyId": default.arn(alerts.data_key),
    }
    assert default.properties(alerts.data_key)["EnableKeyRotation"] is True
    assert default.logical_id(alerts.data_key) != default.logical_id(alerts.key)
    # A 15-day cache of what was alerted on: deleted with the stack.
    assert default.resources[default.logical_id(alerts.table)]["DeletionPolicy"] == "Delete"


def test_streak_table_is_encrypted_with_the_data_key_and_deleted_with_the_stack(
    default: Synth,
) -> None:
    alerts = default.stack.alerts

    assert default.properties(alerts.streak_table)["SSESpecification"] == {
        "SSEEnabled": True,
        "SSEType": "KMS",
        "KMSMasterKeyId": default.arn(alerts.data_key),
    }
    # Derived state, rebuilt by the windows' next executions: deleted with the stack.
    resource = default.resources[default.logical_id(alerts.streak_table)]
    assert (resource["DeletionPolicy"], resource["UpdateReplacePolicy"]) == ("Delete", "Delete")


def test_function_may_only_query_put_and_delete_streak_items(default: Synth, custom: Synth) -> None:
    for synth in (default, custom):
        streak_table = synth.arn(synth.stack.alerts.streak_table)
        allowed = {
            action
            for statement in role_statements(synth)
            if streak_table in as_list(statement["Resource"])
            for action in as_list(statement["Action"])
        }

        assert allowed == set(security.STREAK_TABLE_ACTIONS)
        assert allowed == {
            "dynamodb:Query",
            "dynamodb:PutItem",
            "dynamodb:DeleteItem",
            "dynamodb:BatchWriteItem",
        }
        # Nothing reads the whole table, on either table.
        assert not [a for a in role_permissions(synth) if a in ("dynamodb:Scan", "dynamodb:*")]


def test_key_lets_the_stacks_own_alarms_and_eventbridge_encrypt(default: Synth) -> None:
    statements = default.properties(default.stack.alerts.key)["KeyPolicy"]["Statement"]
    services = {
        s["Principal"]["Service"]: s for s in statements if "Service" in s.get("Principal", {})
    }

    assert set(services) == {"cloudwatch.amazonaws.com", "events.amazonaws.com"}
    for statement in services.values():
        assert statement["Action"] == ["kms:Decrypt", "kms:GenerateDataKey"]
    # Only this stack's alarms: those whose names start with <stack name>/Alerts/.
    assert services["cloudwatch.amazonaws.com"]["Condition"] == {
        "StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}},
        "ArnLike": {"aws:SourceArn": own_alarm_arns()},
    }
    # AWS documents EventBridge's statement without source conditions (its KMS requests carry
    # none); the dead-letter queue's own policy admits only its rules (test_routing.py).
    assert "Condition" not in services["events.amazonaws.com"]


def test_no_policy_admits_every_alarm_of_the_account(default: Synth, custom: Synth) -> None:
    for synth in (default, custom):
        statements = [s for _, s in policy_statements(synth.template.to_json())]
        alarm_statements = [
            s for s in statements if s.get("Principal") == {"Service": "cloudwatch.amazonaws.com"}
        ]
        alarm_arns = [
            as_text(arn)
            for s in statements
            for condition in s.get("Condition", {}).values()
            for key, arn in condition.items()
            if key == "aws:SourceArn" and ":alarm:" in as_text(arn)
        ]

        # The key's and the alert topic's Allow, and the alert topic's Deny (test_topics.py):
        # each names this stack's alarms, none every alarm.
        assert len(alarm_statements) == 2
        assert len(alarm_arns) == 3
        assert not [arn for arn in alarm_arns if arn.endswith(":alarm:*")]
        assert set(alarm_arns) == {as_text(own_alarm_arns())}


def test_topic_and_queues_refuse_requests_without_tls(default: Synth) -> None:
    alerts = default.stack.alerts
    deny_plain_http = Match.array_with(
        [
            Match.object_like(
                {"Effect": "Deny", "Condition": {"Bool": {"aws:SecureTransport": "false"}}}
            )
        ]
    )
    default.template.has_resource_properties(
        "AWS::SNS::TopicPolicy",
        {"Topics": [default.ref(alerts.topic)], "PolicyDocument": {"Statement": deny_plain_http}},
    )
    for queue in (alerts.rule_dead_letter_queue, alerts.function_failure_queue):
        default.template.has_resource_properties(
            "AWS::SQS::QueuePolicy",
            {"Queues": [default.ref(queue)], "PolicyDocument": {"Statement": deny_plain_http}},
        )


def test_function_role_has_exactly_the_permissions_it_needs(default: Synth) -> None:
    alerts = default.stack.alerts
    key, topic, queue = alerts.key, alerts.topic, alerts.function_failure_queue
    log_group_id = default.logical_id(alerts.log_group)
    log_group = {"Fn::GetAtt": [log_group_id, "Arn"]}

    assert role_permissions(default) == {
        # The two SSM actions with a resource type (maintenancewindow): this account's and
        # region's windows ...
        "ssm:DescribeMaintenanceWindowExecutions": [arn_pattern("ssm", "maintenancewindow/*")],
        "ssm:GetMaintenanceWindow": [arn_pattern("ssm", "maintenancewindow/*")],
        # ... the others support no resource-level permissions.
        "ssm:DescribeMaintenanceWindows": ["*"],
        "ssm:DescribeMaintenanceWindowExecutionTasks": ["*"],
        "ssm:DescribeMaintenanceWindowExecutionTaskInvocations": ["*"],
        "ssm:GetCommandInvocation": ["*"],
        # Exactly the item actions Powertools' idempotency layer calls, on the table only ...
        **{
            f"dynamodb:{action}": [default.arn(alerts.table)]
            for action in ("GetItem", "UpdateItem")
        },
        # ... and on the streak table what mwalerts.streak_store calls: Query, the Put and
        # Delete of TransactWriteItems (authorised as PutItem and DeleteItem), and BatchWriteItem
        # for large changes. No Scan, no GetItem.
        "dynamodb:Query": [default.arn(alerts.streak_table)],
        "dynamodb:BatchWriteItem": [default.arn(alerts.streak_table)],
        **{
            f"dynamodb:{action}": [default.arn(alerts.table), default.arn(alerts.streak_table)]
            for action in ("PutItem", "DeleteItem")
        },
        "sns:Publish": [default.ref(topic)],
        "sqs:SendMessage": [default.arn(queue)],
        "sqs:GetQueueAttributes": [default.arn(queue)],
        "sqs:GetQueueUrl": [default.arn(queue)],
        # The message key (topic and queue), and the data key (the table, through DynamoDB).
        "kms:Decrypt": [default.arn(key), default.arn(alerts.data_key)],
        "kms:GenerateDataKey*": [default.arn(key)],
        "logs:CreateLogStream": [log_group],
        "logs:PutLogEvents": [log_group],
        # X-Ray supports no resource-level permissions.
        "xray:PutTraceSegments": ["*"],
        "xray:PutTelemetryRecords": ["*"],
    }


def test_ssm_read_policy_scopes_windows_with_pseudo_parameters_in_any_environment(
    custom: Synth,
) -> None:
    # The custom synth has an account and a region; the ARN still reads them at deploy time, so
    # the policy (and the ID of its acknowledged cdk-nag finding) is the same everywhere.
    (policy,) = custom.template.find_resources("AWS::IAM::ManagedPolicy").values()
    statements = policy["Properties"]["PolicyDocument"]["Statement"]

    assert [(s["Action"], s["Resource"], s.get("Condition")) for s in statements] == [
        (
            ["ssm:DescribeMaintenanceWindowExecutions", "ssm:GetMaintenanceWindow"],
            arn_pattern("ssm", "maintenancewindow/*"),
            None,
        ),
        (
            [
                "ssm:DescribeMaintenanceWindowExecutionTaskInvocations",
                "ssm:DescribeMaintenanceWindowExecutionTasks",
                "ssm:DescribeMaintenanceWindows",
                "ssm:GetCommandInvocation",
            ],
            "*",
            # "*" narrowed to this region's SSM.
            {"StringEquals": {"aws:RequestedRegion": {"Ref": "AWS::Region"}}},
        ),
    ]
    assert "eu-west-1" not in json.dumps(policy)


def test_function_may_not_read_command_output_when_alerts_quote_none(tmp_path: Path) -> None:
    # Without cdk-nag or the CLI: only what errorDetailsLimit 0 changes.
    _, stack = alerts_stack(tmp_path, {keys.ERROR_DETAILS_LIMIT: 0})
    (policy,) = Template.from_stack(stack).find_resources("AWS::IAM::ManagedPolicy").values()
    actions = [a for s in policy["Properties"]["PolicyDocument"]["Statement"] for a in s["Action"]]

    assert "ssm:GetCommandInvocation" not in actions
    assert "ssm:DescribeMaintenanceWindowExecutionTaskInvocations" in actions


def test_function_role_uses_the_keys_only_as_a_sender_and_through_dynamodb(
    default: Synth, custom: Synth
) -> None:
    for synth in (default, custom):  # custom has the chat topic too
        alerts = synth.stack.alerts
        kms_actions: dict[str, set[str]] = defaultdict(set)
        for statement in role_statements(synth):
            for action in as_list(statement["Action"]):
                if action.startswith("kms:"):
                    kms_actions[json.dumps(statement["Resource"])].add(action)

        # What a sender to an encrypted topic or queue needs; no kms:Encrypt, no kms:ReEncrypt*.
        assert kms_actions == {
            json.dumps(synth.arn(alerts.key)): {"kms:Decrypt", "kms:GenerateDataKey*"},
            json.dumps(synth.arn(alerts.data_key)): {"kms:Decrypt"},
        }


def test_function_may_use_the_data_key_only_through_dynamodb(default: Synth) -> None:
    data_key = default.arn(default.stack.alerts.data_key)

    assert [s for s in role_statements(default) if data_key in as_list(s["Resource"])] == [
        {
            "Effect": "Allow",
            # DynamoDB decrypts the table key on the caller's behalf; it generates it itself.
            "Action": "kms:Decrypt",
            "Resource": data_key,
            "Condition": {"StringEquals": {"kms:ViaService": regional("dynamodb")}},
        }
    ]


def test_function_role_has_no_aws_managed_or_inline_policies(default: Synth) -> None:
    role = default.stack.alerts.function.role
    assert role is not None
    properties = default.properties(role)

    assert "ManagedPolicyArns" not in properties  # no AWSLambdaBasicExecutionRole
    assert "Policies" not in properties
    assert "RoleName" not in properties  # a fixed name only in central mode
    # The one managed policy is this construct's own SSM read policy.
    (managed,) = default.template.find_resources("AWS::IAM::ManagedPolicy").values()
    assert managed["Properties"]["Roles"] == [default.ref(role)]


def test_no_policy_allows_a_wildcard_action(default: Synth) -> None:
    allowed = [
        (kind, s)
        for kind, s in policy_statements(default.template.to_json())
        if s["Effect"] == "Allow"
    ]
    wildcards = [
        (kind, statement)
        for kind, statement in allowed
        if any(a == "*" or a.endswith(":*") for a in as_list(statement["Action"]))
    ]

    # The only ones are KMS's default key policies of both keys: each delegates the key's use to
    # this account's IAM.
    assert len(wildcards) == 2
    for kind, statement in wildcards:
        assert kind == "AWS::KMS::Key"
        assert statement["Action"] == "kms:*"
        assert statement["Principal"]["AWS"]["Fn::Join"][1][-1] == ":root"
    assert len(allowed) > 10  # the check above saw the policies
