"""`mwalerts preflight`: each check of a synthesized assembly passing and failing, on moto with
the deployer's credentials (and a member account's through its lookup role), and offline."""

import json
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import EndpointConnectionError

from mwalerts import contract
from mwalerts.clients import aws_session
from mwalerts_cli.assembly import read_assembly
from mwalerts_cli.aws import Clients
from mwalerts_cli.main import main
from mwalerts_cli.output import Ui
from mwalerts_cli.preflight import _profile
from mwalerts_cli.preflight_checks import Context, check_bootstrap
from tests.cli.harness import no_aws_configuration
from tests.cli.preflight_fixtures import (
    BOOTSTRAP_PARAMETER,
    CENTRAL_REGION,
    DEPLOYER,
    LAYER_PARAMETER,
    MEMBER,
    MEMBER_REGION,
    PINNED,
    StackSpec,
    account_settings,
    answer,
    bootstrap,
    bus_arn,
    central_and_member,
    central_bus,
    deploy_region,  # noqa: F401  # an autouse fixture
    forward_rule,
    function,
    in_process_aws,
    only,
    preflight,
    publish_layer,
    put_public_parameter,
    raise_on,
    ready_account,
    results,
    write_assembly,
)

BUNDLED = "set powertoolsLayer to bundled"


@pytest.fixture
def cloud() -> Iterator[None]:
    with in_process_aws():
        yield


# --- Everything ready, and the table ------------------------------------------------------------


@pytest.mark.usefixtures("cloud")
def test_a_ready_fleet_passes_every_check(tmp_path, capsys, monkeypatch):
    layer = ready_account(monkeypatch)
    assembly = write_assembly(tmp_path, central_and_member())

    code, rows, err = preflight(capsys, assembly)

    assert (code, err) == (0, "")
    assert [(r["stack"], r["check"], r["result"]) for r in rows] == [
        ("Central", "target", "PASS"),
        ("Central", "bootstrap", "PASS"),
        ("Central", "layer", "PASS"),
        ("Central", "concurrency", "PASS"),
        ("Member", "target", "PASS"),
        ("Member", "bootstrap", "PASS"),
        ("Member", "route", "PASS"),
        ("Member", "central bus", "PASS"),
    ]
    assert only(rows, "Central", "layer")["found"] == f"{layer} (python3.13 arm64)"
    assert only(rows, "Member", "target")["target"] == f"{MEMBER}/{MEMBER_REGION}"
    assert only(rows, "Member", "central bus")["found"] == f"{contract.SERVICE_NAME} admits " + (
        f"account {MEMBER}"
    )


@pytest.mark.usefixtures("cloud")
def test_the_table_has_a_row_per_check_and_a_summary(tmp_path, capsys, monkeypatch):
    ready_account(monkeypatch)
    assembly = write_assembly(tmp_path, central_and_member())
    capsys.readouterr()

    code = main(
        ["preflight", "--assembly", str(assembly)],
        clients=Clients(aws_session(region_name=CENTRAL_REGION)),
        ui=Ui.plain(200),
    )

    out = capsys.readouterr().out
    lines = out.splitlines()
    assert code == 0
    assert lines[0].split() == ["Stack", "Target", "Check", "Result", "Found", "How", "to", "fix"]
    assert lines[2].split()[:4] == ["Central", f"{DEPLOYER}/{CENTRAL_REGION}", "target", "PASS"]
    assert lines[-1] == "Preflight: 8 checks: 8 PASS, 0 WARN, 0 FAIL, 0 SKIP"


# --- Offline and bad input -----------------------------------------------------------------------


