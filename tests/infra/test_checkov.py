"""checkov on the templates of every layout: each finding is acknowledged in code, with its reason.

Each layout is synthesized as `cdk synth` does, so cdk-nag's packs and cfn-guard's AWS Control
Tower rules run on every one of its templates too, and must find nothing unacknowledged. Then one
checkov process (it takes about 10 s to start) reads every template from one folder, with a
probe stack's beside them: one queue nobody acknowledged a finding of, and one whose finding is
acknowledged through compliance.acknowledge.
"""

import json
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_sqs as sqs

from maintenance_window_alerts import add_compliance_checks, compliance, create_stacks
from maintenance_window_alerts import settings as keys
from mwalerts import contract
from tests.infra.synthesis import CDK_JSON_CONTEXT, Synth, unacknowledged, validation_report
from tests.support import ROOT

CHECKOV = ROOT / ".venv" / "checkov" / "bin" / "checkov"  # make dev installs it
A, B = "111111111111", "222222222222"
WINDOW = "mw-0123456789abcdef0"
# The layouts besides those conftest.py synthesizes for every file: the single stack of cdk.json's
# settings, the custom one (e-mail subscriptions, a separate chat topic, windowAlarms and
# expectedWindows) and the one with Powertools bundled.
LAYOUTS: dict[str, dict[str, Any]] = {
    "deployments": {
        "deployments": [
            {"account": A, "region": "eu-west-1"},
            {"account": B, "region": "us-east-1", "windowAlarms": {WINDOW: 2}},
        ]
    },
    "central": {
        "central": {
            "account": A,
            "region": "eu-west-1",
            "externalId": "mwa-2f6c1e9d",
            "members": [{"account": B, "regions": ["eu-west-1"]}],
            "expectedWindows": {f"{B}/eu-west-1/{WINDOW}": "26h"},
        }
    },
}
PROBE_STACK = "ChecksProbe"
PROBE_REASON = (
    "A probe of the test: checkov must skip this queue's check, with this reason, as it would "
    "any resource's whose finding the code acknowledges."
)


@dataclass(frozen=True)
class CheckovRun:
    templates: list[str]  # file names in the folder checkov read
    failed: list[dict[str, Any]]
    skipped: list[dict[str, Any]]
    summary: dict[str, Any]


def synthesize_layout(outdir: Path, context: dict[str, Any]) -> Path:
    """The app as `cdk synth` runs it with this layout; raises on any unacknowledged finding of
    cdk-nag or cfn-guard."""
    app = cdk.App(context={**CDK_JSON_CONTEXT, **context}, outdir=str(outdir))
    create_stacks(app)
    add_compliance_checks(app)
    app.synth()
    return outdir


def synthesize_probe(outdir: Path) -> Path:
    """Two unencrypted queues (checkov's CKV_AWS_27), one of them acknowledged."""
    app = cdk.App(outdir=str(outdir))
    stack = cdk.Stack(app, PROBE_STACK)
    for name in ("Unacknowledged", "Acknowledged"):
        sqs.Queue(stack, name, encryption=sqs.QueueEncryption.UNENCRYPTED)
    compliance.acknowledge(
        stack.node.find_child("Acknowledged").node.default_child, "CKV_AWS_27", PROBE_REASON
    )
    app.synth()
    return outdir


