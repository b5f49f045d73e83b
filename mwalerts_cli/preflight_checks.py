"""The checks of `mwalerts preflight`, one function per check, each on one stack of the synthesized
assembly: what the template asks of its account and region, and (with credentials) whether the
account can give it. A check returns its findings; it never raises for what it finds."""

import json
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from mwalerts import contract
from mwalerts.errors import error_code
from mwalerts.self_test_check import describe_aws_error
from mwalerts_cli.assembly import StackArtifact, partition_of
from mwalerts_cli.aws import Clients

PASS, WARN, FAIL, SKIP = "PASS", "WARN", "FAIL", "SKIP"
NO_CREDENTIALS = "no credentials: checked online only"

POWERTOOLS_PARAMETER_PREFIX = "/aws/service/powertools/"
SSM_PARAMETER_TYPE = "AWS::SSM::Parameter::Value<String>"
LAYER_ARN = re.compile(
    r"^arn:(?P<partition>aws[a-z-]*):lambda:(?P<region>[a-z0-9-]+):(?P<account>\d{12}):"
    r"layer:(?P<name>[A-Za-z0-9_-]+):(?P<version>\d+)$"
)
BUS_ARN = re.compile(
    r"^arn:(?P<partition>aws[a-z-]*):events:(?P<region>[a-z0-9-]+):(?P<account>\d{12}):"
    r"event-bus/(?P<name>[A-Za-z0-9._/-]+)$"
)
# The Powertools layers' descriptions end with the version they hold: "Powertools for AWS Lambda
# (Python) V3 [arm64 - Python 3.13] with extra dependencies version 3.37.0".
LAYER_DESCRIPTION_VERSION = re.compile(r"version (\S+)\s*$")
PUT_EVENTS = frozenset({"events:PutEvents", "events:*"})
BUNDLED_FIX = "set powertoolsLayer to bundled (or to a layer version ARN of the region)"

# Lambda keeps at least 100 concurrent executions of an account unreserved. Below that (a new
# account's quota can be 10 in all), the windows that end together (patch windows share a
# start time; in central mode every member's end at once) and the sweep queue for the same few
# executions as every other function of the account: EventBridge retries a throttled delivery
# for up to 24 hours, so alerts arrive late, not never. A warning, with the quota to raise.
UNRESERVED_MINIMUM = 100
CONCURRENCY_FIX = (
    "raise Lambda's 'Concurrent executions' quota (Service Quotas, L-B99A9384), e.g. to 1000"
)


@dataclass(frozen=True)
class Finding:
    stack: str
    target: str
    check: str
    result: str
    found: str
    fix: str = ""


@dataclass(frozen=True)
class Context:
    """What a check may use: the target's clients (None offline), the deploying account (None
    when unknown) and the assembly's other stacks (central mode: the central stack)."""

    clients: Clients | None
    deployer: str | None
    stacks: tuple[StackArtifact, ...]
    # The clients of another stack's account and region (its lookup role), or None.
    clients_of: Callable[[StackArtifact], Clients | None] | None = None


def finding(stack: StackArtifact, check: str, result: str, found: str, fix: str = "") -> Finding:
    return Finding(stack.name, stack.target, check, result, found, fix)


# --- AWS errors: a check reports one as a FAIL row, so the table still prints --------------------

AWS_ERRORS = (BotoCoreError, ClientError)
ACCESS_DENIED = frozenset({"AccessDenied", "AccessDeniedException", "UnauthorizedOperation"})
# A region the account has not enabled (an opt-in region) answers that the credentials are
# invalid: IAM's credentials reach only the enabled regions.
REGION_NOT_ENABLED = frozenset(
    {"InvalidClientTokenId", "UnrecognizedClientException", "RegionDisabledException"}
)
EXPIRED = frozenset({"ExpiredToken", "ExpiredTokenException", "RequestExpired"})


