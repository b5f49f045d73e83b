"""The README, the front door, says what the code does: its commands, its configuration table, its
sample alert and the construct's usage are the code's own."""

import json
import re
import subprocess
import textwrap

import aws_cdk as cdk
from aws_cdk.assertions import Template

from tests.docs.pages import README, doc_page, fenced_blocks, section
from tests.support import ROOT


def test_the_two_commands_are_documented():
    assert "make demo" in doc_page(README)
    assert "make test" in doc_page(README)
    assert "make test" in (ROOT / ".ci" / "run").read_text()


def test_every_setting_in_cdk_json_is_documented_with_its_default():
    context = json.loads((ROOT / "cdk.json").read_text())["context"]
    ours = {k: v for k, v in context.items() if not k.startswith("@") and k != "cli-telemetry"}
    for key, default in ours.items():
        row = re.search(rf"^\| `{key}` \| `([^`]*)` \|", doc_page(README), re.M)
        assert row, f"README's configuration table lacks {key}"
        documented = row.group(1) if isinstance(default, str) else json.loads(row.group(1))
        assert documented == default, f"README gives another default for {key}"


def test_the_sample_alert_is_what_the_demo_prints_for_an_email_subscriber(
    demo: subprocess.CompletedProcess[str],
) -> None:
    assert demo.returncode == 0, demo.stderr
    (sample,) = fenced_blocks(section(doc_page(README), "## A sample alert"), "text")
    # The demo indents the email by 3 spaces, between its steps 3 and 4.
    printed = demo.stdout.split("3. An email subscriber receives\n")[1].split("\n4. ")[0]
    assert_sample(sample, textwrap.dedent(printed).strip("\n").splitlines())


def test_the_streak_samples_are_what_the_demo_prints_for_two_nights(
    demo: subprocess.CompletedProcess[str],
) -> None:
    assert demo.returncode == 0, demo.stderr
    still_failing, resolved = fenced_blocks(
        section(doc_page(README), "## New or still failing, and the resolved notice"), "text"
    )
    # The demo prints each night's message after "   | ".
    nights = demo.stdout.split("\n   Night ")[1:]
    shown = [
        [line[5:] for line in night.splitlines() if line.startswith("   |")] for night in nights
    ]
    assert_sample(still_failing, shown[1])
    assert_sample(resolved, shown[2])


def assert_sample(sample: str, printed_lines: list[str]) -> None:
    sample_lines = sample.strip("\n").splitlines()
    assert len(sample_lines) == len(printed_lines)
    for documented, shown in zip(sample_lines, printed_lines, strict=True):
        # "(...)" stands for the end of a link too long to show.
        if documented.endswith("(...)"):
            assert shown.startswith(documented.removesuffix("(...)")), shown
        else:
            assert documented == shown


def test_the_construct_usage_synthesizes_in_a_stack_of_the_users_own():
    (usage,) = [block for block in fenced_blocks(doc_page(README), "python") if "App()" in block]
    namespace = {"__name__": "readme_usage"}

    exec(compile(usage, "README.md", "exec"), namespace)  # synth fails on a cdk-nag finding

    app = namespace["app"]
    assert isinstance(app, cdk.App)
    (stack,) = [child for child in app.node.children if isinstance(child, cdk.Stack)]
    Template.from_stack(stack).has_resource_properties(
        "AWS::Lambda::Function", {"Handler": "mwalerts.handler.handler"}
    )
    Template.from_stack(stack).has_resource_properties(
        "AWS::SNS::Subscription", {"Protocol": "email", "Endpoint": "ops@example.com"}
    )
