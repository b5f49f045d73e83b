"""What `mwalerts preflight` reads and calls, built for its tests: a cloud assembly written as
`cdk synth` writes one (manifest.json and templates, the shapes copied from a central-mode synth),
and the AWS it meets: moto, seeded with what a real account holds (bootstrap versions, the public
Powertools parameter, a layer, the central bus, an organization), plus answers moto lacks
(GetAccountSettings); and the command run as its tests run it."""

import io
import json
import zipfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import botocore.handlers
import pytest
from botocore.awsrequest import AWSResponse, HTTPHeaders
from moto import mock_aws
from moto.core.exceptions import JsonRESTError
from moto.organizations.models import (
    FakeDelegatedAdministrator,
    OrganizationsBackend,
    organizations_backends,
)
from moto.ssm.models import Parameter, ssm_backends

from mwalerts import contract
from mwalerts.clients import aws_session
from mwalerts_cli.aws import Clients
from mwalerts_cli.main import main
from mwalerts_cli.output import Ui

DEPLOYER = "123456789012"  # moto's default account: the credentials' own
MEMBER = "222222222222"
CENTRAL_REGION = "eu-west-1"
MEMBER_REGION = "us-east-1"
PINNED = "3.37.0"
LAYER_PARAMETER = f"/aws/service/powertools/python/arm64/python3.13/{PINNED}"
LAYER_NAME = "AWSLambdaPowertoolsPythonV3-python313-arm64"
LAYER_DESCRIPTION = (
    f"Powertools for AWS Lambda (Python) V3 [arm64 - Python 3.13] with extra dependencies "
    f"version {PINNED}"
)
BOOTSTRAP_PARAMETER = "/cdk-bootstrap/hnb659fds/version"
BUS = "maintenance-window-alerts"
LAYER_LOGICAL_ID = "SsmParameterValueawsservicepowertoolspythonarm64python3133370Parameter"


def bus_arn(account: str = DEPLOYER, region: str = CENTRAL_REGION, partition: str = "aws") -> str:
    return f"arn:{partition}:events:{region}:{account}:event-bus/{BUS}"


def function(layers: list[Any] | None = None, **properties: Any) -> dict[str, Any]:
    return {
        "Type": "AWS::Lambda::Function",
        "Properties": {
            "Runtime": "python3.13",
            "Architectures": ["arm64"],
            "Layers": [{"Ref": LAYER_LOGICAL_ID}] if layers is None else layers,
            **properties,
        },
    }


def forward_rule(target_arn: str) -> dict[str, Any]:
    return {
        "Type": "AWS::Events::Rule",
        "Properties": {"Targets": [{"Arn": target_arn, "Id": "Target0"}]},
    }


@dataclass
class StackSpec:
    """One stack of the assembly: its environment and its template's resources."""

    name: str
    account: str | None = DEPLOYER
    region: str | None = CENTRAL_REGION
    resources: dict[str, Any] = field(default_factory=lambda: {"Function": function()})
    source: str = contract.TARGET_FROM_LAYOUT
    # Organization mode's central stack: its contract.ORGANIZATION_METADATA.
    organization: dict[str, Any] | None = None
    parameters: dict[str, Any] = field(
        default_factory=lambda: {
            LAYER_LOGICAL_ID: {
                "Type": "AWS::SSM::Parameter::Value<String>",
                "Default": LAYER_PARAMETER,
            }
        }
    )


def central_and_member() -> list[StackSpec]:
    """Central mode: the central stack, and a member in another account and region."""
    return [
        StackSpec("Central"),
        StackSpec(
            "Member",
            MEMBER,
            MEMBER_REGION,
            {"ForwardRule": forward_rule(bus_arn())},
            parameters={},
        ),
    ]


def write_assembly(directory: Path, stacks: list[StackSpec]) -> Path:
    """manifest.json, each template and metadata file, as `cdk synth` lays them out."""
    directory.mkdir(parents=True, exist_ok=True)
    artifacts: dict[str, Any] = {}
    for stack in stacks:
        account = stack.account or "unknown-account"
        region = stack.region or "unknown-region"
        role = f"arn:${{AWS::Partition}}:iam::{account}:role/cdk-lookup-role-{account}-{region}"
        template = {"Parameters": stack.parameters, "Resources": stack.resources}
        (directory / f"{stack.name}.template.json").write_text(json.dumps(template))
        entries: list[dict[str, Any]] = [{"type": contract.TARGET_METADATA, "data": stack.source}]
        if stack.organization is not None:
            entries.append({"type": contract.ORGANIZATION_METADATA, "data": stack.organization})
        metadata = {f"/{stack.name}": entries}
        (directory / f"{stack.name}.metadata.json").write_text(json.dumps(metadata))
        artifacts[stack.name] = {
            "type": "aws:cloudformation:stack",
            "environment": f"aws://{account}/{region}",
            "properties": {
                "templateFile": f"{stack.name}.template.json",
                "requiresBootstrapStackVersion": 6,
                "bootstrapStackVersionSsmParameter": BOOTSTRAP_PARAMETER,
                "lookupRole": {"arn": role, "requiresBootstrapStackVersion": 8},
            },
            "additionalMetadataFile": f"{stack.name}.metadata.json",
            "displayName": stack.name,
        }
    artifacts["Tree"] = {"type": "cdk:tree", "properties": {"file": "tree.json"}}
    manifest = {"version": "55.0.0", "artifacts": artifacts}
    (directory / "manifest.json").write_text(json.dumps(manifest))
    return directory