def test_without_credentials_the_online_checks_are_skipped(tmp_path, capsys, monkeypatch):
    no_aws_configuration(monkeypatch, tmp_path)
    assembly = write_assembly(tmp_path / "cdk.out", central_and_member())

    code, rows, err = preflight(
        capsys, assembly, clients=Clients(aws_session(region_name=CENTRAL_REGION))
    )

    assert code == 0
    assert "no AWS credentials" in err
    assert [(r["stack"], r["check"], r["result"]) for r in rows] == [
        ("Central", "target", "PASS"),
        ("Central", "bootstrap", "SKIP"),
        ("Central", "layer", "SKIP"),
        ("Central", "concurrency", "SKIP"),
        ("Member", "target", "PASS"),
        ("Member", "bootstrap", "SKIP"),
        ("Member", "route", "PASS"),
        ("Member", "central bus", "SKIP"),
    ]


def test_offline_runs_no_aws_call_and_still_fails_what_cannot_work(tmp_path, capsys):
    stacks = [
        StackSpec("GovMember", MEMBER, "us-gov-west-1", {"Rule": forward_rule(bus_arn())}),
        StackSpec("China", region="cn-north-1"),
    ]
    assembly = write_assembly(tmp_path, stacks)

    code, rows, _ = preflight(capsys, assembly, "--offline", clients=NoClients())

    assert code == 1
    assert results(rows, "route") == [
        (
            "GovMember",
            "FAIL",
            "us-gov-west-1 -> eu-west-1: EventBridge delivers within a partition only "
            "(aws-us-gov -> aws)",
        )
    ]
    (china,) = [row for row in rows if row["stack"] == "China" and row["check"] == "layer"]
    assert china["result"] == "WARN"
    assert "aws-cn" in china["found"]
    assert china["fix"].startswith(BUNDLED)


class NoClients:
    """Clients preflight must not touch (--offline)."""

    session = None

    def __getattr__(self, name: str) -> Any:
        pytest.fail(f"preflight --offline used its AWS clients ({name})")


@pytest.mark.parametrize(
    ("manifest", "message"),
    [
        (None, "no the cloud assembly's manifest at"),
        ("{not json", "cannot read the cloud assembly's manifest"),
        ('{"version": "55.0.0"}', "lists no artifacts"),
        ('{"artifacts": {}}', "holds no stack"),
    ],
)
def test_no_readable_assembly_exits_2(tmp_path, capsys, manifest, message):
    if manifest is not None:
        (tmp_path / "manifest.json").write_text(manifest)

    code = main(["preflight", "--assembly", str(tmp_path)], clients=NoClients(), ui=Ui.plain())

    assert code == 2
    assert message in capsys.readouterr().err


def test_a_stage_and_a_legacy_stack_are_read(tmp_path):
    # A stage's stacks are in a nested assembly; a legacy synthesizer's stack names no bootstrap
    # version or lookup role, and its metadata is inline, without the target's entry.
    stage = tmp_path / "assembly-Prod"
    stage.mkdir()
    (stage / "Legacy.template.json").write_text(json.dumps({"Resources": {}}))
    legacy = {
        "type": "aws:cloudformation:stack",
        "environment": "aws://unknown-account/unknown-region",
        "metadata": {"/Legacy": [{"type": "aws:cdk:logicalId", "data": "X"}, "not an entry"]},
    }
    manifest = {"artifacts": {"Legacy": legacy}}
    (stage / "manifest.json").write_text(json.dumps(manifest))
    nested = {"type": "cdk:cloud-assembly", "properties": {"directoryName": stage.name}}
    (tmp_path / "manifest.json").write_text(json.dumps({"artifacts": {"Prod": nested}}))

    (stack,) = read_assembly(tmp_path)

    assert (stack.name, stack.target, stack.lookup_role_arn) == ("Legacy", "?/?", None)
    assert stack.environment_source is None
    assert check_bootstrap(stack, Context(None, None, (stack,)), CENTRAL_REGION) == []


def test_an_unknown_check_is_refused(capsys):
    with pytest.raises(SystemExit) as stopped:
        main(["preflight", "--only", "layer,colour"])

    assert stopped.value.code == 2
    assert "unknown check 'colour'" in capsys.readouterr().err


