"""The alert function: its code and runtime, its environment, its log group and its table."""

import hashlib
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsii
from aws_cdk import AssetHashType, BundlingOptions, Duration, ILocalBundling, RemovalPolicy
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_destinations as destinations
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_ssm as ssm
from constructs import Construct

from maintenance_window_alerts import compliance, constants
from maintenance_window_alerts.layout_model import Central, Organization
from maintenance_window_alerts.settings import (
    POWERTOOLS_BUNDLED,
    POWERTOOLS_LAYER,
    POWERTOOLS_PUBLIC,
    Settings,
)
from mwalerts import contract


def idempotency_table(scope: Construct, data_key: kms.IKey) -> dynamodb.Table:
    """Powertools' idempotency records: which executions were already alerted on.

    A cache of what was alerted on, expiring after 15 days, and useless without the function:
    deleted with the stack. Losing it costs at most a repeated alert."""
    table = _table(
        scope,
        constants.TABLE_ID,
        data_key,
        keys=(contract.IDEMPOTENCY_PARTITION_KEY,),
        expiry=contract.IDEMPOTENCY_TTL_ATTRIBUTE,
    )
    compliance.acknowledge_idempotency_table(table)
    return table


def streak_table(scope: Construct, data_key: kms.IKey) -> dynamodb.Table:
    """Failure streaks (mwalerts.streak_store): per window (partition), the window's state and an
    item per target failing now (sort key), each expiring unless written again.

    Derived state, useless without the function, deleted with the stack: the windows' next
    executions rebuild it. Losing it costs one round of failures announced as new and no
    resolved notice for a window that was failing; retaining it would leave a table behind at
    every `cdk destroy`, billed for storage, that no stack uses again."""
    table = _table(
        scope,
        constants.STREAK_TABLE_ID,
        data_key,
        keys=(contract.STREAK_PARTITION_KEY, contract.STREAK_SORT_KEY),
        expiry=contract.STREAK_TTL_ATTRIBUTE,
    )
    compliance.acknowledge_streak_table(table)
    return table


def _table(
    scope: Construct, construct_id: str, data_key: kms.IKey, *, keys: tuple[str, ...], expiry: str
) -> dynamodb.Table:
    """A table of the function's state: string keys (partition, and sort if given), TTL, billed
    per request (a few writes per execution), encrypted with the data key, with point-in-time
    recovery, deleted with the stack."""
    partition, *sort = (
        dynamodb.Attribute(name=name, type=dynamodb.AttributeType.STRING) for name in keys
    )
    return dynamodb.Table(
        scope,
        construct_id,
        partition_key=partition,
        sort_key=sort[0] if sort else None,
        time_to_live_attribute=expiry,
        billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
        encryption=dynamodb.TableEncryption.CUSTOMER_MANAGED,
        encryption_key=data_key,
        point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
            point_in_time_recovery_enabled=True
        ),
        removal_policy=RemovalPolicy.DESTROY,
    )


def function_log_group(
    scope: Construct,
    settings: Settings,
    data_key: kms.IKey,
    construct_id: str = constants.LOG_GROUP_ID,
) -> logs.LogGroup:
    """A function's own log group (the alert function's unless told), encrypted with the data
    key."""
    return logs.LogGroup(
        scope, construct_id, retention=settings.log_retention, encryption_key=data_key
    )


def function_environment(
    settings: Settings,
    central: Central | Organization | None,
    *,
    topic: sns.ITopic,
    chat_topic: sns.ITopic | None,
    table: dynamodb.ITable,
    streak_table: dynamodb.ITable,
    log_group: logs.ILogGroup,
    sweep_queue: sqs.IQueue | None = None,
) -> dict[str, str]:
    """What the function reads at start-up (mwalerts.function_settings)."""
    return {
        contract.ENV_ALERT_TOPIC_ARN: topic.topic_arn,
        contract.ENV_ALERT_STATUSES: ",".join(settings.alert_statuses),
        contract.ENV_METRICS_NAMESPACE: settings.metrics_namespace,
        contract.ENV_IDEMPOTENCY_TABLE: table.table_name,
        contract.ENV_STREAK_TABLE: streak_table.table_name,
        # Only the windows the user named (and "*"): the function applies the default.
        contract.ENV_REPEAT_ALERTS: settings.repeat_alerts_json,
        contract.ENV_RESOLVED_NOTICES: str(settings.resolved_notices).lower(),
        contract.ENV_SWEEP_LOOKBACK_MINUTES: str(settings.sweep_lookback_minutes),
        contract.ENV_ERROR_DETAILS_LIMIT: str(settings.error_details_limit),
        contract.ENV_CHAT_NOTIFICATIONS: settings.chat_notifications,
        **({contract.ENV_CHAT_TOPIC_ARN: chat_topic.topic_arn} if chat_topic is not None else {}),
        # For the link to the failed invocations in Logs Insights in each alert.
        contract.ENV_LOG_GROUP_NAME: log_group.log_group_name,
        **_central_environment(central),
        **({contract.ENV_SWEEP_QUEUE_URL: sweep_queue.queue_url} if sweep_queue else {}),
        # No POWERTOOLS_SERVICE_NAME: it would add a "service" dimension to every metric
        # and break the dimensionless fleet-wide series the alarms read.
        "POWERTOOLS_LOG_LEVEL": constants.LOG_LEVEL,
    }