def aws_error_fix(error: Exception, region: str, permission: str | None, default: str) -> str:
    """How to fix an AWS error of a check: enable or reach the region, grant `permission` (when
    the check's own `default` does not already say what to do), renew the credentials."""
    if not isinstance(error, ClientError):
        return (
            f"check that the region {region} exists and is enabled for the account (opt-in "
            "regions must be enabled), and that the network reaches it"
        )
    code = error_code(error)
    if code in REGION_NOT_ENABLED:
        return (
            f"enable the region {region} for the account (an opt-in region), or check the "
            "credentials"
        )
    if code in EXPIRED:
        return "renew the credentials (e.g. aws sso login), then run preflight again"
    if code in ACCESS_DENIED and permission:
        return f"grant {permission} to the credentials that deploy (or the account's lookup role)"
    return default


def aws_failure(
    stack: StackArtifact,
    check: str,
    error: Exception,
    what: str,
    fixing: tuple[str, str | None, str],
) -> Finding:
    """A FAIL row for an AWS error: `what` failed, the error code and message, and the fix;
    `fixing` is aws_error_fix's (region, permission, default)."""
    found = f"{what}: {describe_aws_error(error)}"
    return finding(stack, check, FAIL, found, aws_error_fix(error, *fixing))


# --- Bootstrap ----------------------------------------------------------------------------------


def bootstrap_command(stack: StackArtifact, context: Context, region: str) -> str:
    """`cdk bootstrap aws://A/R`, trusting the deploying account when it is another one."""
    account = stack.account or context.deployer or "ACCOUNT"
    command = f"cdk bootstrap aws://{account}/{region}"
    accounts = {s.account for s in context.stacks if s.account}
    if context.deployer and account != context.deployer:
        trusted = context.deployer
    elif context.deployer is None and len(accounts) > 1:
        trusted = "DEPLOYING_ACCOUNT"
    else:
        return command
    policy = f"arn:{partition_of(region)}:iam::aws:policy/AdministratorAccess"
    return f"{command} --trust {trusted} --cloudformation-execution-policies {policy}"


def check_bootstrap(stack: StackArtifact, context: Context, region: str) -> list[Finding]:
    needed, parameter = stack.bootstrap_version, stack.bootstrap_parameter
    if needed is None or parameter is None:
        return []  # a legacy synthesizer: no bootstrap version to check
    fix = bootstrap_command(stack, context, region)
    if context.clients is None:
        return [finding(stack, "bootstrap", SKIP, f"{NO_CREDENTIALS} (needs version {needed})")]
    try:
        value = context.clients.ssm.get_parameter(Name=parameter)["Parameter"]["Value"]
    except AWS_ERRORS as error:
        if isinstance(error, ClientError) and error_code(error) == "ParameterNotFound":
            return [finding(stack, "bootstrap", FAIL, f"not bootstrapped ({parameter})", fix)]
        fixing = (region, f"ssm:GetParameter on {parameter}", fix)
        return [aws_failure(stack, "bootstrap", error, f"cannot read {parameter}", fixing)]
    if not value.isdigit() or int(value) < needed:
        found = f"bootstrap version {value}, the app needs {needed} or later"
        return [finding(stack, "bootstrap", FAIL, found, fix)]
    return [finding(stack, "bootstrap", PASS, f"bootstrap version {value} (needs {needed})")]


# --- Powertools layer ---------------------------------------------------------------------------


@dataclass(frozen=True)
class LayerUse:
    """A layer a function of the template uses: by public SSM parameter, or by ARN."""

    parameter: str | None  # the public parameter's name, for powertoolsLayer "public"
    arn: str | None  # an explicit layer version ARN
    runtime: str
    architecture: str

    @property
    def pinned_version(self) -> str | None:
        """The Powertools version the parameter's name pins (its last segment)."""
        return self.parameter.rsplit("/", 1)[-1] if self.parameter else None


def layer_uses(stack: StackArtifact) -> list[LayerUse]:
    """The Powertools layers (public parameter) and layer ARNs the stack's functions use."""
    parameters = stack.template.get("Parameters", {})
    uses: dict[tuple[str | None, str | None], LayerUse] = {}
    for _, function in stack.resources("AWS::Lambda::Function"):
        runtime = function.get("Runtime", "")
        architecture = (function.get("Architectures") or ["x86_64"])[0]
        for layer in function.get("Layers", []):
            use = _layer_use(layer, parameters, runtime, architecture)
            if use is not None:
                uses.setdefault((use.parameter, use.arn), use)
    return list(uses.values())