# --- Bootstrap ----------------------------------------------------------------------------------


@pytest.mark.usefixtures("cloud")
def test_an_account_not_bootstrapped_fails_with_the_command_to_run(tmp_path, capsys, monkeypatch):
    ready_account(monkeypatch)
    member = StackSpec("Member2", MEMBER, "eu-central-1", {"Rule": forward_rule(bus_arn())})
    assembly = write_assembly(tmp_path, [*central_and_member(), member])

    code, rows, _ = preflight(capsys, assembly, "--only", "bootstrap")

    assert code == 1
    row = only(rows, "Member2", "bootstrap")
    assert (row["result"], row["found"]) == ("FAIL", f"not bootstrapped ({BOOTSTRAP_PARAMETER})")
    assert row["fix"] == (
        f"cdk bootstrap aws://{MEMBER}/eu-central-1 --trust {DEPLOYER} "
        "--cloudformation-execution-policies arn:aws:iam::aws:policy/AdministratorAccess"
    )


@pytest.mark.usefixtures("cloud")
def test_an_old_bootstrap_fails(tmp_path, capsys, monkeypatch):
    bootstrap(version="5")
    assembly = write_assembly(tmp_path, [StackSpec("Old")])

    code, rows, _ = preflight(capsys, assembly, "--only", "bootstrap")

    assert code == 1
    assert rows == [
        {
            "stack": "Old",
            "target": f"{DEPLOYER}/{CENTRAL_REGION}",
            "check": "bootstrap",
            "result": "FAIL",
            "found": "bootstrap version 5, the app needs 6 or later",
            "fix": f"cdk bootstrap aws://{DEPLOYER}/{CENTRAL_REGION}",
        }
    ]


@pytest.mark.usefixtures("cloud")
def test_a_lookup_role_that_cannot_be_assumed_fails_that_account(tmp_path, capsys, monkeypatch):
    denied = {"Error": {"Code": "AccessDenied", "Message": "not authorized to perform"}}
    answer(monkeypatch, "sts.AssumeRole", denied, status=403)
    assembly = write_assembly(tmp_path, central_and_member())

    code, rows, _ = preflight(capsys, assembly, "--only", "bootstrap,events")

    assert code == 1
    row = only(rows, "Member", "access")
    assert row["result"] == "FAIL"
    role = f"arn:aws:iam::{MEMBER}:role/cdk-lookup-role-{MEMBER}-{MEMBER_REGION}"
    assert row["found"].startswith(f"cannot assume the CDK lookup role {role}: ")
    assert f"--trust {DEPLOYER}" in row["fix"]
    assert [r["check"] for r in rows if r["stack"] == "Member"] == ["access"]


# --- Powertools layer ---------------------------------------------------------------------------


@pytest.mark.usefixtures("cloud")
def test_a_missing_public_parameter_fails_with_bundled_as_the_fix(tmp_path, capsys):
    assembly = write_assembly(tmp_path, [StackSpec("Alerts")])

    code, rows, _ = preflight(capsys, assembly, "--only", "layer")

    assert code == 1
    (row,) = rows
    assert row["found"] == f"the public parameter {LAYER_PARAMETER} does not exist in eu-west-1"
    assert (row["result"], row["fix"][: len(BUNDLED)]) == ("FAIL", BUNDLED)