@dataclass(frozen=True)
class FunctionPackage:
    """The function's package as Lambda runs it: its code, and the layers it needs.

    Made once per construct and given to every function that runs the package (the alert
    function and the deploy-time self-test's): the same Code object stages one asset, bundled
    once, and the same layer serves both."""

    code: lambda_.Code
    layers: tuple[lambda_.ILayerVersion, ...]


def function_package(scope: Construct, settings: Settings) -> FunctionPackage:
    """The package with Powertools from powertoolsLayer: a layer, or bundled into the asset."""
    if settings.powertools_layer == POWERTOOLS_BUNDLED:
        return FunctionPackage(bundled_code(), ())
    return FunctionPackage(source_code(), (powertools_layer(scope, settings.powertools_layer),))


def alert_function(
    scope: Construct,
    *,
    package: FunctionPackage,
    role: iam.IRole,
    environment: dict[str, str],
    log_group: logs.ILogGroup,
    failure_queue: sqs.IQueue,
) -> lambda_.Function:
    """The function: its source with Powertools (see powertools_layer), traced, logging JSON;
    an event it fails on after its retries goes to `failure_queue`."""
    function = lambda_.Function(
        scope,
        constants.FUNCTION_ID,
        description="Alerts on SSM maintenance-window runs with failed invocations",
        runtime=constants.LAMBDA_RUNTIME,
        architecture=constants.LAMBDA_ARCHITECTURE,
        handler=constants.LAMBDA_HANDLER,
        code=package.code,
        layers=list(package.layers),
        role=role,
        memory_size=512,
        # A large window means hundreds of paged SSM calls, paced further down to the rate SSM
        # accepts when it throttles (mwalerts.pacing).
        timeout=Duration.seconds(contract.FUNCTION_TIMEOUT_SECONDS),
        tracing=lambda_.Tracing.ACTIVE,
        log_group=log_group,
        logging_format=lambda_.LoggingFormat.JSON,
        application_log_level_v2=lambda_.ApplicationLogLevel[constants.LOG_LEVEL],
        environment=environment,
        retry_attempts=2,
        max_event_age=Duration.hours(6),
        on_failure=destinations.SqsDestination(failure_queue),
    )
    compliance.acknowledge_alert_function(function)
    return function


def powertools_layer(scope: Construct, choice: str) -> lambda_.ILayerVersion:
    """The Powertools layer of powertoolsLayer "public" or a layer version ARN."""
    arn = (
        # Resolved at deploy time from AWS's public parameter: no lookup at synth, any region.
        ssm.StringParameter.value_for_string_parameter(scope, constants.POWERTOOLS_LAYER_PARAMETER)
        if choice == POWERTOOLS_PUBLIC
        else choice
    )
    return lambda_.LayerVersion.from_layer_version_arn(scope, constants.POWERTOOLS_LAYER_ID, arn)


def source_code() -> lambda_.Code:
    """The function's package alone, plain source: Powertools comes from a layer."""
    return lambda_.Code.from_asset(
        str(constants.LAMBDA_SOURCE), exclude=list(constants.LAMBDA_ASSET_EXCLUDE)
    )


@dataclass(frozen=True)
class PipTarget:
    """The platform pip installs wheels for: a manylinux tag and a Python version."""

    platform: str = constants.LAMBDA_PIP_PLATFORM
    python_version: str = constants.LAMBDA_PYTHON_VERSION

    @property
    def options(self) -> list[str]:
        return [
            *("--platform", self.platform, "--implementation", "cp"),
            *("--python-version", self.python_version, "--only-binary=:all:"),
        ]


class BundlingError(RuntimeError):
    """powertoolsLayer "bundled" could not build the asset; the message names the setting."""


