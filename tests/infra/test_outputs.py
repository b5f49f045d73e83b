"""The stack outputs the operator command reads, and the construct in a user's own stack."""

from pathlib import Path
from typing import Any

import aws_cdk as cdk
from aws_cdk.assertions import Template
from constructs import Construct

from maintenance_window_alerts import (
    MaintenanceWindowAlerts,
    Settings,
    add_compliance_checks,
    add_outputs,
)
from mwalerts import contract
from tests.infra.synthesis import (
    Synth,
    as_text,
    logical_id,
    own_alarm_arns,
    ref,
    stack_named,
    unacknowledged,
    validation_report,
)


def test_outputs_name_the_topics_function_dashboard_queues_and_self_test_alarm(
    default: Synth, custom: Synth
) -> None:
    for synth in (default, custom):
        alerts = synth.stack.alerts
        outputs = {k: v["Value"] for k, v in synth.template.find_outputs("*").items()}
        # The chat topic's ARN only when there is one (chatNotifications "separate-topic").
        chat = (
            {}
            if alerts.chat_topic is None
            else {contract.OUTPUT_CHAT_TOPIC_ARN: synth.ref(alerts.chat_topic)}
        )

        assert outputs == {
            contract.OUTPUT_TOPIC_ARN: synth.ref(alerts.topic),
            contract.OUTPUT_FUNCTION_NAME: synth.ref(alerts.function),
            contract.OUTPUT_DASHBOARD_NAME: synth.ref(alerts.dashboard),
            contract.OUTPUT_RULE_DLQ_URL: synth.ref(alerts.rule_dead_letter_queue),
            contract.OUTPUT_FUNCTION_DLQ_URL: synth.ref(alerts.function_failure_queue),
            contract.OUTPUT_SELF_TEST_ALARM_NAME: synth.ref(alerts.self_test_alarm),
            # What `mwalerts streaks` reads.
            contract.OUTPUT_STREAK_TABLE_NAME: synth.ref(alerts.streak_table),
            **chat,
        }
    assert contract.OUTPUT_CHAT_TOPIC_ARN in custom.template.find_outputs("*")


def test_construct_works_in_any_stack_of_a_users_own_app(tmp_path: Path) -> None:
    """No cdk.json, no feature flags, not our stack: the construct alone passes cdk-nag, and
    add_outputs gives its stack the outputs the operator command reads (redrive --stack)."""
    app = cdk.App(outdir=str(tmp_path))
    stack = cdk.Stack(app, "TheirStack")
    alerts = MaintenanceWindowAlerts(
        stack, "Alerts", settings=Settings(alert_emails=("ops@example.com",))
    )
    add_compliance_checks(app)
    outputs_of_the_construct_alone = [
        c for c in stack.node.children if isinstance(c, cdk.CfnOutput)
    ]
    add_outputs(alerts)

    template = app.synth().get_stack_artifact(stack.artifact_id).template  # raises on a finding
    report = validation_report(tmp_path)
    outputs = {k: v["Value"] for k, v in template["Outputs"].items()}

    assert unacknowledged(report) == []
    assert outputs_of_the_construct_alone == []
    assert outputs == {
        contract.OUTPUT_TOPIC_ARN: ref(alerts.topic),
        contract.OUTPUT_FUNCTION_NAME: ref(alerts.function),
        contract.OUTPUT_DASHBOARD_NAME: ref(alerts.dashboard),
        contract.OUTPUT_RULE_DLQ_URL: ref(alerts.rule_dead_letter_queue),
        contract.OUTPUT_FUNCTION_DLQ_URL: ref(alerts.function_failure_queue),
        contract.OUTPUT_SELF_TEST_ALARM_NAME: ref(alerts.self_test_alarm),
        contract.OUTPUT_STREAK_TABLE_NAME: ref(alerts.streak_table),
    }
    assert {*contract.DEAD_LETTER_QUEUE_OUTPUTS, contract.OUTPUT_FUNCTION_NAME} <= set(outputs)


def test_in_a_users_stack_each_construct_admits_only_its_own_alarms(tmp_path: Path) -> None:
    """Two constructs in one stack, one deeper in it: each names its alarms after the stack and
    its own path in it, and its topic and key admit those alarms and not the other's."""
    stack = cdk.Stack(cdk.App(outdir=str(tmp_path)), "TheirStack")
    constructs = {
        "Alerts": MaintenanceWindowAlerts(stack, "Alerts", settings=Settings()),
        "Team/Alerts": MaintenanceWindowAlerts(
            Construct(stack, "Team"), "Alerts", settings=Settings()
        ),
    }
    resources = Template.from_stack(stack).to_json()["Resources"]

    def properties(construct: Any) -> dict[str, Any]:
        return dict(resources[logical_id(construct)]["Properties"])

    names = {path: [properties(a)["AlarmName"] for a in c.alarms] for path, c in constructs.items()}
    for path, alerts in constructs.items():
        (topic_policy,) = [
            r["Properties"]["PolicyDocument"]["Statement"]
            for r in resources.values()
            if r["Type"] == "AWS::SNS::TopicPolicy"
            and r["Properties"]["Topics"] == [ref(alerts.topic)]
        ]
        key_policy = properties(alerts.key)["KeyPolicy"]["Statement"]
        source_arns = [
            arn
            for statement in topic_policy + key_policy
            for condition in statement.get("Condition", {}).values()
            for key, arn in condition.items()
            if key == "aws:SourceArn"
        ]
        prefix = as_text(own_alarm_arns(path)).split(":alarm:")[1].removesuffix("*")

        assert names[path] == [stack_named(f"/{path}/{a.node.id}") for a in alerts.alarms]
        # The topic's Allow and Deny, and the key's Allow.
        assert source_arns == [own_alarm_arns(path)] * 3
        assert [
            path_of_name
            for path_of_name, alarm_names in names.items()
            if any(as_text(name).startswith(prefix) for name in alarm_names)
        ] == [path]