@pytest.mark.usefixtures("cloud")
@pytest.mark.parametrize(
    ("value", "found"),
    [
        # Powertools issue #7689: the parameter held the release's placeholder.
        ("PACKAGE_VERSION", f"{LAYER_PARAMETER} holds 'PACKAGE_VERSION', not a layer version ARN"),
        (
            "arn:aws:lambda:us-east-1:017000801446:layer:AWSLambdaPowertoolsPythonV3:7",
            "arn:aws:lambda:us-east-1:017000801446:layer:AWSLambdaPowertoolsPythonV3:7 is not in "
            "eu-west-1: Lambda takes layers of its own region only",
        ),
        (
            "arn:aws:lambda:eu-west-1:017000801446:layer:AWSLambdaPowertoolsPythonV3:7",
            "arn:aws:lambda:eu-west-1:017000801446:layer:AWSLambdaPowertoolsPythonV3:7: "
            "ResourceNotFoundException (no such layer version, or not shared)",
        ),
    ],
)
def test_a_public_parameter_without_a_usable_layer_fails(tmp_path, capsys, value, found):
    put_public_parameter(LAYER_PARAMETER, value)
    assembly = write_assembly(tmp_path, [StackSpec("Alerts")])

    code, rows, _ = preflight(capsys, assembly, "--only", "layer")

    assert code == 1
    assert results(rows, "layer") == [("Alerts", "FAIL", found)]


@pytest.mark.usefixtures("cloud")
def test_a_layer_of_another_version_or_runtime_fails(tmp_path, capsys):
    other_version = publish_layer(description="Powertools ... version 3.1.0")
    other_runtime = publish_layer(runtimes=("python3.12",))
    explicit = StackSpec("Explicit", resources={"F": function([other_runtime])}, parameters={})
    put_public_parameter(LAYER_PARAMETER, other_version)
    assembly = write_assembly(tmp_path, [StackSpec("Public"), explicit])

    code, rows, _ = preflight(capsys, assembly, "--only", "layer")

    assert code == 1
    assert results(rows, "layer") == [
        ("Public", "FAIL", f"{other_version} holds 3.1.0, the app pins {PINNED}"),
        ("Explicit", "FAIL", f"{other_runtime} is for python3.12 arm64, not python3.13 arm64"),
    ]


@pytest.mark.usefixtures("cloud")
def test_an_explicit_layer_arn_is_checked_and_bundled_needs_nothing(tmp_path, capsys):
    arn = publish_layer()
    stacks = [
        StackSpec("Explicit", resources={"F": function([arn])}, parameters={}),
        StackSpec("Bundled", resources={"F": function([])}, parameters={}),
        StackSpec("NoFunction", resources={}, parameters={}),
    ]
    assembly = write_assembly(tmp_path, stacks)

    code, rows, _ = preflight(capsys, assembly, "--only", "layer")

    assert code == 0
    assert results(rows, "layer") == [
        ("Explicit", "PASS", f"{arn} (python3.13 arm64)"),
        ("Bundled", "PASS", "no layer to resolve (Powertools bundled, or none)"),
    ]


# --- Lambda concurrency -------------------------------------------------------------------------


@pytest.mark.usefixtures("cloud")
@pytest.mark.parametrize(
    ("total", "unreserved", "reserved", "result", "found"),
    [
        (1000, 1000, 0, "PASS", "1000 of 1000 concurrent executions unreserved"),
        (
            10,
            10,
            0,
            "WARN",
            "10 of 10 concurrent executions unreserved: windows ending together are throttled "
            "(alerts late)",
        ),
        (
            1000,
            150,
            100,
            "FAIL",
            "150 of 1000 concurrent executions unreserved: reserving 100 leaves 50",
        ),
    ],
)
def test_unreserved_concurrency(
    tmp_path, capsys, monkeypatch, total, unreserved, reserved, result, found
):
    account_settings(monkeypatch, total, unreserved)
    properties = {"ReservedConcurrentExecutions": reserved} if reserved else {}
    assembly = write_assembly(
        tmp_path, [StackSpec("Alerts", resources={"F": function(**properties)})]
    )

    code, rows, _ = preflight(capsys, assembly, "--only", "concurrency")

    assert code == (1 if result == "FAIL" else 0)
    assert results(rows, "concurrency") == [("Alerts", result, found)]
    assert ("L-B99A9384" in rows[0]["fix"]) == (result != "PASS")


# --- Cross-region EventBridge -------------------------------------------------------------------


