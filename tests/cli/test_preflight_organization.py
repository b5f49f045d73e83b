"""`mwalerts preflight` on organization mode's central stack (its manifest metadata names the
organization): StackSets' trusted access, and the central account as callAs says (management
account or registered delegated administrator), on moto's Organizations; offline, SKIP."""

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import EndpointConnectionError

from mwalerts import contract
from mwalerts_cli.assembly import read_assembly
from tests.cli.preflight_fixtures import (
    CENTRAL_REGION,
    DEPLOYER,
    Organization,
    Row,
    StackSpec,
    answer,
    deploy_region,  # noqa: F401  # an autouse fixture
    in_process_aws,
    only,
    organization,
    preflight,
    raise_on,
    ready_account,
    write_assembly,
)

STACKSETS = contract.STACKSETS_SERVICE_PRINCIPAL
ORGANIZATION_CHECKS = ("trusted access", "organization")


@pytest.fixture
def cloud() -> Iterator[None]:
    with in_process_aws():
        yield


def central(
    tmp_path: Path, org: Organization, call_as: str = contract.CALL_AS_SELF, **spec: Any
) -> Path:
    """The assembly of organization mode: its central stack, by default in DEPLOYER's account."""
    stack = StackSpec("Central", organization=org.metadata(call_as, *spec.pop("units", ())), **spec)
    return write_assembly(tmp_path, [stack])


def organization_rows(capsys: pytest.CaptureFixture[str], assembly: Path) -> tuple[int, list[Row]]:
    code, rows, _ = preflight(capsys, assembly, "--only", "organization")
    assert [row["check"] for row in rows] == list(ORGANIZATION_CHECKS)
    return code, rows


def test_the_assembly_reader_gives_the_organization_metadata(tmp_path):
    metadata = {"organizationId": "o-a1b2c3d4e5", "callAs": "SELF", "regions": ["eu-west-1"]}
    stacks = [StackSpec("Central", organization=metadata), StackSpec("Other")]

    central_stack, other = read_assembly(write_assembly(tmp_path, stacks))

    assert central_stack.organization == metadata
    assert other.organization is None
    assert central_stack.environment_source == contract.TARGET_FROM_LAYOUT


@pytest.mark.usefixtures("cloud")
def test_the_management_account_with_trusted_access_passes_every_check(
    tmp_path, capsys, monkeypatch
):
    ready_account(monkeypatch)
    org = organization(monkeypatch)

    code, rows, err = preflight(capsys, central(tmp_path, org))

    assert (code, err) == (0, "")
    assert [(r["check"], r["result"]) for r in rows] == [
        ("target", "PASS"),
        ("bootstrap", "PASS"),
        ("layer", "PASS"),
        ("concurrency", "PASS"),
        ("trusted access", "PASS"),
        ("organization", "PASS"),
    ]
    assert (
        only(rows, "Central", "trusted access")["found"] == f"enabled for StackSets ({STACKSETS})"
    )
    assert only(rows, "Central", "organization")["found"] == (
        f"{org.id}, callAs SELF: {DEPLOYER} is the management account"
    )


@pytest.mark.usefixtures("cloud")
def test_trusted_access_not_enabled_fails_with_how_to_activate_it(tmp_path, capsys, monkeypatch):
    org = organization(monkeypatch, trusted_access=False)

    code, rows = organization_rows(capsys, central(tmp_path, org))

    row = only(rows, "Central", "trusted access")
    assert code == 1
    assert row["result"] == "FAIL"
    assert STACKSETS in row["found"]
    assert row["fix"].startswith("in the management account: CloudFormation console > StackSets")
    assert "aws cloudformation activate-organizations-access" in row["fix"]
    assert only(rows, "Central", "organization")["result"] == "PASS"


@pytest.mark.usefixtures("cloud")
def test_another_organization_fails_naming_both(tmp_path, capsys, monkeypatch):
    org = organization(monkeypatch)
    layout = Organization("o-zzzzzzzzzz", org.root, org.unit, org.member)

    code, rows = organization_rows(capsys, central(tmp_path, layout))

    row = only(rows, "Central", "organization")
    assert (code, row["result"]) == (1, "FAIL")
    assert row["found"] == (
        f"account {DEPLOYER} is in {org.id}, the layout's organizationId is o-zzzzzzzzzz"
    )
    assert row["fix"].startswith(f"set organizationId to {org.id}")


@pytest.mark.usefixtures("cloud")
def test_an_account_in_no_organization_fails(tmp_path, capsys):
    layout = Organization("o-a1b2c3d4e5", "r-ab12", "ou-ab12-c3d4e5f6", "222222222222")

    code, rows = organization_rows(capsys, central(tmp_path, layout))

    row = only(rows, "Central", "organization")
    assert (code, row["result"]) == (1, "FAIL")
    assert row["found"] == f"account {DEPLOYER} is in no organization"
    assert row["fix"] == "deploy from an account of o-a1b2c3d4e5"


@pytest.mark.usefixtures("cloud")
def test_call_as_self_from_a_member_account_fails(tmp_path, capsys, monkeypatch):
    org = organization(monkeypatch)

    code, rows = organization_rows(capsys, central(tmp_path, org, account=org.member))

    row = only(rows, "Central", "organization")
    assert (code, row["result"]) == (1, "FAIL")
    assert row["found"] == (
        f"{org.id}, callAs SELF: {org.member} is not the management account ({DEPLOYER})"
    )
    assert row["fix"] == (
        "deploy from the management account, or set callAs DELEGATED_ADMIN and register this "
        "account"
    )
    # A member that is no delegated administrator may not list the trusted services.
    trusted = only(rows, "Central", "trusted access")
    assert trusted["result"] == "FAIL"
    assert trusted["found"].startswith("ListAWSServiceAccessForOrganization: AccessDenied")
    assert "delegated administrator" in trusted["fix"]