def _layer_use(
    layer: Any, parameters: Mapping[str, Any], runtime: str, architecture: str
) -> LayerUse | None:
    if isinstance(layer, str) and layer.startswith("arn:"):
        return LayerUse(None, layer, runtime, architecture)
    reference = layer.get("Ref") if isinstance(layer, dict) else None
    parameter = parameters.get(reference, {}) if isinstance(reference, str) else {}
    default = str(parameter.get("Default", ""))
    if parameter.get("Type") == SSM_PARAMETER_TYPE and default.startswith(
        POWERTOOLS_PARAMETER_PREFIX
    ):
        return LayerUse(default, None, runtime, architecture)
    return None  # a layer of the template itself, built at synth


def check_layer(stack: StackArtifact, context: Context, region: str) -> list[Finding]:
    if not any(True for _ in stack.resources("AWS::Lambda::Function")):
        return []
    uses = layer_uses(stack)
    if not uses:
        return [finding(stack, "layer", PASS, "no layer to resolve (Powertools bundled, or none)")]
    return [_layer_finding(stack, context, region, use) for use in uses]


def _layer_finding(stack: StackArtifact, context: Context, region: str, use: LayerUse) -> Finding:
    partition = partition_of(region)
    if use.parameter and partition != "aws" and context.clients is None:
        found = (
            f"{use.parameter}: Powertools documents its {partition} layers by ARN, not by this "
            "public parameter"
        )
        return finding(stack, "layer", WARN, found, BUNDLED_FIX)
    if context.clients is None:
        return finding(stack, "layer", SKIP, f"{NO_CREDENTIALS} ({use.parameter or use.arn})")
    arn = use.arn
    if use.parameter:
        resolved = _resolve_parameter(context.clients, use.parameter, region)
        if isinstance(resolved, str):
            arn = resolved
        else:
            return finding(stack, "layer", FAIL, *resolved)
    assert arn is not None
    try:
        result, found = _layer_version(context.clients, arn, use, region)
    except AWS_ERRORS as error:
        fixing = (region, "lambda:GetLayerVersion", BUNDLED_FIX)
        return aws_failure(stack, "layer", error, f"cannot read {arn}", fixing)
    return finding(stack, "layer", result, found, "" if result == PASS else BUNDLED_FIX)


def _resolve_parameter(clients: Clients, name: str, region: str) -> str | tuple[str, str]:
    """The layer ARN the public parameter holds, or (what is wrong, how to fix it)."""
    try:
        value = clients.ssm.get_parameter(Name=name)["Parameter"]["Value"]
    except AWS_ERRORS as error:
        if isinstance(error, ClientError) and error_code(error) == "ParameterNotFound":
            return (f"the public parameter {name} does not exist in {region}", BUNDLED_FIX)
        fix = aws_error_fix(error, region, f"ssm:GetParameter on {name}", BUNDLED_FIX)
        return (f"cannot read {name}: {describe_aws_error(error)}", fix)
    if not LAYER_ARN.match(value):
        # Powertools issue #7689: a release's parameters held the text "PACKAGE_VERSION".
        return (f"{name} holds {value[:40]!r}, not a layer version ARN", BUNDLED_FIX)
    return value


def _layer_version(clients: Clients, arn: str, use: LayerUse, region: str) -> tuple[str, str]:
    """(result, what was found) for a layer version ARN the function is to use; raises the AWS
    errors other than a layer version that is missing or not shared."""
    parts = LAYER_ARN.match(arn)
    if parts is None:
        return FAIL, f"{arn} is not a layer version ARN"
    if (parts["partition"], parts["region"]) != (partition_of(region), region):
        return FAIL, f"{arn} is not in {region}: Lambda takes layers of its own region only"
    try:
        layer = clients.client("lambda").get_layer_version(
            LayerName=arn.rsplit(":", 1)[0], VersionNumber=int(parts["version"])
        )
    except ClientError as error:
        # Another account's layer that is not shared with this one answers AccessDenied.
        if error_code(error) not in {"ResourceNotFoundException", *ACCESS_DENIED}:
            raise
        return FAIL, f"{arn}: {error_code(error)} (no such layer version, or not shared)"
    return _layer_fits(arn, layer, use)