@pytest.mark.usefixtures("cloud")
def test_a_central_bus_not_yet_deployed_is_checked_after_its_deploy(tmp_path, capsys):
    bootstrap(MEMBER, MEMBER_REGION)
    assembly = write_assembly(tmp_path, central_and_member())

    code, rows, _ = preflight(capsys, assembly, "--only", "events")

    assert code == 0
    row = only(rows, "Member", "central bus")
    assert row["result"] == "SKIP"
    assert row["found"] == f"{contract.SERVICE_NAME} not deployed yet: checked after the " + (
        "central stack's deploy"
    )


@pytest.mark.usefixtures("cloud")
@pytest.mark.parametrize(
    ("admitted", "result"),
    [
        ({"Principal": "333333333333", "StatementId": "other"}, "FAIL"),
        (
            {
                "Principal": "*",
                "StatementId": "organization",
                "Condition": {"Type": "StringEquals", "Key": "aws:PrincipalOrgID", "Value": "o-1"},
            },
            "PASS",
        ),
    ],
)
def test_the_central_bus_policy_must_admit_the_member(tmp_path, capsys, admitted, result):
    central_bus(admitted)
    assembly = write_assembly(tmp_path, central_and_member())

    code, rows, _ = preflight(capsys, assembly, "--only", "events")

    assert code == (1 if result == "FAIL" else 0)
    row = only(rows, "Member", "central bus")
    assert row["result"] == result
    if result == "PASS":
        assert row["found"].endswith("admits the organization o-1 (the account must be in it)")
    else:
        assert row["found"] == f"{contract.SERVICE_NAME}'s policy omits {MEMBER}"


# --- The region the app was synthesized for ----------------------------------------------------


@pytest.mark.parametrize(
    ("synthesized", "deploy", "result", "found"),
    [
        ("eu-west-1", "eu-west-1", "PASS", "eu-west-1, the deploy's region"),
        (
            "us-east-1",
            "eu-west-1",
            "FAIL",
            "synthesized for us-east-1, the deploy's credentials target eu-west-1",
        ),
        (
            "us-east-1",
            None,
            "FAIL",
            "no region configured: the CDK CLI deploys to its us-east-1 fallback",
        ),
        (None, "eu-west-1", "PASS", "environment-agnostic: deploys to eu-west-1"),
    ],
)
def test_a_stack_the_cli_placed_must_target_the_deploys_region(
    tmp_path, capsys, monkeypatch, synthesized, deploy, result, found
):
    no_aws_configuration(monkeypatch, tmp_path)
    monkeypatch.delenv("AWS_REGION")
    if deploy:
        monkeypatch.setenv("AWS_DEFAULT_REGION", deploy)
    stack = StackSpec("Alerts", None, synthesized, source=contract.TARGET_FROM_CLI)
    assembly = write_assembly(tmp_path / "cdk.out", [stack])

    code, rows, _ = preflight(
        capsys, assembly, "--only", "target", clients=Clients.from_chain(profile=None, region=None)
    )

    assert code == (1 if result == "FAIL" else 0)
    assert results(rows, "target") == [("Alerts", result, found)]


def test_the_deploys_profile_comes_from_the_cdk_arguments(tmp_path, capsys, monkeypatch):
    no_aws_configuration(monkeypatch, tmp_path)
    monkeypatch.delenv("AWS_REGION")
    (tmp_path / "no-config").write_text("[profile prod]\nregion = ap-southeast-2\n")
    stack = StackSpec("Alerts", None, "us-east-1", source=contract.TARGET_FROM_CLI)
    assembly = write_assembly(tmp_path / "cdk.out", [stack])

    code, rows, _ = preflight(
        capsys,
        assembly,
        "--only",
        "target",
        "--cdk-args",
        "--all --profile prod -c a=b",
        clients=Clients.from_chain(profile=None, region=None),
    )

    assert code == 1
    assert results(rows, "target") == [
        (
            "Alerts",
            "FAIL",
            "synthesized for us-east-1, the deploy's credentials target ap-southeast-2",
        )
    ]


