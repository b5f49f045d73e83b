"""The self-test inside the function: each hop an alert depends on, proved with a real call.

A direct invocation with the self-test event (mwalerts.self_test_check builds it) runs its
hops, each timed and each caught, so that one failing does not hide the others:
  - "alert topic": a clearly marked test message through the alert topic (the function role,
    SNS, the message key). Not the chat topic: the alert path is what must work.
  - "idempotency table": an item written and deleted (DynamoDB, the data key).
  - "streak table": an item written, read and deleted with the calls failure streaks make: an
    alert is tracked there before it is sent, so a role or key that cannot use it would fail
    alerts (when the function has a streak table).
  - "metric": one SelfTests EMF record in the function's namespace.
  - "member" (organization mode only): a member read through its reader role (AssumeRole, then
    DescribeMaintenanceWindows). Up to MEMBERS_TRIED readable instances of one ListStackInstances
    page are tried in turn, and the hop passes with the first that can be read: it proves the
    function role -> reader role path, which is the same for every member, and one account that
    cannot be read (suspended, an SCP denying AssumeRole, an edited role) must not fail, and roll
    back, every deploy of the central stack. It fails only when every member tried failed; its
    detail names the member read and each that failed, with its AWS error code. With no instance
    deployed yet (a new StackSet), it passes and says so. Not in central mode: its member stacks
    deploy after the central stack, whose deploy-time self-test this is.
No exactly-once record and no alert metrics: a self-test is not a window execution.
"""

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from aws_lambda_powertools import Logger
from botocore.exceptions import BotoCoreError, ClientError

from mwalerts import contract
from mwalerts.invocation import Invocation
from mwalerts.membership import Place, StackSetMembers
from mwalerts.metrics import record_self_test
from mwalerts.publish import publish_self_test
from mwalerts.self_test_check import Hop, describe_aws_error

logger = Logger(service=contract.SERVICE_NAME, child=True)

HOP_ALERT_TOPIC = "alert topic"
HOP_IDEMPOTENCY_TABLE = "idempotency table"
HOP_STREAK_TABLE = "streak table"
HOP_METRIC = "metric"
HOP_MEMBER = "member"
NO_MEMBER_YET = "no member deployed yet"
# The members the "member" hop tries at most (one AssumeRole and one SSM call each, in turn).
MEMBERS_TRIED = 5
# The test item's key: the exactly-once records' keys all start "window-execution#"
# (mwalerts.idempotency.KEY_PREFIX), so this one cannot meet a real execution's.
ITEM_KEY_PREFIX = "self-test#"
# The item is deleted straight away; should the delete fail, DynamoDB's TTL removes it anyway.
ITEM_TTL_SECONDS = 15 * 60


class HopFailedError(Exception):
    """A hop that failed for a reason its message states (not one AWS error)."""


@dataclass(frozen=True)
class SelfTestResult:
    """The function's answer to a self-test event (the handler returns it as JSON)."""

    id: str
    ok: bool
    hops: list[Hop] = field(default_factory=list)
    action: str = "self-test"


def run_self_test(test_id: str, invocation: Invocation) -> SelfTestResult:
    hops = [
        timed_hop(HOP_ALERT_TOPIC, lambda: _publish(test_id, invocation)),
        timed_hop(HOP_IDEMPOTENCY_TABLE, lambda: _write_and_delete(test_id, invocation)),
    ]
    streaks = invocation.streaks
    if streaks is not None:
        expires = int(time.time()) + ITEM_TTL_SECONDS
        hops.append(timed_hop(HOP_STREAK_TABLE, lambda: streaks.probe(test_id, expires)))
    hops.append(timed_hop(HOP_METRIC, lambda: _metric(test_id, invocation)))
    membership = invocation.membership
    if isinstance(membership, StackSetMembers):
        hops.append(timed_hop(HOP_MEMBER, lambda: _read_member(membership, invocation)))
    result = SelfTestResult(test_id, all(hop.ok for hop in hops), hops)
    extra = {"selfTestId": test_id, "ok": result.ok, "hops": [vars(hop) for hop in hops]}
    if result.ok:
        logger.info("Self-test passed", extra=extra)
    else:
        logger.error("Self-test failed", extra=extra)
    return result


def timed_hop(
    name: str, run: Callable[[], str], clock: Callable[[], float] = time.monotonic
) -> Hop:
    """Run one hop; its detail line, or the AWS error that stopped it."""
    started = clock()
    try:
        detail = run()
    except (BotoCoreError, ClientError) as error:
        return Hop(name, False, round(clock() - started, 3), describe_aws_error(error))
    except HopFailedError as error:
        return Hop(name, False, round(clock() - started, 3), str(error))
    return Hop(name, True, round(clock() - started, 3), detail)


def _function_name(invocation: Invocation) -> str:
    context = invocation.context
    return context.function_name if context is not None else contract.SERVICE_NAME


def _publish(test_id: str, invocation: Invocation) -> str:
    topic_arn = invocation.settings.alert_topic_arn
    message_id = publish_self_test(
        invocation.clients.sns, topic_arn, test_id, _function_name(invocation)
    )
    return f"published message {message_id} to {topic_arn.rsplit(':', 1)[-1]}"


def _write_and_delete(test_id: str, invocation: Invocation) -> str:
    table = invocation.settings.idempotency_table
    key = {contract.IDEMPOTENCY_PARTITION_KEY: {"S": f"{ITEM_KEY_PREFIX}{test_id}"}}
    dynamodb = invocation.clients.dynamodb
    dynamodb.put_item(
        TableName=table,
        Item={
            **key,
            contract.IDEMPOTENCY_TTL_ATTRIBUTE: {"N": str(int(time.time()) + ITEM_TTL_SECONDS)},
        },
    )
    dynamodb.delete_item(TableName=table, Key=key)
    return f"wrote and deleted an item in {table}"


def _metric(test_id: str, invocation: Invocation) -> str:
    record_self_test(invocation.metrics, test_id)
    return f"{contract.METRIC_SELF_TESTS} = 1 in {invocation.settings.metrics_namespace}"


def _read_member(membership: StackSetMembers, invocation: Invocation) -> str:
    places = membership.sample(MEMBERS_TRIED)
    if not places:
        return f"{NO_MEMBER_YET}: the StackSet has no deployed instance in a covered region"
    failed: list[tuple[Place, Exception]] = []
    for account, region in places:
        try:
            ssm = invocation.clients_for(account, region).ssm
            windows = ssm.describe_maintenance_windows(MaxResults=10)["WindowIdentities"]
        except (BotoCoreError, ClientError) as error:
            failed.append(((account, region), error))
            continue
        read = (
            f"read {len(windows)} maintenance window(s) of {account} in {region} as its reader role"
        )
        return f"{read}; could not read {_failures(failed)}" if failed else read
    first_error = describe_aws_error(failed[0][1])
    raise HopFailedError(
        f"could not read any of the {len(failed)} member(s) tried: {_failures(failed)}; "
        f"the first: {first_error}"
    )


def _failures(failed: list[tuple[Place, Exception]]) -> str:
    return ", ".join(
        f"{account} in {region} ({_error_code(error)})" for (account, region), error in failed
    )


def _error_code(error: Exception) -> str:
    if isinstance(error, ClientError):
        return str(error.response.get("Error", {}).get("Code", "Error"))
    return type(error).__name__