# --- The AWS preflight meets -------------------------------------------------------------------


@contextmanager
def in_process_aws() -> Iterator[None]:
    with mock_aws():
        yield


def session(account: str = DEPLOYER, region: str = CENTRAL_REGION) -> boto3.Session:
    """Credentials of `account` (moto: an assumed role's credentials act in its account)."""
    if account == DEPLOYER:
        return boto3.Session(region_name=region)
    keys = boto3.client("sts", region_name=region).assume_role(
        RoleArn=f"arn:aws:iam::{account}:role/seed", RoleSessionName="seed"
    )["Credentials"]
    return boto3.Session(
        aws_access_key_id=keys["AccessKeyId"],
        aws_secret_access_key=keys["SecretAccessKey"],
        aws_session_token=keys["SessionToken"],
        region_name=region,
    )


def put_public_parameter(name: str, value: str, region: str = CENTRAL_REGION) -> None:
    """A parameter under /aws/service/, which AWS publishes and PutParameter refuses."""
    parameters = ssm_backends[DEPLOYER][region]._parameters  # moto's store
    parameters[name].append(
        Parameter(  # type: ignore[abstract]  # moto's model, built as moto builds it
            account_id=DEPLOYER,
            name=name,
            value=value,
            parameter_type="String",
            description=None,
            allowed_pattern=None,
            keyid=None,
            last_modified_date=datetime.now(UTC),
            version=1,
            data_type="text",
        )
    )


def bootstrap(account: str = DEPLOYER, region: str = CENTRAL_REGION, version: str = "30") -> None:
    session(account, region).client("ssm").put_parameter(
        Name=BOOTSTRAP_PARAMETER, Value=version, Type="String"
    )


def publish_layer(
    region: str = CENTRAL_REGION,
    description: str = LAYER_DESCRIPTION,
    runtimes: tuple[str, ...] = ("python3.13",),
) -> str:
    """A Powertools-like layer version; its ARN."""
    content = io.BytesIO()
    with zipfile.ZipFile(content, "w") as archive:
        archive.writestr("python/aws_lambda_powertools/__init__.py", "")
    client: Any = boto3.client("lambda", region_name=region)  # runtimes as plain strings
    arn: str = client.publish_layer_version(
        LayerName=LAYER_NAME,
        Description=description,
        Content={"ZipFile": content.getvalue()},
        CompatibleRuntimes=list(runtimes),
        CompatibleArchitectures=["arm64"],
    )["LayerVersionArn"]
    return arn


def central_bus(admitted: Mapping[str, Any] | None = None) -> None:
    """The central bus; `admitted`: put_permission's arguments (default: the member account)."""
    events = boto3.client("events", region_name=CENTRAL_REGION)
    events.create_event_bus(Name=BUS)
    permission = admitted or {"Principal": MEMBER, "StatementId": "member"}
    events.put_permission(EventBusName=BUS, Action="events:PutEvents", **permission)


def answer(
    monkeypatch: pytest.MonkeyPatch, operation: str, parsed: dict[str, Any], status: int = 200
) -> None:
    """Every client made from now on answers `operation` ("lambda.GetAccountSettings") with
    `parsed` (an error's {"Error": {...}} with a status of 400 or more), before moto sees it."""

    def respond(**_: Any) -> tuple[AWSResponse, dict[str, Any]]:
        return AWSResponse("https://aws.invalid", status, HTTPHeaders(), None), parsed

    handlers = [*botocore.handlers.BUILTIN_HANDLERS, (f"before-call.{operation}", respond)]
    monkeypatch.setattr(botocore.handlers, "BUILTIN_HANDLERS", handlers)


def raise_on(monkeypatch: pytest.MonkeyPatch, operation: str, error: Exception) -> None:
    """Every client made from now on raises `error` for `operation` ("lambda.GetAccountSettings"),
    as botocore raises one that never reached AWS (EndpointConnectionError)."""

    def fail(**_: Any) -> None:
        raise error

    handlers = [*botocore.handlers.BUILTIN_HANDLERS, (f"before-call.{operation}", fail)]
    monkeypatch.setattr(botocore.handlers, "BUILTIN_HANDLERS", handlers)


def account_settings(monkeypatch: pytest.MonkeyPatch, total: int, unreserved: int) -> None:
    limit = {"ConcurrentExecutions": total, "UnreservedConcurrentExecutions": unreserved}
    answer(monkeypatch, "lambda.GetAccountSettings", {"AccountLimit": limit})


def ready_account(monkeypatch: pytest.MonkeyPatch) -> str:
    """Everything central_and_member() needs, in place; the layer's ARN."""
    arn = publish_layer()
    put_public_parameter(LAYER_PARAMETER, arn)
    bootstrap()
    bootstrap(MEMBER, MEMBER_REGION)
    central_bus()
    account_settings(monkeypatch, 1000, 1000)
    return arn


