"""A small fake of CloudFormation's ListStackInstances for a service-managed StackSet, whose
instances are derived from moto's AWS Organizations.

moto's CloudFormation backend needs heavy extras and ignores StackInstanceAccount and
StackInstanceRegion, so this answers one boto3 CloudFormation client at botocore's
`before-call.cloudformation.ListStackInstances` event, like botocore's Stubber: the response is a
parsed dict, validated against botocore's output shape. The instances are, as StackSets'
automatic deployment makes them, every account under the covered OUs (recursively; a root covers
the whole organization) except the management account, which StackSets never deploys to, times
the covered regions. So an account that joins a covered OU is a moto `move_account` away.

As StackSets does, a suspended account (moto's `close_account`) keeps its instances, flagged
SKIPPED_SUSPENDED_ACCOUNT (the operation skipped it; its stack is still there, unreadable), and a
test can mark an instance FAILED (`failed`: its stack left behind, e.g. rolled back) or PENDING
(`pending`: being created, no stack yet).

    fake = FakeStackSets(stack_set_name, ["ou-..."], ["eu-west-1"])
    cloudformation = fake.attach(boto3.client("cloudformation"))
"""

import copy
import threading
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

from botocore.awsrequest import AWSResponse
from botocore.client import BaseClient
from botocore.compat import HTTPHeaders
from botocore.validate import validate_parameters
from moto.core import DEFAULT_ACCOUNT_ID
from moto.organizations.models import organizations_backends

__all__ = ["FakeStackSets", "StackSetCall"]

_OPERATION = "ListStackInstances"
# AWS documents no default page size; the API's largest MaxResults.
DEFAULT_PAGE_SIZE = 100
_FILTERS = {"DETAILED_STATUS", "LAST_OPERATION_ID", "DRIFT_STATUS"}
_Client = TypeVar("_Client", bound=BaseClient)
# The fake's own wording: AWS documents no fixed StatusReason texts.
_STATUS_REASONS = {
    "PENDING": "User Initiated",
    "FAILED": "ResourceLogicalId:ReaderRole, ResourceType:AWS::IAM::Role, "
    "ResourceStatusReason:Resource handler returned message: role already exists.",
    "SKIPPED_SUSPENDED_ACCOUNT": "Account is suspended",
}


@dataclass(frozen=True)
class StackSetCall:
    """One ListStackInstances request the fake answered (or refused: `error`)."""

    params: dict[str, Any]
    error: str | None = None


