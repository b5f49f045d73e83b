"""How executions reach the function: the rule, the sweep's schedule, and the dead-letter queues
that keep what EventBridge or the function could not deliver."""

import json

from mwalerts import contract
from tests.infra.synthesis import Synth, dead_letter_queue_ids

DENY_ALL = {"redrivePermission": "denyAll"}


def test_rule_sends_only_ended_window_executions_from_ssm(default: Synth) -> None:
    pattern = default.properties(default.stack.alerts.rule)["EventPattern"]

    assert pattern == {
        "source": [contract.EVENT_SOURCE],
        "detail-type": [contract.WINDOW_EXECUTION_DETAIL_TYPE],
        "detail": {"status": list(contract.TERMINAL_STATUSES)},
    }
    assert not set(contract.NON_TERMINAL_STATUSES) & set(pattern["detail"]["status"])


def test_rule_retries_for_a_day_then_keeps_the_event_in_a_dead_letter_queue(
    default: Synth,
) -> None:
    alerts = default.stack.alerts
    (target,) = default.properties(alerts.rule)["Targets"]

    assert target["Arn"] == default.arn(alerts.function)
    assert target["RetryPolicy"] == {"MaximumEventAgeInSeconds": 86400, "MaximumRetryAttempts": 185}
    assert target["DeadLetterConfig"] == {"Arn": default.arn(alerts.rule_dead_letter_queue)}


def test_schedule_sends_the_function_a_sweep_every_interval(
    synth_and_interval: tuple[Synth, int],
) -> None:
    synth, minutes = synth_and_interval
    alerts = synth.stack.alerts
    schedule = synth.properties(alerts.schedule)
    (target,) = schedule["Targets"]

    assert schedule["ScheduleExpression"] == {15: "rate(15 minutes)", 60: "rate(1 hour)"}[minutes]
    assert schedule["State"] == "ENABLED"
    assert target["Arn"] == synth.arn(alerts.function)
    # The scheduled event itself, which the function recognises by its source and detail-type.
    assert not {"Input", "InputPath", "InputTransformer"} & set(target)
    # Retried until the next sweep supersedes it, then kept in the rule dead-letter queue.
    assert target["RetryPolicy"] == {
        "MaximumEventAgeInSeconds": minutes * 60,
        "MaximumRetryAttempts": 185,
    }
    assert target["DeadLetterConfig"] == {"Arn": synth.arn(alerts.rule_dead_letter_queue)}


def test_function_may_be_invoked_by_both_rules_only(default: Synth) -> None:
    alerts = default.stack.alerts
    permissions = default.template.find_resources(
        "AWS::Lambda::Permission",
        {"Properties": {"FunctionName": default.arn(alerts.function)}},
    )

    assert sorted(
        (p["Properties"]["Principal"], json.dumps(p["Properties"]["SourceArn"]))
        for p in permissions.values()
    ) == sorted(
        ("events.amazonaws.com", json.dumps(default.arn(rule)))
        for rule in (alerts.rule, alerts.schedule)
    )


def test_failed_async_invocations_retry_twice_then_go_to_the_failure_queue(default: Synth) -> None:
    alerts = default.stack.alerts
    default.template.has_resource_properties(
        "AWS::Lambda::EventInvokeConfig",
        {
            "FunctionName": default.ref(alerts.function),
            "MaximumRetryAttempts": 2,
            "MaximumEventAgeInSeconds": 6 * 3600,
            "DestinationConfig": {
                "OnFailure": {"Destination": default.arn(alerts.function_failure_queue)}
            },
        },
    )


def test_dead_letter_queues_are_encrypted_and_keep_messages_14_days(default: Synth) -> None:
    alerts = default.stack.alerts
    for queue in (alerts.rule_dead_letter_queue, alerts.function_failure_queue):
        assert default.properties(queue) == {
            "KmsMasterKeyId": default.arn(alerts.key),
            "MessageRetentionPeriod": 14 * 24 * 3600,
            "RedriveAllowPolicy": DENY_ALL,
        }


def test_every_queue_is_a_dead_letter_queue_that_no_queue_may_redrive_into(
    default: Synth, custom: Synth
) -> None:
    for synth in (default, custom):
        alerts = synth.stack.alerts
        queues = synth.template.find_resources("AWS::SQS::Queue")

        # Both rules' targets and the function's on-failure destination send to them.
        assert (
            dead_letter_queue_ids(synth.template.to_json())
            == set(queues)
            == {
                synth.logical_id(alerts.rule_dead_letter_queue),
                synth.logical_id(alerts.function_failure_queue),
            }
        )
        # No queue may name them as its dead-letter queue (AWS Control Tower ct-sqs-pr-1).
        for queue in queues.values():
            assert queue["Properties"]["RedriveAllowPolicy"] == DENY_ALL


def test_eventbridge_may_send_to_the_rule_dead_letter_queue_from_these_rules_only(
    default: Synth,
) -> None:
    alerts = default.stack.alerts
    (policy,) = default.template.find_resources(
        "AWS::SQS::QueuePolicy",
        {"Properties": {"Queues": [default.ref(alerts.rule_dead_letter_queue)]}},
    ).values()
    statements = policy["Properties"]["PolicyDocument"]["Statement"]
    allowed = [
        {k: v for k, v in s.items() if k != "Sid"} for s in statements if s["Effect"] == "Allow"
    ]

    assert allowed == [
        {
            "Effect": "Allow",
            "Principal": {"Service": "events.amazonaws.com"},
            "Action": "sqs:SendMessage",
            "Resource": default.arn(alerts.rule_dead_letter_queue),
            "Condition": {"ArnEquals": {"aws:SourceArn": default.arn(rule)}},
        }
        for rule in (alerts.rule, alerts.schedule)
    ]
