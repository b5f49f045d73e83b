"""Which accounts and regions the function serves, beyond its own: central mode's listed members,
or organization mode's StackSet instances.

`admits` decides whether an event's account and region are a member's (the function rejects the
others); `places` lists every member account-region, for the sweep.

Organization mode keeps no list: a member is an instance of the member StackSet, which
CloudFormation deploys to every account of the covered OUs (and removes from those that leave).
One ListStackInstances call per account-region answers `admits`, cached for MEMBERSHIP_TTL in
this container, yes or no: a new member costs one lookup, and an account that joins or leaves an
OU is seen within the TTL.

The two questions are answered differently on purpose. `admits` accepts any listed instance,
whatever its status: an event from the account proves its forwarding rule exists. `places` keeps
only the instances whose stack is known to exist and be readable (`_has_readable_stack`): a
FAILED, CANCELLED or INOPERABLE instance, or a suspended account's (SKIPPED_SUSPENDED_ACCOUNT),
would fail its sweep message three times, so no sweep would ever count every place: no heartbeat,
and the sweep alarm would stay in ALARM for good, paging no one when the sweep really breaks.
"""

import threading
import time
import weakref
from collections import Counter
from collections.abc import Callable
from typing import Any, Protocol

from aws_lambda_powertools import Logger

from mwalerts import contract
from mwalerts.clients import AwsClients
from mwalerts.function_settings import FunctionSettings

logger = Logger(service=contract.SERVICE_NAME, child=True)

Place = tuple[str, str]  # (account, region)

MEMBERSHIP_TTL_SECONDS = 10 * 60
# ListStackInstances' largest page.
STACK_INSTANCES_PAGE_SIZE = 100
# An instance whose last operation succeeded has a stack: the forwarding rule and the reader role
# exist. StackInstanceComprehensiveStatus (CloudFormation API Reference) lists the others.
READABLE_DETAILED_STATUS = "SUCCEEDED"
# An operation waiting or running on an instance that has a stack (StackId) is an update of a
# stack that exists; without a StackId it is the first create, not done yet.
IN_FLIGHT_DETAILED_STATUSES = ("RUNNING", "PENDING")


class Membership(Protocol):
    description: str  # what a member is, for the message that rejects an outsider

    def admits(self, account: str, region: str) -> bool: ...

    def places(self) -> list[Place]: ...


class ListedMembers:
    """Central mode: the members listed in MEMBER_ACCOUNTS."""

    description = "this central deployment (MEMBER_ACCOUNTS)"

    def __init__(self, members: dict[str, tuple[str, ...]]) -> None:
        self._members = members

    def admits(self, account: str, region: str) -> bool:
        return region in self._members.get(account, ())

    def places(self) -> list[Place]:
        return [
            (account, region) for account, regions in self._members.items() for region in regions
        ]


class StackSetMembers:
    """Organization mode: the instances of the member StackSet in the covered regions."""

    def __init__(
        self,
        cloudformation: Callable[[], Any],
        *,
        stack_set: str,
        call_as: str,
        regions: tuple[str, ...],
        ttl_seconds: float = MEMBERSHIP_TTL_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._cloudformation = cloudformation  # the client, made on first use
        self._request = {"StackSetName": stack_set, "CallAs": call_as}
        self._regions = regions
        self._ttl = ttl_seconds
        self._clock = clock
        self._answers: dict[Place, tuple[bool, float]] = {}  # place -> (admitted, until)
        self._lock = threading.Lock()
        self.description = f"the StackSet {stack_set} in a covered region ({', '.join(regions)})"

    def admits(self, account: str, region: str) -> bool:
        if region not in self._regions:
            return False
        now = self._clock()
        with self._lock:
            cached = self._answers.get((account, region))
        if cached is not None and now < cached[1]:
            return cached[0]
        admitted = self._has_instance(account, region)
        with self._lock:
            self._answers[(account, region)] = (admitted, now + self._ttl)
        return admitted

    def _has_instance(self, account: str, region: str) -> bool:
        response = self._cloudformation().list_stack_instances(
            **self._request, StackInstanceAccount=account, StackInstanceRegion=region
        )
        # The filters do this already; checked here too, as an admission must not rest on them.
        return any(
            (summary["Account"], summary["Region"]) == (account, region)
            for summary in response["Summaries"]
        )

    def places(self) -> list[Place]:
        """Every readable instance in a covered region, from every page; one log line counts the
        instances left out, by detailed status."""
        paginator = self._cloudformation().get_paginator("list_stack_instances")
        pages = paginator.paginate(
            **self._request, PaginationConfig={"PageSize": STACK_INSTANCES_PAGE_SIZE}
        )
        places: list[Place] = []
        skipped: Counter[str] = Counter()
        for page in pages:  # page by page: a large organization's summaries are never all held
            for summary in page["Summaries"]:
                if summary["Region"] not in self._regions:
                    continue
                if _has_readable_stack(summary):
                    places.append(_place(summary))
                else:
                    skipped[_detailed_status(summary)] += 1
        if skipped:
            logger.info(
                "Sweep skips stack instances without a readable stack",
                extra={"skippedByDetailedStatus": dict(sorted(skipped.items()))},
            )
        return places

    def sample(self, count: int) -> list[Place]:
        """Up to `count` readable instances from one page (the self-test's members): one per
        account first, since what stops a member being read (a suspended account, an SCP, an
        edited role) is usually the account's; then other regions of the same accounts."""
        response = self._cloudformation().list_stack_instances(
            **self._request, MaxResults=STACK_INSTANCES_PAGE_SIZE
        )
        readable = [
            _place(summary)
            for summary in response["Summaries"]
            if summary["Region"] in self._regions and _has_readable_stack(summary)
        ]
        first_per_account: dict[str, Place] = {}
        for place in readable:
            first_per_account.setdefault(place[0], place)
        firsts = list(first_per_account.values())
        return (firsts + [place for place in readable if place not in firsts])[:count]


def _place(summary: dict[str, Any]) -> Place:
    return summary["Account"], summary["Region"]


def _detailed_status(summary: dict[str, Any]) -> str:
    detailed: str = summary.get("StackInstanceStatus", {}).get("DetailedStatus", "UNKNOWN")
    return detailed


def _has_readable_stack(summary: dict[str, Any]) -> bool:
    """The instance's stack is known to exist and be readable: its last operation succeeded, or
    an update of its existing stack is in flight. Not FAILED, CANCELLED, INOPERABLE,
    SKIPPED_SUSPENDED_ACCOUNT or FAILED_IMPORT, whatever `Status` says."""
    detailed = _detailed_status(summary)
    if detailed == READABLE_DETAILED_STATUS:
        return True
    return detailed in IN_FLIGHT_DETAILED_STATUSES and bool(summary.get("StackId"))


# One per container and central clients: the cached answers outlive invocations.
_stack_set_members: "weakref.WeakKeyDictionary[AwsClients, StackSetMembers]" = (
    weakref.WeakKeyDictionary()
)


def membership_for(settings: FunctionSettings, clients: AwsClients) -> Membership | None:
    """The members of central or organization mode; None in per-account mode (its own
    account and region only)."""
    if settings.members is not None:
        return ListedMembers(settings.members)
    if settings.member_stack_set is None:
        return None
    if clients not in _stack_set_members:
        _stack_set_members[clients] = StackSetMembers(
            lambda: clients.cloudformation,
            stack_set=settings.member_stack_set,
            call_as=settings.member_stack_set_call_as,
            regions=settings.member_regions,
        )
    return _stack_set_members[clients]