@pytest.mark.usefixtures("cloud")
def test_a_registered_delegated_administrator_passes(tmp_path, capsys, monkeypatch):
    org = organization(monkeypatch)
    boto3.client("organizations", region_name=CENTRAL_REGION).register_delegated_administrator(
        AccountId=org.member, ServicePrincipal=STACKSETS
    )
    assembly = central(tmp_path, org, contract.CALL_AS_DELEGATED_ADMIN, account=org.member)

    code, rows = organization_rows(capsys, assembly)

    assert code == 0
    assert [row["result"] for row in rows] == ["PASS", "PASS"]
    assert only(rows, "Central", "organization")["found"] == (
        f"{org.id}, callAs DELEGATED_ADMIN: {org.member} is a delegated administrator for StackSets"
    )
    assert only(rows, "Central", "organization")["target"] == f"{org.member}/{CENTRAL_REGION}"


@pytest.mark.usefixtures("cloud")
@pytest.mark.parametrize("other_service", [None, "ssm.amazonaws.com"])
def test_an_unregistered_delegated_administrator_fails_with_the_command_to_register(
    tmp_path, capsys, monkeypatch, other_service
):
    org = organization(monkeypatch)
    if other_service:  # a delegated administrator of another service may list, and is not listed
        boto3.client("organizations", region_name=CENTRAL_REGION).register_delegated_administrator(
            AccountId=org.member, ServicePrincipal=other_service
        )
    assembly = central(tmp_path, org, contract.CALL_AS_DELEGATED_ADMIN, account=org.member)

    code, rows = organization_rows(capsys, assembly)

    row = only(rows, "Central", "organization")
    assert (code, row["result"]) == (1, "FAIL")
    register = (
        "in the management account: `aws organizations register-delegated-administrator "
        f"--account-id {org.member} --service-principal {STACKSETS}`"
    )
    assert row["fix"].startswith(register)
    if other_service:
        assert row["found"] == (
            f"{org.id}, callAs DELEGATED_ADMIN: {org.member} is not a delegated administrator "
            "for StackSets"
        )
    else:
        assert row["found"].startswith("ListDelegatedAdministrators: AccessDeniedException")


@pytest.mark.usefixtures("cloud")
def test_delegated_admin_from_the_management_account_fails(tmp_path, capsys, monkeypatch):
    org = organization(monkeypatch)

    code, rows = organization_rows(capsys, central(tmp_path, org, contract.CALL_AS_DELEGATED_ADMIN))

    row = only(rows, "Central", "organization")
    assert (code, row["result"], row["fix"]) == (1, "FAIL", "set callAs SELF")
    assert f"{DEPLOYER} is the management account, not a delegated administrator" in row["found"]


@pytest.mark.usefixtures("cloud")
@pytest.mark.parametrize("covering", ["root", "parent OU"])
def test_a_management_account_the_ous_cover_is_a_warning(tmp_path, capsys, monkeypatch, covering):
    org = organization(monkeypatch)
    units: tuple[str, ...] = (org.root,)
    if covering == "parent OU":  # the management account two levels under a covered OU
        client = boto3.client("organizations", region_name=CENTRAL_REGION)
        child = client.create_organizational_unit(ParentId=org.unit, Name="platform")
        child_id = child["OrganizationalUnit"]["Id"]
        client.move_account(
            AccountId=DEPLOYER, SourceParentId=org.root, DestinationParentId=child_id
        )
        units = (org.unit,)

    code, rows = organization_rows(capsys, central(tmp_path, org, units=units))

    row = only(rows, "Central", "organization")
    assert (code, row["result"]) == (0, "WARN")
    assert "StackSets never deploys to the management account" in row["found"]


@pytest.mark.usefixtures("cloud")
@pytest.mark.parametrize(
    ("operation", "error", "check", "found", "fix"),
    [
        (
            "organizations.DescribeOrganization",
            {"Error": {"Code": "AccessDeniedException", "Message": "not authorized"}},
            "organization",
            "DescribeOrganization: AccessDeniedException: not authorized",
            "grant organizations:DescribeOrganization to the credentials that deploy",
        ),
        (
            "organizations.ListParents",
            {"Error": {"Code": "ThrottlingException", "Message": "slow down"}},
            "organization",
            "ListParents: ThrottlingException: slow down",
            "",
        ),
        (
            "organizations.ListAWSServiceAccessForOrganization",
            EndpointConnectionError(endpoint_url="https://organizations.us-east-1.amazonaws.com/"),
            "trusted access",
            "ListAWSServiceAccessForOrganization: EndpointConnectionError",
            f"check that the region {CENTRAL_REGION} exists",
        ),
    ],
)
def test_an_organizations_error_fails_its_row(
    tmp_path, capsys, monkeypatch, operation, error, check, found, fix
):
    org = organization(monkeypatch)
    if isinstance(error, Exception):
        raise_on(monkeypatch, operation, error)
    else:
        answer(monkeypatch, operation, error, status=400)

    code, rows = organization_rows(capsys, central(tmp_path, org))

    row = only(rows, "Central", check)
    assert (code, row["result"]) == (1, "FAIL")
    assert row["found"].startswith(found)
    assert row["fix"].startswith(fix)


def test_offline_the_organization_rows_are_skipped(tmp_path, capsys):
    org = Organization("o-a1b2c3d4e5", "r-ab12", "ou-ab12-c3d4e5f6", "222222222222")

    code, rows, _ = preflight(capsys, central(tmp_path, org), "--offline", "--only", "organization")

    assert code == 0
    assert [(r["check"], r["result"]) for r in rows] == [
        ("trusted access", "SKIP"),
        ("organization", "SKIP"),
    ]