def run_checkov(folder: Path) -> CheckovRun:
    """checkov on every CloudFormation template in `folder`, once, offline."""
    result = subprocess.run(
        [
            *(str(CHECKOV), "--directory", str(folder), "--framework", "cloudformation"),
            *("--output", "json", "--compact", "--skip-download"),
        ],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode in (0, 1), result.stderr  # 1: failed checks, read below
    report = json.loads(result.stdout)
    (cloudformation,) = report if isinstance(report, list) else [report]
    return CheckovRun(
        templates=sorted(path.name for path in folder.iterdir()),
        failed=cloudformation["results"]["failed_checks"],
        skipped=cloudformation["results"]["skipped_checks"],
        summary=cloudformation["summary"],
    )


def unacknowledged_findings(outdir: Path) -> list[tuple[str, str]]:
    return unacknowledged(validation_report(outdir))


def reason(check: dict[str, Any]) -> str:
    """A skipped check's reason: the comment of its acknowledgement."""
    return str(check["check_result"]["suppress_comment"])


def in_probe(check: dict[str, Any]) -> bool:
    return Path(check["file_path"]).name.startswith(PROBE_STACK)


@pytest.fixture(scope="module")
def checkov(
    tmp_path_factory: pytest.TempPathFactory, default: Synth, custom: Synth, bundled: Synth
) -> CheckovRun:
    outdirs = {
        "single": default.outdir,
        "custom": custom.outdir,
        keys.POWERTOOLS_BUNDLED: bundled.outdir,
        **{
            name: synthesize_layout(tmp_path_factory.mktemp(name), context)
            for name, context in LAYOUTS.items()
        },
    }
    folder = tmp_path_factory.mktemp("templates")
    for name, outdir in outdirs.items():
        # cdk-nag and cfn-guard ran on the synth and found nothing unacknowledged.
        assert unacknowledged_findings(outdir) == [], name
        for template in outdir.glob("*.template.json"):
            shutil.copy(template, folder / f"{name}-{template.name}")
    probe = synthesize_probe(tmp_path_factory.mktemp("probe"))
    shutil.copy(probe / f"{PROBE_STACK}.template.json", folder)
    return run_checkov(folder)


def test_checkov_reads_every_template_of_every_layout(checkov: CheckovRun) -> None:
    assert checkov.templates == sorted(
        [
            f"single-{contract.STACK_NAME}.template.json",
            f"custom-{contract.STACK_NAME}.template.json",
            *(
                f"deployments-{contract.STACK_NAME}-{account}-{region}.template.json"
                for account, region in ((A, "eu-west-1"), (B, "us-east-1"))
            ),
            f"central-{contract.STACK_NAME}-Central-{A}-eu-west-1.template.json",
            f"central-{contract.STACK_NAME}-Member-{B}-eu-west-1.template.json",
            f"{keys.POWERTOOLS_BUNDLED}-{contract.STACK_NAME}.template.json",
            f"{PROBE_STACK}.template.json",
        ]
    )
    assert checkov.summary["parsing_errors"] == 0
    assert checkov.summary["passed"] > 100


def test_checkov_finds_nothing_unacknowledged_in_any_layout(checkov: CheckovRun) -> None:
    assert [
        (Path(check["file_path"]).name, check["resource"], check["check_id"])
        for check in checkov.failed
        if not in_probe(check)
    ] == []


def test_checkov_fails_a_finding_nobody_acknowledged(checkov: CheckovRun) -> None:
    # (logical ID, check) of each failed check; CDK adds a hash to each construct's ID.
    probe = {
        (check["resource"].split(".")[1], check["check_id"])
        for check in checkov.failed
        if in_probe(check)
    }

    assert {(id_[: len("Unacknowledged")], check) for id_, check in probe} == {
        ("Unacknowledged", "CKV_AWS_27")
    }


def test_every_check_skipped_was_acknowledged_with_its_reason(checkov: CheckovRun) -> None:
    skipped = {(check["check_id"], reason(check)) for check in checkov.skipped if in_probe(check)}
    assert skipped == {("CKV_AWS_27", PROBE_REASON)}
    for check in checkov.skipped:
        assert len(reason(check)) > 60, check["check_id"]


def test_audit_verdicts_are_acknowledged_on_the_alert_function(checkov: CheckovRun) -> None:
    # The audit's: CKV_AWS_116 a false positive (the on-failure destination is the dead-letter
    # path), CKV_AWS_115, 117 and 173 design choices.
    on_alert_function = {
        check["check_id"]
        for check in checkov.skipped
        if check["resource"].startswith("AWS::Lambda::Function.AlertsFunction")
    }
    assert {"CKV_AWS_115", "CKV_AWS_116", "CKV_AWS_117", "CKV_AWS_173"} <= on_alert_function


def test_audit_verdict_on_member_queues_is_acknowledged(checkov: CheckovRun) -> None:
    # CKV_AWS_27 a false positive: a member's dead-letter queue is encrypted with SSE-SQS.
    assert [
        (check["check_id"], check["resource"].split(".")[1][: len("ForwardDeadLetterQueue")])
        for check in checkov.skipped
        if "-Member-" in check["file_path"]
    ] == [("CKV_AWS_27", "ForwardDeadLetterQueue")]