def _layer_fits(arn: str, layer: Mapping[str, Any], use: LayerUse) -> tuple[str, str]:
    runtimes = layer.get("CompatibleRuntimes") or [use.runtime]
    architectures = layer.get("CompatibleArchitectures") or [use.architecture]
    if use.runtime not in runtimes or use.architecture not in architectures:
        found = f"{arn} is for {'/'.join(runtimes)} {'/'.join(architectures)}"
        return FAIL, f"{found}, not {use.runtime} {use.architecture}"
    described = LAYER_DESCRIPTION_VERSION.search(layer.get("Description", ""))
    if use.pinned_version and (described is None or described[1] != use.pinned_version):
        shown = described[1] if described else "no version in its description"
        return FAIL, f"{arn} holds {shown}, the app pins {use.pinned_version}"
    return PASS, f"{arn} ({use.runtime} {use.architecture})"


# --- Lambda concurrency -------------------------------------------------------------------------


def check_concurrency(stack: StackArtifact, context: Context, region: str) -> list[Finding]:
    functions = [properties for _, properties in stack.resources("AWS::Lambda::Function")]
    if not functions:
        return []
    if context.clients is None:
        return [finding(stack, "concurrency", SKIP, NO_CREDENTIALS)]
    try:
        settings = context.clients.client("lambda").get_account_settings()["AccountLimit"]
    except AWS_ERRORS as error:
        fixing = (region, "lambda:GetAccountSettings", "")
        return [aws_failure(stack, "concurrency", error, "GetAccountSettings", fixing)]
    total, unreserved = settings["ConcurrentExecutions"], settings["UnreservedConcurrentExecutions"]
    reserved = sum(int(f.get("ReservedConcurrentExecutions", 0)) for f in functions)
    found = f"{unreserved} of {total} concurrent executions unreserved"
    if reserved and unreserved - reserved < UNRESERVED_MINIMUM:
        found = f"{found}: reserving {reserved} leaves {unreserved - reserved}"
        fix = f"Lambda keeps {UNRESERVED_MINIMUM} unreserved: {CONCURRENCY_FIX}"
        return [finding(stack, "concurrency", FAIL, found, fix)]
    if unreserved < UNRESERVED_MINIMUM:
        found = f"{found}: windows ending together are throttled (alerts late)"
        return [finding(stack, "concurrency", WARN, found, CONCURRENCY_FIX)]
    return [finding(stack, "concurrency", PASS, found)]


# --- Cross-region EventBridge -------------------------------------------------------------------


def bus_targets(stack: StackArtifact) -> Iterator[re.Match[str]]:
    """The event buses of another account or region that the stack's rules send to."""
    for _, rule in stack.resources("AWS::Events::Rule"):
        for target in rule.get("Targets", []):
            parts = BUS_ARN.match(target.get("Arn")) if isinstance(target.get("Arn"), str) else None
            if parts and (parts["account"], parts["region"]) != (stack.account, stack.region):
                yield parts


def check_events(stack: StackArtifact, context: Context, region: str) -> list[Finding]:
    findings = []
    for bus in bus_targets(stack):
        route = _route(stack, bus, region)
        findings.append(route)
        if route.result != FAIL:
            findings.append(_central_bus(stack, context, bus))
    return findings


def _route(stack: StackArtifact, bus: re.Match[str], region: str) -> Finding:
    """Offline: can EventBridge deliver from this region to the bus's at all?"""
    source, destination = partition_of(region), partition_of(bus["region"])
    where = f"{region} -> {bus['region']}"
    if source != destination or bus["partition"] != destination:
        found = f"{where}: EventBridge delivers within a partition only ({source} -> {destination})"
        return finding(stack, "route", FAIL, found, "keep members in the central partition")
    if bus["region"] == region:
        return finding(stack, "route", PASS, f"{where}: same region, another account")
    if source != "aws":
        found = f"{where}: AWS documents cross-Region bus targets for the commercial Regions"
        return finding(stack, "route", WARN, found, f"check EventBridge's {source} documentation")
    return finding(stack, "route", PASS, f"{where}: cross-Region, between commercial Regions")


