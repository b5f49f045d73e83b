"""The function's settings: defaults, and clear failures on a broken environment."""

import os
import sys

import pytest

from mwalerts import contract
from mwalerts.errors import ConfigurationError
from mwalerts.function_settings import load_settings
from tests.support import run_in_repo

TOPIC = "arn:aws:sns:us-east-2:123456789012:alerts"
REQUIRED = {
    contract.ENV_ALERT_TOPIC_ARN: TOPIC,
    contract.ENV_IDEMPOTENCY_TABLE: "alerts-idempotency",
}


def test_defaults_to_failed_timed_out_and_cancelled_and_the_standard_namespace():
    settings = load_settings(REQUIRED)
    assert settings.alert_statuses == {"FAILED", "TIMED_OUT", "CANCELLED"}
    assert settings.metrics_namespace == "MaintenanceWindows"
    assert settings.alert_topic_arn == TOPIC
    assert settings.idempotency_table == "alerts-idempotency"
    assert settings.sweep_lookback_minutes == 45  # three 15-minute sweep periods


def test_reads_alert_statuses_leniently_but_exactly():
    settings = load_settings({**REQUIRED, contract.ENV_ALERT_STATUSES: " failed, TIMED_OUT ,"})
    assert settings.alert_statuses == {"FAILED", "TIMED_OUT"}


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({}, "ALERT_TOPIC_ARN is not set"),
        ({contract.ENV_ALERT_TOPIC_ARN: "alerts"}, "ALERT_TOPIC_ARN is not an SNS topic ARN"),
        ({**REQUIRED, contract.ENV_ALERT_STATUSES: "FAILED,BROKEN"}, "unknown status(es) 'BROKEN'"),
        ({**REQUIRED, contract.ENV_ALERT_STATUSES: " , "}, "must list at least one status"),
        (
            {**REQUIRED, contract.ENV_METRICS_NAMESPACE: "AWS/SSM"},
            "not a valid custom CloudWatch namespace",
        ),
        ({contract.ENV_ALERT_TOPIC_ARN: TOPIC}, "IDEMPOTENCY_TABLE_NAME must name the idempotency"),
        ({**REQUIRED, contract.ENV_SWEEP_LOOKBACK_MINUTES: "0"}, "SWEEP_LOOKBACK_MINUTES must be"),
        ({**REQUIRED, contract.ENV_SWEEP_LOOKBACK_MINUTES: "1h"}, "SWEEP_LOOKBACK_MINUTES must be"),
        # Digits of other scripts: str.isdigit takes them, int() takes some of them.
        (
            {**REQUIRED, contract.ENV_SWEEP_LOOKBACK_MINUTES: "\u0664\u0665"},
            "SWEEP_LOOKBACK_MINUTES must be",
        ),
        ({**REQUIRED, contract.ENV_ERROR_DETAILS_LIMIT: "\u00b2"}, "ERROR_DETAILS_LIMIT '\u00b2'"),
        ({**REQUIRED, contract.ENV_ERROR_DETAILS_LIMIT: "51"}, "ERROR_DETAILS_LIMIT 51 is out of"),
        ({**REQUIRED, contract.ENV_CHAT_NOTIFICATIONS: "Off"}, "CHAT_NOTIFICATIONS 'Off' is not"),
        # A separate chat topic that is not named would drop every chat notification.
        (
            {**REQUIRED, contract.ENV_CHAT_NOTIFICATIONS: contract.CHAT_SEPARATE_TOPIC},
            "needs CHAT_TOPIC_ARN, an SNS topic ARN; got None",
        ),
        (
            {
                **REQUIRED,
                contract.ENV_CHAT_NOTIFICATIONS: contract.CHAT_SEPARATE_TOPIC,
                contract.ENV_CHAT_TOPIC_ARN: "chat",
            },
            "needs CHAT_TOPIC_ARN, an SNS topic ARN; got 'chat'",
        ),
    ],
)
def test_fails_with_a_message_naming_the_variable(environ, message):
    with pytest.raises(ConfigurationError) as error:
        load_settings(environ)
    assert message in str(error.value)