# --- AWS errors: a FAIL row each, and the table still prints -----------------------------------


def denied(code: str = "AccessDeniedException") -> dict[str, Any]:
    return {"Error": {"Code": code, "Message": "not authorized"}}


def unreachable(region: str = CENTRAL_REGION) -> EndpointConnectionError:
    return EndpointConnectionError(endpoint_url=f"https://lambda.{region}.amazonaws.com/")


ENABLE_REGION = f"check that the region {CENTRAL_REGION} exists and is enabled for the account"


@pytest.mark.usefixtures("cloud")
@pytest.mark.parametrize(
    ("operation", "error", "check", "found", "fix"),
    [
        (
            "ssm.GetParameter",
            denied("AccessDenied"),
            "bootstrap",
            f"cannot read {BOOTSTRAP_PARAMETER}: AccessDenied: not authorized",
            f"grant ssm:GetParameter on {BOOTSTRAP_PARAMETER} to the credentials that deploy",
        ),
        (
            "ssm.GetParameter",
            unreachable(),
            "bootstrap",
            f"cannot read {BOOTSTRAP_PARAMETER}: EndpointConnectionError: Could not connect",
            ENABLE_REGION,
        ),
        (
            "ssm.GetParameter",
            denied("ThrottlingException"),
            "bootstrap",
            f"cannot read {BOOTSTRAP_PARAMETER}: ThrottlingException",
            f"cdk bootstrap aws://{DEPLOYER}/{CENTRAL_REGION}",  # the check's own fix
        ),
        (
            "ssm.GetParameter",
            denied("AccessDenied"),
            "layer",
            f"cannot read {LAYER_PARAMETER}: AccessDenied: not authorized",
            f"grant ssm:GetParameter on {LAYER_PARAMETER}",
        ),
        (
            "ssm.GetParameter",
            denied("ExpiredToken"),
            "layer",
            f"cannot read {LAYER_PARAMETER}: ExpiredToken",
            "renew the credentials",
        ),
        (
            "lambda.GetLayerVersion",
            unreachable(),
            "layer",
            "cannot read arn:aws:lambda:eu-west-1:",
            ENABLE_REGION,
        ),
        (
            "lambda.GetLayerVersion",
            denied("ThrottlingException"),
            "layer",
            "cannot read arn:aws:lambda:eu-west-1:",
            BUNDLED,
        ),
        (
            "lambda.GetAccountSettings",
            denied(),
            "concurrency",
            "GetAccountSettings: AccessDeniedException: not authorized",
            "grant lambda:GetAccountSettings to the credentials that deploy",
        ),
        (
            "lambda.GetAccountSettings",
            denied("UnrecognizedClientException"),
            "concurrency",
            "GetAccountSettings: UnrecognizedClientException",
            f"enable the region {CENTRAL_REGION} for the account (an opt-in region)",
        ),
        (
            "lambda.GetAccountSettings",
            unreachable(),
            "concurrency",
            "GetAccountSettings: EndpointConnectionError: Could not connect",
            ENABLE_REGION,
        ),
    ],
)
def test_an_aws_error_fails_its_check_with_the_code_and_a_fix(
    tmp_path, capsys, monkeypatch, operation, error, check, found, fix
):
    layer = publish_layer()
    put_public_parameter(LAYER_PARAMETER, layer)
    bootstrap()
    if isinstance(error, Exception):
        raise_on(monkeypatch, operation, error)
    else:
        answer(monkeypatch, operation, error, status=403)
    account_settings(monkeypatch, 1000, 1000)  # after: the first answer registered wins
    assembly = write_assembly(tmp_path, [StackSpec("Alerts")])

    code, rows, _ = preflight(capsys, assembly)

    assert code == 1
    assert [r["check"] for r in rows] == ["target", "bootstrap", "layer", "concurrency"]
    row = only(rows, "Alerts", check)
    assert row["result"] == "FAIL"
    assert row["found"].startswith(found)
    assert row["fix"].startswith(fix)
    # The other checks still run; both the bootstrap and the layer check read SSM parameters.
    failing = {"bootstrap", "layer"} if operation == "ssm.GetParameter" else {check}
    assert {r["check"] for r in rows if r["result"] == "FAIL"} == failing


