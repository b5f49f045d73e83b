"""What `mwalerts preflight` reads and calls, built for its tests: a cloud assembly written as
`cdk synth` writes one (manifest.json and templates, the shapes copied from a central-mode synth),
and the AWS it meets: moto, seeded with what a real account holds (bootstrap versions, the public
Powertools parameter, a layer, the central bus), plus answers moto lacks (GetAccountSettings)."""

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
from moto.ssm.models import Parameter, ssm_backends

from mwalerts import contract

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
        metadata = {f"/{stack.name}": [{"type": contract.TARGET_METADATA, "data": stack.source}]}
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