def _central_bus(stack: StackArtifact, context: Context, bus: re.Match[str]) -> Finding:
    """Online: the central bus exists and its policy admits this stack's account."""
    clients = _central_clients(context, bus)
    if clients is None:
        return finding(stack, "central bus", SKIP, f"no credentials for account {bus['account']}")
    try:
        policy_text = clients.client("events").describe_event_bus(Name=bus["name"]).get("Policy")
    except AWS_ERRORS as error:
        if not isinstance(error, ClientError) or error_code(error) != "ResourceNotFoundException":
            fixing = (bus["region"], f"events:DescribeEventBus on {bus['name']}", "")
            return aws_failure(stack, "central bus", error, "DescribeEventBus", fixing)
        found = f"{bus['name']} not deployed yet: checked after the central stack's deploy"
        return finding(stack, "central bus", SKIP, found, "deploy the central stack first")
    account = stack.account or context.deployer or ""
    admitted = admits(json.loads(policy_text or "{}"), account)
    if admitted:
        return finding(stack, "central bus", PASS, f"{bus['name']} admits {admitted}")
    fix = "list the account in central.members and deploy the central stack"
    return finding(stack, "central bus", FAIL, f"{bus['name']}'s policy omits {account}", fix)


def _central_clients(context: Context, bus: re.Match[str]) -> Clients | None:
    if context.clients is None:
        return None
    if bus["account"] == context.deployer:
        return context.clients.in_region(bus["region"])
    central = next(
        (s for s in context.stacks if (s.account, s.region) == (bus["account"], bus["region"])),
        None,
    )
    if central is None or central.lookup_role_arn is None or context.clients_of is None:
        return None
    clients: Clients | None = context.clients_of(central)
    return clients


def admits(policy: Mapping[str, Any], account: str) -> str | None:
    """Whom of `account` the bus policy lets PutEvents: the account, its organization, or None."""
    for statement in policy.get("Statement", []):
        actions = statement.get("Action", [])
        actions = [actions] if isinstance(actions, str) else actions
        if statement.get("Effect") != "Allow" or not PUT_EVENTS & {*actions}:
            continue
        principal = statement.get("Principal", {})
        principals = principal.get("AWS", []) if isinstance(principal, dict) else principal
        principals = [principals] if isinstance(principals, str) else principals
        if any(p == account or p.endswith(f"::{account}:root") for p in principals):
            return f"account {account}"
        organization = (
            statement.get("Condition", {}).get("StringEquals", {}).get("aws:PrincipalOrgID")
        )
        anyone = {"*", "arn:aws:iam::*:root"} & {*principals}  # how AWS and moto show "*"
        if anyone and organization:
            return f"the organization {organization} (the account must be in it)"
    return None


# --- Target region ------------------------------------------------------------------------------


def check_target(stack: StackArtifact, deploy_region: str | None) -> list[Finding]:
    """The region the CDK CLI chose at synth (or leaves to the deploy) against the deploy's."""
    if stack.region and stack.environment_source != contract.TARGET_FROM_CLI:
        return [finding(stack, "target", PASS, f"{stack.target}, as the app sets it")]
    if deploy_region is None:
        found = "no region configured: the CDK CLI deploys to its us-east-1 fallback"
        fix = "set AWS_REGION or the profile's region, then synthesize again"
        return [finding(stack, "target", FAIL, found, fix)]
    if stack.region is None:
        return [finding(stack, "target", PASS, f"environment-agnostic: deploys to {deploy_region}")]
    if stack.region != deploy_region:
        found = f"synthesized for {stack.region}, the deploy's credentials target {deploy_region}"
        fix = "synthesize again with the deploy's profile and region (make deploy does both)"
        return [finding(stack, "target", FAIL, found, fix)]
    return [finding(stack, "target", PASS, f"{stack.region}, the deploy's region")]