def test_a_broken_environment_fails_the_functions_start_up_with_a_clear_message():
    """Lambda imports the handler in its init phase: the error must show there, not on an event."""
    environment = {k: v for k, v in os.environ.items() if k != contract.ENV_ALERT_TOPIC_ARN}
    completed = run_in_repo(
        [sys.executable, "-c", "import mwalerts.handler"], env=environment, timeout=60
    )
    assert completed.returncode != 0
    assert "ConfigurationError: ALERT_TOPIC_ARN is not set" in completed.stderr


def test_central_mode_reads_the_member_accounts_and_their_regions():
    settings = load_settings(
        {
            **REQUIRED,
            contract.ENV_MEMBER_ACCOUNTS: '{"111111111111": ["eu-west-1", "us-east-1"]}',
            contract.ENV_MEMBER_EXTERNAL_ID: "shared-secret-id",
        }
    )
    assert settings.members == {"111111111111": ("eu-west-1", "us-east-1")}
    assert settings.member_external_id == "shared-secret-id"
    assert settings.is_member("111111111111", "us-east-1")
    assert not settings.is_member("111111111111", "us-west-2")
    assert not settings.is_member("222222222222", "eu-west-1")
    assert load_settings(REQUIRED).is_member("222222222222", "eu-west-1")  # per-account mode


@pytest.mark.parametrize(
    ("members", "message"),
    [
        ("not json", "as JSON"),
        ("[]", "must map 12-digit account IDs"),
        ('{"1111": ["eu-west-1"]}', "got '1111'"),
        ('{"111111111111": []}', "got '111111111111': []"),
        ('{"111111111111": ["mars-1"]}', "has an invalid region"),
    ],
)
def test_a_malformed_member_list_fails_the_start_up(members, message):
    with pytest.raises(ConfigurationError, match="MEMBER_ACCOUNTS") as error:
        load_settings({**REQUIRED, contract.ENV_MEMBER_ACCOUNTS: members})
    assert message in str(error.value)


ORGANIZATION = {
    **REQUIRED,
    contract.ENV_MEMBER_STACK_SET: "MaintenanceWindowAlerts-Members-prod",
    contract.ENV_MEMBER_STACK_SET_CALL_AS: "DELEGATED_ADMIN",
    contract.ENV_MEMBER_REGIONS: "eu-west-1, us-east-1,eu-west-1",
    contract.ENV_SWEEP_QUEUE_URL: "https://sqs.eu-west-1.amazonaws.com/111111111111/sweep",
    contract.ENV_NAME_QUALIFIER: "prod",
}


def test_organization_mode_reads_the_stack_set_regions_queue_and_qualifier():
    settings = load_settings(ORGANIZATION)

    assert settings.member_stack_set == "MaintenanceWindowAlerts-Members-prod"
    assert settings.member_stack_set_call_as == "DELEGATED_ADMIN"
    assert settings.member_regions == ("eu-west-1", "us-east-1")
    assert settings.sweep_queue_url.endswith("/111111111111/sweep")
    assert settings.name_qualifier == "prod"
    assert settings.spans_accounts
    assert settings.members is None
    assert not load_settings(REQUIRED).spans_accounts
    assert load_settings(REQUIRED).member_stack_set is None


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({contract.ENV_MEMBER_STACK_SET_CALL_AS: "self"}, "MEMBER_STACK_SET_CALL_AS must be one"),
        ({contract.ENV_MEMBER_REGIONS: ""}, "MEMBER_REGIONS must list the covered regions"),
        ({contract.ENV_MEMBER_REGIONS: "eu-west-1,Mars"}, "MEMBER_REGIONS must list"),
        ({contract.ENV_SWEEP_QUEUE_URL: ""}, "SWEEP_QUEUE_URL must be the sweep queue's URL"),
        ({contract.ENV_MEMBER_STACK_SET: "1-not-a-name"}, "MEMBER_STACK_SET_NAME is not a"),
        ({contract.ENV_NAME_QUALIFIER: "Prod"}, "NAME_QUALIFIER 'Prod' is not a qualifier"),
        ({contract.ENV_MEMBER_ACCOUNTS: '{"111111111111": ["eu-west-1"]}'}, "exclude each other"),
    ],
)
def test_a_broken_organization_setting_fails_naming_its_variable(change, message):
    with pytest.raises(ConfigurationError, match=message):
        load_settings({**ORGANIZATION, **change})
