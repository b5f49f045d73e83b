"""The alert function: its runtime, environment, code, Powertools layer, log group and table."""

import importlib.metadata
import json
from pathlib import Path

import aws_cdk as cdk
from aws_cdk import aws_lambda as lambda_

from maintenance_window_alerts import constants
from mwalerts import contract
from tests.infra.synthesis import REPEAT_ALERTS, WINDOW_B, Synth, package_assets


def test_function_runs_the_handler_on_python_3_13_arm64_with_tracing(default: Synth) -> None:
    function = default.properties(default.stack.alerts.function)

    assert function["Runtime"] == "python3.13"
    assert function["Architectures"] == ["arm64"]
    assert function["Handler"] == "mwalerts.handler.handler"
    assert function["MemorySize"] == 512
    assert function["Timeout"] == 300
    assert function["TracingConfig"] == {"Mode": "Active"}


def test_function_environment_names_topic_statuses_and_namespace(default: Synth) -> None:
    alerts = default.stack.alerts
    variables = default.properties(alerts.function)["Environment"]["Variables"]

    assert variables == {
        contract.ENV_ALERT_TOPIC_ARN: default.ref(alerts.topic),
        contract.ENV_ALERT_STATUSES: ",".join(contract.DEFAULT_ALERT_STATUSES),
        contract.ENV_METRICS_NAMESPACE: contract.DEFAULT_METRICS_NAMESPACE,
        contract.ENV_IDEMPOTENCY_TABLE: default.ref(alerts.table),
        contract.ENV_STREAK_TABLE: default.ref(alerts.streak_table),
        # No window named: the function's default (always) for every window.
        contract.ENV_REPEAT_ALERTS: "{}",
        contract.ENV_RESOLVED_NOTICES: "true",
        contract.ENV_SWEEP_LOOKBACK_MINUTES: str(15 * contract.SWEEP_LOOKBACK_PERIODS),
        contract.ENV_ERROR_DETAILS_LIMIT: str(contract.DEFAULT_ERROR_DETAILS_LIMIT),
        contract.ENV_CHAT_NOTIFICATIONS: contract.CHAT_OFF,
        # The function's own log group, for the Logs Insights link in each alert.
        contract.ENV_LOG_GROUP_NAME: default.ref(alerts.log_group),
        "POWERTOOLS_LOG_LEVEL": "INFO",
    }
    assert "POWERTOOLS_SERVICE_NAME" not in variables  # it would add a dimension to every metric
    assert contract.ENV_CHAT_TOPIC_ARN not in variables  # no chat topic unless "separate-topic"


def test_function_environment_follows_the_settings(custom: Synth) -> None:
    alerts = custom.stack.alerts
    assert alerts.chat_topic is not None
    variables = custom.properties(alerts.function)["Environment"]["Variables"]

    assert variables[contract.ENV_ALERT_STATUSES] == "FAILED,TIMED_OUT"
    assert variables[contract.ENV_METRICS_NAMESPACE] == "Acme/Patching"
    assert variables[contract.ENV_SWEEP_LOOKBACK_MINUTES] == str(
        60 * contract.SWEEP_LOOKBACK_PERIODS
    )
    assert variables[contract.ENV_ERROR_DETAILS_LIMIT] == "3"
    assert variables[contract.ENV_CHAT_NOTIFICATIONS] == contract.CHAT_SEPARATE_TOPIC
    assert variables[contract.ENV_CHAT_TOPIC_ARN] == custom.ref(alerts.chat_topic)
    assert variables[contract.ENV_LOG_GROUP_NAME] == custom.ref(alerts.log_group)
    assert variables[contract.ENV_STREAK_TABLE] == custom.ref(alerts.streak_table)
    # The windows as the settings name them, "*" too; compact JSON, sorted.
    assert variables[contract.ENV_REPEAT_ALERTS] == f'{{"*":"on-change","{WINDOW_B}":"always"}}'
    assert json.loads(variables[contract.ENV_REPEAT_ALERTS]) == REPEAT_ALERTS
    assert variables[contract.ENV_RESOLVED_NOTICES] == "false"


def test_powertools_layer_is_resolved_from_the_public_parameter_at_deploy_time(
    default: Synth,
) -> None:
    tested_version = importlib.metadata.version("aws-lambda-powertools")
    parameters = default.template.find_parameters(
        "*",
        {
            "Type": "AWS::SSM::Parameter::Value<String>",
            "Default": f"/aws/service/powertools/python/arm64/python3.13/{tested_version}",
        },
    )

    assert len(parameters) == 1
    assert default.properties(default.stack.alerts.function)["Layers"] == [
        {"Ref": next(iter(parameters))}
    ]