class FakeStackSets:
    """The instances of one service-managed StackSet in the organization of moto's
    `management_account`. `pending` places have an instance but no stack yet (being created);
    `failed` places an instance whose last operation failed."""

    def __init__(
        self,
        stack_set_name: str,
        organizational_units: Iterable[str],
        regions: Iterable[str],
        *,
        call_as: str = "SELF",
        management_account: str = DEFAULT_ACCOUNT_ID,
    ) -> None:
        self.stack_set_name = stack_set_name
        self.organizational_units = tuple(organizational_units)
        self.regions = tuple(regions)
        self.call_as = call_as
        self.management_account = management_account
        self.pending: set[tuple[str, str]] = set()
        self.failed: set[tuple[str, str]] = set()
        self.calls: list[StackSetCall] = []
        self._lock = threading.Lock()
        self._operation_id = str(uuid.uuid4())

    def attach(self, client: _Client) -> _Client:
        """Answer `client`'s ListStackInstances calls; other operations go on to moto."""
        client.meta.events.register_first(
            f"before-parameter-build.cloudformation.{_OPERATION}", self._keep_params
        )
        answer: Any = self._answer  # botocore's hooks are typed as returning None
        client.meta.events.register(f"before-call.cloudformation.{_OPERATION}", answer)
        return client

    def lookups(self) -> int:
        """ListStackInstances calls for one account and region (the membership's lookups)."""
        return sum("StackInstanceAccount" in call.params for call in self.calls)

    # -- the answer -------------------------------------------------------------------------

    @staticmethod
    def _keep_params(params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        context["fake_stacksets_params"] = copy.deepcopy(params)

    def _answer(self, model: Any, context: dict[str, Any], **_: Any) -> tuple[AWSResponse, Any]:
        params = context["fake_stacksets_params"]
        try:
            parsed = self._page(params)
        except _ApiError as error:
            self._record(params, error.code)
            return _response(400), {
                "Error": {"Code": error.code, "Message": str(error)},
                "ResponseMetadata": {"HTTPStatusCode": 400},
            }
        self._record(params, None)
        validate_parameters(parsed, model.output_shape)  # as botocore's Stubber does
        return _response(200), {**parsed, "ResponseMetadata": {"HTTPStatusCode": 200}}

    def _record(self, params: dict[str, Any], error: str | None) -> None:
        with self._lock:
            self.calls.append(StackSetCall(params, error))

    def _page(self, params: dict[str, Any]) -> dict[str, Any]:
        # A StackSet of a delegated administrator is found only when called as one, and the
        # reverse (CallAs's documentation).
        if params["StackSetName"] != self.stack_set_name or params.get("CallAs", "SELF") != (
            self.call_as
        ):
            raise _ApiError(
                "StackSetNotFoundException", f"StackSet {params['StackSetName']} not found"
            )
        summaries = [s for s in self.summaries() if _selected(s, params)]
        start = _offset(params.get("NextToken"))
        size = params.get("MaxResults", DEFAULT_PAGE_SIZE)
        if not 1 <= size <= 100:  # the model's range, which botocore does not check
            raise _ApiError("ValidationError", "MaxResults must be from 1 to 100")
        page: dict[str, Any] = {"Summaries": summaries[start : start + size]}
        if start + size < len(summaries):
            page["NextToken"] = f"page-{start + size}"
        return page

    def summaries(self) -> list[dict[str, Any]]:
        """Every instance, in the order of the organization's accounts, then of the regions."""
        return [
            self._summary(account, unit, status, region)
            for account, unit, status in self._accounts()
            for region in self.regions
        ]

    def _accounts(self) -> list[tuple[str, str, str]]:
        """(account, the covered OU it is under, its status) for every account under a covered
        OU, suspended ones too: StackSets keeps their instances."""
        backend = organizations_backends[self.management_account]["aws"]
        parents = {unit.id: unit.parent_id for unit in backend.ou}
        found = []
        for account in backend.accounts:
            if account.id == self.management_account:
                continue
            unit = _covering(account.parent_id, parents, self.organizational_units)
            if unit is not None:
                found.append((account.id, unit, account.status))
        return found

    def _summary(self, account: str, unit: str, status: str, region: str) -> dict[str, Any]:
        detailed = self._detailed_status(account, region, status)
        summary: dict[str, Any] = {
            "StackSetId": f"{self.stack_set_name}:{self._operation_id}",
            "Region": region,
            "Account": account,
            "Status": "CURRENT" if detailed == "SUCCEEDED" else "OUTDATED",
            "StackInstanceStatus": {"DetailedStatus": detailed},
            "OrganizationalUnitId": unit,
            "DriftStatus": "NOT_CHECKED",
            "LastOperationId": self._operation_id,
        }
        if detailed != "PENDING":  # every other instance has (or had) a stack
            summary["StackId"] = (
                f"arn:aws:cloudformation:{region}:{account}:stack/"
                f"StackSet-{self.stack_set_name}-{self._operation_id}/{self._operation_id}"
            )
        if detailed != "SUCCEEDED":
            summary["StatusReason"] = _STATUS_REASONS[detailed]
        return summary

    def _detailed_status(self, account: str, region: str, status: str) -> str:
        if status == "SUSPENDED":
            return "SKIPPED_SUSPENDED_ACCOUNT"
        if (account, region) in self.failed:
            return "FAILED"
        if (account, region) in self.pending:
            return "PENDING"
        return "SUCCEEDED"


class _ApiError(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def _covering(parent: str, parents: dict[str, str | None], covered: tuple[str, ...]) -> str | None:
    """The covered OU (or root) at or above `parent`, else None."""
    unit: str | None = parent
    while unit is not None:
        if unit in covered:
            return unit
        unit = parents.get(unit)
    return None


def _selected(summary: dict[str, Any], params: dict[str, Any]) -> bool:
    if params.get("StackInstanceAccount") not in {None, summary["Account"]}:
        return False
    if params.get("StackInstanceRegion") not in {None, summary["Region"]}:
        return False
    return all(_matches(summary, name_values) for name_values in params.get("Filters", []))


def _matches(summary: dict[str, Any], stack_filter: dict[str, str]) -> bool:
    name, values = stack_filter["Name"], stack_filter["Values"]
    if name not in _FILTERS:
        raise _ApiError("ValidationError", f"unknown filter {name}")
    actual = {
        "DETAILED_STATUS": summary["StackInstanceStatus"]["DetailedStatus"],
        "LAST_OPERATION_ID": summary["LastOperationId"],
        "DRIFT_STATUS": summary["DriftStatus"],
    }[name]
    return actual in values.split(",")


def _offset(token: str | None) -> int:
    if token is None:
        return 0
    if not token.startswith("page-") or not token[5:].isdigit():
        raise _ApiError("ValidationError", "invalid NextToken")
    return int(token[5:])


def _response(status: int) -> AWSResponse:
    return AWSResponse("https://cloudformation.amazonaws.com/", status, HTTPHeaders(), None)
