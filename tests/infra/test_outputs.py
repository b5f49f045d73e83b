"""The stack outputs the operator command reads, and the construct in a user's own stack."""

from pathlib import Path

import aws_cdk as cdk

from maintenance_window_alerts import (
    MaintenanceWindowAlerts,
    Settings,
    add_compliance_checks,
    add_outputs,
)
from mwalerts import contract
from tests.infra.synthesis import Synth, ref, validation_report


def test_outputs_name_the_topics_function_dashboard_and_queues(
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

    assert report["pluginReports"] == []
    assert outputs_of_the_construct_alone == []
    assert outputs == {
        contract.OUTPUT_TOPIC_ARN: ref(alerts.topic),
        contract.OUTPUT_FUNCTION_NAME: ref(alerts.function),
        contract.OUTPUT_DASHBOARD_NAME: ref(alerts.dashboard),
        contract.OUTPUT_RULE_DLQ_URL: ref(alerts.rule_dead_letter_queue),
        contract.OUTPUT_FUNCTION_DLQ_URL: ref(alerts.function_failure_queue),
    }
    assert {*contract.DEAD_LETTER_QUEUE_OUTPUTS, contract.OUTPUT_FUNCTION_NAME} <= set(outputs)
