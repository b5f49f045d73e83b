"""A synthesized cloud assembly (`cdk synth`'s cdk.out), read without the CDK libraries: its
stacks, where each deploys, what each needs of the account (bootstrap version, lookup role) and
its template. Stages' nested assemblies are read too, so any app's layout is covered."""

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mwalerts import contract
from mwalerts_cli.errors import USAGE, CliError

STACK_ARTIFACT = "aws:cloudformation:stack"
NESTED_ASSEMBLY = "cdk:cloud-assembly"
# What the manifest says for an account or region the app left open (environment-agnostic).
UNKNOWN = ("unknown-account", "unknown-region")
# Region prefixes of the partitions other than aws (the longest prefix first).
_PARTITIONS = (
    ("us-isob-", "aws-iso-b"),
    ("us-iso-", "aws-iso"),
    ("eu-isoe-", "aws-iso-e"),
    ("us-isof-", "aws-iso-f"),
    ("us-gov-", "aws-us-gov"),
    ("cn-", "aws-cn"),
)


def partition_of(region: str) -> str:
    """The partition a region belongs to: aws, aws-cn, aws-us-gov..."""
    return next((name for prefix, name in _PARTITIONS if region.startswith(prefix)), "aws")


@dataclass(frozen=True)
class StackArtifact:
    """One stack of the assembly, as `cdk deploy` will deploy it."""

    name: str
    account: str | None  # None: environment-agnostic (the deploy's credentials decide)
    region: str | None
    template: Mapping[str, Any]
    bootstrap_version: int | None = None
    bootstrap_parameter: str | None = None
    lookup_role_arn: str | None = None
    # Where app.py took the environment from (contract.TARGET_METADATA), when it says.
    environment_source: str | None = None
    # Organization mode's central stack: contract.ORGANIZATION_METADATA's data, else None.
    organization: Mapping[str, Any] | None = None
    metadata: Mapping[str, Any] = field(default_factory=dict)

    @property
    def target(self) -> str:
        """`111111111111/eu-west-1`, with `?` for what the app left open."""
        return f"{self.account or '?'}/{self.region or '?'}"

    def resources(self, resource_type: str) -> Iterator[tuple[str, Mapping[str, Any]]]:
        """(logical ID, properties) of the template's resources of one type."""
        for logical_id, resource in self.template.get("Resources", {}).items():
            if resource.get("Type") == resource_type:
                yield logical_id, resource.get("Properties", {})


def read_assembly(directory: Path) -> list[StackArtifact]:
    """Every stack of the assembly in `directory` (and its nested assemblies), in manifest order.

    Raises CliError (exit 2) when there is no assembly or its manifest cannot be read.
    """
    manifest = _json(directory / "manifest.json", "the cloud assembly's manifest")
    artifacts = manifest.get("artifacts") if isinstance(manifest, dict) else None
    if not isinstance(artifacts, dict):
        raise CliError(f"{directory / 'manifest.json'} lists no artifacts", USAGE)
    stacks: list[StackArtifact] = []
    for name, artifact in artifacts.items():
        kind = artifact.get("type")
        if kind == NESTED_ASSEMBLY:
            stacks.extend(read_assembly(directory / artifact["properties"]["directoryName"]))
        elif kind == STACK_ARTIFACT:
            stacks.append(_stack(directory, name, artifact))
    return stacks


def _stack(directory: Path, name: str, artifact: Mapping[str, Any]) -> StackArtifact:
    properties = artifact.get("properties", {})
    account, region = _environment(artifact.get("environment", ""))
    template = _json(directory / properties.get("templateFile", f"{name}.template.json"), name)
    metadata = dict(artifact.get("metadata", {}))
    if "additionalMetadataFile" in artifact:
        metadata.update(_json(directory / artifact["additionalMetadataFile"], name))
    lookup_role = properties.get("lookupRole", {}).get("arn")
    if lookup_role:
        lookup_role = lookup_role.replace("${AWS::Partition}", partition_of(region or ""))
    return StackArtifact(
        name=artifact.get("displayName", name),
        account=account,
        region=region,
        template=template,
        bootstrap_version=properties.get("requiresBootstrapStackVersion"),
        bootstrap_parameter=properties.get("bootstrapStackVersionSsmParameter"),
        lookup_role_arn=lookup_role,
        environment_source=_metadata_value(metadata, contract.TARGET_METADATA),
        organization=_metadata_mapping(metadata, contract.ORGANIZATION_METADATA),
        metadata=metadata,
    )


def _environment(text: str) -> tuple[str | None, str | None]:
    """`aws://111111111111/eu-west-1` -> (account, region); None for what is unknown."""
    account, _, region = text.removeprefix("aws://").partition("/")
    return (
        None if account in ("", UNKNOWN[0]) else account,
        None if region in ("", UNKNOWN[1]) else region,
    )


def _metadata_value(metadata: Mapping[str, Any], kind: str) -> str | None:
    data = _metadata_data(metadata, kind)
    return None if data is None else str(data)


def _metadata_mapping(metadata: Mapping[str, Any], kind: str) -> Mapping[str, Any] | None:
    data = _metadata_data(metadata, kind)
    return data if isinstance(data, dict) else None


def _metadata_data(metadata: Mapping[str, Any], kind: str) -> Any:
    """The data of the first metadata entry of type `kind` (on any construct path), or None."""
    for entries in metadata.values():
        for entry in entries if isinstance(entries, list) else []:
            if isinstance(entry, dict) and entry.get("type") == kind:
                return entry.get("data")
    return None


def _json(path: Path, what: str) -> Any:
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        raise CliError(
            f"no {what} at {path}: synthesize first (make synth, or cdk synth), or pass "
            "--assembly DIR",
            USAGE,
        ) from None
    except (OSError, ValueError) as error:
        raise CliError(f"cannot read {what} at {path}: {error}", USAGE) from None
