"""The settings the stack, the function and the command share have one rule each
(mwalerts.contract): what it accepts, what it says of a bad value, and each caller's message is
that, after its own key (context key, environment variable, option)."""

import subprocess
import sys

import pytest

from mwalerts import contract
from mwalerts.errors import ConfigurationError
from mwalerts.function_settings import load_settings
from mwalerts_cli.main import build_parser
from tests.support import ROOT

VALID_STATUSES = (
    "valid: PENDING, IN_PROGRESS, SUCCESS, FAILED, TIMED_OUT, CANCELLING, CANCELLED, "
    "SKIPPED_OVERLAPPING"
)
NAMESPACE_RULE = (
    "is not a valid custom CloudWatch namespace: 1-255 letters, digits or . - _ / # : and space, "
    "not starting with 'AWS/'"
)
FUNCTION_ENVIRONMENT = {
    contract.ENV_ALERT_TOPIC_ARN: "arn:aws:sns:us-east-2:123456789012:alerts",
    contract.ENV_IDEMPOTENCY_TABLE: "alerts-idempotency",
}
WINDOW_ID = "mw-0123456789abcdef0"


def rule_message(rule, value) -> str:
    """What the rule says of `value`, which it must refuse."""
    try:
        rule(value)
    except ValueError as error:
        return str(error)
    pytest.fail(f"{rule.__name__} took {value!r}")


def test_alert_statuses_keep_their_order_and_drop_repeats():
    assert contract.alert_statuses(["TIMED_OUT", "FAILED", "TIMED_OUT"]) == ("TIMED_OUT", "FAILED")
    assert contract.alert_statuses(contract.ALL_STATUSES) == contract.ALL_STATUSES


@pytest.mark.parametrize(
    ("statuses", "message"),
    [
        ([], "must list at least one status"),
        (
            ["FAILED", "BROKEN", "failed"],
            f"has unknown status(es) 'BROKEN', 'failed'; {VALID_STATUSES}",
        ),
    ],
)
def test_alert_statuses_must_be_at_least_one_status_the_api_knows(statuses, message):
    assert rule_message(contract.alert_statuses, statuses) == message


def test_a_status_list_is_read_in_any_case_with_blank_items_ignored():
    assert contract.alert_status_list(" failed, TIMED_OUT ,,") == ("FAILED", "TIMED_OUT")
    assert rule_message(contract.alert_status_list, " , ") == "must list at least one status"
    assert rule_message(contract.alert_status_list, "FAILED,BROKEN").startswith(
        "has unknown status(es) 'BROKEN';"
    )


@pytest.mark.parametrize(
    "namespace", ["MaintenanceWindows", "Acme/Patching #1: ops_a.b-c", "N" * 255]
)
def test_custom_namespaces_are_accepted_as_they_are(namespace):
    assert contract.metrics_namespace(namespace) == namespace


@pytest.mark.parametrize("namespace", ["AWS/Lambda", "", "N" * 256, "Bad'Quote", "Trailing\n"])
def test_namespaces_cloudwatch_refuses_or_reserves_for_aws_are_not(namespace):
    assert rule_message(contract.metrics_namespace, namespace) == f"{namespace!r} {NAMESPACE_RULE}"


@pytest.mark.parametrize(("text", "number"), [("0", 0), ("10", 10), (" 7 ", 7)])
def test_whole_numbers_are_ascii_digits(text, number):
    assert contract.whole_number(text) == number


@pytest.mark.parametrize("text", ["", "ten", "-1", "2.5", "1e3", "\u00b2", "\u0661\u0660"])
def test_anything_else_is_not_a_whole_number(text):
    # A superscript two and Arabic-Indic "10" pass str.isdigit, and int() takes the second.
    assert rule_message(contract.whole_number, text) == f"{text!r} is not a whole number"


def test_the_error_details_limit_is_0_to_50():
    assert contract.error_details_limit(0) == 0
    assert contract.error_details_limit(contract.MAX_ERROR_DETAILS_LIMIT) == 50
    for limit in (-1, 51, 2.5):
        assert rule_message(contract.error_details_limit, limit) == (
            f"{limit!r} is out of range: choose 0 (no error output in alerts) to 50"
        )


def test_chat_modes_are_matched_exactly():
    assert [contract.chat_mode(mode) for mode in contract.CHAT_MODES] == list(contract.CHAT_MODES)
    for mode in ("Off", "slack", ""):
        assert rule_message(contract.chat_mode, mode) == (
            f"{mode!r} is not one of off, separate-topic, default-body"
        )


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        (
            contract.ENV_ALERT_STATUSES,
            "FAILED,BROKEN",
            f"has unknown status(es) 'BROKEN'; {VALID_STATUSES}",
        ),
        (contract.ENV_METRICS_NAMESPACE, "AWS/SSM", f"'AWS/SSM' {NAMESPACE_RULE}"),
        (
            contract.ENV_ERROR_DETAILS_LIMIT,
            "51",
            "51 is out of range: choose 0 (no error output in alerts) to 50",
        ),
        (contract.ENV_ERROR_DETAILS_LIMIT, "\u00b2", "'\u00b2' is not a whole number"),
        (
            contract.ENV_CHAT_NOTIFICATIONS,
            "slack",
            "'slack' is not one of off, separate-topic, default-body",
        ),
    ],
)
def test_the_function_says_the_rule_after_its_variable(variable, value, message):
    with pytest.raises(ConfigurationError) as raised:
        load_settings({**FUNCTION_ENVIRONMENT, variable: value})
    assert str(raised.value) == f"{variable} {message}"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["history", "--alert-statuses", "FAILED,BROKEN"],
            f"argument --alert-statuses: has unknown status(es) 'BROKEN'; {VALID_STATUSES}",
        ),
        (
            ["history", "--alert-statuses", ","],
            "argument --alert-statuses: must list at least one status",
        ),
        (
            ["history", "--namespace", "AWS/SSM"],
            f"argument --namespace: 'AWS/SSM' {NAMESPACE_RULE}",
        ),
        (
            ["report", "--last", "--error-details", "51"],
            "argument --error-details: 51 is out of range: choose 0 (no error output in alerts) "
            "to 50",
        ),
        (
            ["report", "--last", "--error-details", "-1"],
            "argument --error-details: '-1' is not a whole number",
        ),
    ],
)
def test_the_command_says_the_rule_after_its_option(capsys, argv, message):
    with pytest.raises(SystemExit) as stopped:
        build_parser().parse_args([*argv, "--window-id", WINDOW_ID])
    assert stopped.value.code == 2
    assert capsys.readouterr().err.endswith(f"mwalerts {argv[0]}: error: {message}\n")


def test_the_contract_imports_only_the_standard_library():
    """The stack reads it at synth time, where the function's dependencies need not be."""
    script = (
        "import sys; before = set(sys.modules); import mwalerts.contract; "
        "print('\\n'.join(sorted(set(sys.modules) - before)))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    outside = [
        name
        for name in loaded
        if name.split(".")[0] not in sys.stdlib_module_names and name.split(".")[0] != "mwalerts"
    ]
    assert "mwalerts.contract" in loaded
    assert outside == []
