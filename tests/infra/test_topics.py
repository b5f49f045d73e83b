"""The alert topic and the chat topic: who is subscribed, who may publish, their encryption."""

import json
from pathlib import Path
from typing import Any

from aws_cdk.assertions import Template
from constructs import IConstruct

from maintenance_window_alerts import settings as keys
from mwalerts import contract
from tests.infra.synthesis import (
    CUSTOM_EMAILS,
    Synth,
    alerts_stack,
    arn_pattern,
    role_permissions,
)

ALARM_ARNS = arn_pattern("cloudwatch", "alarm:*")


def topic_policy(synth: Synth, topic: IConstruct) -> dict[str, dict[str, Any]]:
    """The statements of a topic's policy, by Sid."""
    (policy,) = synth.template.find_resources(
        "AWS::SNS::TopicPolicy", {"Properties": {"Topics": [synth.ref(topic)]}}
    ).values()
    return {s["Sid"]: s for s in policy["Properties"]["PolicyDocument"]["Statement"]}


def test_topic_is_encrypted_with_a_rotating_customer_managed_key(default: Synth) -> None:
    alerts = default.stack.alerts

    assert default.properties(alerts.topic)["KmsMasterKeyId"] == default.arn(alerts.key)
    assert default.properties(alerts.key)["EnableKeyRotation"] is True


def test_email_subscriptions_come_from_the_settings(default: Synth, custom: Synth) -> None:
    subscriptions = custom.template.find_resources("AWS::SNS::Subscription")

    assert sorted(s["Properties"]["Endpoint"] for s in subscriptions.values()) == sorted(
        CUSTOM_EMAILS
    )
    for subscription in subscriptions.values():
        assert subscription["Properties"]["Protocol"] == "email"
        assert subscription["Properties"]["TopicArn"] == custom.ref(custom.stack.alerts.topic)
    default.template.resource_count_is("AWS::SNS::Subscription", 0)


def test_only_the_function_and_this_accounts_alarms_may_publish_to_the_topic(
    default: Synth,
) -> None:
    alerts = default.stack.alerts
    assert alerts.function.role is not None
    role_arn = default.arn(alerts.function.role)
    statements = topic_policy(default, alerts.topic)
    publish = {"Action": "sns:Publish", "Resource": default.ref(alerts.topic)}

    assert statements["AllowAlarmsToPublish"] == {
        "Sid": "AllowAlarmsToPublish",
        "Effect": "Allow",
        "Principal": {"Service": "cloudwatch.amazonaws.com"},
        "Condition": {
            "StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}},
            "ArnLike": {"aws:SourceArn": ALARM_ARNS},
        },
        **publish,
    }
    assert statements["AllowFunctionToPublish"] == {
        "Sid": "AllowFunctionToPublish",
        "Effect": "Allow",
        "Principal": {"AWS": role_arn},
        **publish,
    }
    # Denied unless from the function's role or from an alarm of this account and region: an IAM
    # principal's request has no aws:SourceArn, so the negated condition holds and it is denied.
    assert statements["DenyPublishByAnyoneElse"] == {
        "Sid": "DenyPublishByAnyoneElse",
        "Effect": "Deny",
        "Principal": "*",
        "Condition": {
            "ArnNotEquals": {"aws:PrincipalArn": role_arn},
            "ArnNotLike": {"aws:SourceArn": ALARM_ARNS},
        },
        **publish,
    }
    assert statements.keys() == {
        "AllowPublishThroughSSLOnly",
        "AllowAlarmsToPublish",
        "AllowFunctionToPublish",
        "DenyPublishByAnyoneElse",
    }


def test_chat_topic_exists_only_with_separate_topic_and_is_locked_down_like_the_alert_topic(
    default: Synth, custom: Synth
) -> None:
    assert default.stack.alerts.chat_topic is None
    default.template.resource_count_is("AWS::SNS::Topic", 1)
    alerts = custom.stack.alerts
    chat = alerts.chat_topic
    assert chat is not None
    custom.template.resource_count_is("AWS::SNS::Topic", 2)

    # Encrypted with the rotating message key, like the alert topic.
    assert custom.properties(chat)["KmsMasterKeyId"] == custom.arn(alerts.key)
    # The alert topic's policy, statement for statement: TLS only, and only the function's role
    # and this account's alarms may publish (anyone else is denied).
    alert_policy = json.dumps(topic_policy(custom, alerts.topic))
    chat_policy = topic_policy(custom, chat)
    assert chat_policy == json.loads(
        alert_policy.replace(json.dumps(custom.ref(alerts.topic)), json.dumps(custom.ref(chat)))
    )
    assert set(chat_policy) == {
        "AllowPublishThroughSSLOnly",
        "AllowAlarmsToPublish",
        "AllowFunctionToPublish",
        "DenyPublishByAnyoneElse",
    }
    # The function may publish to both topics; a chat channel configuration subscribes itself.
    assert role_permissions(custom)["sns:Publish"] == [custom.ref(alerts.topic), custom.ref(chat)]
    assert not custom.template.find_resources(
        "AWS::SNS::Subscription", {"Properties": {"TopicArn": custom.ref(chat)}}
    )


def test_default_body_chat_mode_needs_no_second_topic(tmp_path: Path) -> None:
    # Without cdk-nag or the CLI: only what this mode changes.
    _, stack = alerts_stack(tmp_path, {keys.CHAT_NOTIFICATIONS: contract.CHAT_DEFAULT_BODY})
    template = Template.from_stack(stack)
    (function,) = template.find_resources("AWS::Lambda::Function").values()
    variables = function["Properties"]["Environment"]["Variables"]

    assert stack.alerts.chat_topic is None
    template.resource_count_is("AWS::SNS::Topic", 1)
    assert variables[contract.ENV_CHAT_NOTIFICATIONS] == contract.CHAT_DEFAULT_BODY
    assert contract.ENV_CHAT_TOPIC_ARN not in variables
    assert contract.OUTPUT_CHAT_TOPIC_ARN not in template.find_outputs("*")