def bundled_code(target: PipTarget = PipTarget()) -> lambda_.Code:
    """The function's package with Powertools and its dependencies installed beside it, by pip
    on this machine at synth (CDK local bundling: no Docker). Its hash covers the package's files,
    the requirement and the platform, so CDK bundles again only when one of them changes."""
    return lambda_.Code.from_asset(
        str(constants.FUNCTION_PACKAGE),
        asset_hash_type=AssetHashType.CUSTOM,
        asset_hash=bundled_asset_hash(constants.FUNCTION_PACKAGE, target),
        bundling=BundlingOptions(
            # Never run: the local bundling below always builds the asset or fails.
            image=constants.LAMBDA_RUNTIME.bundling_image,
            local=_PipInstall(target),
        ),
    )


def bundled_asset_hash(package: Path, target: PipTarget) -> str:
    digest = hashlib.sha256()
    for part in (constants.POWERTOOLS_REQUIREMENT, *target.options):
        digest.update(part.encode() + b"\0")
    for path in _package_files(package):
        digest.update(path.relative_to(package).as_posix().encode() + b"\0")
        digest.update(path.read_bytes())
    return digest.hexdigest()


def install_function_asset(output_dir: Path, target: PipTarget) -> None:
    """Copy the function's package into `output_dir` and pip install Powertools beside it."""
    package = constants.FUNCTION_PACKAGE
    for path in _package_files(package):
        copy = output_dir / package.name / path.relative_to(package)
        copy.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, copy)
    _pip_install(output_dir, target)
    # Console scripts, their first line naming this machine's Python: of no use in Lambda.
    shutil.rmtree(output_dir / "bin", ignore_errors=True)


def _package_files(package: Path) -> list[Path]:
    """The package's files, without the caches that LAMBDA_ASSET_EXCLUDE leaves out."""
    ignored = [p.removeprefix("**/") for p in constants.LAMBDA_ASSET_EXCLUDE if p.startswith("**/")]
    return sorted(
        path
        for path in package.rglob("*")
        if path.is_file()
        and not any(part.match(pattern) for part in _parts(path, package) for pattern in ignored)
    )


def _parts(path: Path, root: Path) -> list[Path]:
    """Each component of `path` below `root`, as a Path to match a pattern against."""
    return [Path(part) for part in path.relative_to(root).parts]


def _pip_install(output_dir: Path, target: PipTarget) -> None:
    command = [
        *(sys.executable, "-m", "pip", "install", "--disable-pip-version-check", "--quiet"),
        *("--no-compile", *target.options, "--target", str(output_dir)),
        constants.POWERTOOLS_REQUIREMENT,
    ]
    result = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603
    if result.returncode != 0:
        details = "\n".join(result.stderr.strip().splitlines()[-5:])
        raise BundlingError(
            f"{POWERTOOLS_LAYER} {POWERTOOLS_BUNDLED!r}: pip could not install "
            f"{constants.POWERTOOLS_REQUIREMENT} for {target.platform}, Python "
            f"{target.python_version} (is PyPI reachable?). Synth where it is, or choose "
            f"{POWERTOOLS_LAYER} {POWERTOOLS_PUBLIC!r} or a layer version ARN. pip said:\n"
            f"{details}"
        )


@jsii.implements(ILocalBundling)
class _PipInstall:
    """CDK's local bundling of the function's asset (install_function_asset)."""

    def __init__(self, target: PipTarget) -> None:
        self.target = target

    # The bundling options (the second argument) do not matter here: taken as *args, which
    # type-checks against ILocalBundling's keyword-only parameters.
    def try_bundle(self, output_dir: str, *_options: Any, **_keywords: Any) -> bool:
        install_function_asset(Path(output_dir), self.target)
        return True


def _central_environment(central: Central | Organization | None) -> dict[str, str]:
    """Central mode: the member accounts and regions, and the external ID their roles need.
    Organization mode: no list, but where to look members up (the StackSet, as whom) and the
    covered regions. Both: the qualifier of the role names, when there is one."""
    if central is None:
        return {}
    variables = (
        {
            contract.ENV_MEMBER_STACK_SET: central.stack_set_name,
            contract.ENV_MEMBER_STACK_SET_CALL_AS: central.call_as,
            contract.ENV_MEMBER_REGIONS: ",".join(central.regions),
        }
        if isinstance(central, Organization)
        else {contract.ENV_MEMBER_ACCOUNTS: central.member_accounts_json}
    )
    if central.external_id is not None:
        variables[contract.ENV_MEMBER_EXTERNAL_ID] = central.external_id
    if central.qualifier:
        variables[contract.ENV_NAME_QUALIFIER] = central.qualifier
    return variables
