"""The alert topic and the chat topic: who is subscribed, who may publish, their encryption."""

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
    logical_id,
    own_alarm_arns,
    role_permissions,
)

# This stack's alarms: those whose names start with <stack name>/Alerts/ (test_alarms.py).
ALARM_ARNS = own_alarm_arns()


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


def test_only_the_function_and_the_stacks_own_alarms_may_publish_to_the_topic(
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
    # Denied unless from the function's role or from one of this stack's alarms: an IAM
    # principal's request has no aws:SourceArn, so the negated condition holds and it is denied;
    # another alarm's has an ARN the pattern does not match.
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


def test_chat_topic_exists_only_with_separate_topic_and_only_the_function_may_publish(
    default: Synth, custom: Synth
) -> None:
    assert default.stack.alerts.chat_topic is None
    default.template.resource_count_is("AWS::SNS::Topic", 1)
    alerts = custom.stack.alerts
    chat = alerts.chat_topic
    assert chat is not None
    assert alerts.function.role is not None
    role_arn = custom.arn(alerts.function.role)
    custom.template.resource_count_is("AWS::SNS::Topic", 2)

    # Encrypted with the rotating message key, like the alert topic.
    assert custom.properties(chat)["KmsMasterKeyId"] == custom.arn(alerts.key)
    statements = topic_policy(custom, chat)
    publish = {"Action": "sns:Publish", "Resource": custom.ref(chat)}
    # TLS only, like the alert topic; the function's role may publish, and no alarm: no alarm
    # notifies it, and a service principal's request has no aws:PrincipalArn, so it is denied.
    assert statements["AllowPublishThroughSSLOnly"] == {
        **topic_policy(custom, alerts.topic)["AllowPublishThroughSSLOnly"],
        "Resource": custom.ref(chat),
    }
    assert statements["AllowFunctionToPublish"] == {
        "Sid": "AllowFunctionToPublish",
        "Effect": "Allow",
        "Principal": {"AWS": role_arn},
        **publish,
    }
    assert statements["DenyPublishByAnyoneElse"] == {
        "Sid": "DenyPublishByAnyoneElse",
        "Effect": "Deny",
        "Principal": "*",
        "Condition": {"ArnNotEquals": {"aws:PrincipalArn": role_arn}},
        **publish,
    }
    assert statements.keys() == {
        "AllowPublishThroughSSLOnly",
        "AllowFunctionToPublish",
        "DenyPublishByAnyoneElse",
    }
    assert not [s for s in statements.values() if "Service" in s.get("Principal", {})]
    alarms = custom.template.find_resources("AWS::CloudWatch::Alarm").values()
    # Every alarm, the self-test alarm too, notifies the alert topic only.
    assert [a["Properties"]["AlarmActions"] for a in alarms] == [[custom.ref(alerts.topic)]] * (
        len(alerts.alarms) + 1
    )
    # The function may publish to both topics; a chat channel configuration subscribes itself.
    assert role_permissions(custom)["sns:Publish"] == [custom.ref(alerts.topic), custom.ref(chat)]
    assert not custom.template.find_resources(
        "AWS::SNS::Subscription", {"Properties": {"TopicArn": custom.ref(chat)}}
    )


def test_default_body_chat_mode_needs_no_second_topic(tmp_path: Path) -> None:
    # Without cdk-nag or the CLI: only what this mode changes.
    _, stack = alerts_stack(tmp_path, {keys.CHAT_NOTIFICATIONS: contract.CHAT_DEFAULT_BODY})
    template = Template.from_stack(stack)
    function = template.to_json()["Resources"][logical_id(stack.alerts.function)]
    variables = function["Properties"]["Environment"]["Variables"]

    assert stack.alerts.chat_topic is None
    template.resource_count_is("AWS::SNS::Topic", 1)
    assert variables[contract.ENV_CHAT_NOTIFICATIONS] == contract.CHAT_DEFAULT_BODY
    assert contract.ENV_CHAT_TOPIC_ARN not in variables
    assert contract.OUTPUT_CHAT_TOPIC_ARN not in template.find_outputs("*")