@pytest.mark.usefixtures("cloud")
def test_a_central_bus_that_cannot_be_read_fails_with_the_permission_to_grant(
    tmp_path, capsys, monkeypatch
):
    answer(monkeypatch, "events.DescribeEventBus", denied(), status=403)
    assembly = write_assembly(tmp_path, central_and_member())

    code, rows, _ = preflight(capsys, assembly, "--only", "events")

    assert code == 1
    row = only(rows, "Member", "central bus")
    assert row["result"] == "FAIL"
    assert row["found"] == "DescribeEventBus: AccessDeniedException: not authorized"
    assert row["fix"].startswith(f"grant events:DescribeEventBus on {contract.SERVICE_NAME} ")


@pytest.mark.usefixtures("cloud")
def test_a_lookup_role_of_an_unreachable_region_fails_that_account(tmp_path, capsys, monkeypatch):
    raise_on(monkeypatch, "sts.AssumeRole", unreachable(MEMBER_REGION))
    assembly = write_assembly(tmp_path, central_and_member())

    code, rows, _ = preflight(capsys, assembly, "--only", "bootstrap")

    assert code == 1
    row = only(rows, "Member", "access")
    assert row["result"] == "FAIL"
    assert "EndpointConnectionError: Could not connect to the endpoint URL" in row["found"]
    assert row["fix"].startswith(f"check that the region {MEMBER_REGION} exists and is enabled")


@pytest.mark.usefixtures("cloud")
def test_a_region_not_enabled_still_prints_the_table(tmp_path, capsys, monkeypatch):
    # An opt-in region the account has not enabled refuses the credentials, STS first.
    answer(monkeypatch, "sts.GetCallerIdentity", denied("InvalidClientTokenId"), status=403)
    answer(monkeypatch, "ssm.GetParameter", denied("InvalidClientTokenId"), status=403)
    answer(monkeypatch, "lambda.GetAccountSettings", denied("InvalidClientTokenId"), status=403)
    assembly = write_assembly(tmp_path, [StackSpec("Alerts")])
    capsys.readouterr()

    code = main(
        ["preflight", "--assembly", str(assembly)],
        clients=Clients(aws_session(region_name=CENTRAL_REGION)),
        ui=Ui.plain(300),
    )

    out = capsys.readouterr().out
    assert code == 1
    rows = [line.split()[:4] for line in out.splitlines()[2:-2]]
    assert [row[2:] for row in rows] == [
        ["access", "FAIL"],
        ["target", "PASS"],
        ["bootstrap", "FAIL"],
        ["layer", "FAIL"],
        ["concurrency", "FAIL"],
    ]
    assert "GetCallerIdentity: InvalidClientTokenId" in out
    assert f"enable the region {CENTRAL_REGION} for the account" in out
    assert out.splitlines()[-1].startswith("Preflight: 5 checks: 1 PASS, 0 WARN, 4 FAIL")


@pytest.mark.parametrize(
    ("cdk_args", "profile"),
    [("--profile=prod --all", "prod"), ("--all --profile", None), ("", None)],
)
def test_the_profile_of_the_cdk_arguments(cdk_args, profile):
    assert _profile(cdk_args) == profile


def test_preflight_has_help(capsys):
    with pytest.raises(SystemExit) as stopped:
        main(["preflight", "--help"])

    assert stopped.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: mwalerts preflight")
    assert "--assembly DIR" in out