def test_powertools_layer_version_is_the_version_the_tests_use() -> None:
    assert importlib.metadata.version("aws-lambda-powertools") == constants.POWERTOOLS_VERSION


def test_function_code_is_the_plain_lambda_source(default: Synth) -> None:
    (asset,) = package_assets(default.outdir)
    files = {str(path.relative_to(asset)) for path in asset.rglob("*") if path.is_file()}

    assert {"mwalerts/handler.py", "mwalerts/__init__.py", "mwalerts/contract.py"} <= files
    assert not [f for f in files if "__pycache__" in f or f.endswith(".pyc")]


def test_function_asset_holds_only_the_function_package_without_caches(tmp_path: Path) -> None:
    """Installed, the package's parent is site-packages: the asset keeps the package alone."""
    source = tmp_path / "site-packages"
    package = constants.FUNCTION_PACKAGE.name
    for name in (
        f"{package}/handler.py",
        f"{package}/sub/mod.py",
        f"{package}/__pycache__/handler.cpython-313.pyc",
        f"{package}/stray.pyc",
        "boto3/__init__.py",
        "maintenance_window_alerts/__init__.py",
        "some_module.py",
    ):
        (source / name).parent.mkdir(parents=True, exist_ok=True)
        (source / name).write_text("")
    (source / package / ".pytest_cache" / "v").mkdir(parents=True)
    app = cdk.App(outdir=str(tmp_path / "out"))
    code = lambda_.Code.from_asset(str(source), exclude=list(constants.LAMBDA_ASSET_EXCLUDE))
    lambda_.Function(
        cdk.Stack(app, "S"), "F", runtime=constants.LAMBDA_RUNTIME, handler="h.h", code=code
    )
    app.synth()

    (asset,) = (tmp_path / "out").glob("asset.*")
    assert sorted(str(p.relative_to(asset)) for p in asset.rglob("*")) == [
        package,
        f"{package}/handler.py",
        f"{package}/sub",
        f"{package}/sub/mod.py",
    ]


def test_function_logs_to_its_own_log_group_with_the_configured_retention(
    default: Synth, custom: Synth
) -> None:
    for synth, days in ((default, 90), (custom, 30)):
        log_group_id = synth.logical_id(synth.stack.alerts.log_group)
        logging = synth.properties(synth.stack.alerts.function)["LoggingConfig"]

        assert logging["LogGroup"] == {"Ref": log_group_id}
        assert synth.resources[log_group_id]["Properties"]["RetentionInDays"] == days


def test_idempotency_table_is_on_demand_keyed_by_id_and_expires_records(default: Synth) -> None:
    table = default.properties(default.stack.alerts.table)

    assert table["BillingMode"] == "PAY_PER_REQUEST"
    assert table["KeySchema"] == [
        {"AttributeName": contract.IDEMPOTENCY_PARTITION_KEY, "KeyType": "HASH"}
    ]
    assert table["AttributeDefinitions"] == [
        {"AttributeName": contract.IDEMPOTENCY_PARTITION_KEY, "AttributeType": "S"}
    ]
    assert table["TimeToLiveSpecification"] == {
        "AttributeName": contract.IDEMPOTENCY_TTL_ATTRIBUTE,
        "Enabled": True,
    }
    assert table["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}


def test_streak_table_keys_items_by_window_and_target_and_expires_them(default: Synth) -> None:
    table = default.properties(default.stack.alerts.streak_table)

    assert table["BillingMode"] == "PAY_PER_REQUEST"
    # A window's partition holds its own state and an item per failing target: one Query.
    assert table["KeySchema"] == [
        {"AttributeName": contract.STREAK_PARTITION_KEY, "KeyType": "HASH"},
        {"AttributeName": contract.STREAK_SORT_KEY, "KeyType": "RANGE"},
    ]
    assert sorted(table["AttributeDefinitions"], key=lambda a: a["AttributeName"]) == sorted(
        [
            {"AttributeName": contract.STREAK_PARTITION_KEY, "AttributeType": "S"},
            {"AttributeName": contract.STREAK_SORT_KEY, "AttributeType": "S"},
        ],
        key=lambda a: a["AttributeName"],
    )
    assert "GlobalSecondaryIndexes" not in table
    assert "LocalSecondaryIndexes" not in table
    assert table["TimeToLiveSpecification"] == {
        "AttributeName": contract.STREAK_TTL_ATTRIBUTE,
        "Enabled": True,
    }
    assert table["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert default.logical_id(default.stack.alerts.streak_table) != default.logical_id(
        default.stack.alerts.table
    )
