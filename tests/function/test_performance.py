"""What makes the function fast, checked for correctness (the speed itself is measured by the
benchmark, `make bench`, not by timed tests)."""

import json
from datetime import UTC, datetime
from typing import Any

import boto3
from botocore.utils import parse_timestamp

from local_aws.environment import LambdaContext, local_aws
from local_aws.scenario import TaskPlan, seed_window_execution
from mwalerts import handler
from mwalerts.clients import RETRY_CONFIG, AwsClients, epoch_timestamp
from mwalerts.pipeline import TASK_CONCURRENCY

PLANS = [TaskPlan({"SUCCESS": 180, "FAILED": 7, "TIMED_OUT": 3}) for _ in range(6)]


def test_the_fast_timestamp_parser_gives_botocores_instants():
    for value in (1487692834.723, 1487692834, 0, 1795792558.562001, "2026-11-20T02:15:41.889213Z"):
        ours, botocores = epoch_timestamp(value), parse_timestamp(value)
        assert ours == botocores  # the same instant
        assert ours.tzinfo is not None
    assert epoch_timestamp(1487692834.723) == datetime(2017, 2, 21, 16, 0, 34, 723000, tzinfo=UTC)


def test_both_timestamp_parsers_produce_the_same_alert():
    """The same responses through the function's clients and through clients with botocore's
    default parser: identical digests, to the millisecond."""
    digests = []
    for default_parser in (False, True):
        with local_aws() as aws:
            execution = seed_window_execution(aws.ssm, PLANS)
            clients = aws.clients
            if default_parser:
                ssm = boto3.Session(region_name="us-east-2").client("ssm", config=RETRY_CONFIG)
                clients = AwsClients(aws.ssm.attach(ssm), clients.sns, clients.dynamodb)
            handler.handler(execution.event(), LambdaContext(), clients=clients)
            (envelope,) = aws.sqs_messages()
            digests.append(json.loads(envelope["Message"]))
    assert digests[0] == digests[1]
    assert digests[0]["failures"][0]["startTime"].endswith("Z")


def test_concurrent_task_reads_keep_the_tasks_order_and_count_every_page_once():
    with local_aws(latency=0.01) as aws:  # latency makes the task chains overlap in time
        execution = seed_window_execution(aws.ssm, PLANS)
        handler.handler(execution.event(), LambdaContext(), clients=aws.clients)
        (envelope,) = aws.sqs_messages()
        digest: dict[str, Any] = json.loads(envelope["Message"])
        pages = [c for c in aws.ssm.calls if c.operation.endswith("TaskInvocations")]

    assert [t["taskExecutionId"] for t in digest["tasks"]] == [
        t["TaskExecutionId"] for t in execution.tasks
    ]
    assert len(pages) == 6 * 2
    assert len({(p.params["TaskId"], p.params.get("NextToken")) for p in pages}) == 12
    failed_tasks = [f["taskExecutionId"] for f in digest["failures"]]
    assert failed_tasks == sorted(
        failed_tasks, key=[t["TaskExecutionId"] for t in execution.tasks].index
    )


def test_every_concurrent_task_read_has_a_connection_of_its_own():
    # Fewer pooled connections than threads would make them wait for one another (and urllib3
    # warn that its pool is full).
    assert RETRY_CONFIG.max_pool_connections >= TASK_CONCURRENCY
