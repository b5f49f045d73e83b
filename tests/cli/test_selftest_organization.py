"""`mwalerts selftest` on organization mode's central stack: the function's "member" hop shown
and judged as every hop its answer lists, and the sweep queue's dead-letter queue checked through
the API like the others (found through the sweep queue's RedrivePolicy)."""

import io
import json
from typing import Any

import boto3
import pytest

from local_aws.environment import LocalAws
from local_aws.scenario import REGION
from mwalerts import contract
from tests.cli.harness import Cli
from tests.cli.test_selftest import REDRIVE, deployed_stack, rows, selftest_run
from tests.function.local_lambda import LocalLambda

SWEEP_DLQ_HOP = f"dead-letter queue: {contract.OUTPUT_SWEEP_QUEUE_URL}'s"


class MemberReadingFunction:
    """The deployed function of organization mode as its caller sees it: the in-process
    function's answer, plus the "member" hop it reports there (an AssumeRole into one member
    and a DescribeMaintenanceWindows)."""

    def __init__(self, aws: LocalAws, *, ok: bool, detail: str) -> None:
        self._function = LocalLambda(aws)
        self.member_hop = {"hop": "member", "ok": ok, "seconds": 0.25, "detail": detail}

    def __getattr__(self, name: str) -> Any:
        return getattr(self._function, name)

    def invoke(self, **request: Any) -> dict[str, Any]:
        response = self._function.invoke(**request)
        answer = json.loads(response["Payload"].read())
        answer["hops"].append(self.member_hop)
        return {**response, "Payload": io.BytesIO(json.dumps(answer).encode())}


@pytest.mark.parametrize(
    ("ok", "detail", "code", "result"),
    [
        (True, "read 222222222222/eu-west-1 through its reader role: 3 windows", 0, "ok"),
        (False, "AccessDenied: not authorized to perform sts:AssumeRole", 1, "FAILED"),
    ],
)
def test_the_member_hop_is_shown_and_judged_like_the_others(aws, cli, ok, detail, code, result):
    function = MemberReadingFunction(aws, ok=ok, detail=detail)

    exit_code, out, err = selftest_run(aws, cli, deployed_stack(aws), function=function)

    table = rows(out)
    assert exit_code == code, (out, err)
    assert list(table)[:6] == [
        "function: invoke",
        "function: alert topic",
        "function: idempotency table",
        "function: streak table",
        "function: metric",
        "function: member",
    ]
    assert table["function: member"] == (result, detail)
    assert table["delivery"][0] == ("ok" if ok else "skipped")


def sweep_queues(
    *, redrive: dict[str, Any] | None = None, encrypted: bool = True, dead_letter: bool = True
) -> str:
    """Organization mode's sweep queue and its dead-letter queue (RedriveAllowPolicy `redrive`,
    default: the sweep queue alone); the sweep queue's URL."""
    sqs: Any = boto3.client("sqs", region_name=REGION)  # attributes as plain strings
    key = boto3.client("kms", region_name=REGION).create_key()["KeyMetadata"]["Arn"]
    attributes = {"KmsMasterKeyId": key} if encrypted else {}
    dlq_url = sqs.create_queue(QueueName="sweep-dlq", Attributes=attributes)["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])
    redrive_policy = {
        "deadLetterTargetArn": dlq_arn["Attributes"]["QueueArn"],
        "maxReceiveCount": 3,
    }
    sweep_attributes = {"RedrivePolicy": json.dumps(redrive_policy)} if dead_letter else {}
    url = sqs.create_queue(QueueName="sweep", Attributes={**attributes, **sweep_attributes})
    sweep_arn = sqs.get_queue_attributes(QueueUrl=url["QueueUrl"], AttributeNames=["QueueArn"])
    allowed = {
        "redrivePermission": "byQueue",
        "sourceQueueArns": [sweep_arn["Attributes"]["QueueArn"]],
    }
    REDRIVE[dlq_url] = json.dumps(allowed if redrive is None else redrive)
    return str(url["QueueUrl"])


def run_with_sweep_queue(
    aws: LocalAws, cli: Cli, sweep_queue_url: str
) -> tuple[int, dict[str, Any]]:
    outputs = {**deployed_stack(aws), contract.OUTPUT_SWEEP_QUEUE_URL: sweep_queue_url}
    code, out, _ = selftest_run(aws, cli, outputs)
    return code, rows(out)


@pytest.mark.parametrize("redrive", [None, {"redrivePermission": "allowAll"}])
def test_the_sweep_queues_dead_letter_queue_is_checked_too(aws, cli, redrive):
    """The sweep queue alone, or allowAll (the stack's: naming the sweep queue is circular)."""
    code, table = run_with_sweep_queue(aws, cli, sweep_queues(redrive=redrive))

    assert code == 0
    assert list(table)[-1] == SWEEP_DLQ_HOP
    assert table[SWEEP_DLQ_HOP] == (
        "ok",
        "KMS-encrypted, RedriveAllowPolicy admits the sweep queue",
    )


@pytest.mark.parametrize(
    ("queues", "problem"),
    [
        ({"redrive": {"redrivePermission": "denyAll"}}, "the sweep queue may not use it"),
        (
            {"redrive": {"redrivePermission": "byQueue", "sourceQueueArns": ["arn:aws:sqs:x"]}},
            "neither admits the sweep queue alone nor allowAll",
        ),
        ({"encrypted": False}, "it is not encrypted with a KMS key"),
        ({"dead_letter": False}, "the sweep queue has no dead-letter queue (RedrivePolicy)"),
    ],
)
def test_a_misconfigured_sweep_dead_letter_queue_fails_its_hop(aws, cli, queues, problem):
    code, table = run_with_sweep_queue(aws, cli, sweep_queues(**queues))

    result, detail = table[SWEEP_DLQ_HOP]
    assert (code, result) == (1, "FAILED")
    assert problem in detail


def test_a_sweep_queue_that_cannot_be_read_fails_the_hop(aws, cli):
    missing = f"https://sqs.{REGION}.amazonaws.com/123456789012/no-such-queue"

    code, table = run_with_sweep_queue(aws, cli, missing)

    result, detail = table[SWEEP_DLQ_HOP]
    assert (code, result) == (1, "FAILED")
    assert detail.startswith("AWS.SimpleQueueService.NonExistentQueue: ")


def test_without_a_sweep_queue_there_is_no_sweep_row(aws, cli):
    code, out, _ = selftest_run(aws, cli, deployed_stack(aws))

    assert code == 0
    assert SWEEP_DLQ_HOP not in rows(out)