# --- An organization (moto's Organizations) ----------------------------------------------------


@dataclass(frozen=True)
class Organization:
    """An organization whose management account is DEPLOYER's, with one OU holding one member."""

    id: str
    root: str
    unit: str  # an OU
    member: str  # an account in `unit`

    def metadata(self, call_as: str = contract.CALL_AS_SELF, *units: str) -> dict[str, Any]:
        """The central stack's contract.ORGANIZATION_METADATA (default: covering `unit`)."""
        return {
            "organizationId": self.id,
            "callAs": call_as,
            "stackSetName": contract.stack_set_name(),
            "organizationalUnits": list(units or (self.unit,)),
            "regions": [CENTRAL_REGION, MEMBER_REGION],
        }


def organization(monkeypatch: pytest.MonkeyPatch, *, trusted_access: bool = True) -> Organization:
    """An organization made by DEPLOYER (its management account), StackSets' trusted access
    enabled (or not), an OU and a member account in it; members see it as in AWS."""
    members_see_their_organization(monkeypatch)
    client = boto3.client("organizations", region_name=CENTRAL_REGION)
    made = client.create_organization(FeatureSet="ALL")["Organization"]
    root = client.list_roots()["Roots"][0]["Id"]
    unit = client.create_organizational_unit(ParentId=root, Name="workloads")
    unit_id = unit["OrganizationalUnit"]["Id"]
    status = client.create_account(AccountName="monitoring", Email="monitoring@example.com")
    member = status["CreateAccountStatus"]["AccountId"]
    client.move_account(AccountId=member, SourceParentId=root, DestinationParentId=unit_id)
    if trusted_access:
        client.enable_aws_service_access(ServicePrincipal=contract.STACKSETS_SERVICE_PRINCIPAL)
    return Organization(made["Id"], root, unit_id, member)


# The organization's listings that AWS answers only for the management account and delegated
# administrators.
MANAGEMENT_LISTINGS = ("list_delegated_administrators", "list_aws_service_access_for_organization")


def members_see_their_organization(monkeypatch: pytest.MonkeyPatch) -> None:
    """moto answers a member account's MANAGEMENT_LISTINGS from the member's own, empty, state;
    AWS answers a delegated administrator (of any service) with the organization's, and refuses
    any other member (AccessDeniedException). And moto (5.2) does not know StackSets among the
    services with delegated administrators, which AWS documents (CloudFormation User Guide,
    "Register a delegated administrator member account")."""
    supported = [
        *FakeDelegatedAdministrator.SUPPORTED_SERVICES,
        contract.STACKSETS_SERVICE_PRINCIPAL,
    ]
    monkeypatch.setattr(FakeDelegatedAdministrator, "SUPPORTED_SERVICES", supported)
    for name in MANAGEMENT_LISTINGS:
        original = getattr(OrganizationsBackend, name)

        def listing(
            backend: OrganizationsBackend, *args: Any, _original: Any = original, **kwargs: Any
        ) -> Any:
            if (
                backend.org is not None
                or backend.account_id not in organizations_backends.master_accounts
            ):
                return _original(backend, *args, **kwargs)
            management, partition = organizations_backends.master_accounts[backend.account_id]
            owner = organizations_backends[management][partition]
            if not any(admin.account.id == backend.account_id for admin in owner.admins):
                raise JsonRESTError(
                    "AccessDeniedException", "You don't have permissions to access this resource."
                )
            return _original(owner, *args, **kwargs)

        monkeypatch.setattr(OrganizationsBackend, name, listing)


# --- The command, as the preflight tests run it ---------------------------------------------------

Row = dict[str, str]


@pytest.fixture(autouse=True)
def deploy_region(monkeypatch: pytest.MonkeyPatch) -> None:
    """The deploy's region, as the CDK CLI reads it first (autouse where imported)."""
    monkeypatch.delenv("AWS_DEFAULT_REGION", raising=False)
    monkeypatch.setenv("AWS_REGION", CENTRAL_REGION)


def preflight(
    capsys: pytest.CaptureFixture[str], assembly: Path, *options: str, clients: Any = None
) -> tuple[int, list[Row], str]:
    """`mwalerts preflight --assembly DIR --output json OPTIONS`: exit code, rows, stderr."""
    capsys.readouterr()
    clients = clients or Clients(aws_session(region_name=CENTRAL_REGION))
    argv = ["preflight", "--assembly", str(assembly), "--output", "json", *options]
    code = main(argv, clients=clients, ui=Ui.plain(200))
    out, err = capsys.readouterr()
    return code, (json.loads(out) if out else []), err


def results(rows: list[Row], check: str) -> list[tuple[str, str, str]]:
    """(stack, result, found) of one check's rows."""
    return [(row["stack"], row["result"], row["found"]) for row in rows if row["check"] == check]


def only(rows: list[Row], stack: str, check: str) -> Row:
    (row,) = [row for row in rows if (row["stack"], row["check"]) == (stack, check)]
    return row
